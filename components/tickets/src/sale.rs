//! Selling and replaying direct orders: the rules, the retries and the replays
//! of a sale, apart from how it is asked for over HTTP.

use eventos_common::db::{DbError, in_transaction};
use eventos_common::journal;
use spin_sdk::pg4::Connection;

use crate::error::TicketingError;
use crate::hold;
use crate::lately::SoldLately;
use crate::model::{Order, SaleType, random_bucket};
use crate::ordering::{Attempt, take_stock, with_fresh_codes};
use crate::peers;
use crate::repo::{self, order_insert::InsertOrder, order_insert::OrderDraft, order_insert::OrderSource};
use crate::requests::NewOrder;
use crate::room_gate;
use crate::rules::pricing;

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
    fn into_sale(self, draft: &OrderDraft<'_>) -> Result<Order, SaleError> {
        match self {
            InsertOrder::Inserted => Ok(draft.order()),
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

/// Sells in one round trip when the type was sold lately (see `lately`); else
/// checks the ticket type and asks the peers, then sells: from a free bucket if
/// one has room, else waiting for one; when expired checkout holds take the
/// stock it needs, again after giving them back.
fn sell(conn: &Connection, new: &NewOrder) -> Result<Sold, TicketingError> {
    let sold_lately = SoldLately::open();
    if let Some(sold) = sell_as_lately(conn, new, &sold_lately)? {
        return Ok(sold);
    }
    let ticket_type =
        repo::types::find_sale_type(conn, new.ticket_type_id)?.ok_or(TicketingError::TicketTypeNotFound)?;
    let source = order_source(&ticket_type, new)?;
    let other_buyer = (!new.buyer_is_caller).then_some(new.user_id);
    peers::require_on_sale(conn, ticket_type.event_id, ticket_type.known_on_sale, other_buyer)?;
    let room = ticket_type.room.as_ref();
    let quota = room_gate::enter(conn, ticket_type.event_id, room, new.pass.as_deref(), new.user_id, new.quantity)?;
    let sold = hold::retrying_after_expiry(conn, ticket_type.event_id, || {
        let sold = with_fresh_codes(&source, |draft| {
            let first_bucket = random_bucket(ticket_type.quantity);
            let outcome = match repo::order_insert::sell_from_free_bucket(conn, draft, first_bucket, None)? {
                Some(outcome) => outcome.into_sale(draft),
                None => sell_waiting(conn, draft, first_bucket),
            };
            match outcome {
                Ok(order) => Ok(Attempt::Done(Sold::New(order))),
                Err(SaleError::Refused(problem)) => Err(problem),
                Err(SaleError::KeyTaken) => {
                    let first = replay(conn, new)?
                        .ok_or_else(|| TicketingError::Bug("an idempotency key without its order".into()))?;
                    Ok(Attempt::Done(Sold::Replayed(first)))
                }
                Err(SaleError::CodeTaken) => Ok(Attempt::CodeTaken),
            }
        })?;
        if ticket_type.watched && matches!(sold, Sold::New(_)) {
            journal::owe_deliveries();
        }
        Ok(sold)
    });
    if let Some(quota) = quota.filter(|_| !matches!(sold, Ok(Sold::New(_)))) {
        quota.give_back(conn);
    }
    if matches!(sold, Ok(Sold::New(_))) {
        sold_lately.sold(&ticket_type);
    }
    sold
}

/// A member's own order of a type sold lately, priced on what that sale read
/// and written in one statement only if the type still reads so; `None` when
/// it did not go through that way (the type changed, no bucket was free, the
/// key was taken), and the sale starts over from the type.
fn sell_as_lately(conn: &Connection, new: &NewOrder, sold_lately: &SoldLately) -> Result<Option<Sold>, TicketingError> {
    let Some(lately) = sold_lately.recall(new.ticket_type_id).filter(|_| new.buyer_is_caller) else {
        return Ok(None);
    };
    let source = order_source(&lately, new)?;
    let sold = with_fresh_codes(&source, |draft| {
        let first_bucket = random_bucket(lately.quantity);
        Ok(match repo::order_insert::sell_from_free_bucket(conn, draft, first_bucket, Some(&lately))? {
            Some(InsertOrder::Inserted) => Attempt::Done(Some(Sold::New(draft.order()))),
            Some(InsertOrder::CodeTaken) => Attempt::CodeTaken,
            Some(InsertOrder::KeyTaken) | None => Attempt::Done(None),
        })
    })?;
    if lately.watched && sold.is_some() {
        journal::owe_deliveries();
    }
    Ok(sold)
}

/// The order `new` makes of `ticket_type`, priced.
pub fn order_source(ticket_type: &SaleType, new: &NewOrder) -> Result<OrderSource, TicketingError> {
    Ok(OrderSource {
        event_id: ticket_type.event_id,
        user_id: new.user_id,
        currency: ticket_type.currency.clone(),
        lines: vec![pricing::order_line(ticket_type, new.quantity)?],
        voucher_code: None,
        checkout_id: None,
        idempotency_key: new.idempotency_key.clone(),
        fingerprint: new.idempotency_key.as_ref().map(|_| new.fingerprint()),
        actor: new.actor,
    })
}

/// The sale when every bucket with room was busy: in one transaction, the order
/// and its tickets are written first and the stock is taken last, waiting for a
/// bucket if need be, so that a bucket is held only for its update and the commit.
fn sell_waiting(conn: &Connection, draft: &OrderDraft<'_>, first_bucket: i32) -> Result<Order, SaleError> {
    in_transaction(conn, |conn| {
        let order = repo::order_insert::insert_order(conn, draft)?.into_sale(draft)?;
        take_stock(conn, &draft.source.lines[0], first_bucket)?;
        Ok(order)
    })
}

/// The order an earlier request with this key made, if any; a different request
/// under the same key is refused.
fn replay(conn: &Connection, new: &NewOrder) -> Result<Option<Order>, TicketingError> {
    let Some(key) = &new.idempotency_key else {
        return Ok(None);
    };
    match repo::orders::find_order_by_key(conn, key)? {
        None => Ok(None),
        Some((order, fingerprint)) if fingerprint.as_deref() == Some(new.fingerprint().as_str()) => Ok(Some(order)),
        Some(_) => Err(TicketingError::KeyReused),
    }
}
