//! Service chaining as a request's state sees it: the other components of the
//! application, reached by name through this one door, so that what a guest's
//! request holds is its own component's context and not the whole application.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use wasmtime_wasi_http::body::HyperOutgoingBody;

/// How far down a chain of calls a request is: 0 for a client's request.
pub type Depth = u32;

/// Why a request got no answer from its guest.
#[derive(Debug)]
pub enum Unanswered {
    /// Every instance slot stayed taken for `instance_wait`: the caller owes a 503.
    Busy,
    /// The guest trapped, ran past its deadline or set no response: a 500.
    Failed(anyhow::Error),
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unanswered::Busy => f.write_str("every instance slot is taken"),
            Unanswered::Failed(error) => write!(f, "{error:#}"),
        }
    }
}

pub type Answer = Result<hyper::Response<HyperOutgoingBody>, Unanswered>;

pub type PendingAnswer = Pin<Box<dyn Future<Output = Answer> + Send>>;

pub trait Chain: Send + Sync {
    /// Where this application listens, for guests' relative (`self`) requests.
    fn origin(&self) -> Option<SocketAddr>;

    /// Serves `request` with the component called `id`, `depth` calls down a
    /// chain; `None` when the application has no such component.
    fn call(
        self: Arc<Self>,
        id: &str,
        request: hyper::Request<HyperOutgoingBody>,
        depth: Depth,
    ) -> Option<PendingAnswer>;
}
