//! A guest's call to another component (`http://<component>.spin.internal`):
//! served in this process, without a socket, as the callee's own request.

use std::sync::Arc;

use wasmtime_wasi_http::body::HyperOutgoingBody;

use crate::app::App;
use crate::app::router::RouteMatch;
use crate::capabilities::chain::{Chain, Depth, PendingAnswer};
use crate::observe::metrics::CHAINED_ROUTE;
use crate::serve::handler::handle;
use crate::serve::headers::{CHAINED_CLIENT, set_spin_headers};

/// A guest's chained call: the callee is served as if it had matched `/...`,
/// with the headers Spin gives a chained request.
impl Chain for App {
    fn origin(&self) -> Option<std::net::SocketAddr> {
        App::origin(self)
    }

    fn call(
        self: Arc<Self>,
        id: &str,
        mut request: hyper::Request<HyperOutgoingBody>,
        depth: Depth,
    ) -> Option<PendingAnswer> {
        let target = self.component_index(id)?;
        let matched = RouteMatch::chained(target, request.uri().path());
        set_spin_headers(&mut request, &matched, CHAINED_CLIENT);
        Some(Box::pin(async move { handle(self, target, CHAINED_ROUTE, request, depth).await }))
    }
}
