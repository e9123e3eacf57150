//! Signed webhooks from the journal: a real HTTP receiver checks every
//! signature and, after deduplicating by `webhook-id`, sees every entry of its
//! event exactly once and each subject's entries in order, though it was down
//! for a while in between; and while it is up, each entry arrives right after
//! the request that made it, with no dispatcher call.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::receivers::{Receiver, nobody_listening};
use crate::support::world::{self, id};
use crate::support::{Platform, workspace};
use serde_json::{Value, json};

fn register(app: &Platform, domain: &str, event: &Value, receiver: &Receiver) {
    let reply = app.post(&format!("/api/{domain}/webhooks"), &json!({"url": receiver.url, "event_id": event["id"]}));
    reply.assert_status(201);
    let secret = reply.body["secret"].as_str().expect("the secret, shown once").to_owned();
    assert!(secret.starts_with("whsec_"));
    receiver.secrets.lock().expect("secrets").push(secret);
}

/// Calls the dispatcher until nothing is owed (or `limit` passes); the calls it made.
fn deliver_all(app: &Platform, domain: &str, limit: Duration) -> usize {
    let started = Instant::now();
    let mut calls = 0;
    let mut last = Value::Null;
    while started.elapsed() < limit {
        let reply = app.post(&format!("/api/{domain}/webhooks/deliver"), &json!({}));
        reply.assert_status(200);
        calls += 1;
        if reply.body["pending"] == 0 {
            return calls;
        }
        last = reply.body;
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{domain}: deliveries still owed after {limit:?}: {last}");
}

const DOMAINS: [&str; 3] = ["events", "participation", "tickets"];

fn registration(app: &Platform, event: &Value, user: &Value) -> Value {
    let reply = app.post("/api/participation/registrations", &json!({"event_id": event["id"], "user_id": user["id"]}));
    reply.assert_status(201);
    reply.body
}

#[test]
fn a_receiver_that_was_down_sees_every_entry_once_in_order_per_subject() {
    let env = [("SPIN_VARIABLE_WEBHOOK_HOSTS", "http://127.0.0.1:*")];
    let app = Platform::start_with(&workspace().join("spin.toml"), "webhooks", &env);
    let receiver = Receiver::start();
    let event = world::event(&app, 1);
    for domain in DOMAINS {
        register(&app, domain, &event, &receiver);
    }
    app.post(&format!("/api/events/{}/moderation", id(&event)), &json!({"decision": "approve"})).assert_status(200);
    receiver.wait_for("event.approved", id(&event));
    let ticket_type = world::ticket_type(&app, &event, 10);

    let buyer = world::user(&app);
    // One seat: the first registration is confirmed, the second waits.
    let (first, second) = (registration(&app, &event, &world::user(&app)), registration(&app, &event, &buyer));
    let order = app.post(
        "/api/tickets/orders",
        &json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": 3}),
    );
    order.assert_status(201);
    receiver.wait_for("order.confirmed", id(&order.body));
    let order_path = format!("/api/tickets/orders/{}", id(&order.body));
    let codes: Vec<String> = order.body["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["code"].as_str().expect("code").to_owned())
        .collect();
    app.post(&format!("{order_path}/payment"), &json!({"payment": "paid"})).assert_status(200);
    deliver_all(&app, "tickets", Duration::from_secs(20));

    // Down: what happens now waits, retried with backoff.
    receiver.up.store(false, Ordering::SeqCst);
    app.post(&format!("{order_path}/cancel"), &json!({"tickets": [codes[0]]})).assert_status(200);
    app.post(&format!("/api/tickets/{}/check-in", codes[1]), &json!({})).assert_status(200);
    app.post(&format!("{order_path}/cancel"), &json!({"tickets": [codes[2]]})).assert_status(200);
    app.delete(&format!("/api/participation/registrations/{}", id(&first))).assert_status(200);
    app.post(&format!("/api/events/{}/cancel", id(&event)), &json!({})).assert_status(200);
    let owed = app.post("/api/tickets/webhooks/deliver", &json!({}));
    assert!(owed.body["pending"].as_u64() >= Some(3), "{}", owed.body);
    assert!(receiver.inbox.lock().expect("inbox").refused >= 1, "each request tried its deliveries");
    std::thread::sleep(Duration::from_millis(1500));
    receiver.up.store(true, Ordering::SeqCst);
    for domain in DOMAINS {
        deliver_all(&app, domain, Duration::from_secs(30));
    }

    let inbox = receiver.inbox.lock().expect("inbox");
    assert_eq!(inbox.bad_signatures, 0);
    let mut seen: Vec<&(String, Value)> = Vec::new();
    for message in &inbox.messages {
        if !seen.iter().any(|(id, _)| *id == message.0) {
            seen.push(message);
        }
    }
    // Every audited entry of the event, from each domain, once.
    let mut journal: Vec<String> = Vec::new();
    for domain in DOMAINS {
        let audit = app.get(&format!("/api/{domain}/audit?event_id={}", id(&event)));
        journal.extend(audit.body["items"].as_array().expect("items").iter().map(|e| id(e).to_owned()));
    }
    let mut received: Vec<String> = seen.iter().map(|(id, _)| id.clone()).collect();
    received.sort();
    journal.sort();
    assert_eq!(received, journal, "every entry, once after deduplication");
    let kinds_of = |subject: &str| -> Vec<&str> {
        seen.iter()
            .filter(|(_, m)| m["data"]["subject"] == subject)
            .map(|(_, m)| m["type"].as_str().expect("type"))
            .collect()
    };
    assert_eq!(
        kinds_of(id(&order.body)),
        ["order.confirmed", "order.paid", "order.tickets_cancelled", "order.tickets_cancelled"],
        "an order's entries in the order they happened"
    );
    assert_eq!(kinds_of(&codes[1]), ["ticket.checked_in"]);
    assert_eq!(kinds_of(id(&event)), ["event.approved", "event.cancelled"]);
    assert_eq!(kinds_of(id(&first)), ["registration.confirmed", "registration.cancelled"]);
    assert_eq!(kinds_of(id(&second)), ["registration.waitlisted", "registration.promoted"]);
}

/// A platform whose components may deliver to this machine's 127.0.0.1.
fn on_loopback(tag: &str) -> Platform {
    Platform::start_with(&workspace().join("spin.toml"), tag, &[("SPIN_VARIABLE_WEBHOOK_HOSTS", "http://127.0.0.1:*")])
}

/// Registers `url` for the event's ticketing entries of `types` (all if `None`); the endpoint and its secret.
fn endpoint(app: &Platform, event: &Value, url: &str, types: Option<&[&str]>) -> (Value, String) {
    let mut body = json!({"url": url, "event_id": event["id"]});
    if let Some(types) = types {
        body["event_types"] = json!(types);
    }
    let reply = app.post("/api/tickets/webhooks", &body);
    reply.assert_status(201);
    let secret = reply.body["secret"].as_str().expect("secret").to_owned();
    (reply.body, secret)
}

fn buy(app: &Platform, ticket_type: &Value) -> Value {
    let buyer = world::user(app);
    let reply = app.post(
        "/api/tickets/orders",
        &json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": 1}),
    );
    reply.assert_status(201);
    reply.body
}

/// What the receiver kept of each message: its type and subject.
fn received(receiver: &Receiver) -> Vec<(String, String)> {
    let inbox = receiver.inbox.lock().expect("inbox");
    inbox
        .messages
        .iter()
        .map(|(_, m)| (m["type"].as_str().unwrap_or("").to_owned(), m["data"]["subject"].to_string()))
        .collect()
}

#[test]
fn an_organizer_manages_an_endpoint_as_stripe_or_svix_let_them() {
    let app = on_loopback("webhook_admin");
    let receiver = Receiver::start();
    let event = world::published_event(&app, 100);
    let ticket_type = world::ticket_type(&app, &event, 50);
    let (created, first_secret) = endpoint(&app, &event, &receiver.url, Some(&["order.paid"]));
    receiver.secrets.lock().expect("secrets").push(first_secret.clone());
    let path = format!("/api/tickets/webhooks/{}", id(&created));
    assert_eq!((created["event_types"].clone(), created["enabled"].clone()), (json!(["order.paid"]), json!(true)));

    // Only the types it wants.
    let order = buy(&app, &ticket_type);
    app.post(&format!("/api/tickets/orders/{}/payment", id(&order)), &json!({"payment": "paid"})).assert_status(200);
    receiver.wait_for("order.paid", id(&order));
    assert!(!received(&receiver).iter().any(|(kind, _)| kind == "order.confirmed"), "{:?}", received(&receiver));
    // The receiver sees the delivery before the platform has its answer and records it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let read = loop {
        let read = app.get(&path);
        read.assert_status(200);
        if read.body["pending"] == 0 || std::time::Instant::now() >= deadline {
            break read;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!((read.body["pending"].as_i64(), read.body["failing_since"].clone()), (Some(0), Value::Null));

    // Disabled by its owner: owed nothing new, and says why.
    let disabled = app.patch(&path, &json!({"enabled": false}));
    disabled.assert_status(200);
    assert_eq!(disabled.body["disabled_reason"], "disabled by its owner");
    let unseen = buy(&app, &ticket_type);
    app.post(&format!("/api/tickets/orders/{}/payment", id(&unseen)), &json!({"payment": "paid"})).assert_status(200);
    assert_eq!(app.get(&path).body["pending"], 0, "a disabled endpoint is owed nothing");
    let enabled = app.patch(&path, &json!({"enabled": true, "event_types": null}));
    enabled.assert_status(200);
    assert_eq!((enabled.body["enabled"].clone(), enabled.body["event_types"].clone()), (json!(true), Value::Null));
    app.patch(&path, &json!({"event_types": ["order.shipped"]})).assert_problem(422, "validation-failed");
    app.patch(&path, &json!({"url": "http://127.0.0.2:9/"})).assert_problem(422, "validation-failed");

    // A rotated secret: the old one signs beside the new one for a while.
    let rotated = app.post(&format!("{path}/secret"), &json!({}));
    rotated.assert_status(200);
    let second_secret = rotated.body["secret"].as_str().expect("a new secret").to_owned();
    assert_ne!(second_secret, first_secret);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    let tested = app.post(&format!("{path}/test"), &json!({}));
    tested.assert_status(200);
    assert_eq!((tested.body["delivered"].clone(), tested.body["status"].clone()), (json!(true), json!(204)));
    *receiver.secrets.lock().expect("secrets") = vec![second_secret];
    app.post(&format!("{path}/test"), &json!({})).assert_status(200);
    {
        let inbox = receiver.inbox.lock().expect("inbox");
        assert_eq!(inbox.bad_signatures, 0, "each test message verified under the secret the receiver knew");
        assert_eq!(inbox.messages.iter().filter(|(_, m)| m["type"] == "webhook.test").count(), 2);
    }

    // The delivery log, newest first.
    let log = app.get(&format!("{path}/attempts?limit=3"));
    log.assert_status(200);
    let kinds: Vec<&str> =
        log.body["items"].as_array().expect("items").iter().map(|a| a["type"].as_str().expect("type")).collect();
    assert_eq!(kinds, ["webhook.test", "webhook.test", "order.paid"]);
    assert_eq!(log.body["items"][2]["status"], 204);

    let member = app.with_token(&crate::support::dev_token("someone-else", &[]));
    member.get(&path).assert_problem(403, "forbidden");
    app.delete(&path).assert_status(204);
    app.get(&path).assert_problem(404, "not-found");
    app.get(&format!("{path}/attempts")).assert_problem(404, "not-found");
}

#[test]
fn a_receiver_inside_the_network_is_refused_at_registration_saying_why() {
    let app = Platform::start_with(&workspace().join("spin.toml"), "webhook_inside", &[]);
    let event = world::published_event(&app, 10);
    for inside in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://0/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
    ] {
        let reply = app.post("/api/tickets/webhooks", &json!({"url": inside, "event_id": event["id"]}));
        reply.assert_problem(422, "validation-failed");
        assert_eq!(reply.error_fields(), ["url"], "{inside}");
        let why = reply.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(why.contains("inside its own network"), "{inside}: {why}");
    }
    let off_limits =
        app.post("/api/events/webhooks", &json!({"url": "http://hooks.example.com/", "event_id": event["id"]}));
    off_limits.assert_problem(422, "validation-failed");
    assert!(off_limits.body["detail"].as_str().unwrap_or_default().contains("https://*:443"), "{:?}", off_limits.body);

    let named = on_loopback("webhook_named");
    let event = world::published_event(&named, 10);
    for other in ["http://127.0.0.2:9/", "http://localhost:9/", "http://[::1]:9/", "http://0:9/"] {
        let reply = named.post("/api/participation/webhooks", &json!({"url": other, "event_id": event["id"]}));
        reply.assert_problem(422, "validation-failed");
    }
    named
        .post("/api/participation/webhooks", &json!({"url": "http://127.0.0.1:9/", "event_id": event["id"]}))
        .assert_status(201);
}

#[test]
fn a_dead_receiver_is_backed_off_and_disabled_after_failing_for_days() {
    let app = on_loopback("webhook_dead");
    let event = world::published_event(&app, 100);
    let ticket_type = world::ticket_type(&app, &event, 100);
    let (created, _) = endpoint(&app, &event, &nobody_listening(), None);
    let path = format!("/api/tickets/webhooks/{}", id(&created));
    for _ in 0..20 {
        buy(&app, &ticket_type);
    }
    let attempts = || app.get(&format!("{path}/attempts?limit=200")).body["items"].as_array().map_or(0, Vec::len);
    let started = Instant::now();
    while attempts() == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let now = app.get(&path).body;
    assert_eq!(now["pending"], 20, "every order is owed");
    assert!(now["failing_since"].is_string(), "{now}");
    let tried = attempts();
    assert!((1..10).contains(&tried), "backed off as a whole: {tried} attempts for 20 orders");
    let log = app.get(&format!("{path}/attempts")).body;
    assert!(log["items"][0]["status"].is_null() && log["items"][0]["error"].is_string(), "{log}");

    // Five days and more of failures: the next attempt that fails disables it, saying why.
    let endpoint_id = id(&created);
    crate::support::admin_query(
        &format!("{}_tickets", app.prefix),
        &format!(
            "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days', paused_until = NULL
             WHERE id = '{endpoint_id}'"
        ),
    )
    .expect("age the failures");
    buy(&app, &ticket_type);
    let started = Instant::now();
    while app.get(&path).body["enabled"] == true && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let disabled = app.get(&path).body;
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert!(disabled["disabled_reason"].as_str().is_some_and(|why| why.starts_with("failing since")), "{disabled}");
    let pending = disabled["pending"].clone();
    buy(&app, &ticket_type);
    assert_eq!(app.get(&path).body["pending"], pending, "a disabled endpoint is owed nothing new");

    let enabled = app.patch(&path, &json!({"enabled": true}));
    enabled.assert_status(200);
    assert_eq!(
        (enabled.body["failing_since"].clone(), enabled.body["disabled_reason"].clone()),
        (Value::Null, Value::Null)
    );
}
