//! The SQL of webhook endpoints as their owners see and manage them, and of the
//! log of every attempt to reach them.

use chrono::NaiveDateTime;
use serde::Serialize;
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use crate::db::{DbError, column, query};
use crate::page::{PageRequest, keyset};
use crate::time::{rfc3339, rfc3339_opt};

/// Where an organizer (or an admin, for every event) wants to be told, and how
/// reaching it goes.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: Uuid,
    /// `null`: every event's entries (admins only).
    pub event_id: Option<Uuid>,
    pub url: String,
    /// The entry types it wants; `null`: every type.
    pub event_types: Option<Vec<String>>,
    pub enabled: bool,
    /// Why it was disabled: by its owner, or for failing for days.
    pub disabled_reason: Option<String>,
    /// Since when every attempt to reach it failed; `null` while it answers.
    #[serde(serialize_with = "rfc3339_opt")]
    pub failing_since: Option<NaiveDateTime>,
    /// No attempt is made before this: it is backed off after failing.
    #[serde(serialize_with = "rfc3339_opt")]
    pub paused_until: Option<NaiveDateTime>,
    /// Deliveries it is owed.
    pub pending: i64,
    /// Until when messages are also signed with the secret a rotation replaced.
    #[serde(serialize_with = "rfc3339_opt")]
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub created_by: Uuid,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

const ENDPOINT_COLUMNS: &str = "w.id, w.event_id, w.url, array_to_string(w.event_types, ',') AS event_types, \
    w.enabled, w.disabled_reason, w.failing_since AT TIME ZONE 'UTC' AS failing_since, \
    CASE WHEN w.paused_until > clock_timestamp() THEN w.paused_until AT TIME ZONE 'UTC' END AS paused_until, \
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id) AS pending, \
    CASE WHEN w.previous_secret_expires_at > clock_timestamp() \
         THEN w.previous_secret_expires_at AT TIME ZONE 'UTC' END AS previous_secret_expires_at, \
    w.created_by, w.created_at AT TIME ZONE 'UTC' AS created_at, w.updated_at AT TIME ZONE 'UTC' AS updated_at";

