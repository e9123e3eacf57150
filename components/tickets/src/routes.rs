//! The ticketing API: decode, ask the peers, sell or change in one transaction, encode.

use eventos_common::db::{self, in_transaction};
use eventos_common::fields::parse_uuid;
use eventos_common::health::{health, instance_name};
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::code;
use crate::model::{
    CreateOrderBody, CreateTicketTypeBody, NewOrder, NewTicketType, Order, OrderStatus, TicketStatus, key_reused,
    random_bucket, sold_out, ticket_type_not_found,
};
use crate::peers;
use crate::repo::{self, InsertOrder, Sale};

/// Fresh codes to try when a new code collides with an issued one.
const CODE_ATTEMPTS: usize = 3;

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

fn order_id(text: &str) -> Result<Uuid, Problem> {
    parse_uuid(text).ok_or_else(|| Problem::not_found("order"))
}

fn ticket_code(text: &str) -> Result<String, Problem> {
    code::normalize(text).ok_or_else(|| Problem::not_found("ticket"))
}

// POST /api/tickets/types
fn create_ticket_type(req: &ApiRequest) -> ApiResult {
    let new = NewTicketType::parse(req.json::<CreateTicketTypeBody>()?)?;
    peers::require_event_not_cancelled(new.event_id)?;
    let ticket_type = repo::insert_ticket_type(&db::connect()?, &new)?;
    Ok(ApiResponse::created(format!("/api/tickets/types/{}", ticket_type.id), &ticket_type))
}

// GET /api/tickets/types?event_id=&limit=&cursor=
fn list_ticket_types(req: &ApiRequest) -> ApiResult {
    let query = req.query_params(&["event_id", "limit", "cursor"])?;
    let page = PageRequest::from_query(&query)?;
    let event_id = query
        .get("event_id")
        .map(|id| parse_uuid(id).ok_or_else(|| Problem::malformed("event_id must be a UUID")))
        .transpose()?;
    let types = repo::list_ticket_types(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, types, |t| Cursor { at: t.created_at, id: t.id }))
}

// GET /api/tickets/types/{id}
fn get_ticket_type(id: &str) -> ApiResult {
    let id = parse_uuid(id).ok_or_else(|| Problem::not_found("ticket type"))?;
    let ticket_type = repo::find_ticket_type(&db::connect()?, id)?.ok_or_else(|| Problem::not_found("ticket type"))?;
    Ok(ApiResponse::ok(&ticket_type))
}

/// Why a sale's transaction was rolled back.
enum SaleError {
    Refused(Problem),
    /// The idempotency key was claimed by a request that committed first.
    KeyTaken,
    CodeTaken,
}

impl From<Problem> for SaleError {
    fn from(problem: Problem) -> Self {
        SaleError::Refused(problem)
    }
}

// POST /api/tickets/orders
fn create_order(req: &ApiRequest) -> ApiResult {
    let new = NewOrder::parse(req.json::<CreateOrderBody>()?, req.header("idempotency-key"))?;
    let conn = db::connect()?;
    // A repeated key is caught by the sale itself (its order collides with the
    // first one), so a new request, the usual case, never looks its key up. A
    // refused request does: a repeat gets the original answer even when, say,
    // the stock ran out or a peer went down since.
    match sell(&conn, &new) {
        Err(refusal) if new.idempotency_key.is_some() => replay(&conn, &new)?.ok_or(refusal),
        outcome => outcome,
    }
}

/// Checks the ticket type and asks the peers, then sells: from a free bucket if
/// one has room, else waiting for one.
fn sell(conn: &Connection, new: &NewOrder) -> ApiResult {
    let ticket_type = repo::find_ticket_type(conn, new.ticket_type_id)?.ok_or_else(ticket_type_not_found)?;
    peers::require_event_on_sale_and_user(ticket_type.event_id, new.user_id)?;
    let processed_by = instance_name();
    for _ in 0..CODE_ATTEMPTS {
        let sale = Sale {
            order: new,
            ticket_type: &ticket_type,
            processed_by: &processed_by,
            codes: (0..new.quantity).map(|_| code::new_code()).collect(),
            first_bucket: random_bucket(ticket_type.quantity),
            order_id: Uuid::new_v4(),
            at: eventos_common::time::now(),
        };
        let outcome = match repo::sell_from_free_bucket(conn, &sale)? {
            Some(outcome) => outcome.into_sale(),
            None => sell_waiting(conn, &sale),
        };
        match outcome {
            Ok(order) => return Ok(ApiResponse::created(format!("/api/tickets/orders/{}", order.id), &order)),
            Err(SaleError::Refused(problem)) => return Err(problem),
            Err(SaleError::KeyTaken) => {
                return replay(conn, new)?.ok_or_else(|| Problem::internal("an idempotency key without its order"));
            }
            Err(SaleError::CodeTaken) => continue,
        }
    }
    Err(Problem::internal("could not draw unused ticket codes"))
}

