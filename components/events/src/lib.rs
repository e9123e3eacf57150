//! The events component: events, their moderation, and their cancellation.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod access;
mod error;
mod event;
mod repo;
mod routes;
mod status;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    eventos_common::serve::serve("events", request, routes::route).await
}
