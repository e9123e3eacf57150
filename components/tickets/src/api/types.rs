//! `/api/tickets/types`: ticket types and their stock.

use eventos_common::auth::{self, Role};
use eventos_common::db;
use eventos_common::fields::parse_uuid;
use eventos_common::page::{Cursor, event_list_query, page_response};
use eventos_common::{ApiRequest, ApiResponse, ApiResult};

use crate::error::TicketingError;
use crate::requests::{CreateTicketTypeBody, NewTicketType};
use crate::{peers, repo};

// POST /api/tickets/types: the event's organizer, or an admin.
pub fn create(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Organizer)?;
    let new = NewTicketType::parse(req.json::<CreateTicketTypeBody>()?)?;
    peers::require_event_for_ticket_types(new.event_id, &caller)?;
    let ticket_type = repo::types::insert_ticket_type(&db::connect()?, &new)?;
    Ok(ApiResponse::created(format!("/api/tickets/types/{}", ticket_type.id), &ticket_type))
}

// GET /api/tickets/types?event_id=&limit=&cursor=
// One event's, for whoever may see the event (hidden ones for its organizer and
// admins); every event's, for moderators and admins.
pub fn list(req: &ApiRequest) -> ApiResult {
    let caller = auth::optional_caller(req)?;
    let (event_id, page) = event_list_query(req)?;
    let with_hidden = match event_id {
        Some(event_id) => {
            let event = peers::event_as_seen(event_id)?.ok_or(TicketingError::NotFound("event"))?;
            peers::runs_event(caller.as_ref(), &event)
        }
        None => {
            let caller = caller.ok_or(auth::Unauthenticated::NoToken)?;
            caller.require(Role::Moderator)?;
            caller.is_admin()
        }
    };
    let types = repo::types::list_ticket_types(&db::connect()?, event_id, with_hidden, &page)?;
    Ok(page_response(&page, types, |t| Cursor { at: t.created_at, id: t.id }))
}

// GET /api/tickets/types/{id}: for whoever may see its event; a hidden one, for
// its organizer and admins.
pub fn get(id: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::optional_caller(req)?;
    let missing = || TicketingError::NotFound("ticket type");
    let id = parse_uuid(id).ok_or_else(missing)?;
    let ticket_type = repo::types::find_ticket_type(&db::connect()?, id)?.ok_or_else(missing)?;
    let event = peers::event_as_seen(ticket_type.event_id)?.ok_or_else(missing)?;
    if ticket_type.hidden && !peers::runs_event(caller.as_ref(), &event) {
        return Err(missing().into());
    }
    Ok(ApiResponse::ok(&ticket_type))
}
