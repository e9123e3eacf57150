//! The Events section of the API, through the real host and component.

use crate::support::APP;
use serde_json::{Value, json};

const ORGANIZER: &str = "0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d";

fn event_body(title: &str) -> Value {
    json!({
        "title": title,
        "description": "Talks and workshops",
        "venue": "Hall A",
        "starts_at": "2026-05-01T18:00:00Z",
        "ends_at": "2026-05-01T22:00:00Z",
        "capacity": 100,
        "organizer_id": ORGANIZER,
    })
}

fn create(body: &Value) -> Value {
    let reply = APP.post("/api/events", body);
    reply.assert_status(201);
    reply.body
}

fn path_of(event: &Value) -> String {
    format!("/api/events/{}", event["id"].as_str().expect("id"))
}

fn moderate(event: &Value, decision: &str, reason: Option<&str>) -> crate::support::Reply {
    let mut body = json!({"decision": decision});
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    APP.post(&format!("{}/moderation", path_of(event)), &body)
}

fn cancel(event: &Value) -> crate::support::Reply {
    APP.send("POST", &format!("{}/cancel", path_of(event)), &[], None)
}

/// An event in the given status, reached through the API's own transitions.
fn event_in(status: &str) -> Value {
    let event = create(&event_body(status));
    let transition = match status {
        "pending_review" => return event,
        "published" => moderate(&event, "approve", None),
        "rejected" => moderate(&event, "reject", Some("spam")),
        "cancelled" => cancel(&event),
        other => panic!("no such status {other}"),
    };
    transition.assert_status(200);
    APP.get(&path_of(&event)).body
}

#[test]
fn a_new_event_waits_for_review() {
    let reply = APP.post("/api/events", &event_body("RustConf"));
    reply.assert_status(201);
    let event = &reply.body;
    assert_eq!(reply.header("location"), Some(path_of(event).as_str()));
    assert_eq!(event["status"], "pending_review");
    assert_eq!(event["moderation_reason"], Value::Null);
    assert_eq!(event["starts_at"], "2026-05-01T18:00:00Z");
    assert_eq!(event["capacity"], 100);
    assert_eq!(event["organizer_id"], ORGANIZER);
    assert_eq!(APP.get(&path_of(event)).body, *event);
}

#[test]
fn optional_fields_may_be_left_out() {
    let mut body = event_body("Bare");
    body.as_object_mut().expect("object").remove("description");
    body.as_object_mut().expect("object").remove("venue");
    let event = create(&body);
    assert_eq!(event["description"], Value::Null);
    assert_eq!(event["venue"], Value::Null);
}

#[test]
fn offsets_are_stored_as_utc() {
    let mut body = event_body("Offset");
    body["starts_at"] = "2026-05-01T20:00:00+02:00".into();
    assert_eq!(create(&body)["starts_at"], "2026-05-01T18:00:00Z");
}

#[test]
fn invalid_events_are_422_naming_each_field() {
    let cases = [
        ("title", json!("")),
        ("title", json!("t".repeat(201))),
        ("description", json!("d".repeat(5001))),
        ("venue", json!("v".repeat(201))),
        ("capacity", json!(0)),
        ("capacity", json!(1_000_001)),
        ("starts_at", json!("tomorrow")),
        ("ends_at", json!("2026-05-01T17:00:00Z")),
        ("organizer_id", json!("nobody")),
    ];
    for (field, value) in cases {
        let mut body = event_body("Invalid");
        body[field] = value.clone();
        let reply = APP.post("/api/events", &body);
        reply.assert_problem(422, "validation-failed");
        assert_eq!(reply.error_fields(), [field], "{field} = {value}");
    }
}

#[test]
fn moderation_approves_or_rejects_with_a_reason() {
    let approved = moderate(&create(&event_body("A")), "approve", None);
    approved.assert_status(200);
    assert_eq!(approved.body["status"], "published");
    let rejected = moderate(&create(&event_body("R")), "reject", Some("Duplicate listing"));
    rejected.assert_status(200);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["moderation_reason"], "Duplicate listing");
}

#[test]
fn rejecting_without_a_reason_is_422() {
    let event = create(&event_body("NoReason"));
    let reply = moderate(&event, "reject", None);
    reply.assert_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["reason"]);
    assert_eq!(APP.get(&path_of(&event)).body["status"], "pending_review");
}

#[test]
fn only_pending_events_can_be_moderated() {
    for status in ["published", "rejected", "cancelled"] {
        let event = event_in(status);
        moderate(&event, "approve", None).assert_problem(409, "invalid-transition");
        moderate(&event, "reject", Some("no")).assert_problem(409, "invalid-transition");
        assert_eq!(APP.get(&path_of(&event)).body["status"], status);
    }
}

#[test]
fn pending_and_published_events_can_be_cancelled() {
    for status in ["pending_review", "published"] {
        let reply = cancel(&event_in(status));
        reply.assert_status(200);
        assert_eq!(reply.body["status"], "cancelled");
    }
}

