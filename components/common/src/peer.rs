//! Calls to another domain's component over HTTP (Spin outbound HTTP; locally
//! served in-process through `*.spin.internal`), always bounded in time.
//!
//! A peer that is down, refuses, or does not answer in time is a 503 problem for
//! our caller — never a hang and never a 500.

use std::time::Duration;

use spin_sdk::variables;
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, IncomingBody, Method, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

use crate::{FieldError, Problem};

/// The longest a peer may take to answer.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A peer's answer larger than this is not one we asked for.
const MAX_PEER_BODY: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct PeerResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl PeerResponse {
    pub fn json(&self) -> Result<serde_json::Value, Problem> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Problem::internal(format!("a peer answered with invalid JSON: {e}")))
    }
}

/// `GET {base}{path}` where `base` is the Spin variable `base_variable` (e.g. `events_url`).
pub fn get(peer: &str, base_variable: &str, path: &str) -> Result<PeerResponse, Problem> {
    let base = variables::get(base_variable)
        .map_err(|e| Problem::internal(format!("variable {base_variable}: {e}")))?;
    let unavailable = |why: String| {
        Problem::unavailable(format!(
            "the {peer} service is unavailable; try again shortly"
        ))
        .because(format!("{peer}: {why}"))
    };
    let (scheme, authority) = split_base(&base).ok_or_else(|| {
        Problem::internal(format!("{base_variable} `{base}` is not an http(s) URL"))
    })?;

    let request = OutgoingRequest::new(Fields::new());
    let built = request
        .set_method(&Method::Get)
        .and_then(|()| request.set_scheme(Some(&scheme)))
        .and_then(|()| request.set_authority(Some(authority)))
        .and_then(|()| request.set_path_with_query(Some(path)));
    built.map_err(|()| Problem::internal(format!("cannot build a request to {base}{path}")))?;
    let options = RequestOptions::new();
    let nanos = |d: Duration| d.as_nanos() as u64;
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT)));
    let _ = options.set_first_byte_timeout(Some(nanos(PEER_TIMEOUT)));
    let _ = options.set_between_bytes_timeout(Some(nanos(PEER_TIMEOUT)));

    let pending = outgoing_handler::handle(request, Some(options))
        .map_err(|e| unavailable(format!("{e:?}")))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(unavailable(format!("{code:?}"))),
        Some(Err(())) | None => return Err(unavailable("no response".into())),
    };
    let status = response.status();
    let body = response
        .consume()
        .map_err(|()| unavailable("the response has no body".into()))?;
    let bytes = read_all(&body).map_err(unavailable)?;
    drop(body);
    Ok(PeerResponse {
        status,
        body: bytes,
    })
}

fn read_all(body: &IncomingBody) -> Result<Vec<u8>, String> {
    let stream = body
        .stream()
        .map_err(|()| "the body cannot be read".to_string())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
        if bytes.len() > MAX_PEER_BODY {
            return Err("the answer is too large".into());
        }
    }
    Ok(bytes)
}

fn split_base(base: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = base.split_once("://")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return None,
    };
    Some((scheme, rest.trim_end_matches('/')))
}

/// `GET` a resource from a peer: `Some(document)` on 200, `None` on 404.
pub fn fetch(
    peer: &str,
    base_variable: &str,
    path: &str,
) -> Result<Option<serde_json::Value>, Problem> {
    let response = get(peer, base_variable, path)?;
    match response.status {
        200 => response.json().map(Some),
        404 => Ok(None),
        503 => Err(Problem::unavailable(format!(
            "the {peer} service is unavailable; try again shortly"
        ))),
        other => Err(
            Problem::unavailable(format!("the {peer} service failed; try again shortly"))
                .because(format!("{peer} answered {other}")),
        ),
    }
}

/// The referenced event does not exist (a 422: the request names it).
pub fn event_not_found() -> Problem {
    Problem {
        errors: vec![FieldError::new("event_id", "no such event")],
        ..Problem::new(
            422,
            "event-not-found",
            "Event not found",
            "no event with that id",
        )
    }
}

/// The referenced user does not exist.
pub fn user_not_found() -> Problem {
    Problem {
        errors: vec![FieldError::new("user_id", "no such user")],
        ..Problem::new(
            422,
            "user-not-found",
            "User not found",
            "no user with that id",
        )
    }
}

pub fn event_not_open(detail: &str) -> Problem {
    Problem::conflict("event-not-open", "Event not open", detail)
}

/// The user must exist (asked of the users component).
pub fn require_user(id: uuid::Uuid) -> Result<(), Problem> {
    match fetch("users", "users_url", &format!("/api/users/{id}"))? {
        Some(_) => Ok(()),
        None => Err(user_not_found()),
    }
}

/// The event as the events component knows it, or `event-not-found`.
pub fn event(id: uuid::Uuid) -> Result<serde_json::Value, Problem> {
    fetch("events", "events_url", &format!("/api/events/{id}"))?.ok_or_else(event_not_found)
}
