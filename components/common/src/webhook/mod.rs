//! Signed webhooks of a domain's journal: organizers register endpoints for
//! their events (admins for every event), every journal entry owes each
//! matching endpoint a delivery written in the entry's own transaction (a
//! transactional outbox), and a dispatcher delivers them signed as Standard
//! Webhooks, at least once, in order per subject, retrying with backoff.
//!
//! Delivery needs no process of its own: a request that writes deliveries
//! attempts them once it has answered (`deliver_owed`), and what fails waits
//! for `POST /api/<domain>/webhooks/deliver`, which retries what is due: called
//! by the `webhook-dispatch` CronJob on a cluster, by an operator elsewhere.

mod sign;
mod store;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

pub use sign::{new_secret, signature};
pub use store::Endpoint;

use crate::auth::{self, Caller, Forbidden, Role};
use crate::db::{self, DbError};
use crate::fields::{Fields, optional_uuid, required_text};
use crate::outbound::{Call, send_all};
use crate::page::{Cursor, event_list_query, page_response};
use crate::{ApiRequest, ApiResponse, ApiResult, Problem};

/// The most deliveries one call of the dispatcher attempts.
const DELIVERIES_PER_CALL: i64 = 50;
/// How long a receiver has to answer.
const RECEIVER_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_URL_CHARS: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    url: Option<String>,
    event_id: Option<String>,
}

/// An endpoint as its registration answers it: the only time its secret is shown.
#[derive(Serialize)]
struct Registered {
    #[serde(flatten)]
    endpoint: Endpoint,
    secret: String,
}

/// `POST /api/<domain>/webhooks`: an event's organizer for that event, an admin
/// for any event or (without `event_id`) for every one.
pub fn register(req: &ApiRequest, organizes: impl Fn(&Caller, Uuid) -> Result<bool, Problem>) -> ApiResult {
    let caller = auth::caller(req)?;
    let body: RegisterBody = req.json()?;
    let mut fields = Fields::default();
    let url = fields.take("url", required_text(body.url, MAX_URL_CHARS).and_then(receiver_url));
    let event_id = fields.take("event_id", optional_uuid(body.event_id));
    let (Some(url), Some(event_id)) = (url, event_id) else {
        return Err(fields.invalid().into());
    };
    require_runs(&caller, event_id, &organizes)?;
    let secret = new_secret();
    let endpoint = store::insert_endpoint(&db::connect()?, event_id, &url, &secret, caller.user_id)?;
    let location = format!("{}/{}", req.path.trim_end_matches('/'), endpoint.id);
    Ok(ApiResponse::created(location, &Registered { endpoint, secret }))
}

/// Admins for anything; an event's organizer for that event.
fn require_runs(
    caller: &Caller,
    event_id: Option<Uuid>,
    organizes: &impl Fn(&Caller, Uuid) -> Result<bool, Problem>,
) -> Result<(), Problem> {
    match event_id {
        _ if caller.is_admin() => Ok(()),
        Some(event_id) if caller.has(Role::Organizer) && organizes(caller, event_id)? => Ok(()),
        _ => Err(Forbidden("webhooks are for admins, and each event's for its organizer").into()),
    }
}

/// An `http(s)://host[:port][/path]` URL without credentials, its host a name,
/// an IPv4 address or a bracketed IPv6 one: what every URL parser reads alike.
fn receiver_url(url: String) -> Result<String, String> {
    let refused = || "must be an http(s) URL with a host, an optional port, and no credentials".to_string();
    let (scheme, rest) = url.split_once("://").ok_or_else(refused)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (address, after) = bracketed.split_once(']').ok_or_else(refused)?;
            let is_ipv6 = address.parse::<std::net::Ipv6Addr>().is_ok();
            (if is_ipv6 { address } else { "" }, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let bracket_ok = authority.starts_with('[') || !host.contains(':');
    let well_formed = matches!(scheme, "http" | "https")
        && host_ok
        && port_ok
        && bracket_ok
        // What JSON Schema's `\s` counts as blank: Unicode's white space and the BOM.
        && !url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}');
    if well_formed { Ok(url) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::receiver_url;

    #[test]
    fn a_receiver_url_has_a_host_every_parser_reads_alike() {
        for good in ["https://hooks.example.com/eventos", "http://127.0.0.1:8080/x", "http://[::1]:9/", "https://a.b"] {
            assert!(receiver_url(good.into()).is_ok(), "{good}");
        }
        for bad in [
            "http://[",
            "http://[zz]/",
            "ftp://a.b",
            "https://user@a.b",
            "http://a.b:port/",
            "http://:80/",
            "http://a b/",
        ] {
            assert!(receiver_url(bad.into()).is_err(), "{bad}");
        }
    }
}

/// `GET /api/<domain>/webhooks?event_id=`: as `register`, without the secrets.
pub fn list(req: &ApiRequest, organizes: impl Fn(&Caller, Uuid) -> Result<bool, Problem>) -> ApiResult {
    let caller = auth::caller(req)?;
    let (event_id, page) = event_list_query(req)?;
    require_runs(&caller, event_id, &organizes)?;
    let endpoints = store::list_endpoints(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, endpoints, |e| Cursor { at: e.created_at, id: e.id }))
}

