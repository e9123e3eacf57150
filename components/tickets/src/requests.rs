//! What a client asks for, checked: the bodies of `POST /api/tickets/types`
//! and `POST /api/tickets/orders`, and an order's idempotency key.

use eventos_common::auth::Caller;
use eventos_common::fields::{Fields, Invalid, WholeNumber, optional_uuid, required_int, required_text, required_uuid};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{MAX_NAME_CHARS, ORDER_QUANTITY_RANGE, QUANTITY_RANGE};

pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

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
    /// The `Waiting-Room-Pass` header: what buying takes while the event's room is open.
    pub pass: Option<String>,
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
                Ok(Self { ticket_type_id, user_id, buyer_is_caller, quantity, idempotency_key, actor, pass: None })
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
