//! Service chaining (`http://<component>.spin.internal`) as a request's state
//! sees it: the other components of the application, reached by name through
//! this one door, so that what a guest's request holds is its own component's
//! context and not the whole application; and how a callee's answer becomes
//! the caller's response, as Spin makes it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::time::timeout;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{IncomingResponse, OutgoingRequestConfig};

use crate::observe::telemetry::spans::Blame;

/// The domain of service chaining: `http://<component>.spin.internal`.
pub const SUFFIX: &str = ".spin.internal";

/// How far down a chain of calls a request is: 0 for a client's request.
pub type Depth = u32;

/// Why a request got no answer from its guest.
#[derive(Debug, thiserror::Error)]
pub enum Unanswered {
    /// Every instance slot stayed taken for `instance_wait`: the caller owes a 503.
    #[error("every instance slot is taken")]
    Busy,
    /// The guest could not be run or did not answer: a 500, and whose doing it was.
    #[error("{1:#}")]
    Failed(Blame, anyhow::Error),
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

/// `events` for `http://events.spin.internal/...`.
pub fn callee(uri: &hyper::Uri) -> Option<String> {
    let host = uri.host()?.trim();
    let (component, domain) = host.split_once('.')?;
    (format!(".{domain}") == SUFFIX).then(|| component.to_owned())
}

/// Awaits another component's answer to a chained request; a callee that fails
/// is a bare 500, as on Spin. The caller's first-byte timeout holds here too
/// (Spin waits for the callee forever).
pub async fn answer(pending: PendingAnswer, config: OutgoingRequestConfig) -> Result<IncomingResponse, ErrorCode> {
    let answered = timeout(config.first_byte_timeout, pending).await.map_err(|_| ErrorCode::ConnectionReadTimeout)?;
    let response = match answered {
        Ok(response) => response,
        Err(Unanswered::Busy) => return Err(ErrorCode::ConnectionLimitReached),
        Err(Unanswered::Failed(..)) => {
            let mut failed = hyper::Response::new(HyperOutgoingBody::default());
            *failed.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            failed
        }
    };
    Ok(IncomingResponse { resp: response, worker: None, between_bytes_timeout: config.between_bytes_timeout })
}
