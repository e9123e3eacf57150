//! The users component: who may register for events and buy tickets.

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod error;
mod repo;
mod routes;
mod user;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    eventos_common::serve::serve("users", request, routes::route).await
}
