//! Outbound HTTP from guests (wasi:http), as Spin 3.6.3 sends it
//! (`crates/factor-outbound-http`): checked against `allowed_outbound_hosts`
//! (a relative URL, or `self.alt`, needs `self`), without the guest's `Host`
//! header, over TLS with certificate verification for `https`. A request to
//! `http://<component>.spin.internal` is served in-process (service chaining).

use std::sync::Arc;

use http_body_util::BodyExt;
use tokio::time::timeout;
use tracing::Instrument;
use wasmtime::component::Linker;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView, hyper_request_error};

use crate::capabilities::allow::AllowList;
use crate::capabilities::chain::{self, Chain, Depth};
use crate::net::address::Reach;
use crate::net::client::{self, OpenError};
use crate::observe::telemetry::spans;

type OutgoingRequest = hyper::Request<HyperOutgoingBody>;

/// Links wasi:http's outgoing handler and types. wasi:http's resources live in
/// the table WASI's streams live in, so the request's state gives both (as
/// `WasiHttpView`) and hands sending to [`OutboundHttpState::send_request`].
pub fn link<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi_http::add_only_http_to_linker_async(linker)
}

/// One request's share of outbound HTTP: what its component may reach, the door
/// to the application's other components, and how deep in a chain it is.
pub struct OutboundHttpState {
    pub ctx: WasiHttpCtx,
    allow: Arc<AllowList>,
    chain: Arc<dyn Chain>,
    /// How far down a chain of calls this request is (0: a client's).
    depth: Depth,
}

impl OutboundHttpState {
    pub fn new(allow: Arc<AllowList>, chain: Arc<dyn Chain>, depth: Depth) -> Self {
        Self { ctx: WasiHttpCtx::new(), allow, chain, depth }
    }

    pub fn send_request(
        &mut self,
        mut request: OutgoingRequest,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let to_self = undo_relative_authority(&mut request);
        let allow = &self.allow;
        let (allowed, reach) = if to_self {
            (allow.allows_relative(&["http", "https"]), Reach::Anywhere)
        } else {
            let url = request.uri().to_string();
            (allow.allows_url(&url, "https"), allow.reach_of(&url, "https"))
        };
        let chain = self.chain.clone();
        let callee_depth = self.depth + 1;
        let call = spans::call(&mut request);
        // As on Spin, even a refusal is the answer of the request's future, not of `handle`.
        let task = wasmtime_wasi::runtime::spawn(
            async move {
                let answer = send(request, config, Route { allowed, to_self, reach }, chain, callee_depth).await;
                let status =
                    answer.as_ref().ok().and_then(|answer| answer.as_ref().ok()).map(|r| r.resp.status().as_u16());
                spans::answered(&tracing::Span::current(), status);
                answer
            }
            .instrument(call),
        );
        Ok(HostFutureIncomingResponse::pending(task))
    }
}

/// Where the allow-list lets a request go.
struct Route {
    allowed: bool,
    /// Back to this application (a relative URL or `self.alt`).
    to_self: bool,
    reach: Reach,
}

/// Sends a guest's request where it goes: refused, back to this application's
/// listener, to another component in-process, or out.
async fn send(
    mut request: OutgoingRequest,
    mut config: OutgoingRequestConfig,
    Route { allowed, to_self, reach }: Route,
    chain: Arc<dyn Chain>,
    callee_depth: Depth,
) -> wasmtime::Result<Result<IncomingResponse, ErrorCode>> {
    if !allowed {
        return Ok(Err(ErrorCode::HttpRequestDenied));
    }
    if to_self {
        // Back to this application's own listener, as Spin does.
        let Some(origin) = chain.origin() else { return Ok(Err(ErrorCode::HttpRequestUriInvalid)) };
        config.use_tls = false;
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        match format!("http://{origin}{path}").parse() {
            Ok(uri) => *request.uri_mut() = uri,
            Err(_) => return Ok(Err(ErrorCode::HttpRequestUriInvalid)),
        }
    }
    request.headers_mut().remove(hyper::header::HOST);
    match chain::callee(request.uri()) {
        // Spin traps the caller when the callee is not in the application.
        Some(component) => match chain.call(&component, request, callee_depth) {
            Some(answer) => Ok(chain::answer(answer, config).await),
            None => Err(wasmtime::Error::msg(format!("unknown routing destination '{component}'"))),
        },
        None => Ok(send_out(request, config, reach).await),
    }
}

/// wasmtime-wasi-http gives a relative URL an empty authority (`https://:443/p`):
/// take it away again. Whether the request goes back to this application.
fn undo_relative_authority(request: &mut OutgoingRequest) -> bool {
    let uri = request.uri();
    match uri.authority() {
        Some(authority) if authority.host().is_empty() => {
            let path = uri.path_and_query().cloned();
            let mut relative = hyper::Uri::builder();
            if let Some(path) = path {
                relative = relative.path_and_query(path);
            }
            if let Ok(relative) = relative.build() {
                *request.uri_mut() = relative;
            }
            true
        }
        Some(authority) => authority.host() == "self.alt",
        None => true,
    }
}

/// HTTP/1.1 to a host outside the application, over TLS for `https`, at an
/// address `reach` allows.
async fn send_out(
    mut request: OutgoingRequest,
    config: OutgoingRequestConfig,
    reach: Reach,
) -> Result<IncomingResponse, ErrorCode> {
    let (mut sender, connection) = client::open(&mut request, config.use_tls, config.connect_timeout, reach)
        .await
        .map_err(|error| match error {
            OpenError::BadUri => ErrorCode::HttpRequestUriInvalid,
            OpenError::ConnectTimeout => ErrorCode::ConnectionTimeout,
            OpenError::Refused => ErrorCode::ConnectionRefused,
            OpenError::Prohibited => ErrorCode::DestinationIpProhibited,
            OpenError::Tls => ErrorCode::TlsProtocolError,
            OpenError::Handshake(error) => hyper_request_error(error),
        })?;
    let worker = wasmtime_wasi::runtime::spawn(async move {
        let _ = connection.await;
    });
    let response = timeout(config.first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| ErrorCode::ConnectionReadTimeout)?
        .map_err(hyper_request_error)?;
    Ok(IncomingResponse {
        resp: response.map(|body| body.map_err(hyper_request_error).boxed_unsync()),
        worker: Some(worker),
        between_bytes_timeout: config.between_bytes_timeout,
    })
}
