//! The events component: events, their moderation, and their cancellation.
// A `Problem` is built at most once per failed request; its size on the error path costs nothing.
#![allow(clippy::result_large_err)]

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod event;
mod repo;
mod routes;
mod status;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    eventos_common::serve::serve("events", request, routes::route).await
}
