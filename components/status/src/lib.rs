//! The status component: the platform's live health, and a page people can try it from.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

mod assets;
mod overview;
mod routes;
mod sign_in;
mod traffic;

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    eventos_common::serve::serve("status", request, response_out, routes::route).await
}
