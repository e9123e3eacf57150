//! `/api/tickets/events/{id}/waiting-room`: an event's waiting room for its
//! on-sale, its draw, and each buyer's place in it.

use eventos_common::auth::{self, Caller, Forbidden};
use eventos_common::db;
use eventos_common::peer::find_event;
use eventos_common::time::now;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::repo;
use crate::waiting_room::settings::RoomBody;
use crate::waiting_room::{Room, RoomSettings, RoomView, place};

fn room(conn: &Connection, event_id: Uuid) -> Result<Room, TicketingError> {
    repo::rooms::find(conn, event_id)?.ok_or(TicketingError::NotFound("waiting room"))
}

/// The room, drawn first if its on-sale has come: the first request after the on-sale draws.
fn drawn_room(conn: &Connection, event_id: Uuid) -> Result<Room, TicketingError> {
    let room = room(conn, event_id)?;
    if !room.draw_is_due(now()) {
        return Ok(room);
    }
    repo::rooms::draw_if_due(conn, event_id)?;
    self::room(conn, event_id)
}

/// The caller organizes the event, or is an admin; the event must exist.
fn require_runs(caller: &Caller, event_id: Uuid) -> Result<(), Problem> {
    let event = find_event(event_id)?.ok_or(TicketingError::NotFound("event"))?;
    if caller.is_admin() || (caller.has(auth::Role::Organizer) && event.organizer_id == caller.user_id) {
        return Ok(());
    }
    Err(Forbidden("an event's waiting room is its organizer's to run").into())
}

fn random_32() -> Result<[u8; 32], TicketingError> {
    wasi::random::random::get_random_bytes(32)
        .try_into()
        .map_err(|_| TicketingError::Bug("the platform's random source gave the wrong number of bytes".into()))
}

// PUT /api/tickets/events/{id}/waiting-room: the organizer or an admin; makes
// the room (201), or changes it and opens it again (200). A drawn room's
// on-sale stays where the draw was made.
pub fn put(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    let settings = RoomSettings::parse(req.json::<RoomBody>()?).map_err(TicketingError::from)?;
    require_runs(&caller, event_id)?;
    let conn = db::connect()?;
    let before = repo::rooms::find(&conn, event_id)?;
    if before.as_ref().is_some_and(|room| room.drawn_at.is_some() && room.on_sale_at != settings.on_sale_at) {
        return Err(TicketingError::RoomDrawn.into());
    }
    repo::rooms::put(&conn, event_id, &settings, random_32()?, random_32()?)?;
    let view = RoomView::from(&room(&conn, event_id)?);
    let location = format!("/api/tickets/events/{event_id}/waiting-room");
    Ok(if before.is_none() { ApiResponse::created(location, &view) } else { ApiResponse::ok(&view) })
}

// GET /api/tickets/events/{id}/waiting-room: anyone.
pub fn get(event_id_text: &str) -> ApiResult {
    let event_id = super::the("event", event_id_text)?;
    let room = drawn_room(&db::connect()?, event_id)?;
    Ok(ApiResponse::ok(&RoomView::from(&room)).with_header("cache-control", "no-store"))
}

// POST /api/tickets/events/{id}/waiting-room/close: the organizer or an admin;
// buying needs no pass from now on.
pub fn close(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    require_runs(&caller, event_id)?;
    let conn = db::connect()?;
    room(&conn, event_id)?;
    repo::rooms::close(&conn, event_id)?;
    Ok(ApiResponse::ok(&RoomView::from(&room(&conn, event_id)?)))
}

// GET /api/tickets/events/{id}/waiting-room/draw: anyone, once drawn: the seed
// and the early visitors in the order drawn, for anyone to check the draw.
pub fn draw(event_id_text: &str) -> ApiResult {
    let event_id = super::the("event", event_id_text)?;
    let conn = db::connect()?;
    let view = RoomView::from(&drawn_room(&conn, event_id)?);
    let Some(seed) = view.seed else {
        let detail = "the draw is made at the on-sale";
        return Err(Problem::conflict("waiting-room-not-drawn", "Not drawn yet", detail));
    };
    let order = repo::rooms::drawn_order(&conn, event_id)?;
    let body = serde_json::json!({"seed": seed, "seed_sha256": view.seed_sha256, "visitors": order});
    Ok(ApiResponse::ok(&body))
}

// POST /api/tickets/events/{id}/waiting-room/visitors: a member takes a place
// (201), or finds the one they have (200): another tab or a retry moves nothing.
pub fn join(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    let conn = db::connect()?;
    let room = drawn_room(&conn, event_id)?;
    if let Some(visitor) = repo::rooms::join(&conn, event_id, caller.user_id)? {
        let location = format!("/api/tickets/events/{event_id}/waiting-room/visitors/me");
        return Ok(ApiResponse::created(location, &place(&room, &visitor, event_id, caller.user_id, now())));
    }
    // No place made: the buyer has one already (from another tab, a retry), or the room is closed.
    let visitor = repo::rooms::visitor(&conn, event_id, caller.user_id)?.ok_or(TicketingError::RoomClosed)?;
    Ok(ApiResponse::ok(&place(&room, &visitor, event_id, caller.user_id, now())))
}

// GET /api/tickets/events/{id}/waiting-room/visitors/me: the caller's place,
// wait and, once admitted, pass.
pub fn me(event_id_text: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id_text)?;
    let conn = db::connect()?;
    let room = drawn_room(&conn, event_id)?;
    let visitor =
        repo::rooms::visitor(&conn, event_id, caller.user_id)?.ok_or(TicketingError::NotFound("place in the room"))?;
    let view = place(&room, &visitor, event_id, caller.user_id, now());
    Ok(ApiResponse::ok(&view).with_header("cache-control", "no-store"))
}
