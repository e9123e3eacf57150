//! Cancelling tickets of an order: which tickets a request may take, what goes
//! back on sale, what a paid order refunds, and what becomes of the order.

use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{Order, OrderStatus, Payment, TicketStatus};

/// Which of an order's tickets to cancel.
pub enum Cancel {
    /// Every ticket that stands: refused if one was checked in.
    Whole,
    /// These codes, each a valid ticket of the order.
    Tickets(Vec<String>),
}

/// What a cancellation does, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    /// The tickets voided, as the order stores their codes.
    pub codes: Vec<String>,
    /// The ticket type of each, one entry per ticket: the stock that goes back.
    pub returned_types: Vec<Uuid>,
    /// What the voided tickets cost their buyer: refunded when the order was paid.
    pub price_cents: i64,
    pub paid: bool,
    /// No ticket of the order stands afterwards: the order is cancelled.
    pub last: bool,
}

impl Cancellation {
    /// The money given back: what the tickets cost, if it was ever collected.
    pub fn refund_cents(&self) -> i64 {
        if self.paid { self.price_cents } else { 0 }
    }

    /// The payment once nothing paid for stands: `refunded`.
    pub fn payment_after(&self) -> Option<Payment> {
        (self.paid && self.last).then_some(Payment::Refunded)
    }

    /// The journal's entry kind for it.
    pub fn kind(&self) -> &'static str {
        if self.last { "order.cancelled" } else { "order.tickets_cancelled" }
    }
}

