//! The drill on the node (`scripts/test-on-node.sh`): an on-sale while the
//! kubelet's part is played: a domain's task SIGKILLed and, after a back-off,
//! its container started again (the kubelet's CrashLoopBackOff, 1 s then 2 s
//! here rather than from 10 s), and the database turning every
//! connection away for a while. Afterwards every acknowledged order reads
//! back, and a request failed only while a domain was down or the database
//! refused. Then scale to zero and back: a domain's container removed while
//! idle and started again, its first answer timed (printed, never asserted).
//! `EVENTOS_DRILL_SECONDS` sets its length.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::support::outage::{drill_length, limit_connections};
use crate::support::world::{self, id};
use crate::support::{Platform, admin_query, dev_token, on_node, unique_prefix};
use serde_json::json;

const CLIENTS: usize = 6;
/// The domains killed, in turn: an order is served by tickets and asks events.
const KILLED: [&str; 3] = ["tickets", "events", "tickets"];
/// After a domain answers again (or the database takes connections again),
/// the time a request that met the outage may still take to be answered.
const GRACE: Duration = Duration::from_secs(2);
/// Every domain with a database: all of them lose it at once.
const DOMAINS: [&str; 4] = ["users", "events", "participation", "tickets"];

struct Answered {
    sent: Instant,
    at: Instant,
    status: u16,
    order: Option<String>,
}

#[test]
fn a_node_that_loses_its_tasks_and_its_database_loses_nothing_acknowledged() {
    if !on_node() {
        println!("the node drill runs on the node: scripts/test-on-node.sh platform -- node_drill::");
        return;
    }
    let length = drill_length(20);
    let app = Mutex::new(Platform::start());
    let (event, ticket_type) = {
        let app = app.lock().expect("platform");
        let event = world::published_event(&app, 100);
        let ticket_type = world::ticket_type(&app, &event, 1_000_000);
        (event, ticket_type)
    };
    let base = app.lock().expect("platform").base.clone();
    let buyers: Vec<String> = (0..CLIENTS).map(|_| dev_token(&unique_prefix("buyer"), &[])).collect();
    let outages: Mutex<Vec<(Instant, Instant)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let answers: Vec<Answered> = std::thread::scope(|scope| {
        scope.spawn(|| {
            // The kubelet: a kill every eighth of the drill, each container started
            // again after its back-off (1 s, then 2 s).
            for (turn, domain) in KILLED.iter().enumerate() {
                let at = started + length * (turn as u32 + 1) / 8;
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                let killed = Instant::now();
                app.lock().expect("platform").containers().kill(domain);
                std::thread::sleep(Duration::from_secs(1 << turn.min(1)));
                app.lock().expect("platform").containers().restart(domain);
                outages.lock().expect("outages").push((killed, Instant::now() + GRACE));
            }
            // The database: every connection turned away for a while.
            let at = started + length * 5 / 8;
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            let refused = Instant::now();
            limit_connections(&app.lock().expect("platform"), &DOMAINS, 0);
            std::thread::sleep(Duration::from_millis(1500));
            limit_connections(&app.lock().expect("platform"), &DOMAINS, -1);
            outages.lock().expect("outages").push((refused, Instant::now() + GRACE));
        });
        let clients: Vec<_> = buyers
            .iter()
            .map(|token| {
                let (base, ticket_type) = (&base, &ticket_type);
                scope.spawn(move || {
                    let mut answers = Vec::new();
                    let body = json!({"ticket_type_id": ticket_type["id"], "quantity": 1}).to_string();
                    let headers = [("content-type", "application/json"), ("authorization", &format!("Bearer {token}"))];
                    while started.elapsed() < length {
                        let sent = Instant::now();
                        let url = format!("{base}/api/tickets/orders");
                        let reply = crate::support::send(&url, "POST", &headers, Some(body.clone().into_bytes()));
                        let order = (reply.status == 201).then(|| id(&reply.body).to_owned());
                        answers.push(Answered { sent, at: Instant::now(), status: reply.status, order });
                    }
                    answers
                })
            })
            .collect();
        clients.into_iter().flat_map(|c| c.join().expect("client")).collect()
    });

    let outages = outages.into_inner().expect("outages");
    assert_eq!(outages.len(), KILLED.len() + 1, "every outage was played");
    for answer in answers.iter().filter(|a| a.status != 201) {
        let during = outages.iter().any(|(from, to)| answer.at >= *from && answer.sent <= *to);
        assert!(
            during && matches!(answer.status, 502 | 503),
            "{} at {:?} into the drill, outside an outage or not one's answer",
            answer.status,
            answer.at - started
        );
    }
    let sold: Vec<&str> = answers.iter().filter_map(|a| a.order.as_deref()).collect();
    let last_outage = outages.iter().map(|(_, to)| *to).max().expect("an outage");
    assert!(sold.len() >= 20, "too few orders to prove anything: {}", sold.len());
    assert!(answers.iter().any(|a| a.status == 201 && a.sent > last_outage), "the sale went on after the last outage");
    let app = app.into_inner().expect("platform");
    let ids = sold.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let stored =
        admin_query(&format!("{}_tickets", app.prefix), &format!("SELECT count(*) FROM orders WHERE id IN ({ids})"));
    assert_eq!(stored, Ok(vec![sold.len().to_string()]), "every acknowledged order is stored");
    world::assert_stock_adds_up(&app, &ticket_type);
    let failed = answers.len() - sold.len();
    println!(
        "node drill: {} orders acknowledged and stored, {failed} turned away during {} outages",
        sold.len(),
        outages.len()
    );

    // Scale to zero and back: events removed while idle, then started again.
    let mut app = app;
    app.containers().kill("events");
    let starting = Instant::now();
    app.containers().restart("events");
    app.anonymous().get(&format!("/api/events/{}", id(&event))).assert_status(200);
    println!("node drill: events answered {:?} after its container was started from zero", starting.elapsed());
}
