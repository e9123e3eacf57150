//! Ticket types sold a moment ago, remembered with what their sale was priced
//! on (`eventos_common::recent`), so that a member's next order of one is a
//! single round trip: priced on what was read then, and written only if all of
//! it still holds when the statement runs (`repo::types::unchanged_since`).
//! When anything changed, or no bucket was free, the sale reads the type again.

use eventos_common::recent::ForSeconds;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::SaleType;

const SOLD_LATELY: &str = "sold-lately/";
/// How long a type's sale is priced on what was read without reading it again,
/// unless the variable `sold_lately_seconds` says otherwise (0: never).
const SOLD_LATELY_SECONDS: i64 = 10;

/// What a sale of a plain type (visible, no waiting room) was priced on.
#[derive(Serialize, Deserialize)]
struct Sold {
    event_id: Uuid,
    price_cents: i64,
    currency: String,
    quantity: i32,
    watched: bool,
}

/// The store, unless the setting is 0.
pub struct SoldLately(Option<ForSeconds>);

impl SoldLately {
    pub fn open() -> Self {
        Self(ForSeconds::open(SOLD_LATELY, "sold_lately_seconds", SOLD_LATELY_SECONDS))
    }

    /// The type as its last sale read it, if that was lately: visible, no room, on sale.
    pub fn recall(&self, id: Uuid) -> Option<SaleType> {
        let sold: Sold = self.0.as_ref()?.recall(&id.to_string())?;
        Some(SaleType {
            id,
            event_id: sold.event_id,
            price_cents: sold.price_cents,
            currency: sold.currency,
            quantity: sold.quantity,
            hidden: false,
            known_on_sale: true,
            watched: sold.watched,
            room: None,
        })
    }

    /// A sale of `ticket_type` just went through; only a plain type is remembered.
    pub fn sold(&self, ticket_type: &SaleType) {
        let Some(lately) = &self.0 else { return };
        if ticket_type.hidden || ticket_type.room.is_some() {
            return;
        }
        let sold = Sold {
            event_id: ticket_type.event_id,
            price_cents: ticket_type.price_cents,
            currency: ticket_type.currency.clone(),
            quantity: ticket_type.quantity,
            watched: ticket_type.watched,
        };
        lately.remember(&ticket_type.id.to_string(), &sold);
    }
}