/// Decides what cancelling `what` of `order` does, or why it may not.
pub fn plan(order: &Order, what: Cancel) -> Result<Cancellation, TicketingError> {
    if order.status == OrderStatus::Cancelled {
        return Err(TicketingError::AlreadyCancelled);
    }
    let codes: Vec<String> = match what {
        Cancel::Whole => {
            if order.tickets.iter().any(|t| t.status == TicketStatus::CheckedIn) {
                return Err(TicketingError::OrderCheckedIn);
            }
            order.tickets.iter().filter(|t| t.status == TicketStatus::Valid).map(|t| t.code.clone()).collect()
        }
        Cancel::Tickets(codes) => codes,
    };
    let mut returned_types = Vec::with_capacity(codes.len());
    let mut price_cents = 0;
    for code in &codes {
        let ticket = order.tickets.iter().find(|t| &t.code == code);
        let ticket = ticket.ok_or_else(|| TicketingError::TicketNotInOrder(code.clone()))?;
        match ticket.status {
            TicketStatus::Valid => {}
            TicketStatus::CheckedIn => return Err(TicketingError::TicketCheckedIn(code.clone())),
            TicketStatus::Void => return Err(TicketingError::TicketVoid),
        }
        price_cents += ticket.price_cents;
        returned_types.push(ticket.ticket_type_id);
    }
    let standing = order.tickets.iter().filter(|t| t.status != TicketStatus::Void).count();
    let last = standing == codes.len();
    Ok(Cancellation { codes, returned_types, price_cents, paid: order.payment == Payment::Paid, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ticket;

    const GA: Uuid = Uuid::from_u128(1);
    const VIP: Uuid = Uuid::from_u128(2);

    fn ticket(code: &str, ticket_type_id: Uuid, price_cents: i64, status: TicketStatus) -> Ticket {
        Ticket {
            checked_in_gate: None,
            checked_in_scan: None,
            code: code.into(),
            order_id: Uuid::nil(),
            ticket_type_id,
            event_id: Uuid::nil(),
            price_cents,
            status,
            checked_in_at: None,
            checked_in_by: None,
        }
    }

    fn order(payment: Payment, tickets: Vec<Ticket>) -> Order {
        Order {
            id: Uuid::nil(),
            event_id: Uuid::nil(),
            ticket_type_id: None,
            user_id: Uuid::nil(),
            quantity: tickets.len() as i32,
            total_cents: 0,
            discount_cents: 0,
            amount_cents: 0,
            currency: "EUR".into(),
            status: OrderStatus::Confirmed,
            payment,
            payment_reference: None,
            refunded_cents: 0,
            refunds: Vec::new(),
            voucher_code: None,
            checkout_id: None,
            tickets,
            processed_by: "test".into(),
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        }
    }

    fn three(payment: Payment) -> Order {
        order(
            payment,
            vec![
                ticket("A", GA, 2500, TicketStatus::Valid),
                ticket("B", GA, 2500, TicketStatus::Valid),
                ticket("C", VIP, 9000, TicketStatus::Valid),
            ],
        )
    }

    fn codes(codes: &[&str]) -> Cancel {
        Cancel::Tickets(codes.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn a_whole_paid_order_is_refunded_in_full_and_cancelled() {
        let whole = plan(&three(Payment::Paid), Cancel::Whole).expect("cancellable");
        assert_eq!(whole.codes, ["A", "B", "C"]);
        assert_eq!(whole.returned_types, [GA, GA, VIP]);
        assert_eq!((whole.refund_cents(), whole.last, whole.kind()), (14_000, true, "order.cancelled"));
        assert_eq!(whole.payment_after(), Some(Payment::Refunded));
    }

    #[test]
    fn some_tickets_of_a_paid_order_refund_what_they_cost_and_the_order_stands() {
        let part = plan(&three(Payment::Paid), codes(&["B", "C"])).expect("cancellable");
        assert_eq!((part.refund_cents(), part.last, part.kind()), (11_500, false, "order.tickets_cancelled"));
        assert_eq!(part.returned_types, [GA, VIP]);
        assert_eq!(part.payment_after(), None, "a ticket paid for still stands");
    }

    #[test]
    fn an_unpaid_order_refunds_nothing() {
        let whole = plan(&three(Payment::Pending), Cancel::Whole).expect("cancellable");
        assert_eq!((whole.refund_cents(), whole.payment_after(), whole.last), (0, None, true));
    }

    #[test]
    fn the_last_standing_tickets_cancel_the_order_whatever_was_voided_before() {
        let mut earlier = three(Payment::Paid);
        earlier.tickets[0].status = TicketStatus::Void;
        let rest = plan(&earlier, codes(&["B", "C"])).expect("cancellable");
        assert!(rest.last);
        assert_eq!(rest.payment_after(), Some(Payment::Refunded));
        let whole = plan(&earlier, Cancel::Whole).expect("what stands");
        assert_eq!((whole.codes.len(), whole.refund_cents()), (2, 11_500), "a void ticket is not refunded twice");
    }

    #[test]
    fn a_checked_in_ticket_stays_and_keeps_its_whole_order() {
        let mut scanned = three(Payment::Paid);
        scanned.tickets[2].status = TicketStatus::CheckedIn;
        assert_eq!(plan(&scanned, Cancel::Whole), Err(TicketingError::OrderCheckedIn));
        assert_eq!(plan(&scanned, codes(&["C"])), Err(TicketingError::TicketCheckedIn("C".into())));
        let others = plan(&scanned, codes(&["A", "B"])).expect("the others may go");
        assert!(!others.last, "the checked-in ticket still stands");
    }

    #[test]
    fn a_code_must_be_a_valid_ticket_of_the_order() {
        let mut voided = three(Payment::Paid);
        voided.tickets[0].status = TicketStatus::Void;
        assert_eq!(plan(&voided, codes(&["A"])), Err(TicketingError::TicketVoid));
        assert_eq!(plan(&voided, codes(&["B", "Z"])), Err(TicketingError::TicketNotInOrder("Z".into())));
        let mut cancelled = three(Payment::Paid);
        cancelled.status = OrderStatus::Cancelled;
        assert_eq!(plan(&cancelled, codes(&["A"])), Err(TicketingError::AlreadyCancelled));
        assert_eq!(plan(&cancelled, Cancel::Whole), Err(TicketingError::AlreadyCancelled));
    }
}
