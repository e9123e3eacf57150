//! The SQL of webhooks: endpoints, and the deliveries each journal entry owes
//! them (written with the entry: see `journal::record`).

use chrono::NaiveDateTime;
use serde::Serialize;
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::db::{DbError, column, query, query_a_row};
use crate::page::{PageRequest, keyset};
use crate::time::rfc3339;

/// Where an organizer (or an admin, for every event) wants to be told.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: Uuid,
    /// `null`: every event's entries (admins only).
    pub event_id: Option<Uuid>,
    pub url: String,
    pub created_by: Uuid,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

const ENDPOINT_COLUMNS: &str = "id, event_id, url, created_by, created_at AT TIME ZONE 'UTC' AS created_at";

fn endpoint_from_row(row: &Row<'_>) -> Result<Endpoint, DbError> {
    Ok(Endpoint {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        url: column(row, "url")?,
        created_by: column(row, "created_by")?,
        created_at: column(row, "created_at")?,
    })
}

pub fn insert_endpoint(
    conn: &Connection,
    event_id: Option<Uuid>,
    url: &str,
    secret: &str,
    created_by: Uuid,
) -> Result<Endpoint, DbError> {
    let sql = format!(
        "INSERT INTO webhook_endpoints (event_id, url, secret, created_by) VALUES ($1::uuid, $2, $3, $4)
         RETURNING {ENDPOINT_COLUMNS}"
    );
    let params = [event_id.into(), url.to_owned().into(), secret.to_owned().into(), created_by.into()];
    query_a_row(conn, &sql, &params, endpoint_from_row)
}

/// Endpoints by `created_at, id`: one event's (with those for every event), or all.
pub fn list_endpoints(conn: &Connection, event_id: Option<Uuid>, page: &PageRequest) -> Result<Vec<Endpoint>, DbError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
         WHERE ($1::uuid IS NULL OR event_id = $1)"
    );
    let (sql, params) = keyset(&sql, ("created_at", "id"), vec![event_id.into()], page);
    query(conn, &sql, &params, endpoint_from_row)
}

/// A delivery claimed for an attempt: the message and where it goes.
#[derive(Debug, Clone)]
pub struct Due {
    pub endpoint_id: Uuid,
    pub entry_id: Uuid,
    pub url: String,
    pub secret: String,
    pub kind: String,
    pub subject: String,
    pub event_id: Option<Uuid>,
    pub actor: Uuid,
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// How long a claimed delivery is left to its attempt before another may try it.
const LEASE_SECONDS: i64 = 30;

/// Claims up to `limit` due deliveries, each the oldest undelivered entry of its
/// subject for its endpoint (so a subject's entries arrive in order), for one
/// attempt each; concurrent dispatchers claim different ones.
pub fn claim_due(conn: &Connection, limit: i64) -> Result<Vec<Due>, DbError> {
    let sql = format!(
        "UPDATE webhook_deliveries d
         SET attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + make_interval(secs => {LEASE_SECONDS})
         FROM journal j, webhook_endpoints w
         WHERE j.id = d.entry_id AND w.id = d.endpoint_id
           AND (d.endpoint_id, d.entry_id) IN (
               SELECT q.endpoint_id, q.entry_id FROM webhook_deliveries q
               WHERE q.delivered_at IS NULL AND q.next_attempt_at <= clock_timestamp()
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                                 WHERE e.endpoint_id = q.endpoint_id AND e.subject = q.subject
                                   AND e.delivered_at IS NULL AND e.seq < q.seq)
               ORDER BY q.seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.endpoint_id, d.entry_id, w.url, w.secret, j.kind, j.subject, j.event_id, j.actor,
                   j.data::text AS data, j.created_at AT TIME ZONE 'UTC' AS created_at"
    );
    query(conn, &sql, &[limit.into()], |row| {
        Ok(Due {
            endpoint_id: column(row, "endpoint_id")?,
            entry_id: column(row, "entry_id")?,
            url: column(row, "url")?,
            secret: column(row, "secret")?,
            kind: column(row, "kind")?,
            subject: column(row, "subject")?,
            event_id: column(row, "event_id")?,
            actor: column(row, "actor")?,
            data: column(row, "data")?,
            created_at: column(row, "created_at")?,
        })
    })
}

pub fn mark_delivered(conn: &Connection, due: &Due) -> Result<(), DbError> {
    conn.execute(
        "UPDATE webhook_deliveries SET delivered_at = clock_timestamp(), last_error = NULL
         WHERE endpoint_id = $1 AND entry_id = $2",
        &[due.endpoint_id.into(), due.entry_id.into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// Schedules the next attempt after a failed one: 1 s, 2 s, 4 s... up to an hour.
pub fn retry_later(conn: &Connection, due: &Due, error: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE webhook_deliveries
         SET next_attempt_at = clock_timestamp() + make_interval(secs => least(3600, power(2, least(attempts, 12) - 1))),
             last_error = left($3, 500)
         WHERE endpoint_id = $1 AND entry_id = $2",
        &[due.endpoint_id.into(), due.entry_id.into(), error.to_owned().into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// Deliveries not yet made.
pub fn pending_count(conn: &Connection) -> Result<i64, DbError> {
    query_a_row(conn, "SELECT count(*) AS pending FROM webhook_deliveries WHERE delivered_at IS NULL", &[], |row| {
        column(row, "pending")
    })
}
