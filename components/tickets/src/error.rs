//! What can go wrong in the ticketing domain, and the one place each case
//! becomes the problem document its caller gets.

use chrono::NaiveDateTime;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::peer::PeerError;
use eventos_common::{FieldError, Problem};

use crate::model::Payment;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum TicketingError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The `Idempotency-Key` header is empty, too long or not printable.
    #[error("Idempotency-Key must be 1 to 255 characters, not all blank")]
    MalformedKey,
    /// Nothing by that id or code; the text names what (`order`, `ticket`...).
    #[error("no {0} with that id")]
    NotFound(&'static str),
    /// The ticket type an order names does not exist.
    #[error("no ticket type with that id")]
    TicketTypeNotFound,
    #[error("{wanted} ticket(s) asked for, {available} left; nothing was sold")]
    SoldOut { available: i32, wanted: i32 },
    /// The `Idempotency-Key` was used for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error("this order was cancelled before")]
    AlreadyCancelled,
    /// An order with a checked-in ticket cannot be cancelled.
    #[error("an order with a checked-in ticket cannot be cancelled")]
    OrderCheckedIn,
    /// The ticket was checked in before, at that time and gate.
    #[error("this ticket was checked in before")]
    AlreadyCheckedIn { at: NaiveDateTime, gate: Option<String> },
    /// The ticket belongs to a cancelled order.
    #[error("this ticket belongs to a cancelled order")]
    TicketVoid,
    /// A ticket named for cancellation is not one of the order's.
    #[error("{0} is not a ticket of this order")]
    TicketNotInOrder(String),
    /// A checked-in ticket cannot be cancelled.
    #[error("{0} was checked in; a checked-in ticket cannot be cancelled")]
    TicketCheckedIn(String),
    /// The checkout's hold ran out (or it was cancelled) before it was confirmed.
    #[error("the checkout is {0}: its tickets are no longer held; start a new one")]
    CheckoutEnded(&'static str),
    /// A checkout's ticket types are not all of one event, or not of one currency.
    #[error("{0}")]
    MixedLines(&'static str),
    /// No voucher of that code for the event.
    #[error("no voucher of that code for this event")]
    VoucherNotFound,
    /// The voucher is not valid at this time.
    #[error("the voucher may be used only within its validity window")]
    VoucherNotValidNow,
    /// Every use of the voucher is taken; `uses_left` counts the uses that
    /// expired checkouts still hold as left, as `SoldOut`'s `available` counts
    /// their tickets.
    #[error("every use of this voucher is taken")]
    VoucherUsedUp { uses_left: i32 },
    /// A hidden ticket type is sold only with a voucher that unlocks it.
    #[error("a hidden ticket type is sold only with a voucher that unlocks it")]
    VoucherRequired,
    /// The event already has a voucher of that code.
    #[error("the event already has a voucher of this code")]
    VoucherCodeTaken,
    /// A voucher unlocks ticket types that are not the event's hidden ones.
    #[error("a voucher unlocks only hidden ticket types of its event")]
    NotUnlockable,
    /// The payment cannot move from one state to the other.
    #[error("an order's payment moves pending → paid → refunded; this one is {}", from.as_str())]
    PaymentTransition { from: Payment, to: Payment },
    /// A signed code whose signature no published key of its event verifies.
    #[error("no ticket has this code: its signature is not one of its event's keys'")]
    NotGenuine,
    /// The event's waiting room is open and the request carries no pass.
    #[error("the event's waiting room is open: buying takes the pass it gives when your turn comes")]
    PassRequired,
    /// The pass is forged, another buyer's or event's, or expired: the text says which.
    #[error("the waiting room's pass is not valid for this purchase ({0})")]
    PassRefused(&'static str),
    /// The buyer would pass the room's per-buyer limit.
    #[error("while the waiting room is open a buyer may buy {0} ticket(s) at most")]
    BuyerLimit(i32),
    /// The event has no waiting room open to join.
    #[error("the event's waiting room is closed")]
    RoomClosed,
    /// A drawn room's on-sale cannot move: its draw was made at that time.
    #[error("the waiting room was drawn: its on-sale cannot move")]
    RoomDrawn,
    /// Two new keys were asked for the event at the same moment; one was made.
    #[error("another key was made for this event at the same moment; ask again")]
    KeyRace,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Peer(#[from] PeerError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// A state the rules say cannot happen.
    #[error("{0}")]
    Bug(String),
}

impl From<TicketingError> for Problem {
    fn from(error: TicketingError) -> Self {
        let detail = error.to_string();
        match error {
            TicketingError::Invalid(invalid) => invalid.into(),
            TicketingError::MalformedKey => Problem::malformed(detail),
            TicketingError::NotFound(what) => Problem::not_found(what),
            TicketingError::TicketTypeNotFound => {
                Problem::new(422, "ticket-type-not-found", "Ticket type not found", detail)
                    .with_errors(vec![FieldError::new("ticket_type_id", "no such ticket type")])
            }
            TicketingError::SoldOut { available, .. } => {
                Problem::conflict("sold-out", "Sold out", detail).with("available", available)
            }
            TicketingError::KeyReused => Problem::new(422, "idempotency-key-reused", "Idempotency key reused", detail),
            TicketingError::AlreadyCancelled => {
                Problem::conflict("already-cancelled", "Order already cancelled", detail)
            }
            TicketingError::OrderCheckedIn => {
                Problem::conflict("order-checked-in", "Order has a checked-in ticket", detail)
            }
            TicketingError::AlreadyCheckedIn { at, gate } => {
                Problem::conflict("already-checked-in", "Already checked in", detail)
                    .with("checked_in_at", eventos_common::time::format_rfc3339(&at))
                    .with("checked_in_gate", gate)
            }
            TicketingError::TicketVoid => Problem::conflict("ticket-void", "Ticket void", detail),
            TicketingError::TicketNotInOrder(_) => Problem::invalid(vec![FieldError::new("tickets", detail)]),
            TicketingError::TicketCheckedIn(_) => Problem::conflict("ticket-checked-in", "Ticket checked in", detail),
            TicketingError::CheckoutEnded(status) => {
                Problem::conflict("checkout-ended", "Checkout ended", detail).with("checkout_status", status)
            }
            TicketingError::MixedLines(why) => Problem::invalid(vec![FieldError::new("lines", why)]),
            TicketingError::VoucherNotFound => Problem::new(422, "voucher-not-found", "Voucher not found", detail)
                .with_errors(vec![FieldError::new("voucher_code", "no such voucher for this event")]),
            TicketingError::VoucherNotValidNow => {
                Problem::new(422, "voucher-not-valid-now", "Voucher not valid now", detail)
                    .with_errors(vec![FieldError::new("voucher_code", "is not valid at this time")])
            }
            TicketingError::VoucherUsedUp { .. } => Problem::conflict("voucher-used-up", "Voucher used up", detail),
            TicketingError::VoucherRequired => Problem::new(422, "voucher-required", "Voucher required", detail)
                .with_errors(vec![FieldError::new("voucher_code", "must unlock every hidden ticket type asked for")]),
            TicketingError::VoucherCodeTaken => Problem::conflict("voucher-code-taken", "Voucher code taken", detail),
            TicketingError::NotUnlockable => Problem::invalid(vec![FieldError::new(
                "unlocks",
                "must name hidden ticket types of the voucher's event",
            )]),
            TicketingError::PaymentTransition { from, to } => {
                Problem::conflict("payment-transition", "Payment cannot move so", detail)
                    .with("payment", from.as_str())
                    .with("requested", to.as_str())
            }
            // No ticket answers to it: a 404, with its own type so that a door tells a forgery from a typo.
            TicketingError::PassRequired => {
                Problem::new(403, "waiting-room-pass-required", "Waiting room pass required", detail)
            }
            TicketingError::PassRefused(refusal) => {
                Problem::new(403, "waiting-room-pass-refused", "Waiting room pass refused", detail)
                    .with("reason", refusal)
            }
            TicketingError::BuyerLimit(limit) => {
                Problem::conflict("buyer-limit-reached", "Buyer limit reached", detail).with("per_buyer_limit", limit)
            }
            TicketingError::RoomClosed => Problem::conflict("waiting-room-closed", "Waiting room closed", detail),
            TicketingError::RoomDrawn => Problem::conflict("waiting-room-drawn", "Waiting room drawn", detail),
            TicketingError::NotGenuine => Problem::new(404, "code-not-genuine", "Code not genuine", detail),
            TicketingError::KeyRace => Problem::conflict("key-race", "Key made at the same moment", detail),
            TicketingError::Forbidden(refusal) => refusal.into(),
            TicketingError::Peer(error) => error.into(),
            TicketingError::Db(error) => error.into(),
            TicketingError::Bug(cause) => Problem::internal(cause),
        }
    }
}
