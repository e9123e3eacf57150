//! The API-wide conventions: bad input is always a clear 4xx problem, request
//! ids, CORS, and a server that stays healthy whatever it is sent.

use crate::support::APP;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn post_raw(path: &str, headers: &[(&str, &str)], body: &[u8]) -> crate::support::Reply {
    APP.send("POST", path, headers, Some(body.to_vec()))
}

fn valid_event() -> serde_json::Value {
    json!({"title": "T", "starts_at": "2026-05-01T18:00:00Z", "ends_at": "2026-05-01T19:00:00Z",
           "capacity": 10, "organizer_id": "0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d"})
}

#[test]
fn malformed_json_is_400() {
    for body in [&b"{"[..], b"{\"email\": }", b"not json", b"[1,2]", b"", b"   ", b"null", b"\xff\xfe"] {
        post_raw("/api/users", &[JSON], body).assert_problem(400, "malformed-request");
    }
}

#[test]
fn unknown_fields_are_400() {
    APP.post("/api/users", &json!({"email": "a@b.io", "name": "A", "is_admin": true}))
        .assert_problem(400, "malformed-request");
    let mut event = valid_event();
    event["status"] = "published".into();
    APP.post("/api/events", &event).assert_problem(400, "malformed-request");
}

#[test]
fn wrong_types_are_400() {
    APP.post("/api/users", &json!({"email": 42, "name": "A"})).assert_problem(400, "malformed-request");
    for (field, value) in [("capacity", json!("ten")), ("capacity", json!(10.5)), ("title", json!(["T"]))] {
        let mut event = valid_event();
        event[field] = value;
        APP.post("/api/events", &event).assert_problem(400, "malformed-request");
    }
}

