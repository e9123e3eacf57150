//! Outgoing HTTP requests, several at once, each bounded in time: what calls to
//! another domain (`peer`) and webhook deliveries (`webhook`) are made of.

use std::time::Duration;

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, FutureIncomingResponse, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::StreamError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// An answer larger than this is not one we asked for.
const MAX_ANSWER_BODY: usize = 256 * 1024;

/// An answer: its status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One request to make: `GET` when it has no body, `POST` of `body` otherwise.
#[derive(Debug, Clone)]
pub struct Call {
    /// `http(s)://host[:port]`, without a trailing slash.
    pub base: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Call {
    pub fn get(base: impl Into<String>, path: impl Into<String>, headers: Vec<(String, String)>) -> Self {
        Call { base: base.into(), path: path.into(), headers, body: None }
    }
}

/// Makes every call at once and waits at most `timeout` for all of them; each
/// answer comes with how long it took.
pub fn send_all(calls: &[Call], timeout: Duration) -> Vec<Result<(Answer, Duration), String>> {
    let started = monotonic_clock::now();
    let mut results: Vec<Option<Result<(Answer, Duration), String>>> = vec![None; calls.len()];
    let mut waiting: Vec<(usize, FutureIncomingResponse)> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        match start(call, timeout) {
            Ok(pending) => waiting.push((i, pending)),
            Err(why) => results[i] = Some(Err(why)),
        }
    }
    let deadline = monotonic_clock::subscribe_duration(timeout.as_nanos() as u64);
    while !waiting.is_empty() {
        let pollables: Vec<Pollable> = waiting.iter().map(|(_, pending)| pending.subscribe()).collect();
        let mut all: Vec<&Pollable> = pollables.iter().collect();
        all.push(&deadline);
        let ready = poll::poll(&all);
        let elapsed = Duration::from_nanos(monotonic_clock::now() - started);
        if ready.contains(&(waiting.len() as u32)) {
            break;
        }
        drop(pollables);
        let mut still_waiting = Vec::new();
        for (position, (i, pending)) in waiting.into_iter().enumerate() {
            if ready.contains(&(position as u32)) {
                results[i] = Some(finish(&pending).map(|answer| (answer, elapsed)));
            } else {
                still_waiting.push((i, pending));
            }
        }
        waiting = still_waiting;
    }
    results.into_iter().map(|result| result.unwrap_or_else(|| Err(format!("no answer within {timeout:?}")))).collect()
}

fn start(call: &Call, timeout: Duration) -> Result<FutureIncomingResponse, String> {
    let Call { base, path, headers: wanted, body } = call;
    let (scheme, authority) = split_base(base).ok_or_else(|| format!("`{base}` is not an http(s) URL"))?;
    let headers = Fields::new();
    for (name, value) in wanted {
        let _ = headers.append(name, &value.as_bytes().to_vec());
    }
    let request = OutgoingRequest::new(headers);
    let method = if body.is_some() { Method::Post } else { Method::Get };
    request
        .set_method(&method)
        .and_then(|()| request.set_scheme(Some(&scheme)))
        .and_then(|()| request.set_authority(Some(authority)))
        .and_then(|()| request.set_path_with_query(Some(path)))
        .map_err(|()| format!("cannot build a request to {base}{path}"))?;
    let outgoing_body = request.body().map_err(|()| "the request has no body to write".to_string())?;
    let options = RequestOptions::new();
    let nanos = |d: Duration| d.as_nanos() as u64;
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT.min(timeout))));
    let _ = options.set_first_byte_timeout(Some(nanos(timeout)));
    let _ = options.set_between_bytes_timeout(Some(nanos(timeout)));
    let pending = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    write_body(outgoing_body, body.as_deref().unwrap_or_default())?;
    Ok(pending)
}

/// Writes the whole body and ends it (an empty one for a `GET`).
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    {
        let stream = body.write().map_err(|()| "the request body cannot be written".to_string())?;
        for chunk in bytes.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| format!("writing the request body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| format!("ending the request body: {e:?}"))
}

/// Reads the answer of a request whose future is ready.
fn finish(pending: &FutureIncomingResponse) -> Result<Answer, String> {
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(format!("{code:?}")),
        Some(Err(())) | None => return Err("no response".into()),
    };
    let status = response.status();
    let body = response.consume().map_err(|()| "the response has no body".to_string())?;
    let bytes = read_all(&body)?;
    drop(body);
    Ok(Answer { status, body: bytes })
}

fn read_all(body: &IncomingBody) -> Result<Vec<u8>, String> {
    let stream = body.stream().map_err(|()| "the body cannot be read".to_string())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
        if bytes.len() > MAX_ANSWER_BODY {
            return Err("the answer is too large".into());
        }
    }
    Ok(bytes)
}

/// `(scheme, authority)` of `http(s)://authority`.
pub fn split_base(base: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = base.split_once("://")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return None,
    };
    Some((scheme, rest.trim_end_matches('/')))
}
