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
use crate::repo::{self, order_insert::OrderDraft, order_insert::OrderSource};

/// Fresh codes to try when a new code collides with an issued one.
const CODE_ATTEMPTS: usize = 3;

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
    mut write: impl FnMut(&OrderDraft<'_>) -> Result<Attempt<T>, TicketingError>,
) -> Result<T, TicketingError> {
    for _ in 0..CODE_ATTEMPTS {
        if let Attempt::Done(done) = write(&draft(source))? {
            return Ok(done);
        }
    }
    Err(TicketingError::Bug("could not draw unused ticket codes".into()))
}

/// The order `source` makes, as it is written.
fn draft(source: &OrderSource) -> OrderDraft<'_> {
    OrderDraft {
        source,
        id: Uuid::new_v4(),
        codes: (0..source.quantity()).map(|_| code::new_code()).collect(),
        processed_by: instance_name(),
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
