//! The users component: who may register for events and buy tickets.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

mod error;
mod repo;
mod routes;
mod user;

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    eventos_common::serve::serve("users", request, response_out, routes::route).await
}
