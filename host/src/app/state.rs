//! What one request's `Store` holds: WASI and its resource table, and each
//! capability's own share of the request (outbound HTTP, Postgres, variables,
//! key-value, the refused ones), as Spin gives each factor its own. Nothing survives the request.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView};

use crate::capabilities::allow::AllowList;
use crate::capabilities::chain::{Chain, Depth};
use crate::capabilities::key_value::{KeyValueState, Stores};
use crate::capabilities::outbound_http::OutboundHttpState;
use crate::capabilities::postgres::PgState;
use crate::capabilities::postgres::pool::Pools;
use crate::capabilities::refused::RefusedState;
use crate::capabilities::variables::VariablesState;

/// What a component's requests may reach, fixed when the application loads.
pub struct ComponentContext {
    pub id: String,
    pub variables: Arc<HashMap<String, String>>,
    pub allow: Arc<AllowList>,
    /// The guest's environment variables (`environment` in the manifest).
    pub environment: Vec<(String, String)>,
    /// The application's Postgres pools, shared by all its components.
    pub pools: Arc<Pools>,
    /// The key-value stores it may open (`key_value_stores`), of the application's.
    pub key_value_stores: Arc<HashSet<String>>,
    pub stores: Arc<Stores>,
}

pub struct RequestState {
    pub started: Instant,
    wasi: WasiCtx,
    table: ResourceTable,
    pub http: OutboundHttpState,
    pub pg: PgState,
    pub variables: VariablesState,
    pub key_value: KeyValueState,
    pub refused: RefusedState,
}

impl RequestState {
    /// For a request to `component`, `depth` calls down a chain.
    pub fn new(component: &ComponentContext, chain: Arc<dyn Chain>, depth: Depth) -> Self {
        Self {
            started: Instant::now(),
            wasi: wasi_context(component),
            table: ResourceTable::new(),
            http: OutboundHttpState::new(component.allow.clone(), chain, depth),
            pg: PgState::new(component.pools.clone(), component.allow.clone()),
            variables: VariablesState::new(component.variables.clone()),
            key_value: KeyValueState::new(component.key_value_stores.clone(), component.stores.clone()),
            refused: RefusedState::new(component.allow.clone()),
        }
    }
}

/// wasi:http's resources share WASI's table; sending is outbound HTTP's.
impl WasiHttpView for RequestState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http.ctx
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        request: hyper::Request<wasmtime_wasi_http::body::HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        self.http.send_request(request, config)
    }
}

/// What WASI gives a guest: its environment, the host's stdout and stderr (where
/// Spin relays guests' output too), and sockets only to allowed addresses,
/// checked as Spin checks them (`tcp://` or `udp://`; never a listening socket).
fn wasi_context(component: &ComponentContext) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder.inherit_stdout().inherit_stderr().envs(&component.environment);
    if component.allow.reaches_sockets() {
        let allow = component.allow.clone();
        builder.socket_addr_check(move |address, usage| {
            let scheme = match usage {
                SocketAddrUse::TcpBind => None,
                SocketAddrUse::TcpConnect => Some("tcp"),
                SocketAddrUse::UdpBind | SocketAddrUse::UdpConnect | SocketAddrUse::UdpOutgoingDatagram => Some("udp"),
            };
            let allowed = scheme.is_some_and(|scheme| allow.allows_url(&address.to_string(), scheme));
            Box::pin(async move { allowed })
        });
    }
    builder.build()
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
