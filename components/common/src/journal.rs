//! A domain's journal: what was done, to what, by whom and when, written in the
//! same transaction as the change it records, so that it holds exactly the
//! changes that were made. It is the domain's audit log
//! (`GET /api/<domain>/audit`).

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDateTime;
use serde::Serialize;
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::auth::{self, Caller, Role};
use crate::db::{self, DbError, column, query, query_a_row};
use crate::page::{Cursor, PageRequest, event_list_query, keyset, page_response};
use crate::time::rfc3339;
use crate::{ApiRequest, ApiResult, Problem};

/// One thing done, about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What was done, as `<thing>.<verb>`: `event.approved`, `order.refunded`.
    pub kind: &'static str,
    /// What it was done to: an id or a ticket code.
    pub subject: String,
    /// The event it concerns: whose organizer may read it.
    pub event_id: Option<Uuid>,
    /// Who did it, as the token said.
    pub actor: Uuid,
    /// The particulars: a reason, an amount, the tickets.
    pub data: serde_json::Value,
}

/// A recorded entry, as the audit log answers it.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub event_id: Option<Uuid>,
    pub actor: Uuid,
    pub data: serde_json::Value,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

/// The deliveries a new entry owes the enabled webhook endpoints that want
/// entries of its type about its event: a statement over the entry, a CTE named
/// `entry` of the journal's `id, seq, kind, subject, event_id`.
pub const OWED_DELIVERIES: &str = "INSERT INTO webhook_deliveries (endpoint_id, entry_id, seq, subject)
     SELECT w.id, entry.id, entry.seq, entry.subject
     FROM entry JOIN webhook_endpoints w
       ON (w.event_id IS NULL OR w.event_id = entry.event_id) AND w.enabled
      AND (w.event_types IS NULL OR entry.kind = ANY (w.event_types))";

/// An endpoint, as `w`, may be sent to now: it is not backed off.
const READY: &str = "(w.paused_until IS NULL OR w.paused_until <= clock_timestamp())";

/// Whether this request wrote a delivery to an endpoint ready for it: the
/// request then delivers once it has answered (see `webhook::deliver_owed`).
/// An instance serves one request, so the flag is the request's.
static OWES_DELIVERIES: AtomicBool = AtomicBool::new(false);

/// Notes that this request wrote a delivery to an endpoint ready for it.
pub fn owe_deliveries() {
    OWES_DELIVERIES.store(true, Ordering::Relaxed);
}

/// Whether this request wrote a delivery to an endpoint ready for it.
pub fn owes_deliveries() -> bool {
    OWES_DELIVERIES.load(Ordering::Relaxed)
}

/// A `SELECT` expression: whether an enabled webhook endpoint ready to be sent
/// to wants entries of type `kind` about the event `event_id` (an SQL
/// expression), i.e. whether such an entry is worth delivering once the request
/// has answered. An endpoint backed off is not: its deliveries wait.
pub fn watched_column(event_id: &str, kind: &'static str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM webhook_endpoints w
                 WHERE (w.event_id IS NULL OR w.event_id = {event_id}) AND w.enabled AND {READY}
                   AND (w.event_types IS NULL OR '{kind}' = ANY (w.event_types))) AS watched"
    )
}

/// Notes that this request owes deliveries when `ready`, the count of owed
/// deliveries that may go now, is not zero.
pub fn ready(ready: i64) {
    if ready > 0 {
        owe_deliveries();
    }
}

/// Records `entry`, with the delivery it owes each webhook endpoint that wants
/// its event's entries (see `webhook`); call it inside the transaction that
/// makes the change, so that both are written exactly when the change is.
pub fn record(conn: &Connection, entry: &Entry) -> Result<(), DbError> {
    let sql = format!(
        "WITH entry AS (
             INSERT INTO journal (kind, subject, event_id, actor, data)
             VALUES ($1, $2, $3::uuid, $4, $5::text::jsonb)
             RETURNING id, seq, kind, subject, event_id
         ), owed AS (
             {OWED_DELIVERIES}
             RETURNING endpoint_id
         )
         SELECT count(*) AS ready FROM owed JOIN webhook_endpoints w ON w.id = owed.endpoint_id WHERE {READY}"
    );
    // An aggregate: one row whatever was owed (see `db::query_a_row`).
    self::ready(query_a_row(conn, &sql, &entry_params(entry), |row| column(row, "ready"))?);
    Ok(())
}

/// Records `entry` in a journal no webhook endpoint watches (the users
/// domain's): the entry alone, in the caller's transaction.
pub fn record_unwatched(conn: &Connection, entry: &Entry) -> Result<(), DbError> {
    let sql =
        "INSERT INTO journal (kind, subject, event_id, actor, data) VALUES ($1, $2, $3::uuid, $4, $5::text::jsonb)";
    conn.execute(sql, &entry_params(entry)).map_err(DbError::from)?;
    Ok(())
}

fn entry_params(entry: &Entry) -> [spin_sdk::pg4::ParameterValue; 5] {
    [
        entry.kind.to_owned().into(),
        entry.subject.clone().into(),
        entry.event_id.into(),
        entry.actor.into(),
        entry.data.to_string().into(),
    ]
}

fn recorded_from_row(row: &Row<'_>) -> Result<Recorded, DbError> {
    let data: String = column(row, "data")?;
    Ok(Recorded {
        id: column(row, "id")?,
        kind: column(row, "kind")?,
        subject: column(row, "subject")?,
        event_id: column(row, "event_id")?,
        actor: column(row, "actor")?,
        data: serde_json::from_str(&data).map_err(|e| DbError::bug(format!("journal data: {e}")))?,
        created_at: column(row, "created_at")?,
    })
}

/// Entries by `created_at, id`: one event's, or every one.
pub fn list(conn: &Connection, event_id: Option<Uuid>, page: &PageRequest) -> Result<Vec<Recorded>, DbError> {
    let (sql, params) = keyset(
        "SELECT id, kind, subject, event_id, actor, data::text AS data,
                created_at AT TIME ZONE 'UTC' AS created_at
         FROM journal
         WHERE ($1::uuid IS NULL OR event_id = $1)",
        ("created_at", "id"),
        vec![event_id.into()],
        page,
    );
    query(conn, &sql, &params, recorded_from_row)
}

/// `GET /api/<domain>/audit?event_id=&limit=&cursor=`: every entry for admins;
/// one event's for admins and for the organizer `organizes` says runs it.
pub fn audit(req: &ApiRequest, organizes: impl Fn(&Caller, Uuid) -> Result<bool, Problem>) -> ApiResult {
    let caller = auth::caller(req)?;
    let (event_id, page) = event_list_query(req)?;
    match event_id {
        _ if caller.is_admin() => {}
        Some(event_id) if caller.has(Role::Organizer) && organizes(&caller, event_id)? => {}
        _ => return Err(auth::Forbidden("the audit log is for admins, and each event's for its organizer").into()),
    }
    let entries = list(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, entries, |entry| Cursor { at: entry.created_at, id: entry.id }))
}
