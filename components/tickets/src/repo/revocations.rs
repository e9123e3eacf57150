//! An event's revocation list, read as what came after a number a scanner holds
//! (the writes are `orders::void_tickets`').

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, column, query};
use eventos_common::time::rfc3339;
use serde::Serialize;
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

/// A voided ticket, numbered in its event's list.
#[derive(Serialize)]
pub struct Revocation {
    pub version: i64,
    pub code: String,
    #[serde(serialize_with = "rfc3339")]
    pub revoked_at: NaiveDateTime,
}

fn from_row(row: &Row<'_>) -> Result<Revocation, DbError> {
    Ok(Revocation {
        version: column(row, "version")?,
        code: column(row, "code")?,
        revoked_at: column(row, "revoked_at")?,
    })
}

/// Up to `limit` revocations of the event numbered after `since`, in order.
pub fn after(conn: &Connection, event_id: Uuid, since: i64, limit: i64) -> Result<Vec<Revocation>, DbError> {
    let sql = "SELECT version, code, revoked_at AT TIME ZONE 'UTC' AS revoked_at FROM ticket_revocations
               WHERE event_id = $1 AND version > $2 ORDER BY version LIMIT $3";
    query(conn, sql, &[event_id.into(), since.into(), limit.into()], from_row)
}
