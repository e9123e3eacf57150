//! Tickets scanned again after their check-in: a gate that was offline, or a
//! copied code. Kept for both gates and the organizer to hear of.

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, column, query};
use eventos_common::time::{rfc3339, rfc3339_opt};
use serde::Serialize;
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::model::Ticket;
use crate::scan::Scan;

/// The most recent duplicate scans an answer lists.
pub const LISTED: i64 = 1000;

/// A scan refused because its ticket was in already, beside that check-in.
#[derive(Serialize)]
pub struct DuplicateScan {
    pub code: String,
    /// Where, when and by whom the ticket was scanned again.
    pub gate: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub scanned_at: NaiveDateTime,
    pub scanned_by: Uuid,
    /// Where and when the check-in that stands was made.
    pub first_gate: Option<String>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub first_checked_in_at: Option<NaiveDateTime>,
}

/// Keeps the refused scan of `ticket`, which was checked in before.
pub fn record(conn: &Connection, ticket: &Ticket, scan: &Scan, scanned_by: Uuid) -> Result<(), DbError> {
    conn.execute(
        &format!(
            "INSERT INTO duplicate_scans (event_id, code, gate, scanned_at, scanned_by) VALUES ($1, $2, $3, {}, $5)",
            super::tickets::scan_time("$4")
        ),
        &[
            ticket.event_id.into(),
            ticket.code.clone().into(),
            scan.gate.clone().into(),
            scan.scanned_at.into(),
            scanned_by.into(),
        ],
    )?;
    Ok(())
}

fn from_row(row: &Row<'_>) -> Result<DuplicateScan, DbError> {
    Ok(DuplicateScan {
        code: column(row, "code")?,
        gate: column(row, "gate")?,
        scanned_at: column(row, "scanned_at")?,
        scanned_by: column(row, "scanned_by")?,
        first_gate: column(row, "first_gate")?,
        first_checked_in_at: column(row, "first_checked_in_at")?,
    })
}

/// The event's most recent duplicate scans, newest first.
pub fn of_event(conn: &Connection, event_id: Uuid) -> Result<Vec<DuplicateScan>, DbError> {
    let sql = "SELECT d.code, d.gate, d.scanned_at AT TIME ZONE 'UTC' AS scanned_at, d.scanned_by,
                      t.checked_in_gate AS first_gate, t.checked_in_at AT TIME ZONE 'UTC' AS first_checked_in_at
               FROM duplicate_scans d JOIN tickets t ON t.code = d.code
               WHERE d.event_id = $1 ORDER BY d.id DESC LIMIT $2";
    query(conn, sql, &[event_id.into(), LISTED.into()], from_row)
}
