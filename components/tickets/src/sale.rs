//! Selling and cancelling orders: the rules, the retries and the replays of a
//! sale, apart from how it is asked for over HTTP.

use eventos_common::db::{DbError, in_transaction};
use eventos_common::health::instance_name;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::{NewOrder, Order, OrderStatus, TicketStatus, random_bucket};
use crate::peers;
use crate::repo::{self, InsertOrder, Sale};

/// Fresh codes to try when a new code collides with an issued one.
const CODE_ATTEMPTS: usize = 3;

/// What a request to buy got.
pub enum Sold {
    /// A new order, just written.
    New(Order),
    /// The order an earlier request with the same idempotency key made.
    Replayed(Order),
}

/// Why a sale's transaction was rolled back.
enum SaleError {
    Refused(TicketingError),
    /// The idempotency key was claimed by a request that committed first.
    KeyTaken,
    CodeTaken,
}

impl From<TicketingError> for SaleError {
    fn from(error: TicketingError) -> Self {
        SaleError::Refused(error)
    }
}

impl From<DbError> for SaleError {
    fn from(error: DbError) -> Self {
        SaleError::Refused(error.into())
    }
}

impl InsertOrder {
    fn into_sale(self) -> Result<Order, SaleError> {
        match self {
            InsertOrder::Inserted(order) => Ok(order),
            InsertOrder::KeyTaken => Err(SaleError::KeyTaken),
            InsertOrder::CodeTaken => Err(SaleError::CodeTaken),
        }
    }
}

/// Sells `new`, or answers as its key's first request was answered. A repeated
/// key is caught by the sale itself (its order collides with the first one), so
/// a new request, the usual case, never looks its key up. A refused request
/// does: a repeat gets the original order even when, say, the stock ran out or a
/// peer went down since.
pub fn sell_or_replay(conn: &Connection, new: &NewOrder) -> Result<Sold, TicketingError> {
    match sell(conn, new) {
        Err(refusal) if new.idempotency_key.is_some() => Ok(Sold::Replayed(replay(conn, new)?.ok_or(refusal)?)),
        outcome => outcome,
    }
}

/// Checks the ticket type and asks the peers, then sells: from a free bucket if
/// one has room, else waiting for one.
fn sell(conn: &Connection, new: &NewOrder) -> Result<Sold, TicketingError> {
    let ticket_type = repo::find_ticket_type(conn, new.ticket_type_id)?.ok_or(TicketingError::TicketTypeNotFound)?;
    peers::require_event_on_sale(ticket_type.event_id, (!new.buyer_is_caller).then_some(new.user_id))?;
    let processed_by = instance_name();
    for _ in 0..CODE_ATTEMPTS {
        let sale = Sale {
            order: new,
            ticket_type: &ticket_type,
            processed_by: &processed_by,
            codes: (0..new.quantity).map(|_| code::new_code()).collect(),
            first_bucket: random_bucket(ticket_type.quantity),
            order_id: Uuid::new_v4(),
            at: eventos_common::time::now(),
        };
        let outcome = match repo::sell_from_free_bucket(conn, &sale)? {
            Some(outcome) => outcome.into_sale(),
            None => sell_waiting(conn, &sale),
        };
        match outcome {
            Ok(order) => return Ok(Sold::New(order)),
            Err(SaleError::Refused(problem)) => return Err(problem),
            Err(SaleError::KeyTaken) => {
                let first = replay(conn, new)?
                    .ok_or_else(|| TicketingError::Bug("an idempotency key without its order".into()));
                return first.map(Sold::Replayed);
            }
            Err(SaleError::CodeTaken) => continue,
        }
    }
    Err(TicketingError::Bug("could not draw unused ticket codes".into()))
}

/// The sale when every bucket with room was busy: in one transaction, the order
/// and its tickets are written first and the stock is taken last, waiting for a
/// bucket if need be, so that a bucket is held only for its update and the commit.
fn sell_waiting(conn: &Connection, sale: &Sale) -> Result<Order, SaleError> {
    in_transaction(conn, |conn| {
        let new = sale.order;
        let order = repo::insert_order(conn, sale)?.into_sale()?;
        if !repo::take_stock(conn, new.ticket_type_id, new.quantity, sale.first_bucket)? {
            let available = repo::find_ticket_type(conn, new.ticket_type_id)?.map_or(0, |t| t.available);
            return Err(TicketingError::SoldOut { available, wanted: new.quantity }.into());
        }
        Ok(order)
    })
}

/// The order an earlier request with this key made, if any; a different request
/// under the same key is refused.
fn replay(conn: &Connection, new: &NewOrder) -> Result<Option<Order>, TicketingError> {
    let Some(key) = &new.idempotency_key else {
        return Ok(None);
    };
    match repo::find_order_by_key(conn, key)? {
        None => Ok(None),
        Some((order, fingerprint)) if fingerprint.as_deref() == Some(new.fingerprint().as_str()) => Ok(Some(order)),
        Some(_) => Err(TicketingError::KeyReused),
    }
}

/// Cancels the order once, unless one of its tickets was checked in, and puts
/// its tickets back on sale.
pub fn cancel(conn: &Connection, id: Uuid) -> Result<(), TicketingError> {
    in_transaction(conn, |conn| {
        let order = repo::lock_order(conn, id)?.ok_or(TicketingError::NotFound("order"))?;
        if order.status == OrderStatus::Cancelled {
            return Err(TicketingError::AlreadyCancelled);
        }
        if order.tickets.iter().any(|t| t.status == TicketStatus::CheckedIn) {
            return Err(TicketingError::OrderCheckedIn);
        }
        repo::cancel_order(conn, id)?;
        Ok(repo::return_stock(conn, order.ticket_type_id, order.quantity)?)
    })
}
