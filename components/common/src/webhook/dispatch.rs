//! Sending what is due: lease it, send it with no database connection held, and
//! record each outcome.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::queue::{self, Due, Outcome, Pick};
use super::sign::signatures;
use crate::db::{self, DbError};
use crate::outbound::{Answer, Call, send_all};

/// How long a receiver has to answer: a slow one fails in seconds, and holds
/// an attempt (and the instance sending it) no longer than that.
pub const RECEIVER_TIMEOUT: Duration = Duration::from_secs(3);
/// What one round leases at most.
const DELIVERIES_PER_ROUND: i64 = 50;
/// What a request that wrote deliveries sends itself once it has answered.
const DELIVERIES_AFTER_ANSWER: i64 = 8;
/// How long one call of the dispatcher keeps sending rounds.
const DISPATCH_BUDGET: Duration = Duration::from_secs(20);

/// What a call of the dispatcher did.
#[derive(Debug, Default, Serialize)]
pub struct Dispatched {
    pub delivered: usize,
    pub failed: usize,
    /// Deliveries still owed (failed ones wait for their next attempt).
    pub pending: i64,
}

impl Dispatched {
    fn add(&mut self, outcomes: &[Outcome]) {
        let delivered = outcomes.iter().filter(|o| o.error.is_none()).count();
        self.delivered += delivered;
        self.failed += outcomes.len() - delivered;
    }
}

/// After a request that wrote deliveries to an endpoint ready for them has
/// answered: one small round. What it does not send waits for the next round,
/// a later request's or the dispatcher's.
pub fn deliver_owed() -> Result<Option<Dispatched>, DbError> {
    if !crate::journal::owes_deliveries() {
        return Ok(None);
    }
    let mut dispatched = Dispatched::default();
    dispatched.add(&round(DELIVERIES_AFTER_ANSWER, Pick::Any)?);
    Ok(Some(dispatched))
}

/// The dispatcher: one round of probes of the endpoints that fail, then rounds
/// for those that answer until nothing is due or its time is up (so that a
/// receiver that hangs holds up its probe, not the deliveries to the others).
pub fn deliver_due() -> Result<Dispatched, DbError> {
    let started = Instant::now();
    let mut dispatched = Dispatched::default();
    dispatched.add(&round(DELIVERIES_PER_ROUND, Pick::Probes)?);
    loop {
        let outcomes = round(DELIVERIES_PER_ROUND, Pick::Answering)?;
        dispatched.add(&outcomes);
        if outcomes.is_empty() || started.elapsed() >= DISPATCH_BUDGET {
            break;
        }
    }
    let conn = db::connect()?;
    queue::drop_orphans(&conn)?;
    dispatched.pending = queue::pending_count(&conn)?;
    Ok(dispatched)
}

/// Leases up to `limit` deliveries, sends them all at once and records how each
/// went. A connection is held to lease and to record, never while a receiver
/// is being waited for: a receiver that hangs holds no connection a request needs.
fn round(limit: i64, pick: Pick) -> Result<Vec<Outcome>, DbError> {
    let due = queue::claim_due(&db::connect()?, limit, pick)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let now = chrono::Utc::now().timestamp();
    let calls: Vec<Result<Call, String>> = due.iter().map(|d| message(d, now)).collect();
    let sendable: Vec<Call> = calls.iter().filter_map(|c| c.as_ref().ok()).cloned().collect();
    let sending = Instant::now();
    let mut answers = send_all(&sendable, RECEIVER_TIMEOUT).into_iter();
    let waited = sending.elapsed();
    let outcomes: Vec<Outcome> = due
        .iter()
        .zip(calls)
        .map(|(delivery, call)| {
            let answer = call.and_then(|_| answers.next().unwrap_or_else(|| Err("no answer".into())));
            outcome(delivery, answer, waited)
        })
        .collect();
    queue::record(&db::connect()?, &outcomes)?;
    Ok(outcomes)
}

/// What an answer (or its absence after `waited`) means for a delivery: only a
/// 2xx delivers it.
fn outcome(delivery: &Due, answer: Result<(Answer, Duration), String>, waited: Duration) -> Outcome {
    let (status, error, duration_ms) = judged(answer, waited);
    Outcome {
        endpoint_id: delivery.endpoint_id,
        seq: delivery.seq,
        entry_id: delivery.entry_id,
        status,
        error,
        duration_ms,
    }
}

/// An answer's status, why it is a failure (`None`: a 2xx), and how long it took
/// (the time waited when no answer came).
pub fn judged(answer: Result<(Answer, Duration), String>, waited: Duration) -> (Option<u16>, Option<String>, i32) {
    let millis = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    match answer {
        Ok((answer, took)) => {
            let error = (!(200..300).contains(&answer.status)).then(|| format!("answered {}", answer.status));
            (Some(answer.status), error, millis(took))
        }
        Err(why) => (None, Some(why), millis(waited)),
    }
}

/// The signed `POST` of one entry: `{"type", "timestamp", "data"}`, its
/// `webhook-id` the entry's id (the same on every attempt, for deduplication).
fn message(due: &Due, now: i64) -> Result<Call, String> {
    let data = json!({
        "subject": due.subject, "event_id": due.event_id, "actor": due.actor, "details": due.data,
    });
    let timestamp = crate::time::format_rfc3339(&due.created_at);
    signed_post(&due.url, &due.secrets, &due.entry_id.to_string(), &due.kind, &timestamp, data, now)
}

/// A Standard Webhooks message to `url`, signed with each of `secrets`.
pub fn signed_post(
    url: &str,
    secrets: &[String],
    id: &str,
    kind: &str,
    timestamp: &str,
    data: serde_json::Value,
    now: i64,
) -> Result<Call, String> {
    let body = json!({"type": kind, "timestamp": timestamp, "data": data}).to_string().into_bytes();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signed = signatures(&secrets, id, now, &body).ok_or("the endpoint's secret cannot sign")?;
    let (scheme, rest) = url.split_once("://").ok_or("the endpoint's URL cannot be used")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), body.len().to_string()),
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), now.to_string()),
        ("webhook-signature".to_owned(), signed),
    ];
    Ok(Call { base: format!("{scheme}://{authority}"), path, headers, body: Some(body) })
}
