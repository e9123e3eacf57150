//! The SQL of deliveries: each journal entry owes every endpoint that wants it
//! one (written with the entry: see `journal::record`); a dispatcher leases the
//! due ones, sends them with no connection held, and records what happened.
//!
//! Two kinds of backoff: a delivery that failed waits before its next attempt
//! (1 s doubling to an hour), and so does the endpoint as a whole (1 s doubling
//! to `ENDPOINT_BACKOFF_CAP_SECONDS`), each with jitter, so that a receiver that
//! is down costs one attempt per backoff, not one per entry. An endpoint that
//! has failed continuously for `DISABLE_AFTER_SECONDS` is disabled, saying why.

use chrono::NaiveDateTime;
use serde::Deserialize;
use spin_sdk::pg4::{Connection, ParameterValue};
use uuid::Uuid;

use crate::db::{DbError, column, in_transaction, query_a_row};

/// How long a leased delivery is left to its attempt before another may try it:
/// longer than any attempt takes (see `dispatch::RECEIVER_TIMEOUT`), and short,
/// since an attempt whose outcome could not be recorded holds its place that long.
const LEASE_SECONDS: i64 = 10;
/// Attempts in flight to one endpoint that answers; one that fails gets one
/// at a time (a probe), so a receiver that hangs holds one instance, not many.
pub const IN_FLIGHT_PER_ENDPOINT: i64 = 4;
/// Attempts in flight to all of a domain's endpoints, from every process.
pub const IN_FLIGHT_PER_DOMAIN: i64 = 16;
/// The longest an endpoint that keeps failing waits between attempts.
const ENDPOINT_BACKOFF_CAP_SECONDS: i64 = 600;
/// How long an endpoint may fail without a break before it is disabled (as
/// Svix does: five days).
pub const DISABLE_AFTER_SECONDS: i64 = 5 * 24 * 3600;
/// Claims are taken one at a time per database, so that the caps above hold
/// whatever the number of processes claiming.
const CLAIM_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('eventos.webhook-claims'))";
/// How far into an endpoint's queue a claim looks for entries whose subject
/// has nothing older still owed (those are the ones it may send).
const QUEUE_WINDOW: i64 = 200;

/// A delivery leased for one attempt: the message and where it goes.
#[derive(Debug, Clone, Deserialize)]
pub struct Due {
    pub endpoint_id: Uuid,
    /// The entry's place in the journal: with the endpoint, the delivery's key.
    pub seq: i64,
    pub entry_id: Uuid,
    pub url: String,
    /// Current first; a rotated-out one while it is in its grace period.
    pub secrets: Vec<String>,
    pub kind: String,
    pub subject: String,
    pub event_id: Option<Uuid>,
    pub actor: Uuid,
    pub data: serde_json::Value,
    pub created_at: NaiveDateTime,
}

/// Which endpoints' deliveries a claim takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Every endpoint's.
    Any,
    /// Those of endpoints that answer: a round of them is over in moments.
    Answering,
    /// One probe of each endpoint that fails: a round of them may take the
    /// receivers' whole timeout, so it is kept apart from the others.
    Probes,
}

