//! What one request's `Store` holds: WASI, wasi:http, the resource table, and the
//! Postgres connections the guest opened. Nothing survives the request.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::app::App;
use crate::postgres::GuestConnections;

pub struct RequestState {
    pub app: Arc<App>,
    /// Index of the component serving this request in `app.components`.
    pub component: usize,
    pub started: Instant,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub pg: GuestConnections,
}

impl RequestState {
    pub fn new(app: Arc<App>, component: usize) -> Self {
        Self {
            app,
            component,
            started: Instant::now(),
            // Guests log to stderr; the host's stderr is where Spin sends them too.
            wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            pg: GuestConnections::default(),
        }
    }

    pub fn component(&self) -> &crate::app::LoadedComponent {
        &self.app.components[self.component]
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