#[test]
fn rejected_and_cancelled_events_cannot_be_cancelled() {
    for status in ["rejected", "cancelled"] {
        cancel(&event_in(status)).assert_problem(409, "invalid-transition");
    }
}

#[test]
fn editing_a_rejected_event_sends_it_back_to_review() {
    let event = event_in("rejected");
    let reply = APP.patch(&path_of(&event), &json!({"title": "Fixed title"}));
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "pending_review");
    assert_eq!(reply.body["title"], "Fixed title");
    assert_eq!(reply.body["moderation_reason"], Value::Null);
}

#[test]
fn editing_a_published_event_keeps_it_published() {
    let event = event_in("published");
    let reply = APP.patch(&path_of(&event), &json!({"capacity": 5, "venue": null}));
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "published");
    assert_eq!(reply.body["capacity"], 5);
    assert_eq!(reply.body["venue"], Value::Null);
    assert_eq!(reply.body["title"], event["title"]);
}

#[test]
fn a_cancelled_event_cannot_be_edited() {
    let event = event_in("cancelled");
    APP.patch(&path_of(&event), &json!({"title": "Again"})).assert_problem(409, "invalid-transition");
}

#[test]
fn edits_are_validated_against_the_stored_event() {
    let event = create(&event_body("Times"));
    let path = path_of(&event);
    let reply = APP.patch(&path, &json!({"ends_at": "2026-05-01T17:00:00Z"}));
    reply.assert_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["ends_at"]);
    APP.patch(&path, &json!({"organizer_id": ORGANIZER})).assert_problem(422, "validation-failed");
    APP.patch(&path, &json!({"capacity": null})).assert_problem(422, "validation-failed");
    APP.patch(&path, &json!({"status": "published"})).assert_problem(400, "malformed-request");
    assert_eq!(APP.get(&path).body, event);
}

#[test]
fn unknown_events_are_404_for_every_operation() {
    let path = "/api/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc";
    APP.get(path).assert_problem(404, "not-found");
    APP.patch(path, &json!({"title": "x"})).assert_problem(404, "not-found");
    APP.post(&format!("{path}/moderation"), &json!({"decision": "approve"})).assert_problem(404, "not-found");
    APP.send("POST", &format!("{path}/cancel"), &[], None).assert_problem(404, "not-found");
    APP.get("/api/events/42").assert_problem(404, "not-found");
}

#[test]
fn the_list_filters_and_pages_in_start_order() {
    let organizer = "3d5c1a7e-2222-4d4d-9b9b-abcdefabcdef";
    let mut ids = Vec::new();
    for day in [5, 3, 1, 4, 2] {
        let mut body = event_body(&format!("Day {day}"));
        body["organizer_id"] = organizer.into();
        body["starts_at"] = format!("2027-03-0{day}T10:00:00Z").into();
        body["ends_at"] = format!("2027-03-0{day}T12:00:00Z").into();
        ids.push((day, create(&body)["id"].clone()));
    }
    ids.sort_by_key(|(day, _)| *day);
    let expected: Vec<Value> = ids.into_iter().map(|(_, id)| id).collect();

    let mut seen = Vec::new();
    let mut path = format!("/api/events?organizer_id={organizer}&limit=2");
    loop {
        let reply = APP.get(&path);
        reply.assert_status(200);
        seen.extend(reply.body["items"].as_array().expect("items").iter().map(|e| e["id"].clone()));
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/events?organizer_id={organizer}&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let window =
        APP.get(&format!("/api/events?organizer_id={organizer}&from=2027-03-02T10:00:00Z&to=2027-03-04T10:00:00Z"));
    let window_ids: Vec<Value> =
        window.body["items"].as_array().expect("items").iter().map(|e| e["id"].clone()).collect();
    assert_eq!(window_ids, expected[1..3], "from is inclusive, to exclusive");
}

#[test]
fn the_list_filters_by_status() {
    let organizer = "7a7a7a7a-3333-4e4e-8c8c-000000000001";
    let mut body = event_body("Status filter");
    body["organizer_id"] = organizer.into();
    let published = create(&body);
    moderate(&published, "approve", None).assert_status(200);
    create(&body);
    let reply = APP.get(&format!("/api/events?organizer_id={organizer}&status=published"));
    let items = reply.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], published["id"]);
}

#[test]
fn list_parameters_are_checked() {
    for query in [
        "status=draft",
        "organizer_id=nobody",
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "limit=0",
        "cursor=%%%",
        "colour=blue",
    ] {
        APP.get(&format!("/api/events?{query}")).assert_problem(400, "malformed-request");
    }
}

#[test]
fn health_reports_the_database() {
    let reply = APP.get("/api/events/health");
    reply.assert_status(200);
    assert_eq!(reply.body["component"], "events");
    assert_eq!(reply.body["database"]["status"], "ok");
}
