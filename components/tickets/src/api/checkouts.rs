//! `/api/tickets/checkouts`: holding tickets while a buyer pays, then confirming.

use eventos_common::auth::{self, Caller, Forbidden};
use eventos_common::db;
use eventos_common::{ApiRequest, ApiResponse, ApiResult};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use super::orders;
use crate::checkout::{Checkout, CreateCheckoutBody, NewCheckout};
use crate::error::TicketingError;
use crate::hold::{self, Confirmed};
use crate::repo;

// POST /api/tickets/checkouts: members hold tickets for themselves; an admin
// may name the buyer.
pub fn create(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let mut new = NewCheckout::parse(req.json::<CreateCheckoutBody>()?, &caller)?;
    new.pass = req.header("waiting-room-pass").map(str::to_owned);
    let checkout = hold::open(&db::connect()?, &new)?;
    Ok(ApiResponse::created(format!("/api/tickets/checkouts/{}", checkout.id), &checkout))
}

/// The checkout, for its buyer or an admin.
fn buyers(conn: &Connection, caller: &Caller, id: Uuid) -> Result<Checkout, TicketingError> {
    let checkout = repo::checkouts::find_checkout(conn, id)?.ok_or(TicketingError::NotFound("checkout"))?;
    if !caller.may_act_for(checkout.user_id) {
        return Err(Forbidden("this checkout is somebody else's").into());
    }
    Ok(checkout)
}

// GET /api/tickets/checkouts/{id}: its buyer, an admin.
pub fn get(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    Ok(ApiResponse::ok(&buyers(&db::connect()?, &caller, id)?))
}

// POST /api/tickets/checkouts/{id}/confirm: its buyer, an admin. 201 with the
// new order; 200 with the same order when it was confirmed before.
pub fn confirm(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let conn = db::connect()?;
    let checkout = buyers(&conn, &caller, id)?;
    match hold::confirm(&conn, &checkout, caller.user_id)? {
        Confirmed::New(order) => Ok(orders::created(&order)),
        Confirmed::Before(order) => Ok(orders::again(&order)),
    }
}

// POST /api/tickets/checkouts/{id}/cancel: its buyer, an admin; the tickets go
// back on sale at once.
pub fn cancel(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let conn = db::connect()?;
    hold::cancel(&conn, &buyers(&conn, &caller, id)?)?;
    Ok(ApiResponse::ok(&buyers(&conn, &caller, id)?))
}
