//! The users component: who may register for events and buy tickets.
// A `Problem` is built at most once per failed request; its size on the error path costs nothing.
#![allow(clippy::result_large_err)]

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

mod repo;
mod routes;
mod user;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    eventos_common::serve::serve("users", request, routes::route).await
}
