//! The events API: decode, apply the domain rules, call the repository, encode.

use eventos_common::auth::{self, Caller, Role};
use eventos_common::db::{self, in_transaction};
use eventos_common::fields::{parse_uuid, query_uuid};
use eventos_common::health::health;
use eventos_common::journal::{self, Entry};
use eventos_common::known_events::KnownEvents;
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::router::{Route, dispatch};
use eventos_common::time::parse_rfc3339;
use eventos_common::webhook;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Deserialize;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::access::{may_see, require_manager, visibility};
use crate::error::EventError;
use crate::event::{CreateEventBody, Event, EventChanges, Moderation, ModerationBody, NewEvent, UpdateEventBody};
use crate::repo::{self, EventFilter};
use crate::status::Status;

pub fn route(req: &ApiRequest) -> ApiResult {
    dispatch(&[WEBHOOK_ROUTES, ROUTES], req)
}

/// Events' journal entries, as webhook endpoints may ask for them.
const WEBHOOKS: webhook::Webhooks =
    webhook::Webhooks { organizes, types: &["event.approved", "event.rejected", "event.cancelled", "event.updated"] };

const WEBHOOK_ROUTES: &[Route] = eventos_common::webhook_routes!("/api/events", WEBHOOKS);

const ROUTES: &[Route] = &[
    Route::get("/api/events/health", |_, _| Ok(health("events", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA)))),
    Route::post("/api/events", |req, _| create_event(req)),
    Route::get("/api/events", |req, _| list_events(req)),
    Route::get("/api/events/audit", |req, _| journal::audit(req, organizes)),
    // Event ids last: every literal path above is no event.
    Route::get("/api/events/{}", |req, p| get_event(event_id(p[0])?, req)),
    Route::patch("/api/events/{}", |req, p| update_event(event_id(p[0])?, req)),
    Route::post("/api/events/{}/moderation", |req, p| moderate_event(event_id(p[0])?, req)),
    Route::post("/api/events/{}/cancel", |req, p| cancel_event(event_id(p[0])?, req)),
];

/// A malformed id names no event.
fn event_id(text: &str) -> Result<Uuid, EventError> {
    parse_uuid(text).ok_or(EventError::NotFound)
}

// POST /api/events: an organizer's own event; an admin may name its organizer.
fn create_event(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Organizer)?;
    let new_event = NewEvent::parse(req.json::<CreateEventBody>()?)?;
    let organizer_id = caller.acting_for(new_event.organizer_id)?;
    let event = repo::insert(&db::connect()?, &new_event, organizer_id)?;
    Ok(ApiResponse::created(format!("/api/events/{}", event.id), &event))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListEventsQuery {
    status: Option<String>,
    organizer_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/events?status=&organizer_id=&from=&to=&limit=&cursor=
fn list_events(req: &ApiRequest) -> ApiResult {
    let caller = auth::optional_caller(req)?;
    let query: ListEventsQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let bad = |name: &str, expected: &str| Problem::malformed(format!("{name} must be {expected}"));
    let filter = EventFilter {
        status: query
            .status
            .as_deref()
            .map(|s| Status::parse(s).ok_or_else(|| bad("status", "pending_review, published, rejected or cancelled")))
            .transpose()?,
        organizer_id: query_uuid("organizer_id", query.organizer_id.as_deref())?,
        from: query
            .from
            .as_deref()
            .map(|at| parse_rfc3339(at).ok_or_else(|| bad("from", "an RFC 3339 timestamp")))
            .transpose()?,
        to: query
            .to
            .as_deref()
            .map(|at| parse_rfc3339(at).ok_or_else(|| bad("to", "an RFC 3339 timestamp")))
            .transpose()?,
        visible_to: visibility(caller.as_ref()),
    };
    let events = repo::list(&db::connect()?, &filter, &page)?;
    Ok(page_response(&page, events, |event| Cursor { at: event.starts_at, id: event.id }))
}

// GET /api/events/{id}
// A published event is public: whoever reads it, their token needs no verifying
// (which keeps the order path, that asks about a published event, at one verification).
fn get_event(id: Uuid, req: &ApiRequest) -> ApiResult {
    let event = repo::find(&db::connect()?, id)?.ok_or(EventError::NotFound)?;
    if event.status != Status::Published && !may_see(auth::optional_caller(req)?.as_ref(), &event) {
        return Err(EventError::NotFound.into());
    }
    Ok(ApiResponse::ok(&event))
}

// PATCH /api/events/{id}
fn update_event(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let changes = EventChanges::parse(req.json::<UpdateEventBody>()?)?;
    change_event(id, caller.user_id, |event| managed_by(&caller, event)?.edited(&changes))
}

// POST /api/events/{id}/moderation
fn moderate_event(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Moderator)?;
    let moderation = Moderation::parse(req.json::<ModerationBody>()?)?;
    change_event(id, caller.user_id, |event| event.moderated(&moderation, caller.user_id))
}

// POST /api/events/{id}/cancel
fn cancel_event(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    change_event(id, caller.user_id, |event| managed_by(&caller, event)?.cancelled())
}

/// `event`, once its organizer or an admin is the one changing it.
fn managed_by<'e>(caller: &Caller, event: &'e Event) -> Result<&'e Event, EventError> {
    require_manager(caller, event)?;
    Ok(event)
}

/// Reads the event under a row lock, applies `change`, and stores the result
/// with its journal entry by `actor`: concurrent transitions of one event are
/// serialised, unrelated events are not.
fn change_event(id: Uuid, actor: Uuid, change: impl FnOnce(&Event) -> Result<Event, EventError>) -> ApiResult {
    let conn: Connection = db::connect()?;
    let event = in_transaction(&conn, |conn| {
        let current = repo::find_for_update(conn, id)?.ok_or(EventError::NotFound)?;
        let saved = repo::save(conn, &change(&current)?)?.ok_or(EventError::NotFound)?;
        journal::record(conn, &entry(&current, &saved, actor))?;
        Ok::<_, EventError>(saved)
    })?;
    // The other domains hear of the change at once where they share this store.
    KnownEvents::forget(id);
    Ok(ApiResponse::ok(&event))
}

/// What the journal says of a change from `before` to `after`.
fn entry(before: &Event, after: &Event, actor: Uuid) -> Entry {
    let kind = match (before.status, after.status) {
        (from, to) if from == to => "event.updated",
        (_, Status::Published) => "event.approved",
        (_, Status::Rejected) => "event.rejected",
        (_, Status::Cancelled) => "event.cancelled",
        _ => "event.updated",
    };
    let data = serde_json::json!({"status": after.status, "reason": after.moderation_reason});
    Entry { kind, subject: after.id.to_string(), event_id: Some(after.id), actor, data }
}

/// The caller organizes the event, by this domain's own records.
fn organizes(caller: &Caller, id: Uuid) -> Result<bool, Problem> {
    let event = repo::find(&db::connect()?, id)?;
    Ok(event.is_some_and(|event| event.organizer_id == caller.user_id))
}
