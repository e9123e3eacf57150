//! The request pipeline every component runs: read and bound the request, route
//! it, answer with a request id, CORS headers and one JSON log line, and then,
//! the answer sent, deliver the webhooks the request owes.

use std::io::Write;
use std::time::Instant;

use futures::StreamExt;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, OutgoingResponse, Response, ResponseOutparam};
use spin_sdk::variables;

use crate::trace::TraceContext;
use crate::{ApiRequest, ApiResponse, ApiResult, Problem};

/// The largest request body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every request header an endpoint or this pipeline looks at, lower-case.
pub const READ_HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "idempotency-key",
    "x-request-id",
    "origin",
    "authorization",
    "traceparent",
    "waiting-room-pass",
];
const MAX_REQUEST_ID_LEN: usize = 128;
const CORS_ALLOWED_HEADERS: &str = "Content-Type, Authorization, Idempotency-Key, X-Request-Id, Waiting-Room-Pass";
const CORS_MAX_AGE_SECONDS: &str = "600";
const DEFAULT_CORS_ORIGINS: &str = "http://127.0.0.1:3000,http://localhost:3000";
/// What a 503 asks the caller to wait before trying again.
const RETRY_AFTER_SECONDS: &str = "1";

/// Handles one request for `component` with its `route` function.
pub async fn serve(
    component: &str,
    incoming: IncomingRequest,
    response_out: ResponseOutparam,
    route: fn(&ApiRequest) -> ApiResult,
) {
    let started = Instant::now();
    let method = incoming.method().to_string();
    let path_and_query = incoming.path_with_query().unwrap_or_else(|| "/".into());
    let headers = read_headers(&incoming);
    let (path, query) = path_and_query.split_once('?').unwrap_or((&path_and_query, ""));
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let request_id = header("x-request-id")
        .filter(|id| is_acceptable_request_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let origin = header("origin").map(str::to_owned);
    let trace = TraceContext::continue_from(header("traceparent"));
    // What this request's calls to other domains carry along: one log trail, one trace, one caller.
    let authorization = header("authorization").map(str::to_owned);
    crate::peer::forward_for_this_request(&request_id, &trace, authorization);

    let outcome = match read_body(incoming, &headers).await {
        Err(problem) => Err(problem),
        Ok(body) => {
            let request = ApiRequest {
                method: method.clone(),
                path: path.to_owned(),
                query: query.to_owned(),
                headers,
                body,
                request_id: request_id.clone(),
            };
            if method == "OPTIONS" { preflight(route, &request, origin.as_deref()) } else { route(&request) }
        }
    };
    let (mut response, cause) = match outcome {
        Ok(response) => (response, None),
        Err(mut problem) => (problem_response(&problem), problem.cause.take()),
    };
    response.headers.push(("x-request-id".into(), request_id.clone()));
    add_cors_headers(&mut response, origin.as_deref());
    let line = LogLine { component, request_id: &request_id, trace: &trace, method: &method, path };
    line.write(response.status, started, cause.as_deref());
    answer(response_out, response).await;
    // The caller has its answer: the receivers hear of the change now, not at
    // the dispatcher's next round (which retries what fails here).
    if let Err(error) = crate::webhook::deliver_owed() {
        line.write_event("webhooks not delivered", &format!("{error:?}"));
    }
}

/// The request headers, of those any endpoint reads. Asking for them by name
/// copies a few short values into the guest instead of every header (Spin adds
/// fourteen of its own to each request).
fn read_headers(incoming: &IncomingRequest) -> Vec<(String, String)> {
    let fields = incoming.headers();
    READ_HEADERS
        .iter()
        .filter_map(|&name| {
            let value = fields.get(name).into_iter().next()?;
            Some((name.to_owned(), String::from_utf8_lossy(&value).into_owned()))
        })
        .collect()
}

/// Reads the body, refusing anything over the limit without reading it all.
async fn read_body(incoming: IncomingRequest, headers: &[(String, String)]) -> Result<Vec<u8>, Problem> {
    let declared =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(Problem::too_large(MAX_BODY_BYTES));
    }
    let mut stream = incoming.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Problem::malformed(format!("the body could not be read: {e:?}")))?;
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            return Err(Problem::too_large(MAX_BODY_BYTES));
        }
    }
    Ok(body)
}

fn is_acceptable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

