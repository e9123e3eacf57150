//! `/api/tickets/vouchers`: codes an event's organizer hands out.

use eventos_common::auth::{self, Caller, Forbidden, Role};
use eventos_common::db::{self, in_transaction};
use eventos_common::journal::{self, Entry};
use eventos_common::page::{Cursor, event_list_query, page_response};
use eventos_common::peer::event;
use eventos_common::{ApiRequest, ApiResponse, ApiResult};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::voucher::{CreateVoucherBody, NewVoucher};
use crate::{peers, repo};

// POST /api/tickets/vouchers: the event's organizer, or an admin.
pub fn create(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Organizer)?;
    let new = NewVoucher::parse(req.json::<CreateVoucherBody>()?)?;
    peers::require_event_for_ticket_types(new.event_id, &caller)?;
    let conn = db::connect()?;
    require_unlockable(&conn, &new)?;
    let voucher = in_transaction(&conn, |conn| {
        let voucher =
            repo::vouchers::insert_voucher(conn, &new, caller.user_id)?.ok_or(TicketingError::VoucherCodeTaken)?;
        let data = serde_json::json!({"code": voucher.code, "max_uses": voucher.max_uses});
        let entry = Entry {
            kind: "voucher.created",
            subject: voucher.id.to_string(),
            event_id: Some(voucher.event_id),
            actor: caller.user_id,
            data,
        };
        journal::record(conn, &entry)?;
        Ok::<_, TicketingError>(voucher)
    })?;
    Ok(ApiResponse::created(format!("/api/tickets/vouchers/{}", voucher.id), &voucher))
}

/// A voucher unlocks hidden ticket types of its own event, nothing else.
fn require_unlockable(conn: &Connection, new: &NewVoucher) -> Result<(), TicketingError> {
    let types = repo::types::find_sale_types(conn, &new.unlocks)?;
    let unlockable = types.len() == new.unlocks.len() && types.iter().all(|t| t.event_id == new.event_id && t.hidden);
    if unlockable { Ok(()) } else { Err(TicketingError::NotUnlockable) }
}

/// Only an admin, or the organizer of the event, sees its vouchers.
fn require_runs(caller: &Caller, event_id: Uuid) -> Result<(), TicketingError> {
    if caller.is_admin() || peers::runs_event(Some(caller), &event(event_id)?) {
        return Ok(());
    }
    Err(Forbidden("vouchers are for the event's organizer").into())
}

// GET /api/tickets/vouchers?event_id=&limit=&cursor=: one event's for its
// organizer; every event's for an admin.
pub fn list(req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let (event_id, page) = event_list_query(req)?;
    match event_id {
        Some(event_id) => require_runs(&caller, event_id)?,
        None => caller.require(Role::Admin)?,
    }
    let vouchers = repo::vouchers::list_vouchers(&db::connect()?, event_id, &page)?;
    Ok(page_response(&page, vouchers, |v| Cursor { at: v.created_at, id: v.id }))
}

// GET /api/tickets/vouchers/{id}: its event's organizer, an admin.
pub fn get(id: Uuid, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let voucher = repo::vouchers::find_voucher(&db::connect()?, id)?.ok_or(TicketingError::NotFound("voucher"))?;
    require_runs(&caller, voucher.event_id)?;
    Ok(ApiResponse::ok(&voucher))
}
