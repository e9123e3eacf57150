//! The webhook endpoints' HTTP API, the same in every domain that journals:
//! register, list, read, change, delete, rotate the secret, send a test
//! message, read the log of attempts; and the dispatcher.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use spin_sdk::variables;
use uuid::Uuid;

use super::dispatch::{self, RECEIVER_TIMEOUT};
use super::receiver::Receiver;
use super::store::{self, Changes, Endpoint};
use super::{Webhooks, new_secret};
use crate::auth::{self, Caller, Forbidden, Role};
use crate::db;
use crate::fields::{Fields, Patch, optional_uuid, parse_uuid, required_text};
use crate::outbound::send_all;
use crate::page::{Cursor, PageRequest, event_list_query, page_response};
use crate::{ApiRequest, ApiResponse, ApiResult, Problem};

const MAX_URL_CHARS: usize = 2000;
/// How long a replaced secret keeps signing beside the new one: a day to move
/// every receiver over.
const ROTATION_GRACE_SECONDS: i64 = 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    url: Option<String>,
    event_id: Option<String>,
    event_types: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    url: Patch<String>,
    #[serde(default)]
    event_types: Patch<Vec<String>>,
    #[serde(default)]
    enabled: Patch<bool>,
}

/// An endpoint with a secret: the only answers that show one.
#[derive(Serialize)]
struct WithSecret {
    #[serde(flatten)]
    endpoint: Endpoint,
    secret: String,
}

/// `POST /api/<domain>/webhooks`: an event's organizer for that event, an admin
/// for any event or (without `event_id`) for every one.
pub fn register(req: &ApiRequest, hooks: &Webhooks) -> ApiResult {
    let caller = auth::caller(req)?;
    let body: RegisterBody = req.json()?;
    let mut fields = Fields::default();
    let url = fields.take("url", required_text(body.url, MAX_URL_CHARS).and_then(|url| deliverable(&url)));
    let event_id = fields.take("event_id", optional_uuid(body.event_id));
    let event_types = fields.take("event_types", body.event_types.map(|t| hooks.event_types(t)).transpose());
    let (Some(url), Some(event_id), Some(event_types)) = (url, event_id, event_types) else {
        return Err(fields.invalid().into());
    };
    require_runs(&caller, event_id, hooks)?;
    let secret = new_secret();
    let endpoint = store::insert_endpoint(&db::connect()?, event_id, &url, &event_types, &secret, caller.user_id)?;
    let location = format!("{}/{}", req.path.trim_end_matches('/'), endpoint.id);
    Ok(ApiResponse::created(location, &WithSecret { endpoint, secret }))
}

/// A URL the platform can deliver to, as `webhook_hosts` and the address rules say.
fn deliverable(url: &str) -> Result<String, String> {
    let receiver = Receiver::parse(url)?;
    let allowed = variables::get("webhook_hosts").map_err(|e| format!("cannot be checked now ({e})"))?;
    receiver.check_reachable(&allowed)?;
    Ok(receiver.url)
}

/// Admins for anything; an event's organizer for that event.
fn require_runs(caller: &Caller, event_id: Option<Uuid>, hooks: &Webhooks) -> Result<(), Problem> {
    match event_id {
        _ if caller.is_admin() => Ok(()),
        Some(event_id) if caller.has(Role::Organizer) && (hooks.organizes)(caller, event_id)? => Ok(()),
        _ => Err(Forbidden("webhooks are for admins, and each event's for its organizer").into()),
    }
}

/// `GET /api/<domain>/webhooks?event_id=`: as `register`, without the secrets.
pub fn list(req: &ApiRequest, hooks: &Webhooks) -> ApiResult {
    let caller = auth::caller(req)?;
    let (event_id, page) = event_list_query(req)?;
    require_runs(&caller, event_id, hooks)?;
    let endpoints = store::list_endpoints(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, endpoints, |e| Cursor { at: e.created_at, id: e.id }))
}

/// The endpoint `id` names, if the caller may manage it (its event's organizer, or an admin).
fn owned(req: &ApiRequest, id: &str, hooks: &Webhooks) -> Result<Endpoint, Problem> {
    let caller = auth::caller(req)?;
    let not_found = || Problem::not_found("webhook endpoint");
    let id = parse_uuid(id).ok_or_else(not_found)?;
    let endpoint = store::find_endpoint(&db::connect()?, id)?.ok_or_else(not_found)?;
    require_runs(&caller, endpoint.event_id, hooks)?;
    Ok(endpoint)
}