pub fn problem_response(problem: &Problem) -> ApiResponse {
    let mut response = ApiResponse {
        status: problem.status,
        headers: vec![("content-type".into(), "application/problem+json".into())],
        body: serde_json::to_vec(&problem.to_json()).unwrap_or_default(),
    };
    if let Some(allow) = &problem.allow {
        response.headers.push(("allow".into(), allow.clone()));
    }
    if let Some(challenge) = problem.challenge {
        response.headers.push(("www-authenticate".into(), challenge.into()));
    }
    if problem.status == 503 {
        // Outages and exhausted connections pass in moments: ask the caller to come back soon.
        response.headers.push(("retry-after".into(), RETRY_AFTER_SECONDS.into()));
    }
    response
}

fn allowed_origin(origin: Option<&str>) -> Option<&str> {
    let origin = origin?;
    let allowed = variables::get("cors_allowed_origins").unwrap_or_else(|_| DEFAULT_CORS_ORIGINS.into());
    allowed.split(',').any(|candidate| candidate.trim() == origin).then_some(origin)
}

/// `OPTIONS` (and a CORS preflight): the methods this path has, as its route
/// names them when asked with a method it does not take; a path with no route is
/// a 404. Every route picks the method before it does anything, so asking is free.
fn preflight(route: fn(&ApiRequest) -> ApiResult, request: &ApiRequest, origin: Option<&str>) -> ApiResult {
    let methods = match route(request) {
        Err(mut problem) => match problem.allow.take() {
            Some(allow) => format!("{allow}, OPTIONS"),
            None => return Err(problem),
        },
        Ok(_) => "OPTIONS".to_owned(),
    };
    let response = ApiResponse::no_content().with_header("allow", &methods);
    Ok(match allowed_origin(origin) {
        Some(_) => response
            .with_header("access-control-allow-methods", &methods)
            .with_header("access-control-allow-headers", CORS_ALLOWED_HEADERS)
            .with_header("access-control-max-age", CORS_MAX_AGE_SECONDS),
        None => response,
    })
}

fn add_cors_headers(response: &mut ApiResponse, origin: Option<&str>) {
    if let Some(origin) = allowed_origin(origin) {
        response.headers.push(("access-control-allow-origin".into(), origin.into()));
        response.headers.push(("vary".into(), "Origin".into()));
    }
}

/// What a request's one log line says about it, besides how it ended.
struct LogLine<'a> {
    component: &'a str,
    request_id: &'a str,
    trace: &'a TraceContext,
    method: &'a str,
    path: &'a str,
}

impl LogLine<'_> {
    /// The request's line: how it ended and how long it took.
    fn write(&self, status: u16, started: Instant, cause: Option<&str>) {
        let mut line = self.fields();
        line["status"] = status.into();
        line["duration_ms"] = ((started.elapsed().as_secs_f64() * 1e6).round() / 1e3).into();
        if let Some(cause) = cause {
            line["error"] = cause.into();
        }
        emit(&line);
    }

    /// A line about work the request did after it answered.
    fn write_event(&self, message: &str, error: &str) {
        let mut line = self.fields();
        line["message"] = message.into();
        line["error"] = error.into();
        emit(&line);
    }

    fn fields(&self) -> serde_json::Value {
        json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "request_id": self.request_id,
            "trace_id": self.trace.trace_id,
            "span_id": self.trace.span_id,
            "component": self.component,
            "method": self.method,
            "path": self.path,
        })
    }
}

/// One write per line, so that lines of concurrent requests never interleave.
fn emit(line: &serde_json::Value) {
    let mut text = line.to_string();
    text.push('\n');
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Sends the whole response: the body is written and finished when this returns.
async fn answer(response_out: ResponseOutparam, response: ApiResponse) {
    let mut builder = Response::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    match OutgoingResponse::try_from(builder.build()) {
        Ok(outgoing) => {
            let _ = response_out.set_with_body(outgoing, response.body).await;
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "a response could not be built: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_visible_ascii_of_bounded_length() {
        assert!(is_acceptable_request_id("abc-123"));
        assert!(!is_acceptable_request_id(""));
        assert!(!is_acceptable_request_id("has space"));
        assert!(!is_acceptable_request_id("é"));
        assert!(!is_acceptable_request_id(&"a".repeat(129)));
    }

    #[test]
    fn a_503_asks_to_retry_soon() {
        let response = problem_response(&Problem::unavailable("the database is unavailable"));
        assert!(response.headers.contains(&("retry-after".into(), "1".into())));
        assert!(!problem_response(&Problem::internal("x")).headers.iter().any(|(name, _)| name == "retry-after"));
    }

    #[test]
    fn a_405_carries_allow() {
        let response = problem_response(&Problem::method_not_allowed("GET, POST"));
        assert_eq!(response.status, 405);
        assert!(response.headers.contains(&("allow".into(), "GET, POST".into())));
    }
}
