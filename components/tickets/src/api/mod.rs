//! The ticketing API: the route table, then one file per resource that decodes,
//! asks the peers, acts (`sale.rs`, `hold.rs`, `refund.rs`) and encodes.

mod checkouts;
mod orders;
mod tickets;
mod types;
mod vouchers;

use eventos_common::fields::parse_uuid;
use eventos_common::health::health;
use eventos_common::peer::organizes;
use eventos_common::{ApiRequest, ApiResult, Problem};
use eventos_common::{journal, webhook};
use uuid::Uuid;

use crate::error::TicketingError;
use crate::repo;

pub fn route(req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    let allow = |methods: &'static str| Err(Problem::method_not_allowed(methods));
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "tickets", "health"]) => Ok(health("tickets", env!("CARGO_PKG_VERSION"), Some(repo::SCHEMA))),
        (_, ["api", "tickets", "health"]) => allow("GET"),
        ("POST", ["api", "tickets", "types"]) => types::create(req),
        ("GET", ["api", "tickets", "types"]) => types::list(req),
        (_, ["api", "tickets", "types"]) => allow("GET, POST"),
        ("GET", ["api", "tickets", "types", id]) => types::get(id, req),
        (_, ["api", "tickets", "types", _]) => allow("GET"),
        ("POST", ["api", "tickets", "orders"]) => orders::create(req),
        ("GET", ["api", "tickets", "orders"]) => orders::list(req),
        (_, ["api", "tickets", "orders"]) => allow("GET, POST"),
        ("GET", ["api", "tickets", "orders", id]) => orders::get(the("order", id)?, req),
        (_, ["api", "tickets", "orders", _]) => allow("GET"),
        ("POST", ["api", "tickets", "orders", id, "cancel"]) => orders::cancel(the("order", id)?, req),
        (_, ["api", "tickets", "orders", _, "cancel"]) => allow("POST"),
        ("POST", ["api", "tickets", "orders", id, "payment"]) => orders::payment(the("order", id)?, req),
        (_, ["api", "tickets", "orders", _, "payment"]) => allow("POST"),
        ("POST", ["api", "tickets", "checkouts"]) => checkouts::create(req),
        (_, ["api", "tickets", "checkouts"]) => allow("POST"),
        ("GET", ["api", "tickets", "checkouts", id]) => checkouts::get(the("checkout", id)?, req),
        (_, ["api", "tickets", "checkouts", _]) => allow("GET"),
        ("POST", ["api", "tickets", "checkouts", id, "confirm"]) => checkouts::confirm(the("checkout", id)?, req),
        (_, ["api", "tickets", "checkouts", _, "confirm"]) => allow("POST"),
        ("POST", ["api", "tickets", "checkouts", id, "cancel"]) => checkouts::cancel(the("checkout", id)?, req),
        (_, ["api", "tickets", "checkouts", _, "cancel"]) => allow("POST"),
        ("POST", ["api", "tickets", "vouchers"]) => vouchers::create(req),
        ("GET", ["api", "tickets", "vouchers"]) => vouchers::list(req),
        (_, ["api", "tickets", "vouchers"]) => allow("GET, POST"),
        ("GET", ["api", "tickets", "vouchers", id]) => vouchers::get(the("voucher", id)?, req),
        (_, ["api", "tickets", "vouchers", _]) => allow("GET"),
        ("POST", ["api", "tickets", "webhooks"]) => webhook::register(req, runs),
        ("GET", ["api", "tickets", "webhooks"]) => webhook::list(req, runs),
        (_, ["api", "tickets", "webhooks"]) => allow("GET, POST"),
        ("POST", ["api", "tickets", "webhooks", "deliver"]) => webhook::deliver(req),
        (_, ["api", "tickets", "webhooks", "deliver"]) => allow("POST"),
        ("GET", ["api", "tickets", "audit"]) => journal::audit(req, runs),
        (_, ["api", "tickets", "audit"]) => allow("GET"),
        ("GET", ["api", "tickets", "events", id, "check-ins"]) => tickets::check_ins(id, req),
        (_, ["api", "tickets", "events", _, "check-ins"]) => allow("GET"),
        ("GET", ["api", "tickets", code]) => tickets::get(code, req),
        (_, ["api", "tickets", _]) => allow("GET"),
        ("POST", ["api", "tickets", code, "check-in"]) => tickets::check_in(code, req),
        (_, ["api", "tickets", _, "check-in"]) => allow("POST"),
        _ => Err(Problem::no_route(&req.path)),
    }
}

/// The caller organizes the event, as the events component says.
fn runs(caller: &eventos_common::auth::Caller, event_id: Uuid) -> Result<bool, Problem> {
    Ok(organizes(caller, event_id)?)
}

/// The id of a `what` in a path; a malformed one names nothing: 404.
fn the(what: &'static str, text: &str) -> Result<Uuid, TicketingError> {
    parse_uuid(text).ok_or(TicketingError::NotFound(what))
}
