//! `GET /api/events/{id}` and a member's `POST /api/tickets/orders` as a Rust
//! engineer would serve them without WebAssembly: hyper, pools of
//! tokio-postgres connections to the events and tickets databases, the
//! components' own statements (the tickets component builds the order's, in
//! `tickets::sale_statements`), the same bearer-token check (`eventos_common::auth`),
//! the same JSON and one JSON log line per request. Not part of the product:
//! the anchor `make bench` measures the cost of being WebAssembly against, on
//! the same databases under the same load.
//!
//! usage: native-peer <listen address> <events database URL> <tickets database URL>
//! with the platform's `SPIN_VARIABLE_AUTH_JWKS`, `_AUTH_ISSUER` and `_AUTH_AUDIENCE`.

mod event;
mod log;
mod order;
mod params;
mod token;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use deadpool_postgres::{Manager, Pool};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// As many connections as `eventos` keeps per database.
const POOL_SIZE: usize = 16;

/// What every request may use.
pub struct Peer {
    pub events: Pool,
    pub tickets: Pool,
    pub tokens: token::Tokens,
    pub sold_lately: order::SoldLately,
}

/// An answer: its status, body, content type and extra headers, and what failed.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
    pub error: Option<String>,
}

impl Answer {
    pub fn json(status: StatusCode, body: Vec<u8>) -> Self {
        Self { status, body, headers: Vec::new(), error: None }
    }

    /// A problem document, as the components answer one.
    pub fn problem(status: StatusCode, title: &str, detail: &str) -> Self {
        let body =
            serde_json::json!({"type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail});
        Self { status, body: body.to_string().into_bytes(), headers: Vec::new(), error: None }
    }

    /// A 503 for a database that failed, its error logged.
    pub fn unavailable(error: impl ToString) -> Self {
        let mut answer = Self::problem(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable", "the database failed");
        answer.error = Some(error.to_string());
        answer
    }
}

fn pool(url: &str) -> std::io::Result<Pool> {
    let config: tokio_postgres::Config = url.parse().map_err(std::io::Error::other)?;
    Pool::builder(Manager::new(config, NoTls)).max_size(POOL_SIZE).build().map_err(std::io::Error::other)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, events, tickets] = args.as_slice() else {
        eprintln!("usage: native-peer <listen address> <events database URL> <tickets database URL>");
        std::process::exit(2);
    };
    let peer = Arc::new(Peer {
        events: pool(events)?,
        tickets: pool(tickets)?,
        tokens: token::Tokens::from_env(),
        sold_lately: order::SoldLately::default(),
    });
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("native-peer: serving http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let peer = peer.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let peer = peer.clone();
                async move { Ok::<_, Infallible>(serve(&peer, request).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn serve(peer: &Peer, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let request_id = Uuid::new_v4().to_string();
    let (component, answer) = match (&parts.method, path.as_str()) {
        (&Method::POST, "/api/tickets/orders") => {
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            ("tickets", order::create(peer, authorization, &body).await)
        }
        (&Method::GET, _) => ("events", event::get(peer, &path).await),
        _ => ("events", Answer::problem(StatusCode::NOT_FOUND, "Not found", "no such route")),
    };
    log::line(
        component,
        &request_id,
        parts.method.as_str(),
        &path,
        answer.status.as_u16(),
        started,
        answer.error.as_deref(),
    );
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = answer.status;
    let content_type = if answer.status.is_success() { "application/json" } else { "application/problem+json" };
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    for (name, value) in answer.headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    if let Ok(id) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}
