//! Selling: a direct order's sale with its retries and replays, and the one way
//! every order is drafted and written (a confirmed checkout's too), apart from
//! how it is asked for over HTTP.

use eventos_common::db::{DbError, in_transaction};
use eventos_common::health::instance_name;
use eventos_common::journal;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::hold;
use crate::model::{Order, PricedLine, random_bucket};
use crate::peers;
use crate::repo::{self, order_insert::InsertOrder, order_insert::OrderDraft};
use crate::requests::NewOrder;
use crate::rules::pricing;

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
    fn into_sale(self, draft: &OrderDraft) -> Result<Order, SaleError> {
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

/// Checks the ticket type and asks the peers, then sells: from a free bucket if
/// one has room, else waiting for one; when expired checkout holds take the
/// stock it needs, again after giving them back.
fn sell(conn: &Connection, new: &NewOrder) -> Result<Sold, TicketingError> {
    let ticket_type =
        repo::types::find_sale_type(conn, new.ticket_type_id)?.ok_or(TicketingError::TicketTypeNotFound)?;
    let line = pricing::order_line(&ticket_type, new.quantity)?;
    let other_buyer = (!new.buyer_is_caller).then_some(new.user_id);
    peers::require_on_sale(conn, ticket_type.event_id, ticket_type.known_on_sale, other_buyer)?;
    let source = OrderSource {
        event_id: ticket_type.event_id,
        user_id: new.user_id,
        currency: ticket_type.currency.clone(),
        lines: vec![line],
        voucher_code: None,
        checkout_id: None,
        idempotency_key: new.idempotency_key.clone(),
        fingerprint: new.idempotency_key.as_ref().map(|_| new.fingerprint()),
        actor: new.actor,
    };
    hold::retrying_after_expiry(conn, ticket_type.event_id, || {
        let sold = with_fresh_codes(&source, |draft| {
            let first_bucket = random_bucket(ticket_type.quantity);
            let outcome = match repo::order_insert::sell_from_free_bucket(conn, draft, first_bucket)? {
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
    })
}

/// What an order is made of besides its ids and codes: a direct order's and a
/// confirmed checkout's differ only here.
pub struct OrderSource {
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub voucher_code: Option<String>,
    pub checkout_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub fingerprint: Option<String>,
    /// Who made it: the buyer, an admin for them, or whoever confirmed the checkout.
    pub actor: Uuid,
}

/// How one try to write an order went.
pub enum Attempt<T> {
    Done(T),
    /// A drawn ticket code was taken (a 1 in 2^40 event): draw again.
    CodeTaken,
}

/// Drafts the order of `source` with a new id and fresh codes, and writes it
/// with `write`, drawing again while a code collides.
pub fn with_fresh_codes<T>(
    source: &OrderSource,
    mut write: impl FnMut(&OrderDraft) -> Result<Attempt<T>, TicketingError>,
) -> Result<T, TicketingError> {
    for _ in 0..CODE_ATTEMPTS {
        if let Attempt::Done(done) = write(&draft(source))? {
            return Ok(done);
        }
    }
    Err(TicketingError::Bug("could not draw unused ticket codes".into()))
}

/// The order `source` makes, as it is written.
fn draft(source: &OrderSource) -> OrderDraft {
    let tickets: i32 = source.lines.iter().map(|line| line.quantity).sum();
    OrderDraft {
        id: Uuid::new_v4(),
        event_id: source.event_id,
        user_id: source.user_id,
        currency: source.currency.clone(),
        lines: source.lines.clone(),
        codes: (0..tickets).map(|_| code::new_code()).collect(),
        voucher_code: source.voucher_code.clone(),
        checkout_id: source.checkout_id,
        idempotency_key: source.idempotency_key.clone(),
        fingerprint: source.fingerprint.clone(),
        processed_by: instance_name(),
        actor: source.actor,
        at: eventos_common::time::now(),
    }
}

/// The sale when every bucket with room was busy: in one transaction, the order
/// and its tickets are written first and the stock is taken last, waiting for a
/// bucket if need be, so that a bucket is held only for its update and the commit.
fn sell_waiting(conn: &Connection, draft: &OrderDraft, first_bucket: i32) -> Result<Order, SaleError> {
    in_transaction(conn, |conn| {
        let order = repo::order_insert::insert_order(conn, draft)?.into_sale(draft)?;
        take_stock(conn, &draft.lines[0], first_bucket)?;
        Ok(order)
    })
}

/// Takes a line's stock, starting at `first_bucket`, or tells how many are left.
pub fn take_stock(conn: &Connection, line: &PricedLine, first_bucket: i32) -> Result<(), TicketingError> {
    if repo::stock::take_stock(conn, line.ticket_type_id, line.quantity, first_bucket)? {
        return Ok(());
    }
    let available = repo::types::find_ticket_type(conn, line.ticket_type_id)?.map_or(0, |t| t.available);
    Err(TicketingError::SoldOut { available, wanted: line.quantity })
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
