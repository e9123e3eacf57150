//! The HTTP listener: manifest routing, Spin's `spin-*` headers, host-made
//! problem answers, bounded header reads, and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use wasmtime_wasi_http::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::body::HyperOutgoingBody;

use crate::app::App;
use crate::handler::{Unanswered, handle};
use crate::router::RouteMatch;

/// How long in-flight requests may take to finish after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(app: Arc<App>, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<()> {
    let in_flight = Arc::new(AtomicUsize::new(0));
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Running out of file descriptors must not end the server.
                    eprintln!("eventos: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let in_flight = in_flight.clone();
        tokio::spawn(async move {
            let header_timeout = app.limits.header_read_timeout;
            let max_header_bytes = app.limits.max_header_bytes.max(8192);
            let service = service_fn(move |request| {
                let app = app.clone();
                let in_flight = in_flight.clone();
                async move {
                    in_flight.fetch_add(1, Ordering::SeqCst);
                    let response = on_request(app, request, client).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(max_header_bytes)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    drop(listener);
    let waited = tokio::time::Instant::now();
    while in_flight.load(Ordering::SeqCst) > 0 && waited.elapsed() < SHUTDOWN_GRACE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Every answer carries an `X-Request-Id`: the component's, or for answers the
/// host makes itself the caller's (when acceptable) or a new one.
async fn on_request(
    app: Arc<App>,
    request: Request<hyper::body::Incoming>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let callers_id = request.headers().get(REQUEST_ID).filter(|id| is_acceptable_request_id(id.as_bytes())).cloned();
    let mut response = answer(app, request, client).await;
    if !response.headers().contains_key(REQUEST_ID) {
        let id = callers_id.or_else(|| HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok());
        if let Some(id) = id {
            response.headers_mut().insert(REQUEST_ID, id);
        }
    }
    response
}

const REQUEST_ID: &str = "x-request-id";

/// As API.md says: 1 to 128 visible ASCII characters.
fn is_acceptable_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

async fn answer(
    app: Arc<App>,
    request: Request<hyper::body::Incoming>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let path = request.uri().path().to_owned();
    let Some(matched) = app.router.route(&path) else {
        return problem(StatusCode::NOT_FOUND, "not-found", "Not found", &format!("no route for {path}"));
    };
    let component = matched.component;
    let declared_length = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > app.limits.max_body_bytes) {
        let detail = format!("the body is larger than {} bytes", app.limits.max_body_bytes);
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large", &detail);
    }
    let mut request = request.map(|body| {
        Limited::new(body, app.limits.max_body_bytes)
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => wasmtime_wasi_http::hyper_request_error(*e),
                Err(_) => ErrorCode::HttpRequestBodySize(None),
            })
            .boxed_unsync()
    });
    set_spin_headers(&mut request, &matched, Some(client));
    match handle(app.clone(), component, request).await {
        Ok(response) => response,
        Err(Unanswered::Busy) => {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "Service unavailable",
                "the server is at capacity; try again shortly",
            );
            response.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(error) => {
            let id = &app.components[component].id;
            eprintln!(
                "{}",
                serde_json::json!({"component": id, "path": path, "status": 500, "error": format!("{error:#}")})
            );
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal error",
                "the component failed to answer",
            )
        }
    }
}

/// The headers Spin gives a guest about how its request was routed, each under
/// its name and its `x-` twin.
pub fn set_spin_headers<B>(request: &mut Request<B>, matched: &RouteMatch<'_>, client: Option<SocketAddr>) {
    let host = request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let facts = [
        (SPIN_FULL_URL, Some(format!("http://{host}{path_and_query}"))),
        (SPIN_PATH_INFO, Some(matched.path_info.clone())),
        (SPIN_MATCHED_ROUTE, Some(matched.declared.to_owned())),
        (SPIN_RAW_COMPONENT_ROUTE, Some(matched.declared.to_owned())),
        (SPIN_COMPONENT_ROUTE, Some(matched.base.to_owned())),
        (SPIN_BASE_PATH, Some("/".to_owned())),
        (SPIN_CLIENT_ADDR, client.map(|client| client.to_string())),
    ];
    let headers = request.headers_mut();
    for ([name, twin], value) in facts {
        if let Some(value) = value.and_then(|value| HeaderValue::try_from(value).ok()) {
            headers.insert(twin, value.clone());
            headers.insert(name, value);
        }
    }
}

const SPIN_FULL_URL: [HeaderName; 2] =
    [HeaderName::from_static("spin-full-url"), HeaderName::from_static("x-spin-full-url")];
const SPIN_PATH_INFO: [HeaderName; 2] =
    [HeaderName::from_static("spin-path-info"), HeaderName::from_static("x-spin-path-info")];
const SPIN_MATCHED_ROUTE: [HeaderName; 2] =
    [HeaderName::from_static("spin-matched-route"), HeaderName::from_static("x-spin-matched-route")];
const SPIN_RAW_COMPONENT_ROUTE: [HeaderName; 2] =
    [HeaderName::from_static("spin-raw-component-route"), HeaderName::from_static("x-spin-raw-component-route")];
const SPIN_COMPONENT_ROUTE: [HeaderName; 2] =
    [HeaderName::from_static("spin-component-route"), HeaderName::from_static("x-spin-component-route")];
const SPIN_BASE_PATH: [HeaderName; 2] =
    [HeaderName::from_static("spin-base-path"), HeaderName::from_static("x-spin-base-path")];
const SPIN_CLIENT_ADDR: [HeaderName; 2] =
    [HeaderName::from_static("spin-client-addr"), HeaderName::from_static("x-spin-client-addr")];

/// An answer the host makes itself, in the same problem shape as the components'.
pub fn problem(status: StatusCode, slug: &str, title: &str, detail: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": format!("https://eventos.dev/problems/{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response =
        Response::new(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}
