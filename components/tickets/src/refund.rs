//! Cancelling tickets of an order, the refunds that follow for a paid one, and
//! the payment states an operator's payment integration moves.

use eventos_common::db::in_transaction;
use eventos_common::journal::{self, Entry};
use serde_json::json;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{Order, OrderStatus, Payment, Refund, TicketStatus};
use crate::repo;

/// Which of an order's tickets to cancel.
pub enum Cancel {
    /// Every ticket that stands: refused if one was checked in.
    Whole,
    /// These codes, each a valid ticket of the order.
    Tickets(Vec<String>),
}

/// Cancels the tickets, puts them back on sale and, when the order was paid,
/// records what they cost as refunded by `by`; the order is cancelled with its
/// last ticket, and its payment is `refunded` once nothing paid for stands.
pub fn cancel(conn: &Connection, id: Uuid, what: Cancel, by: Uuid) -> Result<(), TicketingError> {
    in_transaction(conn, |conn| {
        let order = repo::orders::lock_order(conn, id)?.ok_or(TicketingError::NotFound("order"))?;
        cancel_locked(conn, &order, what, by)
    })
}

fn cancel_locked(conn: &Connection, order: &Order, what: Cancel, by: Uuid) -> Result<(), TicketingError> {
    if order.status == OrderStatus::Cancelled {
        return Err(TicketingError::AlreadyCancelled);
    }
    let codes = match what {
        Cancel::Whole => {
            if order.tickets.iter().any(|t| t.status == TicketStatus::CheckedIn) {
                return Err(TicketingError::OrderCheckedIn);
            }
            order.tickets.iter().filter(|t| t.status == TicketStatus::Valid).map(|t| t.code.clone()).collect()
        }
        Cancel::Tickets(codes) => codes,
    };
    let mut returned_types = Vec::with_capacity(codes.len());
    let mut refunded = 0;
    for code in &codes {
        let ticket = order.tickets.iter().find(|t| &t.code == code);
        let ticket = ticket.ok_or_else(|| TicketingError::TicketNotInOrder(code.clone()))?;
        match ticket.status {
            TicketStatus::Valid => {}
            TicketStatus::CheckedIn => return Err(TicketingError::TicketCheckedIn(code.clone())),
            TicketStatus::Void => return Err(TicketingError::TicketVoid),
        }
        refunded += ticket.price_cents;
        returned_types.push(ticket.ticket_type_id);
    }
    repo::orders::void_tickets(conn, order.id, &codes)?;
    let standing = order.tickets.iter().filter(|t| t.status != TicketStatus::Void).count();
    let paid = order.payment == Payment::Paid;
    if paid {
        let at = eventos_common::time::now();
        let refund = Refund { amount_cents: refunded, tickets: codes.clone(), refunded_by: by, created_at: at };
        repo::orders::insert_refund(conn, order.id, &refund)?;
        if standing == codes.len() {
            repo::orders::set_payment(conn, order.id, Payment::Refunded, None)?;
        }
    }
    let kind = if standing == codes.len() { "order.cancelled" } else { "order.tickets_cancelled" };
    let data = json!({"tickets": codes, "refunded_cents": if paid { refunded } else { 0 }});
    journal::record(conn, &entry(kind, order, by, data))?;
    Ok(repo::stock::return_stocks(conn, repo::stock::tally(returned_types))?)
}

/// The journal's entry for what `actor` did to `order`.
fn entry(kind: &'static str, order: &Order, actor: Uuid, data: serde_json::Value) -> Entry {
    Entry { kind, subject: order.id.to_string(), event_id: Some(order.event_id), actor, data }
}

/// Moves the order's payment to `to`: `pending` → `paid`, `paid` → `refunded`
/// (cancelling every ticket that stands, as a refund by `by`). Asking for the
/// state it is in changes nothing, so the integration may repeat its call.
pub fn move_payment(
    conn: &Connection,
    id: Uuid,
    to: Payment,
    reference: Option<&str>,
    by: Uuid,
) -> Result<(), TicketingError> {
    in_transaction(conn, |conn| {
        let order = repo::orders::lock_order(conn, id)?.ok_or(TicketingError::NotFound("order"))?;
        match (order.payment, to) {
            (from, to) if from == to => Ok(()),
            (Payment::Pending, Payment::Paid) if order.status == OrderStatus::Confirmed => {
                repo::orders::set_payment(conn, id, Payment::Paid, reference)?;
                let data = json!({"amount_cents": order.amount_cents, "reference": reference});
                Ok(journal::record(conn, &entry("order.paid", &order, by, data))?)
            }
            (Payment::Paid, Payment::Refunded) => cancel_locked(conn, &order, Cancel::Whole, by),
            (from, to) => Err(TicketingError::PaymentTransition { from, to }),
        }
    })
}