/// The sale when every bucket with room was busy: in one transaction, the order
/// and its tickets are written first and the stock is taken last, waiting for a
/// bucket if need be, so that a bucket is held only for its update and the commit.
fn sell_waiting(conn: &Connection, sale: &Sale) -> Result<Order, SaleError> {
    in_transaction(conn, |conn| {
        let new = sale.order;
        let order = repo::insert_order(conn, sale)?.into_sale()?;
        if !repo::take_stock(conn, new.ticket_type_id, new.quantity, sale.first_bucket)? {
            let available = repo::find_ticket_type(conn, new.ticket_type_id)?.map_or(0, |t| t.available);
            return Err(SaleError::Refused(sold_out(available, new.quantity)));
        }
        Ok(order)
    })
}

impl InsertOrder {
    fn into_sale(self) -> Result<Order, SaleError> {
        match self {
            InsertOrder::Inserted(order) => Ok(order),
            InsertOrder::KeyTaken => Err(SaleError::KeyTaken),
            InsertOrder::CodeTaken => Err(SaleError::CodeTaken),
        }
    }
}

/// The original answer to a repeated request, if this key was used before.
fn replay(conn: &Connection, new: &NewOrder) -> Result<Option<ApiResponse>, Problem> {
    let Some(key) = &new.idempotency_key else {
        return Ok(None);
    };
    match repo::find_order_by_key(conn, key)? {
        None => Ok(None),
        Some((order, fingerprint)) if fingerprint.as_deref() == Some(new.fingerprint().as_str()) => {
            Ok(Some(ApiResponse::ok(&order).with_header("location", format!("/api/tickets/orders/{}", order.id))))
        }
        Some(_) => Err(key_reused()),
    }
}

// GET /api/tickets/orders/{id}
fn get_order(id: Uuid) -> ApiResult {
    let order = repo::find_order(&db::connect()?, id)?.ok_or_else(|| Problem::not_found("order"))?;
    Ok(ApiResponse::ok(&order))
}

// POST /api/tickets/orders/{id}/cancel
fn cancel_order(id: Uuid) -> ApiResult {
    let conn = db::connect()?;
    in_transaction(&conn, |conn| {
        let order = repo::lock_order(conn, id)?.ok_or_else(|| Problem::not_found("order"))?;
        if order.status == OrderStatus::Cancelled {
            return Err(Problem::conflict(
                "already-cancelled",
                "Order already cancelled",
                "this order was cancelled before",
            ));
        }
        if order.tickets.iter().any(|t| t.status == TicketStatus::CheckedIn) {
            return Err(Problem::conflict(
                "order-checked-in",
                "Order has a checked-in ticket",
                "an order with a checked-in ticket cannot be cancelled",
            ));
        }
        repo::cancel_order(conn, id)?;
        repo::return_stock(conn, order.ticket_type_id, order.quantity)
    })?;
    get_order(id)
}

// GET /api/tickets/{code}
fn get_ticket(code: &str) -> ApiResult {
    let ticket =
        repo::find_ticket(&db::connect()?, &ticket_code(code)?)?.ok_or_else(|| Problem::not_found("ticket"))?;
    Ok(ApiResponse::ok(&ticket))
}

// POST /api/tickets/{code}/check-in
fn check_in(code: &str) -> ApiResult {
    let code = ticket_code(code)?;
    let conn = db::connect()?;
    if let Some(ticket) = repo::check_in(&conn, &code)? {
        return Ok(ApiResponse::ok(&ticket));
    }
    let ticket = repo::find_ticket(&conn, &code)?.ok_or_else(|| Problem::not_found("ticket"))?;
    match ticket.checked_in_at {
        Some(at) if ticket.status == TicketStatus::CheckedIn => {
            Err(Problem::conflict("already-checked-in", "Already checked in", "this ticket was checked in before")
                .with("checked_in_at", eventos_common::time::format_rfc3339(&at)))
        }
        _ => Err(Problem::conflict("ticket-void", "Ticket void", "this ticket belongs to a cancelled order")),
    }
}