fn endpoint_from_row(row: &Row<'_>) -> Result<Endpoint, DbError> {
    let event_types: Option<String> = column(row, "event_types")?;
    Ok(Endpoint {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        url: column(row, "url")?,
        event_types: event_types.map(|types| types.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()),
        enabled: column(row, "enabled")?,
        disabled_reason: column(row, "disabled_reason")?,
        failing_since: column(row, "failing_since")?,
        paused_until: column(row, "paused_until")?,
        pending: column(row, "pending")?,
        previous_secret_expires_at: column(row, "previous_secret_expires_at")?,
        created_by: column(row, "created_by")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn text_array(items: &Option<Vec<String>>) -> ParameterValue {
    match items {
        Some(items) => ParameterValue::ArrayStr(items.iter().cloned().map(Some).collect()),
        None => ParameterValue::DbNull,
    }
}

/// Runs a statement that changes at most the endpoint `id`, and reads it back.
fn changed(
    conn: &Connection,
    id: Uuid,
    statement: &str,
    params: &[ParameterValue],
) -> Result<Option<Endpoint>, DbError> {
    match conn.execute(statement, params).map_err(DbError::from)? {
        0 => Ok(None),
        _ => find_endpoint(conn, id),
    }
}

pub fn insert_endpoint(
    conn: &Connection,
    event_id: Option<Uuid>,
    url: &str,
    event_types: &Option<Vec<String>>,
    secret: &str,
    created_by: Uuid,
) -> Result<Endpoint, DbError> {
    let id = Uuid::new_v4();
    let statement = "INSERT INTO webhook_endpoints (id, event_id, url, event_types, secret, created_by)
                     VALUES ($1, $2::uuid, $3, $4::text[], $5, $6)";
    let params = [
        id.into(),
        event_id.into(),
        url.to_owned().into(),
        text_array(event_types),
        secret.to_owned().into(),
        created_by.into(),
    ];
    changed(conn, id, statement, &params)?.ok_or_else(|| DbError::bug("an endpoint just written is gone"))
}

pub fn find_endpoint(conn: &Connection, id: Uuid) -> Result<Option<Endpoint>, DbError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = $1");
    Ok(query(conn, &sql, &[id.into()], endpoint_from_row)?.into_iter().next())
}

/// Endpoints by `created_at, id`: one event's, or all.
pub fn list_endpoints(conn: &Connection, event_id: Option<Uuid>, page: &PageRequest) -> Result<Vec<Endpoint>, DbError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE ($1::uuid IS NULL OR w.event_id = $1)");
    let (sql, params) = keyset(&sql, ("w.created_at", "w.id"), vec![event_id.into()], page);
    query(conn, &sql, &params, endpoint_from_row)
}

/// What an owner may change of an endpoint; `None` leaves it.
#[derive(Debug, Default)]
pub struct Changes {
    pub url: Option<String>,
    /// `Some(None)`: every type again.
    pub event_types: Option<Option<Vec<String>>>,
    pub enabled: Option<bool>,
}

/// Applies `changes`: enabling it or moving it to a new URL forgets its
/// failures (it is tried at once), disabling records that its owner did it.
pub fn update_endpoint(conn: &Connection, id: Uuid, changes: &Changes) -> Result<Option<Endpoint>, DbError> {
    let statement = "UPDATE webhook_endpoints SET
             url = coalesce($2, url),
             event_types = CASE WHEN $3 THEN $4::text[] ELSE event_types END,
             enabled = coalesce($5, enabled),
             disabled_reason = CASE WHEN $5 THEN NULL WHEN NOT $5 THEN 'disabled by its owner' ELSE disabled_reason END,
             failures = CASE WHEN $6 THEN 0 ELSE failures END,
             failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
             paused_until = CASE WHEN $6 THEN NULL ELSE paused_until END,
             updated_at = clock_timestamp()
         WHERE id = $1";
    let params = [
        id.into(),
        changes.url.clone().into(),
        changes.event_types.is_some().into(),
        text_array(&changes.event_types.clone().flatten()),
        changes.enabled.into(),
        (changes.enabled == Some(true) || changes.url.is_some()).into(),
    ];
    changed(conn, id, statement, &params)
}

/// Deletes the endpoint, what it is owed and its attempts; `false` if there was
/// none. (A sale that read the endpoint just before may still write a delivery
/// for it: the dispatcher drops those, see `queue::drop_orphans`.)
pub fn delete_endpoint(conn: &Connection, id: Uuid) -> Result<bool, DbError> {
    let deleted = conn
        .execute(
            "WITH owed AS (DELETE FROM webhook_deliveries WHERE endpoint_id = $1)
             DELETE FROM webhook_endpoints WHERE id = $1",
            &[id.into()],
        )
        .map_err(DbError::from)?;
    Ok(deleted == 1)
}

/// Replaces the secret; the one replaced keeps signing for `grace_seconds`.
pub fn rotate_secret(
    conn: &Connection,
    id: Uuid,
    secret: &str,
    grace_seconds: i64,
) -> Result<Option<Endpoint>, DbError> {
    let statement = "UPDATE webhook_endpoints SET
             previous_secret = secret,
             previous_secret_expires_at = clock_timestamp() + make_interval(secs => $3::int8),
             secret = $2,
             updated_at = clock_timestamp()
         WHERE id = $1";
    changed(conn, id, statement, &[id.into(), secret.to_owned().into(), grace_seconds.into()])
}

/// The secrets messages to an endpoint are signed with, current first.
pub fn signing_secrets(conn: &Connection, id: Uuid) -> Result<Vec<String>, DbError> {
    let rows = query(
        conn,
        "SELECT secret, CASE WHEN previous_secret_expires_at > clock_timestamp() THEN previous_secret END AS previous
         FROM webhook_endpoints WHERE id = $1",
        &[id.into()],
        |row| Ok((column::<String>(row, "secret")?, column::<Option<String>>(row, "previous")?)),
    )?;
    Ok(rows.into_iter().flat_map(|(secret, previous)| std::iter::once(secret).chain(previous)).collect())
}

/// One attempt to reach an endpoint, as its log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: Uuid,
    /// The journal entry it carried; `null` for a test message.
    pub entry_id: Option<Uuid>,
    #[serde(rename = "type")]
    pub kind: String,
    /// The receiver's status code; `null` when none came.
    pub status: Option<i32>,
    /// Why it failed; `null` when it was delivered.
    pub error: Option<String>,
    pub duration_ms: i32,
    #[serde(serialize_with = "rfc3339")]
    pub attempted_at: NaiveDateTime,
}

/// The endpoint's attempts, newest first.
pub fn list_attempts(conn: &Connection, endpoint_id: Uuid, page: &PageRequest) -> Result<Vec<Attempt>, DbError> {
    let (sql, params) = crate::page::keyset_newest_first(
        "SELECT id, entry_id, kind, status, error, duration_ms, attempted_at AT TIME ZONE 'UTC' AS attempted_at
         FROM webhook_attempts WHERE endpoint_id = $1",
        ("attempted_at", "id"),
        vec![endpoint_id.into()],
        page,
    );
    query(conn, &sql, &params, |row| {
        Ok(Attempt {
            id: column(row, "id")?,
            entry_id: column(row, "entry_id")?,
            kind: column(row, "kind")?,
            status: column(row, "status")?,
            error: column(row, "error")?,
            duration_ms: column(row, "duration_ms")?,
            attempted_at: column(row, "attempted_at")?,
        })
    })
}

/// Logs a test message's attempt; one that got through clears the endpoint's
/// backoff, as a delivery would (re-enabling stays its owner's call).
pub fn record_test(
    conn: &Connection,
    endpoint_id: Uuid,
    status: Option<i32>,
    error: Option<&str>,
    duration_ms: i32,
) -> Result<(), DbError> {
    conn.execute(
        "WITH logged AS (
             INSERT INTO webhook_attempts (endpoint_id, kind, status, error, duration_ms)
             VALUES ($1, 'webhook.test', $2::int4, $3, $4)
         )
         UPDATE webhook_endpoints SET failures = 0, failing_since = NULL, paused_until = NULL
         WHERE id = $1 AND $3::text IS NULL",
        &[endpoint_id.into(), status.into(), error.map(str::to_owned).into(), duration_ms.into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}
