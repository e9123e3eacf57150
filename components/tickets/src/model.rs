//! Ticket types, orders and tickets as the domain sees them.

use chrono::NaiveDateTime;
use eventos_common::auth::Caller;
use eventos_common::fields::{Fields, Invalid, WholeNumber, optional_uuid, required_int, required_text, required_uuid};
use eventos_common::time::{rfc3339, rfc3339_opt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::TicketingError;

pub const MAX_NAME_CHARS: usize = 100;
pub const QUANTITY_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;
pub const ORDER_QUANTITY_RANGE: std::ops::RangeInclusive<i64> = 1..=10;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// Stock rows per ticket type (the migration's bucket range must allow them).
pub const STOCK_BUCKETS: i32 = 8;

/// How many bucket rows a type of `quantity` tickets has: each holds at least one.
pub fn bucket_count(quantity: i32) -> i32 {
    quantity.clamp(1, STOCK_BUCKETS)
}

/// The bucket a sale tries first, at random so that buyers spread over the rows.
pub fn random_bucket(quantity: i32) -> i32 {
    (wasi::random::random::get_random_u64() % bucket_count(quantity) as u64) as i32
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketType {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
    pub quantity: i32,
    /// Sold only through a voucher that unlocks it; listed to its organizer alone.
    pub hidden: bool,
    pub sold: i32,
    /// Held by checkouts that are open and have not expired.
    pub held: i32,
    pub available: i32,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

/// What a sale needs of a ticket type: no stock figures, which cost a read of their own.
#[derive(Debug, Clone)]
pub struct SaleType {
    pub id: Uuid,
    pub event_id: Uuid,
    pub price_cents: i64,
    pub currency: String,
    pub quantity: i32,
    pub hidden: bool,
    /// Its event was heard to be published a moment ago: no need to ask again.
    pub known_on_sale: bool,
    /// A webhook endpoint wants its event's entries: an order owes deliveries.
    pub watched: bool,
}

/// An order is sold confirmed and stays so while any of its tickets stand;
/// cancelling its last ticket cancels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    /// As the `orders.status` column holds it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confirmed" => Some(Self::Confirmed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// A ticket is valid until it is checked in, or void once its order is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Valid,
    CheckedIn,
    Void,
}

impl TicketStatus {
    /// As the `tickets.status` column holds it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "valid" => Some(Self::Valid),
            "checked_in" => Some(Self::CheckedIn),
            "void" => Some(Self::Void),
            _ => None,
        }
    }
}

/// Tickets of one type at one price: a line of a checkout, and of the order it
/// becomes (a direct order has one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricedLine {
    pub ticket_type_id: Uuid,
    pub quantity: i32,
    pub list_price_cents: i64,
    /// The list price with the voucher's discount taken off.
    pub unit_price_cents: i64,
}

/// Whether an order's money came in: moved by the operator's payment
/// integration (`pending` → `paid`), and to `refunded` once every ticket of a
/// paid order was cancelled. A free order has nothing to collect: it is `paid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    Pending,
    Paid,
    Refunded,
}

impl Payment {
    /// As the `orders.payment` column holds it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "paid" => Some(Self::Paid),
            "refunded" => Some(Self::Refunded),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Refunded => "refunded",
        }
    }

    /// Where a new order of `amount_cents` starts.
    pub fn of_new_order(amount_cents: i64) -> Self {
        if amount_cents == 0 { Self::Paid } else { Self::Pending }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub code: String,
    pub order_id: Uuid,
    pub ticket_type_id: Uuid,
    pub event_id: Uuid,
    /// What its buyer paid for it, a voucher's discount taken off.
    pub price_cents: i64,
    pub status: TicketStatus,
    #[serde(serialize_with = "rfc3339_opt")]
    pub checked_in_at: Option<NaiveDateTime>,
    /// The staff member who scanned it.
    pub checked_in_by: Option<Uuid>,
}

/// Money given back for cancelled tickets of a paid order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    pub amount_cents: i64,
    pub tickets: Vec<String>,
    /// Who cancelled: the buyer, an admin, or the payment integration's account.
    pub refunded_by: Uuid,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: Uuid,
    pub event_id: Uuid,
    /// The order's ticket type when it has one; `null` for several.
    pub ticket_type_id: Option<Uuid>,
    pub user_id: Uuid,
    /// Tickets sold by the order, cancelled ones included.
    pub quantity: i32,
    /// The list price of every ticket sold.
    pub total_cents: i64,
    /// What a voucher took off.
    pub discount_cents: i64,
    /// What the tickets that stand cost their buyer.
    pub amount_cents: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub payment: Payment,
    pub payment_reference: Option<String>,
    pub refunded_cents: i64,
    pub refunds: Vec<Refund>,
    pub voucher_code: Option<String>,
    /// The checkout confirmed into this order, if it came from one.
    pub checkout_id: Option<Uuid>,
    pub tickets: Vec<Ticket>,
    pub processed_by: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

