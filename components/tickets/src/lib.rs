//! The tickets component: ticket types and their stock, orders that never
//! oversell, checkouts that hold tickets while a buyer pays, vouchers, idempotent
//! purchases, cancellation with refunds, payment states, a waiting room for an
//! on-sale, tickets signed for offline checks, and check-in at the door.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

mod api;
mod checkout;
mod code;
mod error;
mod hold;
mod lately;
mod model;
mod ordering;
mod pdf;
mod peers;
mod qr;
mod refund;
mod repo;
mod requests;
mod room_gate;
mod rules;
mod sale;
pub mod sale_statements;
mod scan;
mod signed_code;
mod signing;
mod voucher;
mod waiting_room;

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    eventos_common::serve::serve("tickets", request, response_out, api::route).await
}
