//! The components' request line, field for field, on stderr.

use std::io::Write;
use std::time::Instant;

use chrono::SecondsFormat;
use uuid::Uuid;

pub fn line(
    component: &str,
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    started: Instant,
    error: Option<&str>,
) {
    let trace = Uuid::new_v4().simple().to_string();
    let mut line = serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "request_id": request_id,
        "trace_id": trace,
        "span_id": &trace[..16],
        "component": component,
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
