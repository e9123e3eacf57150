//! The HTTP listener: Spin's well-known paths, manifest routing, Spin's bare 404
//! and 500, problem answers for this host's own limits, bounded header reads,
//! and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::HeaderValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;

use crate::app::App;
use crate::app::router::WELL_KNOWN_PREFIX;
use crate::capabilities::chain::Unanswered;
use crate::serve::handler::handle;
use crate::serve::headers::set_spin_headers;

/// How long in-flight requests may take to finish after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish: idle
/// connections close at once, busy ones after their answer, within the grace.
pub async fn serve(app: Arc<App>, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<()> {
    let connections = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service_app = app.clone();
        let service = service_fn(move |request| {
            let app = service_app.clone();
            async move { Ok::<_, Infallible>(on_request(app, request, client).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(app.limits.header_read_timeout)
            .max_buf_size(app.limits.max_header_bytes.max(8192))
            .serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connections.shutdown()).await;
    Ok(())
}

async fn on_request(
    app: Arc<App>,
    mut request: Request<hyper::body::Incoming>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody> {
    strip_chaining_host(&mut request);
    let path = request.uri().path();
    if let Some(name) = path.strip_prefix(WELL_KNOWN_PREFIX) {
        return well_known(&app, name);
    }
    if path == BUILDS_PATH {
        return builds(&app);
    }
    let Some(matched) = app.router.route(path) else {
        return empty(StatusCode::NOT_FOUND);
    };
    let path = path.to_owned();
    let component = matched.component;
    let declared_length = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > app.limits.max_body_bytes) {
        let detail = format!("the body is larger than {} bytes", app.limits.max_body_bytes);
        return problem(&request, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large", &detail);
    }
    let callers_id = request.headers().get(REQUEST_ID).cloned();
    let trace_id = request.headers().get("traceparent").and_then(trace_id_of);
    let mut request = request.map(|body| {
        Limited::new(body, app.limits.max_body_bytes)
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => wasmtime_wasi_http::hyper_request_error(*e),
                Err(_) => ErrorCode::HttpRequestBodySize(None),
            })
            .boxed_unsync()
    });
    set_spin_headers(&mut request, &matched, client);
    match handle(app.clone(), component, &matched.based_route, request, 0).await {
        Ok(response) => response,
        Err(Unanswered::Busy) => {
            let mut response = problem_with_id(
                callers_id,
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "Service unavailable",
                "the server is at capacity; try again shortly",
            );
            response.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(Unanswered::Failed(blame, error)) => {
            let id = &app.components[component].context.id;
            // Under the caller's request id, when it sent one: the line joins its trail.
            let request_id = callers_id.as_ref().and_then(|id| id.to_str().ok());
            tracing::error!(request_id, trace_id = trace_id.as_deref(), component = id.as_str(), path = path.as_str(), status = 500, blame = blame.as_str(), error = %format_args!("{error:#}"), "the component failed");
            // As Spin answers a guest that failed: a bare 500.
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), so that
/// the host's own lines join the trace its components log under.
fn trace_id_of(traceparent: &HeaderValue) -> Option<String> {
    let trace_id = traceparent.to_str().ok()?.split('-').nth(1)?;
    let valid = trace_id.len() == 32 && trace_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    valid.then(|| trace_id.to_owned())
}

/// A `Host` naming a chained component (`x.spin.internal`) cannot come from outside.
fn strip_chaining_host<B>(request: &mut Request<B>) {
    let chained = request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|host| {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        name.split_once('.').is_some_and(|(_, domain)| domain == "spin.internal")
    });
    if chained {
        request.headers_mut().remove(hyper::header::HOST);
    }
}

/// Spin's own paths: `health` answers `OK`, `info` the application's name and version.
fn well_known(app: &App, name: &str) -> Response<HyperOutgoingBody> {
    match name {
        "health" => full(StatusCode::OK, Bytes::from_static(b"OK")),
        "info" => {
            let mut response = full(StatusCode::OK, Bytes::from(app.info.clone()));
            response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        _ => empty(StatusCode::NOT_FOUND),
    }
}

/// This host's own report of each component's live build, which `up --watch` swaps.
const BUILDS_PATH: &str = "/.well-known/eventos/builds";

fn builds(app: &App) -> Response<HyperOutgoingBody> {
    let report: Vec<_> = app.components.iter().map(|c| c.build.report(&c.context.id)).collect();
    let mut response = full(StatusCode::OK, Bytes::from(serde_json::Value::from(report).to_string()));
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(hyper::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const REQUEST_ID: &str = "x-request-id";

/// As `openapi.yaml` says: 1 to 128 visible ASCII characters.
fn is_acceptable_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

fn full(status: StatusCode, body: Bytes) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(Full::new(body).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn empty(status: StatusCode) -> Response<HyperOutgoingBody> {
    full(status, Bytes::new())
}

/// An answer only this host makes (its own limits), in the components' problem
/// shape, echoing the caller's `X-Request-Id` when acceptable or giving a new one.
fn problem<B>(
    request: &Request<B>,
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: &str,
) -> Response<HyperOutgoingBody> {
    problem_with_id(request.headers().get(REQUEST_ID).cloned(), status, slug, title, detail)
}

fn problem_with_id(
    callers_id: Option<HeaderValue>,
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: &str,
) -> Response<HyperOutgoingBody> {
    let mut response = problem_body(status, slug, title, detail);
    let id = callers_id
        .filter(|id| is_acceptable_request_id(id.as_bytes()))
        .or_else(|| HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok());
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

fn problem_body(status: StatusCode, slug: &str, title: &str, detail: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": format!("https://eventos.dev/problems/{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = full(status, Bytes::from(body.to_string()));
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}
