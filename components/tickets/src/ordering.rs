//! The one way every order is written, a direct order's and a confirmed
//! checkout's alike: drafted from what it is made of with a new id and fresh
//! ticket codes (drawn again while a code collides), and its stock taken, or
//! the shortage told.

use eventos_common::health::instance_name;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::PricedLine;
use crate::repo::{self, order_insert::OrderDraft};

/// Fresh codes to try when a new code collides with an issued one.
const CODE_ATTEMPTS: usize = 3;

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

/// Takes a line's stock, starting at `first_bucket`, or tells how many are left.
pub fn take_stock(conn: &Connection, line: &PricedLine, first_bucket: i32) -> Result<(), TicketingError> {
    if repo::stock::take_stock(conn, line.ticket_type_id, line.quantity, first_bucket)? {
        return Ok(());
    }
    let available = repo::types::find_ticket_type(conn, line.ticket_type_id)?.map_or(0, |t| t.available);
    Err(TicketingError::SoldOut { available, wanted: line.quantity })
}
