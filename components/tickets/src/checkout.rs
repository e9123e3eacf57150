//! Checkouts as the domain sees them: a buyer's hold on tickets of one event,
//! of one or several types, until they confirm it into an order or it expires.

use chrono::NaiveDateTime;
use eventos_common::auth::Caller;
use eventos_common::fields::{Fields, WholeNumber, optional_uuid, required_int, required_uuid};
use eventos_common::time::rfc3339;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{ORDER_QUANTITY_RANGE, PricedLine};
use crate::rules::pricing;
use crate::voucher::normalize_code;

/// How long a checkout holds its tickets unless the buyer asks for less.
pub const DEFAULT_HOLD_SECONDS: i64 = 600;
pub const HOLD_SECONDS_RANGE: std::ops::RangeInclusive<i64> = 1..=1800;
const MAX_LINES: usize = 10;

/// `open` until confirmed, cancelled, or past `expires_at` (then `expired`,
/// whether or not its stock was given back yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    Open,
    Confirmed,
    Expired,
    Cancelled,
}

impl CheckoutStatus {
    /// As the `checkouts.status` column holds it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "confirmed" => Some(Self::Confirmed),
            "expired" => Some(Self::Expired),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Checkout {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub status: CheckoutStatus,
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: NaiveDateTime,
    pub lines: Vec<PricedLine>,
    pub currency: String,
    pub total_cents: i64,
    pub discount_cents: i64,
    pub amount_cents: i64,
    pub voucher_code: Option<String>,
    /// The order it was confirmed into.
    pub order_id: Option<Uuid>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

impl Checkout {
    /// Fills the sums that follow from the lines.
    pub fn with_lines(mut self, lines: Vec<PricedLine>) -> Self {
        let totals = pricing::totals(&lines);
        (self.total_cents, self.discount_cents, self.amount_cents) =
            (totals.total_cents, totals.discount_cents, totals.amount_cents);
        self.lines = lines;
        self
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    ticket_type_id: Option<String>,
    quantity: Option<WholeNumber>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutBody {
    lines: Option<Vec<LineBody>>,
    voucher_code: Option<String>,
    user_id: Option<String>,
    hold_seconds: Option<WholeNumber>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckout {
    /// `(ticket type, quantity)`, each type once, in type order (the order stock is taken in).
    pub lines: Vec<(Uuid, i32)>,
    pub voucher_code: Option<String>,
    pub user_id: Uuid,
    /// The buyer is the token's own user, whom nobody needs to be asked about.
    pub buyer_is_caller: bool,
    pub hold_seconds: i64,
    /// The `Waiting-Room-Pass` header: what holding takes while the event's room is open.
    pub pass: Option<String>,
}

impl NewCheckout {
    /// The checkout `caller` asks for: for themself, or for anybody if an admin.
    pub fn parse(body: CreateCheckoutBody, caller: &Caller) -> Result<Self, TicketingError> {
        let mut fields = Fields::default();
        let lines = fields.take("lines", lines(body.lines));
        let voucher_code = fields.take("voucher_code", voucher_code(body.voucher_code));
        let user_id = fields.take("user_id", optional_uuid(body.user_id));
        let hold_seconds = fields.take(
            "hold_seconds",
            body.hold_seconds.map_or(Ok(DEFAULT_HOLD_SECONDS), |s| required_int(Some(s), HOLD_SECONDS_RANGE)),
        );
        match (lines, voucher_code, user_id, hold_seconds) {
            (Some(lines), Some(voucher_code), Some(user_id), Some(hold_seconds)) => {
                let user_id = caller.acting_for(user_id)?;
                let buyer_is_caller = user_id == caller.user_id;
                Ok(Self { lines, voucher_code, user_id, buyer_is_caller, hold_seconds, pass: None })
            }
            _ => Err(fields.invalid().into()),
        }
    }

    pub fn ticket_type_ids(&self) -> Vec<Uuid> {
        self.lines.iter().map(|(id, _)| *id).collect()
    }
}

fn lines(value: Option<Vec<LineBody>>) -> Result<Vec<(Uuid, i32)>, String> {
    let lines = value.ok_or("is required")?;
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(format!("must hold 1 to {MAX_LINES} lines"));
    }
    let mut parsed = Vec::with_capacity(lines.len());
    for (index, line) in lines.into_iter().enumerate() {
        let id = required_uuid(line.ticket_type_id).map_err(|e| format!("line {index}: ticket_type_id {e}"))?;
        let quantity =
            required_int(line.quantity, ORDER_QUANTITY_RANGE).map_err(|e| format!("line {index}: quantity {e}"))?;
        parsed.push((id, quantity as i32));
    }
    parsed.sort();
    if parsed.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Err("must name each ticket type once".into());
    }
    let tickets: i64 = parsed.iter().map(|(_, quantity)| i64::from(*quantity)).sum();
    if !ORDER_QUANTITY_RANGE.contains(&tickets) {
        return Err(format!("must hold at most {} tickets in all", ORDER_QUANTITY_RANGE.end()));
    }
    Ok(parsed)
}

fn voucher_code(value: Option<String>) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => normalize_code(text).map(Some).ok_or_else(|| "is not a voucher code".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Caller {
        Caller { user_id: Uuid::nil(), subject: "m".into(), email: None, name: None, roles: Vec::new() }
    }

    fn parse(json: &str) -> Result<NewCheckout, TicketingError> {
        NewCheckout::parse(serde_json::from_str(json).expect("json"), &member())
    }

    const A: &str = "0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d";
    const B: &str = "3d5c1a7e-2222-4d4d-9b9b-abcdefabcdef";

    #[test]
    fn lines_are_taken_in_ticket_type_order() {
        let json =
            format!(r#"{{"lines":[{{"ticket_type_id":"{B}","quantity":2}},{{"ticket_type_id":"{A}","quantity":1}}]}}"#);
        let checkout = parse(&json).expect("valid");
        assert_eq!(checkout.ticket_type_ids(), [A.parse::<Uuid>().expect("uuid"), B.parse().expect("uuid")]);
        assert_eq!(checkout.hold_seconds, DEFAULT_HOLD_SECONDS);
    }

    #[test]
    fn a_checkout_holds_one_to_ten_tickets_each_type_once() {
        let line = |id: &str, quantity: i64| format!(r#"{{"ticket_type_id":"{id}","quantity":{quantity}}}"#);
        for bad in [
            "[]".to_string(),
            format!("[{},{}]", line(A, 1), line(A, 1)),
            format!("[{},{}]", line(A, 6), line(B, 5)),
            format!("[{}]", line(A, 0)),
        ] {
            assert!(matches!(parse(&format!(r#"{{"lines":{bad}}}"#)), Err(TicketingError::Invalid(_))), "{bad}");
        }
        let hold = |seconds: i64| parse(&format!(r#"{{"lines":[{}],"hold_seconds":{seconds}}}"#, line(A, 1)));
        assert!(hold(1).is_ok() && hold(1800).is_ok());
        assert!(hold(0).is_err() && hold(1801).is_err());
    }
}
