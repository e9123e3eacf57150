//! The ticketing API: the route table, then one file per resource that decodes,
//! asks the peers, acts (`sale.rs`, `hold.rs`, `refund.rs`) and encodes.

mod checkouts;
mod door;
mod orders;
mod passes;
mod room;
mod tickets;
mod types;
mod vouchers;

use eventos_common::auth::{Caller, Forbidden, Role};
use eventos_common::fields::parse_uuid;
use eventos_common::health::health;
use eventos_common::peer::organizes;
use eventos_common::router::{Route, dispatch};
use eventos_common::{ApiRequest, ApiResult, Problem};
use eventos_common::{journal, webhook};
use uuid::Uuid;

use crate::error::TicketingError;
use crate::repo;

pub fn route(req: &ApiRequest) -> ApiResult {
    dispatch(&[WEBHOOK_ROUTES, ROUTES], req)
}

/// Ticketing's journal entries, as webhook endpoints may ask for them.
const WEBHOOKS: webhook::Webhooks = webhook::Webhooks {
    organizes: runs,
    types: &[
        "order.confirmed",
        "order.paid",
        "order.tickets_cancelled",
        "order.cancelled",
        "ticket.checked_in",
        "voucher.created",
    ],
};

const WEBHOOK_ROUTES: &[Route] = eventos_common::webhook_routes!("/api/tickets", WEBHOOKS);

const ROUTES: &[Route] = &[
    Route::get("/api/tickets/health", |_, _| Ok(health("tickets", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA)))),
    Route::post("/api/tickets/types", |req, _| types::create(req)),
    Route::get("/api/tickets/types", |req, _| types::list(req)),
    Route::get("/api/tickets/types/{}", |req, p| types::get(p[0], req)),
    Route::post("/api/tickets/orders", |req, _| orders::create(req)),
    Route::get("/api/tickets/orders", |req, _| orders::list(req)),
    Route::get("/api/tickets/orders/{}", |req, p| orders::get(the("order", p[0])?, req)),
    Route::get("/api/tickets/orders/{}/pdf", |req, p| passes::pdf(the("order", p[0])?, req)),
    Route::post("/api/tickets/orders/{}/cancel", |req, p| orders::cancel(the("order", p[0])?, req)),
    Route::post("/api/tickets/orders/{}/payment", |req, p| orders::payment(the("order", p[0])?, req)),
    Route::post("/api/tickets/checkouts", |req, _| checkouts::create(req)),
    Route::get("/api/tickets/checkouts/{}", |req, p| checkouts::get(the("checkout", p[0])?, req)),
    Route::post("/api/tickets/checkouts/{}/confirm", |req, p| checkouts::confirm(the("checkout", p[0])?, req)),
    Route::post("/api/tickets/checkouts/{}/cancel", |req, p| checkouts::cancel(the("checkout", p[0])?, req)),
    Route::post("/api/tickets/vouchers", |req, _| vouchers::create(req)),
    Route::get("/api/tickets/vouchers", |req, _| vouchers::list(req)),
    Route::get("/api/tickets/vouchers/{}", |req, p| vouchers::get(the("voucher", p[0])?, req)),
    Route::get("/api/tickets/audit", |req, _| journal::audit(req, runs)),
    Route::get("/api/tickets/events/{}/check-ins", |req, p| tickets::check_ins(p[0], req)),
    Route::get("/api/tickets/events/{}/signing-keys", |_, p| door::keys(p[0])),
    Route::post("/api/tickets/events/{}/signing-keys", |req, p| door::add_key(p[0], req)),
    Route::post("/api/tickets/events/{}/signing-keys/{}/retire", |req, p| door::retire_key(p[0], p[1], req)),
    Route::get("/api/tickets/events/{}/revocations", |req, p| door::revocations(p[0], req)),
    Route::get("/api/tickets/events/{}/duplicate-scans", |req, p| door::duplicate_scans(p[0], req)),
    Route::get("/api/tickets/events/{}/waiting-room", |_, p| room::get(p[0])),
    Route::put("/api/tickets/events/{}/waiting-room", |req, p| room::put(p[0], req)),
    Route::post("/api/tickets/events/{}/waiting-room/close", |req, p| room::close(p[0], req)),
    Route::get("/api/tickets/events/{}/waiting-room/draw", |_, p| room::draw(p[0])),
    Route::post("/api/tickets/events/{}/waiting-room/visitors", |req, p| room::join(p[0], req)),
    Route::get("/api/tickets/events/{}/waiting-room/visitors/me", |req, p| room::me(p[0], req)),
    // Ticket codes last: every literal path above is no code.
    Route::get("/api/tickets/{}", |req, p| tickets::get(p[0], req)),
    Route::post("/api/tickets/{}/check-in", |req, p| tickets::check_in(p[0], req)),
    Route::get("/api/tickets/{}/qr", |req, p| passes::qr(p[0], req)),
];

/// The caller organizes the event, as the events component says.
fn runs(caller: &Caller, event_id: Uuid) -> Result<bool, Problem> {
    Ok(organizes(caller, event_id)?)
}

/// The caller works the event's door (staff, its organizer, an admin), or is
/// told `refusal`.
fn require_door(caller: &Caller, event_id: Uuid, refusal: &'static str) -> Result<(), Problem> {
    if caller.has(Role::Staff) || organizes(caller, event_id)? {
        return Ok(());
    }
    Err(Forbidden(refusal).into())
}

/// The id of a `what` in a path; a malformed one names nothing: 404.
fn the(what: &'static str, text: &str) -> Result<Uuid, TicketingError> {
    parse_uuid(text).ok_or(TicketingError::NotFound(what))
}
