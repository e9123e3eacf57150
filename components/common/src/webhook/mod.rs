//! Signed webhooks of a domain's journal: organizers register endpoints for
//! their events (admins for every event), every journal entry owes each
//! endpoint that wants it a delivery written in the entry's own transaction (a
//! transactional outbox), and a dispatcher delivers them signed as Standard
//! Webhooks, at least once, in order per subject, with backoff.
//!
//! Nothing a receiver does can slow or fail the request that wrote the entry:
//! a request that owes deliveries to an endpoint ready for them (enabled, not
//! backed off) sends a small round once it has answered, holding no database
//! connection while it waits (at most 3 s) for a receiver, within in-flight caps
//! kept in the database; a receiver that fails is backed off as a whole, so it
//! costs one attempt per backoff, not one per entry. The rest waits for
//! `POST /api/<domain>/webhooks/deliver`: called by the `webhook-dispatch`
//! CronJob on a cluster, by an operator elsewhere.

mod api;
mod dispatch;
mod queue;
pub mod receiver;
mod sign;
mod store;

use uuid::Uuid;

pub use api::{attempts, delete, deliver, list, read, register, rotate_secret, test, update};
pub use dispatch::{Dispatched, deliver_owed};
pub use sign::{new_secret, signature, signatures};
pub use store::Endpoint;

use crate::Problem;
use crate::auth::Caller;

/// What a domain tells the webhook API: who runs an event, and the entry types
/// its journal writes (what an endpoint may ask for).
pub struct Webhooks {
    pub organizes: fn(&Caller, Uuid) -> Result<bool, Problem>,
    pub types: &'static [&'static str],
}

/// The most entry types an endpoint names.
const MAX_EVENT_TYPES: usize = 50;

impl Webhooks {
    /// `types` as an endpoint's wish: each one of the domain's, none twice.
    fn event_types(&self, mut types: Vec<String>) -> Result<Vec<String>, String> {
        if types.is_empty() || types.len() > MAX_EVENT_TYPES {
            return Err(format!("must name 1 to {MAX_EVENT_TYPES} entry types, or be null for all"));
        }
        if let Some(unknown) = types.iter().find(|t| !self.types.contains(&t.as_str())) {
            return Err(format!("`{unknown}` is not one of {}", self.types.join(", ")));
        }
        types.sort();
        types.dedup();
        Ok(types)
    }
}

/// The webhook routes of a domain under `$base` (`"/api/tickets"`), as a route
/// table for `router::dispatch`, with the domain's `Webhooks`.
#[macro_export]
macro_rules! webhook_routes {
    ($base:literal, $hooks:path) => {
        &[
            $crate::router::Route::post(concat!($base, "/webhooks"), |req, _| $crate::webhook::register(req, &$hooks)),
            $crate::router::Route::get(concat!($base, "/webhooks"), |req, _| $crate::webhook::list(req, &$hooks)),
            $crate::router::Route::post(concat!($base, "/webhooks/deliver"), |req, _| $crate::webhook::deliver(req)),
            $crate::router::Route::get(concat!($base, "/webhooks/{}"), |req, p| {
                $crate::webhook::read(req, p[0], &$hooks)
            }),
            $crate::router::Route::patch(concat!($base, "/webhooks/{}"), |req, p| {
                $crate::webhook::update(req, p[0], &$hooks)
            }),
            $crate::router::Route::delete(concat!($base, "/webhooks/{}"), |req, p| {
                $crate::webhook::delete(req, p[0], &$hooks)
            }),
            $crate::router::Route::post(concat!($base, "/webhooks/{}/secret"), |req, p| {
                $crate::webhook::rotate_secret(req, p[0], &$hooks)
            }),
            $crate::router::Route::post(concat!($base, "/webhooks/{}/test"), |req, p| {
                $crate::webhook::test(req, p[0], &$hooks)
            }),
            $crate::router::Route::get(concat!($base, "/webhooks/{}/attempts"), |req, p| {
                $crate::webhook::attempts(req, p[0], &$hooks)
            }),
        ]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOKS: Webhooks = Webhooks { organizes: |_, _| Ok(false), types: &["order.confirmed", "order.paid"] };

    #[test]
    fn an_endpoint_asks_for_types_its_domain_writes() {
        let ask = |types: &[&str]| HOOKS.event_types(types.iter().map(|t| t.to_string()).collect());
        assert_eq!(
            ask(&["order.paid", "order.confirmed", "order.paid"]),
            Ok(vec!["order.confirmed".into(), "order.paid".into()])
        );
        assert!(ask(&[]).is_err());
        assert!(ask(&["order.shipped"]).unwrap_err().contains("order.shipped"));
    }
}
