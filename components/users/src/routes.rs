//! The users API: decode, call the repository, encode.

use eventos_common::auth::{self, Caller, Forbidden, Role};
use eventos_common::db::{DbError, in_transaction};
use eventos_common::fields::parse_uuid;
use eventos_common::health::health;
use eventos_common::journal::{self, Entry};
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::peer::KnownUsers;
use eventos_common::router::{Route, dispatch};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem, db};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::UserError;
use crate::repo;
use crate::user::{CreateUserBody, NewUser, UpdateUserBody, User, UserChanges, parse_email};

pub fn route(req: &ApiRequest) -> ApiResult {
    dispatch(&[ROUTES], req)
}

const ROUTES: &[Route] = &[
    Route::get("/api/users/health", |_, _| Ok(health("users", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA)))),
    Route::get("/api/users/me", |req, _| get_me(req)),
    Route::patch("/api/users/me", |req, _| update_me(req)),
    Route::get("/api/users/audit", |req, _| journal::audit(req, |_, _| Ok(false))),
    Route::post("/api/users", |req, _| create_user(req)),
    Route::get("/api/users", |req, _| list_users(req)),
    // User ids last: every literal path above is no user.
    Route::get("/api/users/{}", |req, p| get_user(user_id(p[0])?, req)),
    Route::patch("/api/users/{}", |req, p| update_user(user_id(p[0])?, req)),
    Route::delete("/api/users/{}", |req, p| delete_user(user_id(p[0])?, req)),
];

/// A malformed id names no user.
fn user_id(text: &str) -> Result<Uuid, UserError> {
    parse_uuid(text).ok_or(UserError::NotFound)
}

/// Users are read and changed by themselves and by admins; a member asking
/// about somebody else learns nothing, not even whether they exist.
fn require_self_or_admin(req: &ApiRequest, id: Uuid) -> Result<Caller, Problem> {
    let caller = auth::caller(req)?;
    if caller.may_act_for(id) { Ok(caller) } else { Err(Forbidden("members see only themselves").into()) }
}

// POST /api/users: members are made from their tokens (`/me`); admins make others.
fn create_user(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Admin)?;
    let new_user = NewUser::parse(req.json::<CreateUserBody>()?)?;
    let user = in_transaction(&db::connect()?, |conn| {
        let user = repo::insert(conn, &new_user)?;
        record(conn, "user.created", user.id, &caller, json!({"email": user.email}))?;
        Ok::<_, UserError>(user)
    })?;
    Ok(ApiResponse::created(format!("/api/users/{}", user.id), &user))
}

/// What an admin did to somebody else's account goes into the audit log.
fn record(conn: &Connection, kind: &'static str, id: Uuid, by: &Caller, data: Value) -> Result<(), DbError> {
    let entry = Entry { kind, subject: id.to_string(), event_id: None, actor: by.user_id, data };
    journal::record_unwatched(conn, &entry)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListUsersQuery {
    email: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/users?email=&limit=&cursor=
fn list_users(req: &ApiRequest) -> ApiResult {
    auth::caller(req)?.require(Role::Admin)?;
    let query: ListUsersQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let email = query
        .email
        .map(|email| parse_email(Some(email)).map_err(|m| Problem::malformed(format!("email {m}"))))
        .transpose()?;
    let users = repo::list(&db::connect()?, email, &page)?;
    Ok(page_response(&page, users, |user| Cursor { at: user.created_at, id: user.id }))
}

// GET /api/users/me: the caller, created from the token's email and name on first use.
fn get_me(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    Ok(ApiResponse::ok(&me(&db::connect()?, &caller)?))
}

// PATCH /api/users/me
fn update_me(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let changes = UserChanges::parse(req.json::<UpdateUserBody>()?)?;
    let conn = db::connect()?;
    let current = me(&conn, &caller)?;
    let user = repo::update(&conn, current.id, &changes)?.ok_or(UserError::NotFound)?;
    Ok(ApiResponse::ok(&user))
}

fn me(conn: &Connection, caller: &Caller) -> Result<User, UserError> {
    if let Some(user) = repo::find(conn, caller.user_id)? {
        return Ok(user);
    }
    let new_user = NewUser::from_token(caller)?;
    repo::insert_as(conn, caller.user_id, &new_user)
}

// GET /api/users/{id}
fn get_user(id: Uuid, req: &ApiRequest) -> ApiResult {
    require_self_or_admin(req, id)?;
    let user = repo::find(&db::connect()?, id)?.ok_or(UserError::NotFound)?;
    Ok(ApiResponse::ok(&user))
}

// PATCH /api/users/{id}
fn update_user(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = require_self_or_admin(req, id)?;
    let changes = UserChanges::parse(req.json::<UpdateUserBody>()?)?;
    let user = in_transaction(&db::connect()?, |conn| {
        let user = repo::update(conn, id, &changes)?.ok_or(UserError::NotFound)?;
        if caller.user_id != id {
            let changed: Vec<&str> = [("email", changes.email.is_some()), ("name", changes.name.is_some())]
                .into_iter()
                .filter_map(|(field, changed)| changed.then_some(field))
                .collect();
            record(conn, "user.updated", id, &caller, json!({"changed": changed}))?;
        }
        Ok::<_, UserError>(user)
    })?;
    Ok(ApiResponse::ok(&user))
}

// DELETE /api/users/{id}
fn delete_user(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Admin)?;
    in_transaction(&db::connect()?, |conn| {
        if !repo::delete(conn, id)? {
            return Err(UserError::NotFound);
        }
        Ok(record(conn, "user.deleted", id, &caller, json!({}))?)
    })?;
    // Whoever names this user next asks again, and hears there is no such user.
    KnownUsers::forget(id);
    Ok(ApiResponse::no_content())
}
