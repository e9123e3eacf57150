//! The door page in a real browser: three gates, two of them offline for a
//! while, check signed codes on their own, and after the sync a ticket scanned
//! at two gates is in once and the second scan is reported at both.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::world::{self, id};
use crate::support::{APP, browser_signing_in};

fn order_of_one(ticket_type: &Value) -> Value {
    let buyer = world::user(&APP);
    let order = APP.post(
        "/api/tickets/orders",
        &json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": 1}),
    );
    order.assert_status(201);
    order.body
}

fn code_of(order: &Value) -> String {
    order["tickets"][0]["code"].as_str().expect("a code").to_owned()
}

fn signed(code: &str) -> String {
    APP.get(&format!("/api/tickets/{code}")).body["signed_code"].as_str().expect("a signed code").to_owned()
}

#[test]
fn three_gates_two_offline_admit_a_ticket_once_and_report_the_second_scan_at_both() {
    let Some(browser_dir) = browser_signing_in() else { return };
    let event = world::published_event(&APP, 100);
    let ticket_type = world::ticket_type(&APP, &event, 10);
    let (a, b, cancelled) = (order_of_one(&ticket_type), order_of_one(&ticket_type), order_of_one(&ticket_type));
    let revoked = signed(&code_of(&cancelled));
    APP.post(&format!("/api/tickets/orders/{}/cancel", id(&cancelled)), &json!({})).assert_status(200);
    let other_event = world::published_event(&APP, 100);
    let other = signed(&code_of(&order_of_one(&world::ticket_type(&APP, &other_event, 5))));
    let signed_a = signed(&code_of(&a));
    let mut forged: Vec<char> = signed_a.chars().collect();
    forged[130] = if forged[130] == 'A' { 'B' } else { 'A' };
    let codes = json!({"a": signed_a, "b": signed(&code_of(&b)), "revoked": revoked,
                       "forged": forged.into_iter().collect::<String>(), "other": other});

    let output = Command::new("node")
        .current_dir(&browser_dir)
        .args(["door-gates.mjs", &APP.base, id(&event), &codes.to_string()])
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");

    assert_eq!(result["verdicts"]["G1"], json!(["admitted"]));
    assert_eq!(result["verdicts"]["G2"], json!(["admitted", "revoked", "forged", "other-event", "already-here"]));
    assert_eq!(result["verdicts"]["G3"], json!(["admitted"]));
    assert_eq!(result["queued"], json!({"G1": 0, "G2": 1, "G3": 1}), "offline gates held their check-ins");
    let both_gates = json!([{"code": code_of(&a), "gate": "G3", "firstGate": "G2"}]);
    assert_eq!(result["reports"]["G2"], both_gates, "the gate that let A in first hears of it");
    assert_eq!(result["reports"]["G3"], both_gates, "so does the gate that scanned A again");
    assert_eq!(result["reports"]["G1"], json!([]));

    let ticket_a = APP.get(&format!("/api/tickets/{}", code_of(&a))).body;
    assert_eq!((ticket_a["status"].as_str(), ticket_a["checked_in_gate"].as_str()), (Some("checked_in"), Some("G2")));
    let ticket_b = APP.get(&format!("/api/tickets/{}", code_of(&b))).body;
    assert_eq!(ticket_b["checked_in_gate"].as_str(), Some("G1"));
    let duplicates = APP.get(&format!("/api/tickets/events/{}/duplicate-scans", id(&event))).body;
    assert_eq!(duplicates["items"].as_array().map(Vec::len), Some(1), "{duplicates}");
}
