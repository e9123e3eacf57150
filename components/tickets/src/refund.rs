//! Cancelling tickets of an order, the refunds that follow for a paid one, and
//! the payment states an operator's payment integration moves: the order read
//! under lock, the decision `rules` makes, and its writes.

use eventos_common::db::in_transaction;
use eventos_common::journal::{self, Entry};
use serde_json::json;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{Order, Payment, Refund};
use crate::repo;
use crate::rules::cancellation::{self, Cancel};
use crate::rules::payment::{self, PaymentStep};

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
    let cancellation = cancellation::plan(order, what)?;
    repo::orders::void_tickets(conn, order.id, &cancellation.codes)?;
    if cancellation.paid {
        let refund = Refund {
            amount_cents: cancellation.refund_cents(),
            tickets: cancellation.codes.clone(),
            refunded_by: by,
            created_at: eventos_common::time::now(),
        };
        repo::orders::insert_refund(conn, order.id, &refund)?;
    }
    if let Some(payment) = cancellation.payment_after() {
        repo::orders::set_payment(conn, order.id, payment, None)?;
    }
    let data = json!({"tickets": cancellation.codes, "refunded_cents": cancellation.refund_cents()});
    journal::record(conn, &entry(cancellation.kind(), order, by, data))?;
    Ok(repo::stock::return_stocks(conn, repo::stock::tally(cancellation.returned_types))?)
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
        match payment::step(order.status, order.payment, to)? {
            PaymentStep::Nothing => Ok(()),
            PaymentStep::MarkPaid => {
                repo::orders::set_payment(conn, id, Payment::Paid, reference)?;
                let data = json!({"amount_cents": order.amount_cents, "reference": reference});
                Ok(journal::record(conn, &entry("order.paid", &order, by, data))?)
            }
            PaymentStep::RefundAll => cancel_locked(conn, &order, Cancel::Whole, by),
        }
    })
}
