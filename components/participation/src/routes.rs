//! The participation API: decode, ask the peers, apply the rules in one transaction, encode.

use eventos_common::auth::{self, Caller, Forbidden};
use eventos_common::db::{self, DbError, in_transaction};
use eventos_common::fields::{parse_uuid, query_uuid};
use eventos_common::health::health;
use eventos_common::journal::{self, Entry};
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::peer::{list_scope, organizes};
use eventos_common::router::{Route, dispatch};
use eventos_common::webhook;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::RegistrationError;
use crate::peers;
use crate::registration::{RegisterBody, RegisterRequest, Registration, Status, Summary};
use crate::repo::{self, RegistrationFilter};

pub fn route(req: &ApiRequest) -> ApiResult {
    dispatch(&[WEBHOOK_ROUTES, ROUTES], req)
}

/// Registrations' journal entries, as webhook endpoints may ask for them.
const WEBHOOKS: webhook::Webhooks = webhook::Webhooks {
    organizes: runs,
    types: &["registration.confirmed", "registration.waitlisted", "registration.promoted", "registration.cancelled"],
};

const WEBHOOK_ROUTES: &[Route] = eventos_common::webhook_routes!("/api/participation", WEBHOOKS);

const ROUTES: &[Route] = &[
    Route::get("/api/participation/health", |_, _| {
        Ok(health("participation", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA)))
    }),
    Route::post("/api/participation/registrations", |req, _| register(req)),
    Route::get("/api/participation/registrations", |req, _| list_registrations(req)),
    Route::get("/api/participation/registrations/{}", |req, p| get_registration(registration_id(p[0])?, req)),
    Route::delete("/api/participation/registrations/{}", |req, p| cancel_registration(registration_id(p[0])?, req)),
    Route::get("/api/participation/audit", |req, _| journal::audit(req, runs)),
    Route::get("/api/participation/events/{}/summary", |_, p| summary(p[0])),
];

fn registration_id(text: &str) -> Result<Uuid, RegistrationError> {
    parse_uuid(text).ok_or(RegistrationError::NotFound)
}

// POST /api/participation/registrations: members register themselves; an admin may name anybody.
fn register(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let new = RegisterRequest::parse(req.json::<RegisterBody>()?)?.by(&caller)?;
    let capacity = peers::open_event_capacity(new.event_id)?;
    // The caller's own user is the token's: only somebody else needs asking about.
    if new.user_id != caller.user_id {
        eventos_common::peer::require_user(new.user_id)?;
    }
    // Waiting registrations go first when seats opened up since they queued.
    let registration = repo::register(&db::connect()?, &new, capacity, caller.user_id)?;
    Ok(ApiResponse::created(format!("/api/participation/registrations/{}", registration.id), &registration))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListRegistrationsQuery {
    event_id: Option<String>,
    user_id: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/participation/registrations?event_id=&user_id=&status=&limit=&cursor=
// Admins list anything and organizers their event's registrations; anybody else their own.
fn list_registrations(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let query: ListRegistrationsQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let mut filter = RegistrationFilter {
        event_id: query_uuid("event_id", query.event_id.as_deref())?,
        user_id: query_uuid("user_id", query.user_id.as_deref())?,
        status: query
            .status
            .as_deref()
            .map(|s| {
                Status::parse(s).ok_or_else(|| Problem::malformed("status must be confirmed, waitlisted or cancelled"))
            })
            .transpose()?,
    };
    filter.user_id = list_scope(&caller, filter.event_id, filter.user_id)?;
    let registrations = repo::list(&db::connect()?, &filter, &page)?;
    Ok(page_response(&page, registrations, |r| Cursor { at: r.created_at, id: r.id }))
}

// GET /api/participation/registrations/{id}: its member's, its event's organizer's, an admin's.
fn get_registration(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let registration = repo::find(&db::connect()?, id)?.ok_or(RegistrationError::NotFound)?;
    if !caller.may_act_for(registration.user_id) && !organizes(&caller, registration.event_id)? {
        return Err(Forbidden("this registration is somebody else's").into());
    }
    Ok(ApiResponse::ok(&registration))
}

// DELETE /api/participation/registrations/{id}: its member or an admin.
fn cancel_registration(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let conn = db::connect()?;
    let current = repo::find(&conn, id)?.ok_or(RegistrationError::NotFound)?;
    require_own(&caller, &current)?;
    current.status.cancel()?;
    // A freed seat goes to the waitlist, within the event's current capacity.
    let capacity = match current.status {
        Status::Confirmed => peers::event_capacity(current.event_id)?,
        _ => None,
    };
    in_transaction(&conn, |conn| {
        repo::lock_event(conn, current.event_id)?;
        let locked = repo::find(conn, id)?.ok_or(RegistrationError::NotFound)?;
        repo::set_status(conn, id, locked.status.cancel()?)?;
        let data = json!({"user_id": locked.user_id, "was": locked.status});
        let entry = Entry {
            kind: "registration.cancelled",
            subject: id.to_string(),
            event_id: Some(locked.event_id),
            actor: caller.user_id,
            data,
        };
        journal::record(conn, &entry)?;
        if let Some(capacity) = capacity {
            let promoted = repo::promote_waitlisted(conn, current.event_id, capacity)?;
            record_promotions(conn, current.event_id, &promoted, caller.user_id)?;
        }
        Ok::<_, RegistrationError>(())
    })?;
    let registration = repo::find(&conn, id)?.ok_or(RegistrationError::NotFound)?;
    Ok(ApiResponse::ok(&registration))
}

// GET /api/participation/events/{event_id}/summary
fn summary(event_id: &str) -> ApiResult {
    let event_id = parse_uuid(event_id).ok_or(RegistrationError::EventNotFound)?;
    let capacity = peers::event_capacity(event_id)?.ok_or(RegistrationError::EventNotFound)?;
    let (confirmed, waitlisted) = repo::counts(&db::connect()?, event_id)?;
    Ok(ApiResponse::ok(&Summary { event_id, capacity, confirmed, waitlisted }))
}

/// Journals each registration promoted from the waitlist, by whoever freed its seat.
fn record_promotions(conn: &Connection, event_id: Uuid, promoted: &[Uuid], actor: Uuid) -> Result<(), DbError> {
    for id in promoted {
        let entry = Entry {
            kind: "registration.promoted",
            subject: id.to_string(),
            event_id: Some(event_id),
            actor,
            data: json!({}),
        };
        journal::record(conn, &entry)?;
    }
    Ok(())
}

/// The caller organizes the event, as the events component says.
fn runs(caller: &Caller, event_id: Uuid) -> Result<bool, Problem> {
    Ok(organizes(caller, event_id)?)
}

fn require_own(caller: &Caller, registration: &Registration) -> Result<(), Forbidden> {
    if caller.may_act_for(registration.user_id) {
        Ok(())
    } else {
        Err(Forbidden("this registration is somebody else's"))
    }
}
