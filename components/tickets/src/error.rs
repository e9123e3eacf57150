//! What can go wrong in the ticketing domain, and the one place each case
//! becomes the problem document its caller gets.

use chrono::NaiveDateTime;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::peer::PeerError;
use eventos_common::{FieldError, Problem};

#[derive(Debug, PartialEq)]
pub enum TicketingError {
    Invalid(Invalid),
    /// The `Idempotency-Key` header is empty, too long or not printable.
    MalformedKey,
    /// Nothing by that id or code; the text names what (`order`, `ticket`...).
    NotFound(&'static str),
    /// The ticket type an order names does not exist.
    TicketTypeNotFound,
    SoldOut {
        available: i32,
        wanted: i32,
    },
    /// The `Idempotency-Key` was used for a different request.
    KeyReused,
    AlreadyCancelled,
    /// An order with a checked-in ticket cannot be cancelled.
    OrderCheckedIn,
    AlreadyCheckedIn(NaiveDateTime),
    /// The ticket belongs to a cancelled order.
    TicketVoid,
    Forbidden(Forbidden),
    Peer(PeerError),
    Db(DbError),
    /// A state the rules say cannot happen.
    Bug(String),
}

eventos_common::wraps!(TicketingError { Db(DbError), Peer(PeerError), Invalid(Invalid), Forbidden(Forbidden) });

impl From<TicketingError> for Problem {
    fn from(error: TicketingError) -> Self {
        match error {
            TicketingError::Invalid(invalid) => invalid.into(),
            TicketingError::MalformedKey => {
                Problem::malformed("Idempotency-Key must be 1 to 255 characters, not all blank")
            }
            TicketingError::NotFound(what) => Problem::not_found(what),
            TicketingError::TicketTypeNotFound => {
                Problem::new(422, "ticket-type-not-found", "Ticket type not found", "no ticket type with that id")
                    .with_errors(vec![FieldError::new("ticket_type_id", "no such ticket type")])
            }
            TicketingError::SoldOut { available, wanted } => Problem::conflict(
                "sold-out",
                "Sold out",
                format!("{wanted} ticket(s) asked for, {available} left; nothing was sold"),
            )
            .with("available", available),
            TicketingError::KeyReused => Problem::new(
                422,
                "idempotency-key-reused",
                "Idempotency key reused",
                "this Idempotency-Key was used for a different request",
            ),
            TicketingError::AlreadyCancelled => {
                Problem::conflict("already-cancelled", "Order already cancelled", "this order was cancelled before")
            }
            TicketingError::OrderCheckedIn => Problem::conflict(
                "order-checked-in",
                "Order has a checked-in ticket",
                "an order with a checked-in ticket cannot be cancelled",
            ),
            TicketingError::AlreadyCheckedIn(at) => {
                Problem::conflict("already-checked-in", "Already checked in", "this ticket was checked in before")
                    .with("checked_in_at", eventos_common::time::format_rfc3339(&at))
            }
            TicketingError::TicketVoid => {
                Problem::conflict("ticket-void", "Ticket void", "this ticket belongs to a cancelled order")
            }
            TicketingError::Forbidden(refusal) => refusal.into(),
            TicketingError::Peer(error) => error.into(),
            TicketingError::Db(error) => error.into(),
            TicketingError::Bug(cause) => Problem::internal(cause),
        }
    }
}
