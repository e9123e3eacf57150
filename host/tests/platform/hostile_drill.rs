//! The hostile drill: an on-sale while every kind of bad receiver is registered
//! on the event (one that never answers, one that answers 500, one that answers
//! after 5 s, a port nothing listens on) and, for a while, PostgreSQL turns the
//! tickets domain's new connections away as a server at its connection limit
//! does. Nothing outside the platform may stop the sale: every acknowledged
//! order is stored, only a 503 (with `Retry-After`) answers while the database
//! turns connections away and only 201 outside that window, the bad receivers
//! are backed off instead of tried once per order, and the healthy receiver gets
//! every order. `EVENTOS_DRILL_SECONDS` sets its length (`make chaos`: a minute).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::outage::{drill_length, limit_connections};
use crate::support::receivers::{Hostile, Hostility, Receiver, nobody_listening};
use crate::support::world::{self, id};
use crate::support::{Platform, admin_query, dev_token, unique_prefix, workspace};
use serde_json::{Value, json};

const CLIENTS: usize = 8;
/// After the database takes connections again, the time a request that was
/// turned away during the window may still take to be answered.
const GRACE: Duration = Duration::from_secs(2);

struct Answered {
    at: Instant,
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

#[test]
fn an_on_sale_shrugs_off_bad_receivers_and_a_database_at_its_connection_limit() {
    let length = drill_length(6);
    let app = Platform::start_with(
        &workspace().join("spin.toml"),
        "drill",
        &[("SPIN_VARIABLE_WEBHOOK_HOSTS", "http://127.0.0.1:*")],
    );
    let event = world::published_event(&app, 100);
    let ticket_type = world::ticket_type(&app, &event, 1_000_000);
    let healthy = Receiver::start();
    let register = |url: &str| {
        let reply = app.post("/api/tickets/webhooks", &json!({"url": url, "event_id": event["id"]}));
        reply.assert_status(201);
        reply.body
    };
    let endpoint = register(&healthy.url);
    healthy.secrets.lock().expect("secrets").push(endpoint["secret"].as_str().expect("secret").to_owned());
    let hostile: Vec<Hostile> = [Hostility::BlackHole, Hostility::Fails, Hostility::Late(Duration::from_secs(5))]
        .into_iter()
        .map(Hostile::start)
        .collect();
    let mut bad_endpoints: Vec<Value> = hostile.iter().map(|h| register(&h.url)).collect();
    bad_endpoints.push(register(&nobody_listening()));
    let buyers: Vec<String> = (0..CLIENTS).map(|_| dev_token(&unique_prefix("buyer"), &[])).collect();

    let started = Instant::now();
    let window = (started + length / 3, started + 2 * length / 3);
    let answers: Vec<Answered> = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(window.0 - Instant::now());
            limit_connections(&app, &["tickets"], 1);
            std::thread::sleep(window.1.saturating_duration_since(Instant::now()));
            limit_connections(&app, &["tickets"], -1);
        });
        let clients: Vec<_> = buyers
            .iter()
            .map(|token| {
                let (app, ticket_type) = (&app, &ticket_type);
                scope.spawn(move || {
                    let mut answers = Vec::new();
                    while started.elapsed() < length {
                        let reply = app
                            .with_token(token)
                            .post("/api/tickets/orders", &json!({"ticket_type_id": ticket_type["id"], "quantity": 1}));
                        let retry_after = reply.header("retry-after").map(str::to_owned);
                        answers.push(Answered {
                            at: Instant::now(),
                            status: reply.status,
                            retry_after,
                            body: reply.body,
                        });
                    }
                    answers
                })
            })
            .collect();
        clients.into_iter().flat_map(|c| c.join().expect("client")).collect()
    });

    // Only the window may turn a buyer away, and only with a 503 that says when to come back.
    for answer in &answers {
        let in_window = answer.at >= window.0 && answer.at <= window.1 + GRACE;
        match answer.status {
            201 => {}
            503 if in_window => assert_eq!(answer.retry_after.as_deref(), Some("1"), "{}", answer.body),
            status => panic!("{status} at {:?} into the drill: {}", answer.at - started, answer.body),
        }
    }
    let sold: Vec<String> = answers.iter().filter(|a| a.status == 201).map(|a| id(&a.body).to_owned()).collect();
    assert!(sold.len() >= 20, "too few orders to prove anything: {}", sold.len());
    assert!(answers.iter().any(|a| a.status == 201 && a.at > window.1), "the sale went on after the window");

    // Every acknowledged order is stored.
    let ids = sold.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let stored =
        admin_query(&format!("{}_tickets", app.prefix), &format!("SELECT count(*) FROM orders WHERE id IN ({ids})"));
    assert_eq!(stored, Ok(vec![sold.len().to_string()]));
    world::assert_stock_adds_up(&app, &ticket_type);

    // The healthy receiver gets every order; the bad ones were backed off, not tried per order.
    let wanted: HashSet<String> = sold.iter().cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy.subjects("order.confirmed").is_superset(&wanted) && Instant::now() < deadline {
        app.post("/api/tickets/webhooks/deliver", &json!({})).assert_status(200);
        std::thread::sleep(Duration::from_millis(100));
    }
    let missing = wanted.difference(&healthy.subjects("order.confirmed")).count();
    assert_eq!(missing, 0, "orders the healthy receiver never got, of {}", wanted.len());
    assert_eq!(healthy.inbox.lock().expect("inbox").bad_signatures, 0);
    for bad in &bad_endpoints {
        let attempts = app.get(&format!("/api/tickets/webhooks/{}/attempts?limit=200", id(bad)));
        let tried = attempts.body["items"].as_array().map_or(0, Vec::len);
        assert!(tried >= 1 && tried * 4 < sold.len(), "{} tried {tried} times for {} orders", bad["url"], sold.len());
        assert!(app.get(&format!("/api/tickets/webhooks/{}", id(bad))).body["failing_since"].is_string());
    }
    for receiver in &hostile {
        assert!(receiver.requests() >= 1, "{} was tried", receiver.url);
    }
}