/// `GET /api/<domain>/webhooks/{id}`: the endpoint and how reaching it goes.
pub fn read(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    Ok(ApiResponse::ok(&owned(req, id, hooks)?))
}

/// `PATCH /api/<domain>/webhooks/{id}`: its URL, the entry types it wants
/// (`null`: all), whether it is enabled.
pub fn update(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    let endpoint = owned(req, id, hooks)?;
    let body: UpdateBody = req.json()?;
    let mut fields = Fields::default();
    let url = fields.take_patch("url", body.url, |url| required_text(url, MAX_URL_CHARS).and_then(|u| deliverable(&u)));
    let event_types = match body.event_types {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(types) => fields.take("event_types", hooks.event_types(types)).map(Some),
    };
    let enabled = fields.take_patch("enabled", body.enabled, |enabled| enabled.ok_or_else(|| "is required".into()));
    if !fields.is_clean() {
        return Err(fields.invalid().into());
    }
    let changes = Changes { url, event_types, enabled };
    let updated = store::update_endpoint(&db::connect()?, endpoint.id, &changes)?;
    Ok(ApiResponse::ok(&updated.ok_or_else(|| Problem::not_found("webhook endpoint"))?))
}

/// `DELETE /api/<domain>/webhooks/{id}`: the endpoint, what it is owed and its log.
pub fn delete(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    let endpoint = owned(req, id, hooks)?;
    store::delete_endpoint(&db::connect()?, endpoint.id)?;
    Ok(ApiResponse::no_content())
}

/// `POST /api/<domain>/webhooks/{id}/secret`: a new secret, shown once; the old
/// one signs beside it for a day.
pub fn rotate_secret(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    let endpoint = owned(req, id, hooks)?;
    let secret = new_secret();
    let rotated = store::rotate_secret(&db::connect()?, endpoint.id, &secret, ROTATION_GRACE_SECONDS)?
        .ok_or_else(|| Problem::not_found("webhook endpoint"))?;
    Ok(ApiResponse::ok(&WithSecret { endpoint: rotated, secret }))
}

/// What a test message met.
#[derive(Serialize)]
struct TestResult {
    delivered: bool,
    status: Option<u16>,
    error: Option<String>,
    duration_ms: i32,
}

/// `POST /api/<domain>/webhooks/{id}/test`: sends a signed `webhook.test`
/// message now, whatever its backoff, and answers how it went (logged too).
pub fn test(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    let endpoint = owned(req, id, hooks)?;
    let secrets = store::signing_secrets(&db::connect()?, endpoint.id)?;
    let now = chrono::Utc::now();
    let message_id = Uuid::new_v4().to_string();
    let data = json!({"endpoint_id": endpoint.id, "event_id": endpoint.event_id});
    let timestamp = crate::time::format_rfc3339(&now.naive_utc());
    let call =
        dispatch::signed_post(&endpoint.url, &secrets, &message_id, "webhook.test", &timestamp, data, now.timestamp())
            .map_err(Problem::internal)?;
    let sending = Instant::now();
    let answer = send_all(&[call], RECEIVER_TIMEOUT).pop().unwrap_or_else(|| Err("no answer".into()));
    let (status, error, duration_ms) = dispatch::judged(answer, sending.elapsed());
    store::record_test(&db::connect()?, endpoint.id, status.map(i32::from), error.as_deref(), duration_ms)?;
    Ok(ApiResponse::ok(&TestResult { delivered: error.is_none(), status, error, duration_ms }))
}

/// `GET /api/<domain>/webhooks/{id}/attempts`: every attempt to reach it, newest first.
pub fn attempts(req: &ApiRequest, id: &str, hooks: &Webhooks) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Query {
        limit: Option<String>,
        cursor: Option<String>,
    }
    let endpoint = owned(req, id, hooks)?;
    let query: Query = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let attempts = store::list_attempts(&db::connect()?, endpoint.id, &page)?;
    Ok(page_response(&page, attempts, |a| Cursor { at: a.attempted_at, id: a.id }))
}

/// `POST /api/<domain>/webhooks/deliver`: sends what is due, in rounds, for up
/// to 20 s. Admins (the CronJob's service account).
pub fn deliver(req: &ApiRequest) -> ApiResult {
    auth::caller(req)?.require(Role::Admin)?;
    Ok(ApiResponse::ok(&dispatch::deliver_due()?))
}
