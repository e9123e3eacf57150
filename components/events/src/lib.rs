//! The events component: events, their moderation, and their cancellation.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

mod access;
mod error;
mod event;
mod repo;
mod routes;
mod status;

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    eventos_common::serve::serve("events", request, response_out, routes::route).await
}
