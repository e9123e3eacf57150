//! What can go wrong in the ticketing domain, and the one place each case
//! becomes the problem document its caller gets.

use chrono::NaiveDateTime;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::peer::PeerError;
use eventos_common::{FieldError, Problem};

use crate::model::Payment;

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
    /// A ticket named for cancellation is not one of the order's.
    TicketNotInOrder(String),
    /// A checked-in ticket cannot be cancelled.
    TicketCheckedIn(String),
    /// The checkout's hold ran out (or it was cancelled) before it was confirmed.
    CheckoutEnded(&'static str),
    /// A checkout's ticket types are not all of one event, or not of one currency.
    MixedLines(&'static str),
    /// No voucher of that code for the event.
    VoucherNotFound,
    /// The voucher is not valid at this time.
    VoucherNotValidNow,
    /// Every use of the voucher is taken.
    VoucherUsedUp,
    /// A hidden ticket type is sold only with a voucher that unlocks it.
    VoucherRequired,
    /// The event already has a voucher of that code.
    VoucherCodeTaken,
    /// A voucher unlocks ticket types that are not the event's hidden ones.
    NotUnlockable,
    /// The payment cannot move from one state to the other.
    PaymentTransition {
        from: Payment,
        to: Payment,
    },
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
            TicketingError::TicketNotInOrder(code) => {
                Problem::invalid(vec![FieldError::new("tickets", format!("{code} is not a ticket of this order"))])
            }
            TicketingError::TicketCheckedIn(code) => Problem::conflict(
                "ticket-checked-in",
                "Ticket checked in",
                format!("{code} was checked in; a checked-in ticket cannot be cancelled"),
            ),
            TicketingError::CheckoutEnded(status) => Problem::conflict(
                "checkout-ended",
                "Checkout ended",
                format!("the checkout is {status}: its tickets are no longer held; start a new one"),
            )
            .with("checkout_status", status),
            TicketingError::MixedLines(why) => Problem::invalid(vec![FieldError::new("lines", why)]),
            TicketingError::VoucherNotFound => {
                Problem::new(422, "voucher-not-found", "Voucher not found", "no voucher of that code for this event")
                    .with_errors(vec![FieldError::new("voucher_code", "no such voucher for this event")])
            }
            TicketingError::VoucherNotValidNow => Problem::new(
                422,
                "voucher-not-valid-now",
                "Voucher not valid now",
                "the voucher may be used only within its validity window",
            )
            .with_errors(vec![FieldError::new("voucher_code", "is not valid at this time")]),
            TicketingError::VoucherUsedUp => {
                Problem::conflict("voucher-used-up", "Voucher used up", "every use of this voucher is taken")
            }
            TicketingError::VoucherRequired => Problem::new(
                422,
                "voucher-required",
                "Voucher required",
                "a hidden ticket type is sold only with a voucher that unlocks it",
            )
            .with_errors(vec![FieldError::new("voucher_code", "must unlock every hidden ticket type asked for")]),
            TicketingError::VoucherCodeTaken => Problem::conflict(
                "voucher-code-taken",
                "Voucher code taken",
                "the event already has a voucher of this code",
            ),
            TicketingError::NotUnlockable => Problem::invalid(vec![FieldError::new(
                "unlocks",
                "must name hidden ticket types of the voucher's event",
            )]),
            TicketingError::PaymentTransition { from, to } => Problem::conflict(
                "payment-transition",
                "Payment cannot move so",
                format!("an order's payment moves pending → paid → refunded; this one is {}", from.as_str()),
            )
            .with("payment", from.as_str())
            .with("requested", to.as_str()),
            TicketingError::Forbidden(refusal) => refusal.into(),
            TicketingError::Peer(error) => error.into(),
            TicketingError::Db(error) => error.into(),
            TicketingError::Bug(cause) => Problem::internal(cause),
        }
    }
}
