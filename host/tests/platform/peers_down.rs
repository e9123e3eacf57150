//! A peer that is down or hangs is a quick 503 problem, never a 500 or a hang.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::{Platform, Reply, workspace};
use serde_json::json;

/// Generous: the components give a peer 2 s; this only proves there is no hang.
const NO_HANG: Duration = Duration::from_secs(10);
/// What the components give a peer to answer (`components/common/src/peer.rs`):
/// a peer that never answers cannot be given up on sooner.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);

fn timed(call: impl FnOnce() -> Reply) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = call();
    (reply, started.elapsed())
}

/// Both calls that need events end in a 503 problem, no sooner than `at_least`.
fn exercise(app: &Platform, at_least: Duration) {
    let user = crate::support::world::user(app);
    let registration = json!({"event_id": "6f1c7f9e-1111-4c4c-8a8a-123456789abc", "user_id": user["id"]});
    let (reply, took) = timed(|| app.post("/api/participation/registrations", &registration));
    reply.assert_problem(503, "service-unavailable");
    assert!(took < NO_HANG, "registration took {took:?}");
    assert!(took >= at_least, "registration gave up after {took:?}, before the peer's timeout");
    let ticket_type = json!({"event_id": "6f1c7f9e-1111-4c4c-8a8a-123456789abc", "name": "GA",
                             "price_cents": 100, "currency": "EUR", "quantity": 5});
    let (reply, took) = timed(|| app.post("/api/tickets/types", &ticket_type));
    reply.assert_problem(503, "service-unavailable");
    assert!(took < NO_HANG, "ticket type took {took:?}");
    assert!(took >= at_least, "ticket type gave up after {took:?}, before the peer's timeout");
    app.get("/api/participation/health").assert_status(200);
}

#[test]
fn an_unreachable_events_component_is_a_503() {
    // A port nobody listens on: connections are refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let url = format!("http://{closed}");
    let app = Platform::start_with(&workspace().join("spin.toml"), "down", &[("SPIN_VARIABLE_EVENTS_URL", &url)]);
    exercise(&app, Duration::ZERO);
}

#[test]
fn a_hanging_events_component_is_a_503_after_the_timeout() {
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let app = Platform::start_with(&workspace().join("spin.toml"), "hang", &[("SPIN_VARIABLE_EVENTS_URL", &url)]);
    exercise(&app, PEER_TIMEOUT);
    drop(silent);
}