#[test]
fn an_integer_is_any_whole_number_however_written_and_its_range_is_a_422() {
    // JSON Schema's integers: `40.0` is 40, and one of any size is an integer (out of range).
    let organizer = crate::support::world::user(&APP);
    let mut event = json!({"title": "T", "starts_at": "2027-06-01T18:00:00Z", "ends_at": "2027-06-01T19:00:00Z",
                           "capacity": 40.0, "organizer_id": organizer["id"]});
    assert_eq!(APP.post("/api/events", &event).assert_status(201).body["capacity"], 40);
    for out_of_range in [json!(1e30), json!(-5)] {
        event["capacity"] = out_of_range.clone();
        let reply = APP.post("/api/events", &event);
        reply.assert_problem(422, "validation-failed");
        assert_eq!(reply.error_fields(), ["capacity"], "{out_of_range}");
    }
    let reply = post_raw("/api/events", &[JSON], br#"{"title":"T","starts_at":"2026-05-01T18:00:00Z","ends_at":"2026-05-01T19:00:00Z","capacity":99999999999999999999999,"organizer_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d"}"#);
    reply.assert_problem(422, "validation-failed");
    event["capacity"] = json!(10.5);
    APP.post("/api/events", &event).assert_problem(400, "malformed-request");
}

#[test]
fn invalid_timestamps_are_422() {
    for bad in ["2026-02-30T10:00:00Z", "2026-05-01 18:00:00", "2026-05-01T18:00:00", "1714586400"] {
        let mut event = valid_event();
        event["starts_at"] = bad.into();
        let reply = APP.post("/api/events", &event);
        reply.assert_problem(422, "validation-failed");
        assert_eq!(reply.error_fields(), ["starts_at"], "{bad}");
    }
}

#[test]
fn a_body_over_64_kib_is_413() {
    let big = format!(r#"{{"email":"a@b.io","name":"{}"}}"#, "x".repeat(70 * 1024));
    post_raw("/api/users", &[JSON], big.as_bytes()).assert_problem(413, "payload-too-large");
    APP.get("/api/users/health").assert_status(200);
}

#[test]
fn a_body_just_under_64_kib_is_read() {
    let name = "x".repeat(60 * 1024);
    let reply = APP.post("/api/users", &json!({"email": "big@b.io", "name": name}));
    reply.assert_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["name"]);
}

#[test]
fn a_body_that_is_not_json_is_415() {
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
        post_raw("/api/users", &[("content-type", content_type)], br#"{"email":"a@b.io","name":"A"}"#)
            .assert_problem(415, "unsupported-media-type");
    }
    post_raw("/api/users", &[], br#"{"email":"a@b.io","name":"A"}"#).assert_problem(415, "unsupported-media-type");
}

#[test]
fn invalid_uuids_in_paths_are_404() {
    for id in ["nope", "1234", "0b6a3b4e8f7e4a8e9d554f3c2a1b0c9d", "%27%20OR%201=1"] {
        APP.get(&format!("/api/users/{id}")).assert_problem(404, "not-found");
        APP.get(&format!("/api/events/{id}")).assert_problem(404, "not-found");
    }
}

#[test]
fn unknown_routes_are_404_problems() {
    APP.get("/api/nothing-here").assert_problem(404, "not-found");
    APP.get("/api/users/0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d/extra").assert_problem(404, "not-found");
}

#[test]
fn every_response_carries_a_request_id() {
    let generated = APP.get("/api/users/health");
    let id = generated.header("x-request-id").expect("generated id");
    assert!(!id.is_empty() && id.len() <= 128);
    let echoed = APP.send("GET", "/api/users/health", &[("x-request-id", "trace-abc-123")], None);
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc-123"));
    let long = "a".repeat(129);
    let replaced = APP.send("GET", "/api/events/health", &[("x-request-id", &long)], None);
    assert_ne!(replaced.header("x-request-id"), Some(long.as_str()));
    let problem = APP.get("/api/users/nope");
    assert!(problem.header("x-request-id").is_some());
    // Answers the host makes itself (no route, body too large) carry the caller's id too.
    let unrouted = APP.send("GET", "/nowhere", &[("x-request-id", "trace-host-404")], None);
    unrouted.assert_problem(404, "not-found");
    assert_eq!(unrouted.header("x-request-id"), Some("trace-host-404"));
    assert!(APP.get("/nowhere").header("x-request-id").is_some_and(|id| !id.is_empty()));
}

#[test]
fn every_request_writes_one_json_log_line() {
    let marker = format!("log-{}", crate::support::unique_prefix("l"));
    APP.send("GET", "/api/events/health", &[("x-request-id", &marker)], None).assert_status(200);
    let log = APP.log_containing(&marker);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| line.contains(&marker))
        .map(|line| serde_json::from_str(line).expect("a JSON log line"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    let line = &lines[0];
    assert_eq!(line["component"], "events");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/api/events/health");
    assert_eq!(line["status"], 200);
    assert!(line["time"].is_string() && line["duration_ms"].is_number());
}

#[test]
fn an_allowed_origin_gets_cors_headers() {
    let origin = ("origin", "http://localhost:3000");
    let preflight = APP.send("OPTIONS", "/api/users", &[origin, ("access-control-request-method", "POST")], None);
    preflight.assert_status(204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("http://localhost:3000"));
    assert_eq!(preflight.header("access-control-allow-methods"), Some("GET, POST, OPTIONS"));
    assert_eq!(preflight.header("allow"), Some("GET, POST, OPTIONS"), "the methods of this path, not of the API");
    assert!(
        preflight
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Idempotency-Key") && h.contains("X-Request-Id"))
    );
    assert!(preflight.header("access-control-max-age").is_some());
    let simple = APP.send("GET", "/api/events/health", &[origin], None);
    assert_eq!(simple.header("access-control-allow-origin"), Some("http://localhost:3000"));
    assert_eq!(simple.header("vary"), Some("Origin"));
}

#[test]
fn options_names_the_methods_of_its_path_and_404s_where_there_is_none() {
    for (path, methods) in [
        ("/api/users/health", "GET, OPTIONS"),
        ("/api/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc/cancel", "POST, OPTIONS"),
        ("/api/participation/registrations/6f1c7f9e-1111-4c4c-8a8a-123456789abc", "GET, DELETE, OPTIONS"),
        ("/", "GET, OPTIONS"),
    ] {
        let reply = APP.send("OPTIONS", path, &[], None);
        reply.assert_status(204);
        assert_eq!(reply.header("allow"), Some(methods), "{path}");
    }
    APP.send("OPTIONS", "/api/users/a/b/c", &[], None).assert_problem(404, "not-found");
}

#[test]
fn another_origin_gets_no_cors_headers() {
    let origin = ("origin", "https://evil.example");
    let preflight = APP.send("OPTIONS", "/api/users", &[origin], None);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    assert_eq!(preflight.header("access-control-allow-methods"), None);
    assert_eq!(APP.send("GET", "/api/users/health", &[origin], None).header("access-control-allow-origin"), None);
}

#[test]
fn the_server_stays_healthy_after_garbage() {
    for _ in 0..20 {
        post_raw("/api/events", &[JSON], b"{\"title\": \"\\ud800\"}");
        post_raw("/api/users", &[("content-type", "application/json; charset=latin1")], b"\x00\x01\x02");
        APP.get("/api/events?limit=-1&cursor=%00");
    }
    APP.get("/api/users/health").assert_status(200);
    APP.get("/api/events/health").assert_status(200);
}
