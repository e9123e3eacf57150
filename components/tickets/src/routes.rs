//! The ticketing API: decode, ask the peers, sell (`sale.rs`) or change, encode.

use eventos_common::db;
use eventos_common::fields::parse_uuid;
use eventos_common::health::health;
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Deserialize;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::{CreateOrderBody, CreateTicketTypeBody, NewOrder, NewTicketType, TicketStatus};
use crate::peers;
use crate::repo;
use crate::sale::{self, Sold};

pub fn route(req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "tickets", "health"]) => Ok(health("tickets", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA))),
        (_, ["api", "tickets", "health"]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "types"]) => create_ticket_type(req),
        ("GET", ["api", "tickets", "types"]) => list_ticket_types(req),
        (_, ["api", "tickets", "types"]) => Err(Problem::method_not_allowed("GET, POST")),
        ("GET", ["api", "tickets", "types", id]) => get_ticket_type(id),
        (_, ["api", "tickets", "types", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "orders"]) => create_order(req),
        (_, ["api", "tickets", "orders"]) => Err(Problem::method_not_allowed("POST")),
        ("GET", ["api", "tickets", "orders", id]) => get_order(order_id(id)?),
        (_, ["api", "tickets", "orders", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "orders", id, "cancel"]) => cancel_order(order_id(id)?),
        (_, ["api", "tickets", "orders", _, "cancel"]) => Err(Problem::method_not_allowed("POST")),
        ("GET", ["api", "tickets", code]) => get_ticket(code),
        (_, ["api", "tickets", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", code, "check-in"]) => check_in(code),
        (_, ["api", "tickets", _, "check-in"]) => Err(Problem::method_not_allowed("POST")),
        _ => Err(Problem::no_route(&req.path)),
    }
}

fn order_id(text: &str) -> Result<Uuid, TicketingError> {
    parse_uuid(text).ok_or(TicketingError::NotFound("order"))
}

fn ticket_code(text: &str) -> Result<String, TicketingError> {
    code::normalize(text).ok_or(TicketingError::NotFound("ticket"))
}

// POST /api/tickets/types
fn create_ticket_type(req: &ApiRequest) -> ApiResult {
    let new = NewTicketType::parse(req.json::<CreateTicketTypeBody>()?)?;
    peers::require_event_not_cancelled(new.event_id)?;
    let ticket_type = repo::insert_ticket_type(&db::connect()?, &new)?;
    Ok(ApiResponse::created(format!("/api/tickets/types/{}", ticket_type.id), &ticket_type))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListTicketTypesQuery {
    event_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/tickets/types?event_id=&limit=&cursor=
fn list_ticket_types(req: &ApiRequest) -> ApiResult {
    let query: ListTicketTypesQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let event_id = query
        .event_id
        .as_deref()
        .map(|id| parse_uuid(id).ok_or_else(|| Problem::malformed("event_id must be a UUID")))
        .transpose()?;
    let types = repo::list_ticket_types(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, types, |t| Cursor { at: t.created_at, id: t.id }))
}

// GET /api/tickets/types/{id}
fn get_ticket_type(id: &str) -> ApiResult {
    let missing = || TicketingError::NotFound("ticket type");
    let id = parse_uuid(id).ok_or_else(missing)?;
    let ticket_type = repo::find_ticket_type(&db::connect()?, id)?.ok_or_else(missing)?;
    Ok(ApiResponse::ok(&ticket_type))
}

// POST /api/tickets/orders
fn create_order(req: &ApiRequest) -> ApiResult {
    let new = NewOrder::parse(req.json::<CreateOrderBody>()?, req.header("idempotency-key"))?;
    match sale::sell_or_replay(&db::connect()?, &new)? {
        Sold::New(order) => Ok(ApiResponse::created(format!("/api/tickets/orders/{}", order.id), &order)),
        Sold::Replayed(order) => {
            Ok(ApiResponse::ok(&order).with_header("location", format!("/api/tickets/orders/{}", order.id)))
        }
    }
}

// GET /api/tickets/orders/{id}
fn get_order(id: Uuid) -> ApiResult {
    let order = repo::find_order(&db::connect()?, id)?.ok_or(TicketingError::NotFound("order"))?;
    Ok(ApiResponse::ok(&order))
}

// POST /api/tickets/orders/{id}/cancel
fn cancel_order(id: Uuid) -> ApiResult {
    sale::cancel(&db::connect()?, id)?;
    get_order(id)
}

// GET /api/tickets/{code}
fn get_ticket(code: &str) -> ApiResult {
    let ticket = repo::find_ticket(&db::connect()?, &ticket_code(code)?)?.ok_or(TicketingError::NotFound("ticket"))?;
    Ok(ApiResponse::ok(&ticket))
}

// POST /api/tickets/{code}/check-in
fn check_in(code: &str) -> ApiResult {
    let code = ticket_code(code)?;
    let conn = db::connect()?;
    if let Some(ticket) = repo::check_in(&conn, &code)? {
        return Ok(ApiResponse::ok(&ticket));
    }
    let ticket = repo::find_ticket(&conn, &code)?.ok_or(TicketingError::NotFound("ticket"))?;
    let refused = match ticket.checked_in_at {
        Some(at) if ticket.status == TicketStatus::CheckedIn => TicketingError::AlreadyCheckedIn(at),
        _ => TicketingError::TicketVoid,
    };
    Err(refused.into())
}
