//! A door of several gates: check-ins that name their gate and scan time, a
//! scan sent again after its answer was lost, and a ticket scanned at two gates
//! admitted once, the second scan kept for both gates to hear of.

use serde_json::{Value, json};

use crate::support::world::{self, id};
use crate::support::{APP, Reply};

fn a_sold_ticket() -> (Value, String) {
    let event = world::published_event(&APP, 1000);
    let ticket_type = world::ticket_type(&APP, &event, 10);
    let buyer = world::user(&APP);
    let order = APP.post(
        "/api/tickets/orders",
        &json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": 1}),
    );
    order.assert_status(201);
    let code = order.body["tickets"][0]["code"].as_str().expect("a code").to_owned();
    (event, code)
}

fn scan(code: &str, body: &Value) -> Reply {
    APP.post(&format!("/api/tickets/{code}/check-in"), body)
}

fn duplicates(event: &Value) -> Vec<Value> {
    let reply = APP.get(&format!("/api/tickets/events/{}/duplicate-scans", id(event)));
    reply.assert_status(200);
    reply.body["items"].as_array().expect("items").clone()
}

#[test]
fn a_gate_that_was_offline_checks_in_at_the_time_it_scanned() {
    let (_, code) = a_sold_ticket();
    let scanned_at = "2026-01-02T03:04:05.678Z";
    let admitted = scan(&code, &json!({"scan_id": "s-1", "gate": "North", "scanned_at": scanned_at}));
    admitted.assert_status(200);
    assert_eq!(
        (admitted.body["checked_in_gate"].as_str(), admitted.body["checked_in_at"].as_str()),
        (Some("North"), Some(scanned_at))
    );
}

#[test]
fn a_scan_sent_again_is_answered_as_the_first_time_and_is_no_duplicate() {
    let (event, code) = a_sold_ticket();
    let body = json!({"scan_id": "lost-answer", "gate": "North", "scanned_at": "2026-01-02T03:04:05Z"});
    let first = scan(&code, &body);
    first.assert_status(200);
    let again = scan(&code, &body);
    again.assert_status(200);
    assert_eq!(again.body, first.body);
    assert!(duplicates(&event).is_empty());
}

#[test]
fn a_ticket_scanned_at_two_gates_is_admitted_once_and_the_second_scan_is_kept() {
    let (event, code) = a_sold_ticket();
    scan(&code, &json!({"scan_id": "n-1", "gate": "North", "scanned_at": "2026-01-02T03:00:00Z"})).assert_status(200);
    let second = scan(&code, &json!({"scan_id": "s-1", "gate": "South", "scanned_at": "2026-01-02T03:01:00Z"}));
    second.assert_problem(409, "already-checked-in");
    assert_eq!(
        (second.body["checked_in_gate"].as_str(), second.body["checked_in_at"].as_str()),
        (Some("North"), Some("2026-01-02T03:00:00Z"))
    );
    let kept = duplicates(&event);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (kept[0]["code"].as_str(), kept[0]["gate"].as_str(), kept[0]["first_gate"].as_str()),
        (Some(code.as_str()), Some("South"), Some("North"))
    );
    assert_eq!(kept[0]["scanned_at"], "2026-01-02T03:01:00Z");
}

#[test]
fn gates_racing_for_one_ticket_admit_it_once() {
    let (event, code) = a_sold_ticket();
    let gates = 8;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..gates)
            .map(|gate| {
                let code = &code;
                scope.spawn(move || {
                    scan(code, &json!({"scan_id": format!("g{gate}"), "gate": format!("Gate {gate}")})).status
                })
            })
            .collect();
        racers.into_iter().map(|racer| racer.join().expect("a gate")).collect()
    });
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), gates - 1, "{statuses:?}");
    assert_eq!(duplicates(&event).len(), gates - 1);
}

#[test]
fn a_check_in_is_never_dated_in_the_future_and_a_bad_scan_is_named() {
    let (_, code) = a_sold_ticket();
    let before = chrono::Utc::now();
    let admitted = scan(&code, &json!({"gate": "North", "scanned_at": "2999-01-01T00:00:00Z"}));
    admitted.assert_status(200);
    let at = chrono::DateTime::parse_from_rfc3339(admitted.body["checked_in_at"].as_str().expect("a time"))
        .expect("rfc3339");
    assert!(at >= before - chrono::Duration::seconds(5) && at <= chrono::Utc::now() + chrono::Duration::seconds(5));

    let (_, other) = a_sold_ticket();
    let refused = scan(&other, &json!({"gate": "g".repeat(65), "scanned_at": "soon", "scan_id": 7}));
    refused.assert_problem(400, "malformed-request");
    let refused = scan(&other, &json!({"gate": "g".repeat(65), "scanned_at": "soon"}));
    refused.assert_problem(422, "validation-failed");
    assert_eq!(refused.error_fields(), ["gate", "scanned_at"]);
    APP.send(
        "POST",
        &format!("/api/tickets/{other}/check-in"),
        &[("content-type", "text/plain")],
        Some(b"North".to_vec()),
    )
    .assert_problem(415, "unsupported-media-type");
    scan(&other, &json!({})).assert_status(200);
}