/// Leases up to `limit` due deliveries, each the oldest entry of its subject
/// still owed to its endpoint (so a subject's entries arrive in order: an older
/// one owed, in flight or waiting to be retried, holds the newer back), of
/// enabled endpoints that are not backed off, within the in-flight caps.
pub fn claim_due(conn: &Connection, limit: i64, pick: Pick) -> Result<Vec<Due>, DbError> {
    let sql = format!(
        "WITH in_flight AS (
             SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
             WHERE leased_until > clock_timestamp() GROUP BY endpoint_id
         ), chosen AS (
             SELECT d.endpoint_id, d.seq
             FROM webhook_endpoints w
             LEFT JOIN in_flight f ON f.endpoint_id = w.id
             CROSS JOIN LATERAL (
                 -- The head of the endpoint's queue, each subject's oldest first.
                 SELECT q.endpoint_id, q.seq FROM (
                     SELECT h.endpoint_id, h.seq, h.next_attempt_at, h.leased_until,
                            row_number() OVER (PARTITION BY h.subject ORDER BY h.seq) AS nth_of_subject
                     FROM (SELECT * FROM webhook_deliveries p WHERE p.endpoint_id = w.id
                           ORDER BY p.seq LIMIT {QUEUE_WINDOW}) h
                 ) q
                 WHERE q.nth_of_subject = 1 AND q.next_attempt_at <= clock_timestamp()
                   AND (q.leased_until IS NULL OR q.leased_until <= clock_timestamp())
                 ORDER BY q.seq
                 LIMIT greatest(0, CASE WHEN w.failures > 0 THEN 1 ELSE $2::int8 END - coalesce(f.n, 0))
             ) d
             WHERE w.enabled AND (w.paused_until IS NULL OR w.paused_until <= clock_timestamp())
               AND ($4::bool IS NULL OR (w.failures > 0) = $4::bool)
             ORDER BY d.seq
             LIMIT greatest(0, least($1::int8, $3::int8 - (SELECT coalesce(sum(n), 0)::int8 FROM in_flight)))
         ), leased AS (
             UPDATE webhook_deliveries d
             SET attempts = d.attempts + 1, leased_until = clock_timestamp() + make_interval(secs => {LEASE_SECONDS})
             FROM chosen c WHERE d.endpoint_id = c.endpoint_id AND d.seq = c.seq
             RETURNING d.endpoint_id, d.seq, d.entry_id
         ), saturated AS (
             -- An endpoint whose attempts now fill its share (a failing one's probe) is
             -- paused until they are over: no request has anything to send it till then.
             UPDATE webhook_endpoints w SET paused_until = clock_timestamp() + make_interval(secs => {LEASE_SECONDS})
             FROM (SELECT endpoint_id, count(*) AS n FROM chosen GROUP BY endpoint_id) c
             LEFT JOIN in_flight f ON f.endpoint_id = c.endpoint_id
             WHERE w.id = c.endpoint_id
               AND coalesce(f.n, 0) + c.n >= CASE WHEN w.failures > 0 THEN 1 ELSE $2::int8 END
         )
         SELECT coalesce(json_agg(json_build_object(
                    'endpoint_id', l.endpoint_id, 'seq', l.seq, 'entry_id', l.entry_id, 'url', w.url,
                    'secrets', jsonb_build_array(w.secret) || CASE WHEN w.previous_secret_expires_at > clock_timestamp()
                                                              THEN jsonb_build_array(w.previous_secret) ELSE '[]' END,
                    'kind', j.kind, 'subject', j.subject, 'event_id', j.event_id, 'actor', j.actor, 'data', j.data,
                    'created_at', j.created_at AT TIME ZONE 'UTC') ORDER BY j.seq), '[]')::text AS due
         FROM leased l JOIN journal j ON j.id = l.entry_id JOIN webhook_endpoints w ON w.id = l.endpoint_id"
    );
    let failing = match pick {
        Pick::Any => None,
        Pick::Answering => Some(false),
        Pick::Probes => Some(true),
    };
    let params = [limit.into(), IN_FLIGHT_PER_ENDPOINT.into(), IN_FLIGHT_PER_DOMAIN.into(), failing.into()];
    // An aggregate: one row whatever was leased (see `db::query_a_row`).
    let due: String = in_transaction(conn, |conn| {
        conn.execute(CLAIM_LOCK, &[]).map_err(DbError::from)?;
        query_a_row(conn, &sql, &params, |row| column(row, "due"))
    })?;
    serde_json::from_str(&due).map_err(|e| DbError::bug(format!("leased deliveries: {e}")))
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub endpoint_id: Uuid,
    pub seq: i64,
    pub entry_id: Uuid,
    /// The receiver's status code, if one came.
    pub status: Option<u16>,
    /// Why it failed; `None` when the receiver took it (a 2xx).
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// Records the attempts in one statement: each in the endpoint's log, each
/// delivery made (out of the queue) or rescheduled, and each endpoint's health (one that took
/// anything answers; one that took nothing is backed off, and disabled once it
/// has failed for `DISABLE_AFTER_SECONDS`).
pub fn record(conn: &Connection, outcomes: &[Outcome]) -> Result<(), DbError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let texts = |f: &dyn Fn(&Outcome) -> Option<String>| ParameterValue::ArrayStr(outcomes.iter().map(f).collect());
    let params = [
        texts(&|o| Some(o.endpoint_id.to_string())),
        ParameterValue::ArrayInt64(outcomes.iter().map(|o| Some(o.seq)).collect()),
        texts(&|o| Some(o.entry_id.to_string())),
        ParameterValue::ArrayInt32(outcomes.iter().map(|o| o.status.map(i32::from)).collect()),
        texts(&|o| o.error.as_ref().map(|e| e.chars().take(500).collect())),
        ParameterValue::ArrayInt32(outcomes.iter().map(|o| Some(o.duration_ms)).collect()),
        ENDPOINT_BACKOFF_CAP_SECONDS.into(),
        DISABLE_AFTER_SECONDS.into(),
    ];
    conn.execute(
        "WITH outcome AS (
             SELECT o.endpoint_id::uuid AS endpoint_id, o.seq, o.entry_id::uuid AS entry_id, o.status, o.error, o.duration_ms
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::int4[], $5::text[], $6::int4[])
                  AS o (endpoint_id, seq, entry_id, status, error, duration_ms)
         ), logged AS (
             INSERT INTO webhook_attempts (endpoint_id, entry_id, kind, status, error, duration_ms)
             SELECT o.endpoint_id, o.entry_id, j.kind, o.status, o.error, o.duration_ms
             FROM outcome o JOIN journal j ON j.id = o.entry_id
         ), delivered AS (
             DELETE FROM webhook_deliveries d USING outcome o
             WHERE d.endpoint_id = o.endpoint_id AND d.seq = o.seq AND o.error IS NULL
         ), retried AS (
             UPDATE webhook_deliveries d SET
                 leased_until = NULL,
                 last_error = o.error,
                 next_attempt_at = clock_timestamp()
                     + make_interval(secs => least(3600, power(2, least(d.attempts, 12) - 1)) * (0.5 + random() / 2))
             FROM outcome o WHERE d.endpoint_id = o.endpoint_id AND d.seq = o.seq AND o.error IS NOT NULL
         ), health AS (
             SELECT w.id, bool_or(o.error IS NULL) AS answered, min(o.error) AS error,
                    bool_and(o.error IS NOT NULL)
                        AND coalesce(w.failing_since, clock_timestamp()) <= clock_timestamp() - make_interval(secs => $8::int8)
                        AS gives_up
             FROM outcome o JOIN webhook_endpoints w ON w.id = o.endpoint_id
             GROUP BY w.id
         )
         UPDATE webhook_endpoints w SET
             failures = CASE WHEN h.answered THEN 0 ELSE w.failures + 1 END,
             failing_since = CASE WHEN h.answered THEN NULL ELSE coalesce(w.failing_since, clock_timestamp()) END,
             paused_until = CASE WHEN h.answered THEN NULL ELSE clock_timestamp()
                 + make_interval(secs => least($7::int8, power(2, least(w.failures, 20))) * (0.5 + random() / 2)) END,
             enabled = w.enabled AND NOT h.gives_up,
             disabled_reason = CASE WHEN w.enabled AND h.gives_up
                 THEN format('failing since %s UTC; last: %s',
                             to_char(w.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), h.error)
                 ELSE w.disabled_reason END
         FROM health h WHERE w.id = h.id",
        &params,
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// Deliveries not yet made.
pub fn pending_count(conn: &Connection) -> Result<i64, DbError> {
    query_a_row(conn, "SELECT count(*) AS pending FROM webhook_deliveries", &[], |row| column(row, "pending"))
}

/// Drops deliveries owed to endpoints that are gone: written by a sale that read
/// an endpoint just before it was deleted.
pub fn drop_orphans(conn: &Connection) -> Result<(), DbError> {
    conn.execute("DELETE FROM webhook_deliveries WHERE endpoint_id NOT IN (SELECT id FROM webhook_endpoints)", &[])
        .map_err(DbError::from)?;
    Ok(())
}
