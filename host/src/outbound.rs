//! Outbound HTTP from guests (wasi:http): checked against `allowed_outbound_hosts`;
//! `http://<component>.spin.internal` is served in-process, as Spin's service chaining.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::timeout;
use wasmtime::component::ResourceTable;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;
use wasmtime_wasi_http::types::{HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::{HttpResult, WasiHttpCtx, WasiHttpView, hyper_request_error};

use crate::allow::default_port;
use crate::app::App;
use crate::handler::handle;
use crate::router::RouteMatch;
use crate::server::set_spin_headers;
use crate::state::RequestState;

const CHAINING_SUFFIX: &str = ".spin.internal";

impl WasiHttpView for RequestState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let host = uri.host().ok_or(ErrorCode::HttpRequestUriInvalid)?.to_ascii_lowercase();
        let port = uri.port_u16().or_else(|| default_port(&scheme)).ok_or(ErrorCode::HttpRequestUriInvalid)?;
        if !self.component().allow.allows(&scheme, &host, port) {
            return Err(ErrorCode::HttpRequestDenied.into());
        }
        let app = self.app.clone();
        let task = match host.strip_suffix(CHAINING_SUFFIX) {
            Some(component) => {
                let target = app.component_index(component).ok_or(ErrorCode::DestinationNotFound)?;
                wasmtime_wasi::runtime::spawn(async move { Ok(send_chained(app, target, request, config).await) })
            }
            None if config.use_tls => {
                return Err(ErrorCode::InternalError(Some("https is not supported by the local host".into())).into());
            }
            None => {
                let authority = format!("{host}:{port}");
                wasmtime_wasi::runtime::spawn(async move { Ok(send_plain(authority, request, config).await) })
            }
        };
        Ok(HostFutureIncomingResponse::pending(task))
    }
}

/// Hands the request to another component of this application, in-process.
async fn send_chained(
    app: Arc<App>,
    target: usize,
    mut request: hyper::Request<HyperOutgoingBody>,
    config: OutgoingRequestConfig,
) -> Result<IncomingResponse, ErrorCode> {
    let path = request.uri().path().to_owned();
    let matched = match app.router.route(&path) {
        Some(matched) if matched.component == target => matched,
        _ => RouteMatch { component: target, declared: "/...", base: "", path_info: path },
    };
    set_spin_headers(&mut request, &matched, None);
    let response = timeout(config.first_byte_timeout, handle(app, target, request))
        .await
        .map_err(|_| ErrorCode::ConnectionReadTimeout)?
        .map_err(|e| ErrorCode::InternalError(Some(e.to_string())))?;
    Ok(IncomingResponse { resp: response, worker: None, between_bytes_timeout: config.between_bytes_timeout })
}

/// Plain HTTP/1.1 to a host outside the application.
async fn send_plain(
    authority: String,
    mut request: hyper::Request<HyperOutgoingBody>,
    config: OutgoingRequestConfig,
) -> Result<IncomingResponse, ErrorCode> {
    let stream = timeout(config.connect_timeout, TcpStream::connect(&authority))
        .await
        .map_err(|_| ErrorCode::ConnectionTimeout)?
        .map_err(|_| ErrorCode::ConnectionRefused)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(hyper_request_error)?;
    let worker = wasmtime_wasi::runtime::spawn(async move {
        let _ = connection.await;
    });
    if !request.headers().contains_key(hyper::header::HOST) {
        let host = hyper::header::HeaderValue::from_str(&authority).map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
        request.headers_mut().insert(hyper::header::HOST, host);
    }
    let path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *request.uri_mut() = path.parse().map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
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
