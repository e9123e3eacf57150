//! The ticketing API: decode, ask the peers, sell (`sale.rs`) or change, encode.

use eventos_common::auth::{self, Caller, Forbidden, Role};
use eventos_common::db;
use eventos_common::fields::{parse_uuid, query_uuid};
use eventos_common::health::health;
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::peer::{list_scope, organizes};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Deserialize;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::{CheckIns, CreateOrderBody, CreateTicketTypeBody, NewOrder, NewTicketType, Order, TicketStatus};
use crate::peers;
use crate::repo::{self, OrderFilter};
use crate::sale::{self, Sold};

pub fn route(req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "tickets", "health"]) => Ok(health("tickets", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA))),
        (_, ["api", "tickets", "health"]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "types"]) => create_ticket_type(req),
        ("GET", ["api", "tickets", "types"]) => list_ticket_types(req),
        (_, ["api", "tickets", "types"]) => Err(Problem::method_not_allowed("GET, POST")),
        ("GET", ["api", "tickets", "types", id]) => get_ticket_type(id, req),
        (_, ["api", "tickets", "types", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "orders"]) => create_order(req),
        ("GET", ["api", "tickets", "orders"]) => list_orders(req),
        (_, ["api", "tickets", "orders"]) => Err(Problem::method_not_allowed("GET, POST")),
        ("GET", ["api", "tickets", "orders", id]) => get_order(order_id(id)?, req),
        (_, ["api", "tickets", "orders", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", "orders", id, "cancel"]) => cancel_order(order_id(id)?, req),
        (_, ["api", "tickets", "orders", _, "cancel"]) => Err(Problem::method_not_allowed("POST")),
        ("GET", ["api", "tickets", code]) => get_ticket(code, req),
        (_, ["api", "tickets", _]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "tickets", code, "check-in"]) => check_in(code, req),
        (_, ["api", "tickets", _, "check-in"]) => Err(Problem::method_not_allowed("POST")),
        ("GET", ["api", "tickets", "events", id, "check-ins"]) => check_ins(id, req),
        (_, ["api", "tickets", "events", _, "check-ins"]) => Err(Problem::method_not_allowed("GET")),
        _ => Err(Problem::no_route(&req.path)),
    }
}

fn order_id(text: &str) -> Result<Uuid, TicketingError> {
    parse_uuid(text).ok_or(TicketingError::NotFound("order"))
}

fn ticket_code(text: &str) -> Result<String, TicketingError> {
    code::normalize(text).ok_or(TicketingError::NotFound("ticket"))
}

// POST /api/tickets/types: the event's organizer, or an admin.
fn create_ticket_type(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Organizer)?;
    let new = NewTicketType::parse(req.json::<CreateTicketTypeBody>()?)?;
    peers::require_event_for_ticket_types(new.event_id, &caller)?;
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
// One event's, for whoever may see the event; every event's, for moderators and admins.
fn list_ticket_types(req: &ApiRequest) -> ApiResult {
    let caller = auth::optional_caller(req)?;
    let query: ListTicketTypesQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let event_id = query_uuid("event_id", query.event_id.as_deref())?;
    match event_id {
        Some(event_id) if !peers::may_see_event(event_id)? => return Err(TicketingError::NotFound("event").into()),
        Some(_) => {}
        None => caller.ok_or(auth::Unauthenticated::NoToken)?.require(Role::Moderator)?,
    }
    let types = repo::list_ticket_types(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, types, |t| Cursor { at: t.created_at, id: t.id }))
}

// GET /api/tickets/types/{id}: for whoever may see its event.
fn get_ticket_type(id: &str, req: &ApiRequest) -> ApiResult {
    auth::optional_caller(req)?;
    let missing = || TicketingError::NotFound("ticket type");
    let id = parse_uuid(id).ok_or_else(missing)?;
    let ticket_type = repo::find_ticket_type(&db::connect()?, id)?.ok_or_else(missing)?;
    if !peers::may_see_event(ticket_type.event_id)? {
        return Err(missing().into());
    }
    Ok(ApiResponse::ok(&ticket_type))
}

