//! `/api/tickets/{code}`: a ticket, checking it in, and an event's door count.

use eventos_common::auth::{self, Forbidden, Role};
use eventos_common::db::{self, in_transaction};
use eventos_common::journal::{self, Entry};
use eventos_common::peer::organizes;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use serde::Serialize;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use super::orders::find;
use crate::error::TicketingError;
use crate::model::{CheckIns, Ticket, TicketStatus};
use crate::scan::{Scan, ScanBody};
use crate::{repo, signing};

/// A ticket with the signed code a scanner checks offline.
#[derive(Serialize)]
struct SignedTicket {
    #[serde(flatten)]
    ticket: Ticket,
    signed_code: String,
}

/// The ticket `code` names (typed or signed), if the caller may see it: its
/// buyer, staff, its event's organizer, an admin.
pub fn readable(conn: &Connection, code: &str, req: &ApiRequest) -> Result<Ticket, Problem> {
    let caller = auth::caller(req)?;
    let code = signing::ticket_code(conn, code)?;
    let ticket = repo::tickets::find_ticket(conn, &code)?.ok_or(TicketingError::NotFound("ticket"))?;
    if !caller.has(Role::Staff) {
        let order = find(conn, ticket.order_id)?;
        if !caller.may_act_for(order.user_id) && !organizes(&caller, ticket.event_id)? {
            return Err(Forbidden("this ticket is somebody else's").into());
        }
    }
    Ok(ticket)
}

// GET /api/tickets/{code}
pub fn get(code: &str, req: &ApiRequest) -> ApiResult {
    let conn = db::connect()?;
    let ticket = readable(&conn, code, req)?;
    let signed_code = signing::signed_code(&conn, &ticket)?;
    Ok(ApiResponse::ok(&SignedTicket { ticket, signed_code }))
}

// POST /api/tickets/{code}/check-in: staff, recorded as the one who scanned,
// with the gate and the scan's time a gate may send.
pub fn check_in(code: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    caller.require(Role::Staff)?;
    let scan = scan_of(req)?;
    let conn = db::connect()?;
    let code = signing::ticket_code(&conn, code)?;
    let admitted = in_transaction(&conn, |conn| {
        let ticket = repo::tickets::check_in(conn, &code, caller.user_id, &scan)?;
        if let Some(ticket) = &ticket {
            let entry = Entry {
                kind: "ticket.checked_in",
                subject: ticket.code.clone(),
                event_id: Some(ticket.event_id),
                actor: caller.user_id,
                data: serde_json::json!({"order_id": ticket.order_id, "gate": ticket.checked_in_gate}),
            };
            journal::record(conn, &entry)?;
        }
        Ok::<_, TicketingError>(ticket)
    })?;
    if let Some(ticket) = admitted {
        return Ok(ApiResponse::ok(&ticket));
    }
    let ticket = repo::tickets::find_ticket(&conn, &code)?.ok_or(TicketingError::NotFound("ticket"))?;
    let Some(at) = ticket.checked_in_at.filter(|_| ticket.status == TicketStatus::CheckedIn) else {
        return Err(TicketingError::TicketVoid.into());
    };
    if is_the_same_scan(&ticket, &scan, caller.user_id) {
        return Ok(ApiResponse::ok(&ticket));
    }
    repo::duplicate_scans::record(&conn, &ticket, &scan, caller.user_id)?;
    Err(TicketingError::AlreadyCheckedIn { at, gate: ticket.checked_in_gate }.into())
}

/// The check-in's optional body: a gate's name and when it scanned.
fn scan_of(req: &ApiRequest) -> Result<Scan, Problem> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Scan::default());
    }
    Ok(Scan::parse(req.json::<ScanBody>()?).map_err(TicketingError::from)?)
}

/// A gate sending again a scan whose answer it lost: the scan id and the
/// person of the check-in that stands. Answered as the first time, and no duplicate.
fn is_the_same_scan(ticket: &Ticket, scan: &Scan, scanned_by: Uuid) -> bool {
    scan.id.is_some() && ticket.checked_in_scan == scan.id && ticket.checked_in_by == Some(scanned_by)
}

// GET /api/tickets/events/{id}/check-ins: staff, the event's organizer, an admin.
pub fn check_ins(event_id: &str, req: &ApiRequest) -> ApiResult {
    let caller = auth::caller(req)?;
    let event_id = super::the("event", event_id)?;
    super::require_door(&caller, event_id, "check-in counts are for staff and the event's organizer")?;
    let (issued, checked_in) = repo::tickets::check_in_counts(&db::connect()?, event_id)?;
    Ok(ApiResponse::ok(&CheckIns { event_id, issued, checked_in }))
}
