//! What ticketing last heard from the events component about an event.

use eventos_common::db::{DbError, column, query_a_row};
use eventos_common::journal;
use eventos_common::peer::EventFacts;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

/// How long a `published` heard from events is trusted without asking again:
/// how late a sale may notice that the event was cancelled.
pub const TRUSTED_FOR_SECONDS: i64 = 1;

/// A `SELECT` expression over `ticket_types t`: its event was heard to be
/// published within the trusted window.
pub(super) fn known_on_sale_column() -> String {
    format!(
        "EXISTS (SELECT 1 FROM event_facts f WHERE f.event_id = t.event_id AND f.status = 'published'
                 AND f.checked_at > clock_timestamp() - make_interval(secs => {TRUSTED_FOR_SECONDS})) AS known_on_sale"
    )
}

/// What a sale of an event needs to know before it writes.
pub struct SaleFacts {
    /// The event was heard to be published within the trusted window.
    pub known_on_sale: bool,
    /// A webhook endpoint ready to be sent to wants the event's orders.
    pub watched: bool,
}

pub fn sale_facts(conn: &Connection, event_id: Uuid) -> Result<SaleFacts, DbError> {
    let sql = format!(
        "SELECT {}, {} FROM (SELECT $1::uuid AS event_id) AS t",
        known_on_sale_column(),
        journal::watched_column("t.event_id", "order.confirmed")
    );
    query_a_row(conn, &sql, &[event_id.into()], |row| {
        Ok(SaleFacts { known_on_sale: column(row, "known_on_sale")?, watched: column(row, "watched")? })
    })
}

/// Records what events just said about the event.
pub fn remember_event(conn: &Connection, event_id: Uuid, facts: &EventFacts) -> Result<(), DbError> {
    let params = [event_id.into(), facts.status.as_str().to_owned().into(), facts.organizer_id.into()];
    conn.execute(REMEMBER_EVENT, &params).map_err(DbError::from)?;
    Ok(())
}

/// Records an event's (`$1`) status (`$2`) and organizer (`$3`), heard just now.
pub const REMEMBER_EVENT: &str =
    "INSERT INTO event_facts (event_id, status, organizer_id, checked_at) VALUES ($1, $2, $3, clock_timestamp())
     ON CONFLICT (event_id) DO UPDATE
     SET status = excluded.status, organizer_id = excluded.organizer_id, checked_at = excluded.checked_at";