impl Order {
    /// Fills the figures that follow from the tickets and refunds.
    pub fn with_details(mut self, tickets: Vec<Ticket>, refunds: Vec<Refund>) -> Self {
        self.amount_cents = tickets.iter().filter(|t| t.status != TicketStatus::Void).map(|t| t.price_cents).sum();
        self.refunded_cents = refunds.iter().map(|r| r.amount_cents).sum();
        self.tickets = tickets;
        self.refunds = refunds;
        self
    }
}

/// `GET /api/tickets/events/{id}/check-ins`: the door's progress.
#[derive(Debug, Clone, Serialize)]
pub struct CheckIns {
    pub event_id: Uuid,
    /// Tickets of orders that stand (not void).
    pub issued: i64,
    pub checked_in: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketTypeBody {
    event_id: Option<String>,
    name: Option<String>,
    price_cents: Option<WholeNumber>,
    currency: Option<String>,
    quantity: Option<WholeNumber>,
    hidden: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTicketType {
    pub event_id: Uuid,
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
    pub quantity: i32,
    pub hidden: bool,
}

impl NewTicketType {
    pub fn parse(body: CreateTicketTypeBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let event_id = fields.take("event_id", required_uuid(body.event_id));
        let name = fields.take("name", required_text(body.name, MAX_NAME_CHARS));
        let price_cents = fields.take("price_cents", required_int(body.price_cents, 0..=i64::MAX));
        let currency = fields.take("currency", currency(body.currency));
        let quantity = fields.take("quantity", required_int(body.quantity, QUANTITY_RANGE).map(|q| q as i32));
        match (event_id, name, price_cents, currency, quantity) {
            (Some(event_id), Some(name), Some(price_cents), Some(currency), Some(quantity)) => {
                Ok(Self { event_id, name, price_cents, currency, quantity, hidden: body.hidden.unwrap_or(false) })
            }
            _ => Err(fields.invalid()),
        }
    }
}

/// ISO 4217's shape: three upper-case letters.
pub fn currency(value: Option<String>) -> Result<String, String> {
    let value = value.ok_or("is required")?;
    let value = value.trim();
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value.to_owned())
    } else {
        Err("must be an ISO 4217 code such as EUR".into())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    ticket_type_id: Option<String>,
    user_id: Option<String>,
    quantity: Option<WholeNumber>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub ticket_type_id: Uuid,
    pub user_id: Uuid,
    /// The buyer is the token's own user, whom nobody needs to be asked about.
    pub buyer_is_caller: bool,
    pub quantity: i32,
    pub idempotency_key: Option<String>,
    /// Who asked: the buyer, or the admin naming them.
    pub actor: Uuid,
}

impl NewOrder {
    /// The order `caller` asks for: for themself, or for anybody if an admin.
    pub fn parse(
        body: CreateOrderBody,
        idempotency_key: Option<&str>,
        caller: &Caller,
    ) -> Result<Self, TicketingError> {
        let idempotency_key = idempotency_key.map(parse_idempotency_key).transpose()?;
        let mut fields = Fields::default();
        let ticket_type_id = fields.take("ticket_type_id", required_uuid(body.ticket_type_id));
        let user_id = fields.take("user_id", optional_uuid(body.user_id));
        let quantity = fields.take("quantity", required_int(body.quantity, ORDER_QUANTITY_RANGE).map(|q| q as i32));
        match (ticket_type_id, user_id, quantity) {
            (Some(ticket_type_id), Some(user_id), Some(quantity)) => {
                let user_id = caller.acting_for(user_id)?;
                let buyer_is_caller = user_id == caller.user_id;
                let actor = caller.user_id;
                Ok(Self { ticket_type_id, user_id, buyer_is_caller, quantity, idempotency_key, actor })
            }
            _ => Err(fields.invalid().into()),
        }
    }

