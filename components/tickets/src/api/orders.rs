//! `/api/tickets/orders`: buying, reading, cancelling (in part) and the payment.

use eventos_common::auth::{self, Forbidden, Role};
use eventos_common::db;
use eventos_common::fields::query_uuid;
use eventos_common::page::{Cursor, PageRequest, page_response};
use eventos_common::peer::{list_scope, organizes};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Deserialize;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::{Order, Payment};
use crate::refund;
use crate::repo::{self, orders::OrderFilter};
use crate::requests::{CreateOrderBody, NewOrder};
use crate::rules::cancellation::Cancel;
use crate::sale::{self, Sold};

// POST /api/tickets/orders: members buy for themselves; an admin may name the buyer.
pub fn create(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let mut new = NewOrder::parse(req.json::<CreateOrderBody>()?, req.header("idempotency-key"), &caller)?;
    new.pass = req.header("waiting-room-pass").map(str::to_owned);
    match sale::sell_or_replay(&db::connect()?, &new)? {
        Sold::New(order) => Ok(created(&order)),
        Sold::Replayed(order) => Ok(again(&order)),
    }
}

pub fn created(order: &Order) -> ApiResponse {
    ApiResponse::created(format!("/api/tickets/orders/{}", order.id), order)
}

/// An order made by an earlier request, answered again.
pub fn again(order: &Order) -> ApiResponse {
    ApiResponse::ok(order).with_header("location", format!("/api/tickets/orders/{}", order.id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    event_id: Option<String>,
    user_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// GET /api/tickets/orders?event_id=&user_id=&limit=&cursor=
// Admins list any; the organizer of `event_id` that event's; anybody else their own.
pub fn list(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let query: ListQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let mut filter = OrderFilter {
        event_id: query_uuid("event_id", query.event_id.as_deref())?,
        user_id: query_uuid("user_id", query.user_id.as_deref())?,
    };
    filter.user_id = list_scope(&caller, filter.event_id, filter.user_id)?;
    let orders = repo::orders::list_orders(&db::connect()?, &filter, &page)?;
    Ok(page_response(&page, orders, |order| Cursor { at: order.created_at, id: order.id }))
}

/// The order, if the caller may see it: its buyer, its event's organizer, an admin.
pub fn readable(conn: &Connection, id: Uuid, req: &ApiRequest) -> Result<Order, Problem> {
    let caller = auth::caller(req)?;
    let order = find(conn, id)?;
    if !caller.may_act_for(order.user_id) && !organizes(&caller, order.event_id)? {
        return Err(Forbidden("this order is somebody else's").into());
    }
    Ok(order)
}

// GET /api/tickets/orders/{id}
pub fn get(id: Uuid, req: &ApiRequest) -> ApiResult {
    Ok(ApiResponse::ok(&readable(&db::connect()?, id, req)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    tickets: Option<Vec<String>>,
}

// POST /api/tickets/orders/{id}/cancel: its buyer or an admin; the whole order,
// or the tickets the body names.
pub fn cancel(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let what = match req.body.iter().all(u8::is_ascii_whitespace) {
        true => Cancel::Whole,
        false => match req.json::<CancelBody>()?.tickets {
            None => Cancel::Whole,
            Some(codes) => Cancel::Tickets(ticket_codes(codes)?),
        },
    };
    let conn = db::connect()?;
    if !caller.may_act_for(find(&conn, id)?.user_id) {
        return Err(Forbidden("this order is somebody else's").into());
    }
    refund::cancel(&conn, id, what, caller.user_id)?;
    Ok(ApiResponse::ok(&find(&conn, id)?))
}

/// The codes to cancel, each once, as the order stores them.
fn ticket_codes(codes: Vec<String>) -> Result<Vec<String>, TicketingError> {
    if codes.is_empty() || codes.len() > 10 {
        return Err(eventos_common::fields::Invalid::field("tickets", "must name 1 to 10 ticket codes").into());
    }
    let mut normalized = codes
        .iter()
        .map(|text| code::normalize(text).ok_or_else(|| TicketingError::TicketNotInOrder(text.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    normalized.sort();
    normalized.dedup();
    Ok(normalized)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    payment: Option<Payment>,
    reference: Option<String>,
}

// POST /api/tickets/orders/{id}/payment: the operator's payment integration,
// signed in as an admin, moves the payment; repeating a call changes nothing.
pub fn payment(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Admin)?;
    let body: PaymentBody = req.json()?;
    let to = body.payment.ok_or_else(|| eventos_common::fields::Invalid::field("payment", "is required"))?;
    let reference = eventos_common::fields::optional_text(body.reference, 255)
        .map_err(|why| eventos_common::fields::Invalid::field("reference", &why))?;
    let conn = db::connect()?;
    refund::move_payment(&conn, id, to, reference.as_deref(), caller.user_id)?;
    Ok(ApiResponse::ok(&find(&conn, id)?))
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Order, TicketingError> {
    repo::orders::find_order(conn, id)?.ok_or(TicketingError::NotFound("order"))
}
