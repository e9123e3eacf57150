//! The black-box suite of the platform: the real `.wasm` components of spin.toml
//! served by the runtime under test (`EVENTOS_TEST_RUNTIME`: `eventos`, either
//! real Spin, or the node), against a real PostgreSQL, through HTTP only. Each
//! module is one part of the product; most share one platform ([`support::APP`]),
//! the rest start their own with the settings they test.
// runtimes: eventos spin node

#[path = "../support/mod.rs"]
mod support;

mod access;
// First after `access`: the longest test here, so that the rest runs beside it.
mod api_contract;
mod checkouts_api;
mod conventions;
mod database_outage;
mod door_gates;
mod door_page;
mod events_api;
mod hostile_drill;
mod hostile_input;
mod identity;
mod node_drill;
mod oidc_provider;
mod participation_api;
mod peers_down;
mod signed_tickets;
mod status_page;
mod tickets_api;
mod traces;
mod users_api;
mod waiting_room;
mod webhooks;
