//! Tickets: reading them and checking them in at the door.

use eventos_common::db::{DbError, column, query, query_a_row};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use super::named;
use crate::model::{Ticket, TicketStatus};
use crate::scan::Scan;

pub(super) const TICKET_COLUMNS: &str = "code, order_id, ticket_type_id, event_id, price_cents, status, \
     checked_in_at AT TIME ZONE 'UTC' AS checked_in_at, checked_in_by, checked_in_gate, checked_in_scan";

pub(super) fn ticket_from_row(row: &Row<'_>) -> Result<Ticket, DbError> {
    Ok(Ticket {
        code: column(row, "code")?,
        order_id: column(row, "order_id")?,
        ticket_type_id: column(row, "ticket_type_id")?,
        event_id: column(row, "event_id")?,
        price_cents: column(row, "price_cents")?,
        status: named(row, "status", TicketStatus::parse)?,
        checked_in_at: column(row, "checked_in_at")?,
        checked_in_by: column(row, "checked_in_by")?,
        checked_in_gate: column(row, "checked_in_gate")?,
        checked_in_scan: column(row, "checked_in_scan")?,
    })
}

/// The tickets of the orders of `ids`, by code.
pub(super) fn tickets_of(conn: &Connection, ids: &[Uuid], lock: bool) -> Result<Vec<Ticket>, DbError> {
    let lock = if lock { "FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = ANY($1::text[]::uuid[]) ORDER BY code {lock}");
    query(conn, &sql, &[super::uuid_array(ids.iter().copied())], ticket_from_row)
}

/// How many of an event's tickets are issued (not void) and checked in.
pub fn check_in_counts(conn: &Connection, event_id: Uuid) -> Result<(i64, i64), DbError> {
    let sql = "SELECT count(*) FILTER (WHERE status <> 'void') AS issued,
                      count(*) FILTER (WHERE status = 'checked_in') AS checked_in
               FROM tickets WHERE event_id = $1";
    query_a_row(conn, sql, &[event_id.into()], |row| Ok((column(row, "issued")?, column(row, "checked_in")?)))
}

pub fn find_ticket(conn: &Connection, code: &str) -> Result<Option<Ticket>, DbError> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE code = $1");
    Ok(query(conn, &sql, &[code.to_owned().into()], ticket_from_row)?.into_iter().next())
}

/// When a scan happened, as SQL over the scan time bound as `param`: that time
/// (a gate that was offline sends it), never later than now; now when none.
pub(super) fn scan_time(param: &str) -> String {
    format!("least(coalesce({param}::timestamp AT TIME ZONE 'UTC', clock_timestamp()), clock_timestamp())")
}

/// Checks a valid ticket in at the time of the scan (never later than now);
/// `None` when it was not valid (already in, void, or unknown).
pub fn check_in(conn: &Connection, code: &str, scanned_by: Uuid, scan: &Scan) -> Result<Option<Ticket>, DbError> {
    let sql = format!(
        "UPDATE tickets SET status = 'checked_in', checked_in_by = $2, checked_in_gate = $3, checked_in_scan = $5,
                checked_in_at = {}
         WHERE code = $1 AND status = 'valid' RETURNING {TICKET_COLUMNS}",
        scan_time("$4")
    );
    let params = [
        code.to_owned().into(),
        scanned_by.into(),
        scan.gate.clone().into(),
        scan.scanned_at.into(),
        scan.id.clone().into(),
    ];
    Ok(query(conn, &sql, &params, ticket_from_row)?.into_iter().next())
}
