//! The tickets component: ticket types and their stock, orders that never
//! oversell, idempotent purchases, cancellation, and check-in at the door.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod code;
mod error;
mod model;
mod peers;
mod repo;
mod routes;
mod sale;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    eventos_common::serve::serve("tickets", request, routes::route).await
}