    /// What makes two requests "the same" for an idempotency key.
    pub fn fingerprint(&self) -> String {
        format!("{}|{}|{}", self.ticket_type_id, self.user_id, self.quantity)
    }
}

/// Whatever a header value may hold (tabs included), up to 255 characters, as
/// long as it is not all blanks: what `openapi.yaml` states.
fn parse_idempotency_key(key: &str) -> Result<String, TicketingError> {
    let well_formed = key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS
        && !key.trim().is_empty()
        && key.chars().all(|c| c == '\t' || !c.is_control());
    if well_formed { Ok(key.to_owned()) } else { Err(TicketingError::MalformedKey) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_they_are_written() {
        for status in [OrderStatus::Confirmed, OrderStatus::Cancelled] {
            let text = serde_json::to_value(status).expect("json");
            assert_eq!(OrderStatus::parse(text.as_str().expect("a string")), Some(status));
        }
        for status in [TicketStatus::Valid, TicketStatus::CheckedIn, TicketStatus::Void] {
            let text = serde_json::to_value(status).expect("json");
            assert_eq!(TicketStatus::parse(text.as_str().expect("a string")), Some(status));
        }
        assert_eq!(OrderStatus::parse("refunded"), None);
        assert_eq!(TicketStatus::parse("checked-in"), None);
    }

    fn order(json: &str, key: Option<&str>) -> Result<NewOrder, TicketingError> {
        NewOrder::parse(serde_json::from_str(json).expect("json"), key, &admin())
    }

    fn admin() -> Caller {
        let roles = vec![eventos_common::auth::Role::Admin];
        Caller { user_id: Uuid::nil(), subject: "root".into(), email: None, name: None, roles }
    }

    #[test]
    fn a_member_buys_for_themself_only() {
        let member = Caller { roles: Vec::new(), ..admin() };
        let body = |json: &str| serde_json::from_str(json).expect("json");
        let somebody_else = NewOrder::parse(body(ORDER), None, &member);
        assert!(matches!(somebody_else, Err(TicketingError::Forbidden(_))));
        let own = NewOrder::parse(
            body(r#"{"ticket_type_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d","quantity":1}"#),
            None,
            &member,
        )
        .expect("valid");
        assert_eq!((own.user_id, own.buyer_is_caller), (member.user_id, true));
        assert!(!order(ORDER, None).expect("an admin buys for anybody").buyer_is_caller);
    }

    const ORDER: &str = r#"{"ticket_type_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d","user_id":"3d5c1a7e-2222-4d4d-9b9b-abcdefabcdef","quantity":2}"#;

    #[test]
    fn an_order_takes_one_to_ten_tickets() {
        assert!(order(ORDER, None).is_ok());
        assert!(order(&ORDER.replace("\"quantity\":2", "\"quantity\":0"), None).is_err());
        assert!(order(&ORDER.replace("\"quantity\":2", "\"quantity\":11"), None).is_err());
    }

    #[test]
    fn an_idempotency_key_is_one_to_255_characters() {
        assert!(order(ORDER, Some("k")).is_ok());
        assert!(order(ORDER, Some(&"k".repeat(255))).is_ok());
        assert_eq!(order(ORDER, Some(&"k".repeat(256))).err(), Some(TicketingError::MalformedKey));
        assert_eq!(order(ORDER, Some("")).err(), Some(TicketingError::MalformedKey));
        for bad in ["   ", "\t", "a\u{1}b"] {
            assert_eq!(order(ORDER, Some(bad)).err(), Some(TicketingError::MalformedKey), "{bad:?}");
        }
        for good in ["6b1d0c8e first-try", "caf\u{e9}", "a\tb"] {
            assert!(order(ORDER, Some(good)).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint() {
        let a = order(ORDER, Some("a")).expect("valid");
        let b = order(ORDER, Some("b")).expect("valid");
        let c = order(&ORDER.replace("\"quantity\":2", "\"quantity\":3"), Some("a")).expect("valid");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(currency(Some("EUR".into())), Ok("EUR".into()));
        for bad in ["eur", "EURO", "E1R", ""] {
            assert!(currency(Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ticket_type_needs_every_field() {
        let body: CreateTicketTypeBody = serde_json::from_str("{}").expect("json");
        assert_eq!(NewTicketType::parse(body).expect_err("invalid").0.len(), 5);
    }

    #[test]
    fn a_negative_price_is_rejected() {
        let body: CreateTicketTypeBody = serde_json::from_str(
            r#"{"event_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d","name":"GA","price_cents":-1,"currency":"EUR","quantity":5}"#,
        )
        .expect("json");
        assert_eq!(NewTicketType::parse(body).expect_err("invalid").0[0].field, "price_cents");
    }
}