/// What one call of the dispatcher did.
#[derive(Debug, Default, Serialize)]
pub struct Dispatched {
    pub delivered: usize,
    pub failed: usize,
    /// Deliveries still owed (failed ones wait for their next attempt).
    pub pending: i64,
}

/// `POST /api/<domain>/webhooks/deliver`: attempts the due deliveries once.
/// Admins (the CronJob's service account).
pub fn deliver(req: &ApiRequest) -> ApiResult {
    auth::caller(req)?.require(Role::Admin)?;
    let conn = db::connect()?;
    Ok(ApiResponse::ok(&deliver_due(&conn)?))
}

/// After a request that wrote deliveries has answered: attempts what is due.
pub fn deliver_owed() -> Result<Option<Dispatched>, DbError> {
    if !crate::journal::owes_deliveries() {
        return Ok(None);
    }
    deliver_due(&db::connect()?).map(Some)
}

/// Claims the due deliveries, sends them all at once, and records each outcome.
pub fn deliver_due(conn: &spin_sdk::pg4::Connection) -> Result<Dispatched, DbError> {
    let due = store::claim_due(conn, DELIVERIES_PER_CALL)?;
    let now = chrono::Utc::now().timestamp();
    let calls: Vec<Option<Call>> = due.iter().map(|d| message(d, now)).collect();
    let sendable: Vec<Call> = calls.iter().flatten().cloned().collect();
    let mut answers = send_all(&sendable, RECEIVER_TIMEOUT).into_iter();
    let mut outcome = Dispatched::default();
    for (delivery, call) in due.iter().zip(&calls) {
        let answer = match call {
            Some(_) => answers.next().unwrap_or_else(|| Err("no answer".into())),
            None => Err("the endpoint's URL or secret cannot be used".into()),
        };
        match answer {
            Ok((answer, _)) if (200..300).contains(&answer.status) => {
                store::mark_delivered(conn, delivery)?;
                outcome.delivered += 1;
            }
            Ok((answer, _)) => {
                store::retry_later(conn, delivery, &format!("answered {}", answer.status))?;
                outcome.failed += 1;
            }
            Err(why) => {
                store::retry_later(conn, delivery, &why)?;
                outcome.failed += 1;
            }
        }
    }
    outcome.pending = store::pending_count(conn)?;
    Ok(outcome)
}

/// The signed `POST` of one entry: `{"type", "timestamp", "data"}`, its
/// `webhook-id` the entry's id (the same on every attempt, for deduplication).
fn message(due: &store::Due, now: i64) -> Option<Call> {
    let particulars: serde_json::Value = serde_json::from_str(&due.data).ok()?;
    let body = json!({
        "type": due.kind,
        "timestamp": crate::time::format_rfc3339(&due.created_at),
        "data": {"subject": due.subject, "event_id": due.event_id, "actor": due.actor, "details": particulars},
    })
    .to_string()
    .into_bytes();
    let id = due.entry_id.to_string();
    let signed = signature(&due.secret, &id, now, &body)?;
    let (scheme, rest) = due.url.split_once("://")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), body.len().to_string()),
        ("webhook-id".to_owned(), id),
        ("webhook-timestamp".to_owned(), now.to_string()),
        ("webhook-signature".to_owned(), signed),
    ];
    Some(Call { base: format!("{scheme}://{authority}"), path, headers, body: Some(body) })
}
