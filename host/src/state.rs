//! What one request's `Store` holds: its component's context, the door to the
//! application's other components, WASI, wasi:http, the resource table, and the
//! Postgres connections the guest opened. Nothing survives the request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::admission::Depth;
use crate::allow::AllowList;
use crate::chain::Chain;
use crate::postgres::pool::{GuestConnections, Pools};
use crate::telemetry::Trace;

/// What a component's requests may reach, fixed when the application loads.
pub struct ComponentContext {
    pub id: String,
    pub variables: HashMap<String, String>,
    pub allow: Arc<AllowList>,
    /// The guest's environment variables (`environment` in the manifest).
    pub environment: Vec<(String, String)>,
    /// The application's Postgres pools, shared by all its components.
    pub pools: Arc<Pools>,
}

pub struct RequestState {
    pub component: Arc<ComponentContext>,
    pub chain: Arc<dyn Chain>,
    /// How far down a chain of calls this request is (0: a client's).
    pub depth: Depth,
    pub started: Instant,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub pg: GuestConnections,
    /// The request's server span, when spans are exported.
    pub trace: Option<Trace>,
}

impl RequestState {
    pub fn new(component: Arc<ComponentContext>, chain: Arc<dyn Chain>, depth: Depth, trace: Option<Trace>) -> Self {
        let wasi = wasi_context(&component);
        Self {
            component,
            chain,
            depth,
            started: Instant::now(),
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            pg: GuestConnections::default(),
            trace,
        }
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
