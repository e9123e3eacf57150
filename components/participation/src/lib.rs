//! The participation component: registrations for events, within capacity,
//! with a first-come waitlist.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

mod error;
mod peers;
mod registration;
mod repo;
mod routes;

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    eventos_common::serve::serve("participation", request, response_out, routes::route).await
}
