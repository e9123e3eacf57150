//! What a door needs to check ticket codes without a network: an event's
//! public signing keys and its revocation list, read as a delta.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use eventos_common::auth::{self, Forbidden};
use eventos_common::db;
use eventos_common::peer::organizes;
use eventos_common::time::{rfc3339, rfc3339_opt};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::TicketingError;
use crate::repo;
use crate::repo::signing_keys::PublishedKey;
use crate::signed_code;

/// The most revocations one answer carries; a scanner asks again from the last.
const MAX_REVOCATIONS: i64 = 5000;

#[derive(Serialize)]
struct KeyView {
    key_id: i32,
    algorithm: &'static str,
    /// The raw 32-byte Ed25519 public key, unpadded base64url.
    public_key: String,
    #[serde(serialize_with = "rfc3339")]
    created_at: NaiveDateTime,
    /// From then on the key verifies nothing.
    #[serde(serialize_with = "rfc3339_opt")]
    retired_at: Option<NaiveDateTime>,
}

impl From<PublishedKey> for KeyView {
    fn from(key: PublishedKey) -> Self {
        KeyView {
            key_id: key.key_id,
            algorithm: "Ed25519",
            public_key: URL_SAFE_NO_PAD.encode(key.public_key),
            created_at: key.created_at,
            retired_at: key.retired_at,
        }
    }
}

/// The caller organizes the event or is an admin.
fn require_runs(req: &ApiRequest, event_id: Uuid) -> Result<(), Problem> {
    let caller = auth::caller(req)?;
    if caller.is_admin() || organizes(&caller, event_id)? {
        return Ok(());
    }
    Err(Forbidden("an event's keys are its organizer's to change").into())
}

// GET /api/tickets/events/{id}/signing-keys: anyone; a public key is for everybody.
pub fn keys(event_id_text: &str) -> ApiResult {
    let event_id = super::the("event", event_id_text)?;
    let keys = repo::signing_keys::published(&db::connect()?, event_id)?;
    let keys: Vec<KeyView> = keys.into_iter().map(KeyView::from).collect();
    // The event's id is the caller's own: not echoed, so that no answer names an event it may not see.
    Ok(ApiResponse::ok(&serde_json::json!({"format": signed_code::PREFIX, "keys": keys})))
}

// POST /api/tickets/events/{id}/signing-keys: the organizer or an admin; the new
// key signs every ticket read from now on, and the older ones still verify.
pub fn add_key(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let event_id = super::the("event", event_id_text)?;
    require_runs(req, event_id)?;
    let key = repo::signing_keys::add(&db::connect()?, event_id)?.ok_or(TicketingError::KeyRace)?;
    let location = format!("/api/tickets/events/{event_id}/signing-keys");
    Ok(ApiResponse::created(location, &KeyView::from(key)))
}

// POST /api/tickets/events/{id}/signing-keys/{key_id}/retire: the organizer or an
// admin; codes that key signed are refused from now on (a stolen key).
pub fn retire_key(event_id_text: &str, key_id: &str, req: &ApiRequest) -> ApiResult {
    let event_id = super::the("event", event_id_text)?;
    require_runs(req, event_id)?;
    let key_id = key_id.parse::<i32>().map_err(|_| TicketingError::NotFound("key"))?;
    let key = repo::signing_keys::retire(&db::connect()?, event_id, key_id)?.ok_or(TicketingError::NotFound("key"))?;
    Ok(ApiResponse::ok(&KeyView::from(key)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationQuery {
    since: Option<String>,
    limit: Option<String>,
}

/// A whole number in `range`, or a 400 naming the parameter.
fn whole(name: &str, text: Option<String>, default: i64, range: std::ops::RangeInclusive<i64>) -> Result<i64, Problem> {
    let Some(text) = text else { return Ok(default) };
    text.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
        Problem::malformed(format!("{name} must be an integer from {} to {}", range.start(), range.end()))
    })
}

// GET /api/tickets/events/{id}/revocations?since=&limit=: staff, the organizer,
// an admin. `version` is where the next delta starts; `complete` says whether
// this answer reached the newest revocation.
pub fn revocations(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    let query = req.query::<RevocationQuery>()?;
    let since = whole("since", query.since, 0, 0..=i64::MAX)?;
    let limit = whole("limit", query.limit, MAX_REVOCATIONS, 1..=MAX_REVOCATIONS)?;
    super::require_door(&caller, event_id, "the revocation list is for the door: staff and the event's organizer")?;
    let mut found = repo::revocations::after(&db::connect()?, event_id, since, limit + 1)?;
    let complete = found.len() as i64 <= limit;
    found.truncate(limit as usize);
    let version = found.last().map_or(since, |last| last.version);
    Ok(ApiResponse::ok(&serde_json::json!({
        "event_id": event_id, "since": since, "version": version, "complete": complete, "items": found
    })))
}

// GET /api/tickets/events/{id}/duplicate-scans: staff, the organizer, an admin;
// the most recent tickets scanned again after their check-in, newest first.
pub fn duplicate_scans(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    super::require_door(&caller, event_id, "duplicate scans are for the door: staff and the event's organizer")?;
    let items = repo::duplicate_scans::of_event(&db::connect()?, event_id)?;
    Ok(ApiResponse::ok(&serde_json::json!({ "items": items })))
}