// POST /api/tickets/orders: members buy for themselves; an admin may name the buyer.
fn create_order(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let new = NewOrder::parse(req.json::<CreateOrderBody>()?, req.header("idempotency-key"), &caller)?;
    match sale::sell_or_replay(&db::connect()?, &new)? {
        Sold::New(order) => Ok(ApiResponse::created(format!("/api/tickets/orders/{}", order.id), &order)),
        Sold::Replayed(order) => {
            Ok(ApiResponse::ok(&order).with_header("location", format!("/api/tickets/orders/{}", order.id)))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListOrdersQuery {
    event_id: Option<String>,
    user_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/tickets/orders?event_id=&user_id=&limit=&cursor=
// Admins list any; the organizer of `event_id` that event's; anybody else their own.
fn list_orders(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let query: ListOrdersQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let mut filter = OrderFilter {
        event_id: query_uuid("event_id", query.event_id.as_deref())?,
        user_id: query_uuid("user_id", query.user_id.as_deref())?,
    };
    filter.user_id = list_scope(&caller, filter.event_id, filter.user_id)?;
    let orders = repo::list_orders(&db::connect()?, &filter, &page)?;
    Ok(page_response(&page, orders, |order| Cursor { at: order.created_at, id: order.id }))
}

// GET /api/tickets/events/{id}/check-ins: staff, the event's organizer, an admin.
fn check_ins(event_id: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = parse_uuid(event_id).ok_or(TicketingError::NotFound("event"))?;
    if !caller.has(Role::Staff) && !organizes(&caller, event_id)? {
        return Err(Forbidden("check-in counts are for staff and the event's organizer").into());
    }
    let (issued, checked_in) = repo::check_in_counts(&db::connect()?, event_id)?;
    Ok(ApiResponse::ok(&CheckIns { event_id, issued, checked_in }))
}

// GET /api/tickets/orders/{id}: its buyer's, its event's organizer's, an admin's.
fn get_order(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let order = find_order(&db::connect()?, id)?;
    if !caller.may_act_for(order.user_id) && !organizes_event_of(&caller, &order)? {
        return Err(Forbidden("this order is somebody else's").into());
    }
    Ok(ApiResponse::ok(&order))
}

// POST /api/tickets/orders/{id}/cancel: its buyer or an admin.
fn cancel_order(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let conn = db::connect()?;
    if !caller.may_act_for(find_order(&conn, id)?.user_id) {
        return Err(Forbidden("this order is somebody else's").into());
    }
    sale::cancel(&conn, id)?;
    Ok(ApiResponse::ok(&find_order(&conn, id)?))
}

fn find_order(conn: &spin_sdk::pg4::Connection, id: Uuid) -> Result<Order, TicketingError> {
    repo::find_order(conn, id)?.ok_or(TicketingError::NotFound("order"))
}

/// The caller organizes the event `order` is for.
fn organizes_event_of(caller: &Caller, order: &Order) -> Result<bool, TicketingError> {
    match order.tickets.first() {
        Some(ticket) => Ok(organizes(caller, ticket.event_id)?),
        None => Ok(false),
    }
}

// GET /api/tickets/{code}: its buyer, staff, its event's organizer, an admin.
fn get_ticket(code: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let conn = db::connect()?;
    let ticket = repo::find_ticket(&conn, &ticket_code(code)?)?.ok_or(TicketingError::NotFound("ticket"))?;
    if !caller.has(Role::Staff) {
        let order = find_order(&conn, ticket.order_id)?;
        if !caller.may_act_for(order.user_id) && !organizes(&caller, ticket.event_id)? {
            return Err(Forbidden("this ticket is somebody else's").into());
        }
    }
    Ok(ApiResponse::ok(&ticket))
}

// POST /api/tickets/{code}/check-in: staff, recorded as the one who scanned.
fn check_in(code: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Staff)?;
    let code = ticket_code(code)?;
    let conn = db::connect()?;
    if let Some(ticket) = repo::check_in(&conn, &code, caller.user_id)? {
        return Ok(ApiResponse::ok(&ticket));
    }
    let ticket = repo::find_ticket(&conn, &code)?.ok_or(TicketingError::NotFound("ticket"))?;
    let refused = match ticket.checked_in_at {
        Some(at) if ticket.status == TicketStatus::CheckedIn => TicketingError::AlreadyCheckedIn(at),
        _ => TicketingError::TicketVoid,
    };
    Err(refused.into())
}
