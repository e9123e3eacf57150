//! Hostile input: SQL metacharacters and Unicode edge cases are stored and
//! returned exactly as sent, and secrets never reach a response or a log line.

use std::net::TcpListener;

use crate::support::world::{self, id};
use crate::support::{APP, Platform, workspace};
use serde_json::{Value, json};

/// Each is stored verbatim (strings are trimmed, so none starts or ends with space).
const NASTY: &[&str] = &[
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    "\"; SELECT pg_sleep(10); --",
    "$1 $$ \\x00 %s %n {0}",
    "Zoë Ålborg-Ønsker 日本語 中文 한국어",
    "emoji 🎟️👩🏽‍💻🏳️‍🌈",
    "RTL \u{202e}olleh\u{202c} עברית العربية",
    "combining e\u{301} and zero\u{200d}width\u{200b}joiners",
    "line\nbreak\ttab",
    "<script>alert(1)</script>",
];

#[test]
fn user_names_are_stored_verbatim() {
    for (i, text) in NASTY.iter().enumerate() {
        let email = format!("hostile{i}.{}@example.com", crate::support::unique_prefix("h"));
        let reply = APP.post("/api/users", &json!({"email": email, "name": text}));
        reply.assert_status(201);
        assert_eq!(reply.body["name"], *text);
        assert_eq!(APP.get(&format!("/api/users/{}", id(&reply.body))).body["name"], *text);
    }
}

#[test]
fn event_texts_are_stored_verbatim() {
    let organizer = world::user(&APP);
    for text in NASTY {
        let body = json!({"title": text, "description": text, "venue": text, "starts_at": "2027-01-01T10:00:00Z",
                          "ends_at": "2027-01-01T11:00:00Z", "capacity": 5, "organizer_id": organizer["id"]});
        let reply = APP.post("/api/events", &body);
        reply.assert_status(201);
        let stored = APP.get(&format!("/api/events/{}", id(&reply.body))).body;
        for field in ["title", "description", "venue"] {
            assert_eq!(stored[field], *text, "{field}");
        }
    }
}

#[test]
fn ticket_type_names_are_stored_verbatim() {
    let event = world::published_event(&APP, 10);
    for text in NASTY.iter().filter(|t| t.chars().count() <= 100) {
        let body = json!({"event_id": event["id"], "name": text, "price_cents": 1, "currency": "EUR", "quantity": 1});
        let reply = APP.post("/api/tickets/types", &body);
        reply.assert_status(201);
        assert_eq!(APP.get(&format!("/api/tickets/types/{}", id(&reply.body))).body["name"], *text);
    }
}

#[test]
fn metacharacters_in_filters_find_nothing_and_break_nothing() {
    for filter in ["a'--@b.io", "a%25@b.io", "a%5C@b.io", "%F0%9F%8E%9F@b.io"] {
        let reply = APP.get(&format!("/api/users?email={filter}"));
        reply.assert_status(200);
        assert_eq!(reply.body["items"], json!([]));
    }
    APP.get("/api/users?email=%27%20OR%201=1").assert_problem(400, "malformed-request");
    APP.get("/api/users?email=%00@b.io").assert_problem(400, "malformed-request");
    APP.get("/api/users/health").assert_status(200);
}

#[test]
fn a_nul_character_is_a_422_not_a_database_error() {
    let reply = APP.post("/api/users", &json!({"email": "nul@example.com", "name": "a\u{0}b"}));
    reply.assert_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["name"]);
}

#[test]
fn database_passwords_never_reach_a_response_or_a_log_line() {
    const PASSWORD: &str = "hunter2-must-not-leak";
    // An allowed address where nothing answers, reached with a password in the URL.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let url = format!("postgres://eventos:{PASSWORD}@{closed}/eventos?sslmode=disable");
    let host = closed.to_string();
    let app = Platform::start_with(
        &workspace().join("spin.toml"),
        "secret",
        &[("SPIN_VARIABLE_USERS_DB_URL", &url), ("SPIN_VARIABLE_USERS_DB_HOST", &host)],
    );
    let mut answers: Vec<Value> = Vec::new();
    let health = app.get("/api/users/health");
    health.assert_status(503);
    assert_eq!(health.body["database"]["status"], "unavailable");
    answers.push(health.body.clone());
    let create = app.post("/api/users", &json!({"email": "x@example.com", "name": "X"}));
    create.assert_problem(503, "service-unavailable");
    answers.push(create.body);
    answers.push(app.get("/api/users/0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d").body);
    answers.push(app.get("/api/status").body);
    for answer in &answers {
        assert!(!answer.to_string().contains(PASSWORD), "{answer}");
    }
    let log = app.log_containing(r#""path":"/api/status""#);
    assert!(log.contains("users"), "the requests were logged");
    assert!(!log.contains(PASSWORD), "the password is in the log");
    assert!(!log.contains("postgres://eventos:"), "a connection string is in the log");
}
