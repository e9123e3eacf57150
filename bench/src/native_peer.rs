//! `GET /api/events/{id}` as a Rust engineer would write it without WebAssembly:
//! hyper, a pool of tokio-postgres connections to the events database, the
//! events component's statement, its JSON (a published event; anything else a
//! 404 problem, as an anonymous caller gets) and its one JSON log line per
//! request. Not part of the product: the anchor `make bench` measures the cost
//! of being WebAssembly against, on the same database under the same load.
//!
//! usage: native-peer <listen address> <events database URL>

use std::convert::Infallible;
use std::io::Write;
use std::time::Instant;

use bytes::Bytes;
use chrono::{NaiveDateTime, SecondsFormat};
use deadpool_postgres::{Manager, Pool};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::{Serialize, Serializer};
use tokio::net::TcpListener;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

/// The events component's statement, column for column.
const FIND_EVENT: &str = "SELECT id, title, description, venue, starts_at AT TIME ZONE 'UTC' AS starts_at, \
    ends_at AT TIME ZONE 'UTC' AS ends_at, capacity, organizer_id, status, moderation_reason, moderated_by, \
    created_at AT TIME ZONE 'UTC' AS created_at, updated_at AT TIME ZONE 'UTC' AS updated_at \
    FROM events WHERE id = $1";
/// As many connections as `eventos` keeps per database.
const POOL_SIZE: usize = 16;

#[derive(Serialize)]
struct Event {
    id: Uuid,
    title: String,
    description: Option<String>,
    venue: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    starts_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    ends_at: NaiveDateTime,
    capacity: i32,
    organizer_id: Uuid,
    status: String,
    moderation_reason: Option<String>,
    moderated_by: Option<Uuid>,
    #[serde(serialize_with = "rfc3339")]
    created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    updated_at: NaiveDateTime,
}

fn rfc3339<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl Event {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            title: row.get("title"),
            description: row.get("description"),
            venue: row.get("venue"),
            starts_at: row.get("starts_at"),
            ends_at: row.get("ends_at"),
            capacity: row.get("capacity"),
            organizer_id: row.get("organizer_id"),
            status: row.get("status"),
            moderation_reason: row.get("moderation_reason"),
            moderated_by: row.get("moderated_by"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, database] = args.as_slice() else {
        eprintln!("usage: native-peer <listen address> <events database URL>");
        std::process::exit(2);
    };
    let config: tokio_postgres::Config = database.parse().map_err(std::io::Error::other)?;
    let pool = Pool::builder(Manager::new(config, NoTls)).max_size(POOL_SIZE).build().map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("native-peer: serving http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let pool = pool.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let pool = pool.clone();
                async move { Ok::<_, Infallible>(serve(&pool, request).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn serve(pool: &Pool, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let request_id = Uuid::new_v4().to_string();
    let found = match path.strip_prefix("/api/events/").and_then(|id| id.parse::<Uuid>().ok()) {
        Some(id) => find(pool, id).await,
        None => Ok(None),
    };
    let (status, body, error) = match found {
        Ok(Some(event)) if event.status == "published" => {
            (StatusCode::OK, serde_json::to_vec(&event).unwrap_or_default(), None)
        }
        Ok(_) => (StatusCode::NOT_FOUND, problem(404, "Not found", "no such event"), None),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, problem(503, "Service unavailable", "the database failed"), Some(e))
        }
    };
    log(&request_id, request.method().as_str(), &path, status.as_u16(), started, error.as_deref());
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = if status == StatusCode::OK { "application/json" } else { "application/problem+json" };
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    if let Ok(id) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

async fn find(pool: &Pool, id: Uuid) -> Result<Option<Event>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let statement = client.prepare_cached(FIND_EVENT).await.map_err(|e| e.to_string())?;
    let rows = client.query(&statement, &[&id]).await.map_err(|e| e.to_string())?;
    Ok(rows.first().map(Event::from_row))
}

fn problem(status: u16, title: &str, detail: &str) -> Vec<u8> {
    serde_json::json!({"type": "about:blank", "title": title, "status": status, "detail": detail})
        .to_string()
        .into_bytes()
}

/// The events component's request line, field for field.
fn log(request_id: &str, method: &str, path: &str, status: u16, started: Instant, error: Option<&str>) {
    let trace = Uuid::new_v4().simple().to_string();
    let mut line = serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "request_id": request_id,
        "trace_id": trace,
        "span_id": &trace[..16],
        "component": "events",
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
    });
    if let Some(error) = error {
        line["error"] = error.into();
    }
    let mut text = line.to_string();
    text.push('\n');
    let _ = std::io::stderr().write_all(text.as_bytes());
}
