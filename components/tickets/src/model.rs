//! Ticket types, orders and tickets as the domain sees them.

use chrono::NaiveDateTime;
use eventos_common::time::{rfc3339, rfc3339_opt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_NAME_CHARS: usize = 100;
pub const QUANTITY_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;
pub const ORDER_QUANTITY_RANGE: std::ops::RangeInclusive<i64> = 1..=10;
/// Stock rows per ticket type (the migration's bucket range must allow them).
pub const STOCK_BUCKETS: i32 = 16;

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
    /// Its event's waiting room, while it is open.
    pub room: Option<RoomGate>,
}

/// What a sale reads of an event's open waiting room, beside its ticket type.
#[derive(Debug, Clone)]
pub struct RoomGate {
    pub pass_secret: [u8; 32],
    pub per_buyer_limit: i32,
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
    /// The gate that scanned it, as the gate named itself.
    pub checked_in_gate: Option<String>,
    /// The id the gate gave that scan: how a scan sent again is told from a second one.
    #[serde(skip)]
    pub checked_in_scan: Option<String>,
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
}
