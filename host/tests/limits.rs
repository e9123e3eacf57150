//! The host's resource limits, each proven with the purpose-built probe guest:
//! memory per instance, instances at once, request head and body size, and the
//! time a client gets to send its headers. (The per-request deadline is in host.rs.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Platform, admin_address, workspace, world};

fn probe(env: &[(&str, &str)]) -> Platform {
    let address = admin_address();
    let mut env = env.to_vec();
    env.push(("SPIN_VARIABLE_PROBE_DB_HOST", &address));
    Platform::start_with(&workspace().join("host/tests/fixtures/probe.toml"), "limits", &env)
}

#[test]
fn an_instance_cannot_grow_past_its_memory_limit() {
    let app = probe(&[("EVENTOS_MAX_MEMORY_MB", "16")]);
    app.get("/probe/alloc?mb=4").assert_status(200);
    app.get("/probe/alloc?mb=64").assert_bare(500);
    app.get("/probe/alloc?mb=4").assert_status(200);
}

#[test]
fn requests_beyond_the_instance_cap_get_a_quick_503() {
    let app = probe(&[("EVENTOS_MAX_INSTANCES", "2"), ("EVENTOS_INSTANCE_WAIT_MS", "100")]);
    let replies = std::thread::scope(|scope| {
        let sleepers: Vec<_> = (0..2).map(|_| scope.spawn(|| app.get("/probe/sleep?ms=1500"))).collect();
        std::thread::sleep(Duration::from_millis(400));
        let started = Instant::now();
        let refused = app.get("/probe/echo");
        let waited = started.elapsed();
        let slept: Vec<_> = sleepers.into_iter().map(|s| s.join().expect("thread")).collect();
        (refused, waited, slept)
    });
    let (refused, waited, slept) = replies;
    refused.assert_problem(503, "service-unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(waited < Duration::from_secs(1), "refused after {waited:?}, not held");
    assert!(slept.iter().all(|r| r.status == 200), "the admitted requests finish");
    app.get("/probe/echo").assert_status(200);
}

/// An order is a chain: tickets asks events and users while its own instance
/// waits. With every client slot taken by orders, their callees still get
/// instances (from the chained calls' reserve), so every order completes; were
/// callees to compete with their callers for one pool, each order would hold a
/// slot while its callee waited for one, and all of them would end in 503s.
#[test]
fn callers_holding_every_slot_still_reach_their_callees() {
    let app = Platform::start_with(
        &workspace().join("spin.toml"),
        "admission",
        &[("EVENTOS_MAX_INSTANCES", "2"), ("EVENTOS_MAX_CHAINED_INSTANCES", "2"), ("EVENTOS_INSTANCE_WAIT_MS", "5000")],
    );
    let ticket_type = world::ticket_type(&app, &world::published_event(&app, 100), 100);
    let buyers: Vec<_> = (0..6).map(|_| world::user(&app)).collect();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let orders: Vec<_> = buyers
            .iter()
            .map(|buyer| {
                let body = json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": 1});
                let app = &app;
                scope.spawn(move || app.post("/api/tickets/orders", &body).status)
            })
            .collect();
        orders.into_iter().map(|order| order.join().expect("thread")).collect()
    });
    assert_eq!(statuses, [201; 6], "every order completes");
}

#[test]
fn a_body_over_the_host_limit_is_413_before_any_guest_runs() {
    let app = probe(&[("EVENTOS_MAX_BODY_KB", "8")]);
    let reply = app.send("POST", "/probe/echo", &[("content-type", "text/plain")], Some(vec![b'x'; 9 * 1024]));
    reply.assert_problem(413, "payload-too-large");
    app.send("POST", "/probe/echo", &[("content-type", "text/plain")], Some(vec![b'x'; 1024])).assert_status(200);
}

#[test]
fn a_guest_finishes_its_work_after_the_client_left() {
    let app = probe(&[]);
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.write_all(b"GET /probe/sleep?ms=700 HTTP/1.1\r\nhost: x\r\n\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(200));
    drop(stream);
    let waited = std::time::Instant::now();
    while !app.log_text().contains("probe: slept 700 ms") {
        assert!(waited.elapsed() < Duration::from_secs(10), "the guest was cut off when its client left");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn raw_request(app: &Platform, request: &[u8]) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn request_headers_over_the_limit_are_refused() {
    let app = probe(&[("EVENTOS_MAX_HEADER_KB", "16")]);
    let big = format!("GET /probe/echo HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(64 * 1024));
    let answer = raw_request(&app, big.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{}", answer.lines().next().unwrap_or_default());
    app.get("/probe/echo").assert_status(200);
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = probe(&[("EVENTOS_HEADER_TIMEOUT_MS", "500")]);
    let address = app.base.trim_start_matches("http://");
    let mut slow = TcpStream::connect(address).expect("connect");
    slow.write_all(b"GET /probe/echo HTTP/1.1\r\nhost: x\r\n").expect("write part");
    slow.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(started.elapsed() < Duration::from_secs(5), "the server closed the connection");
    assert!(answer.is_empty() || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"));
    app.get("/probe/echo").assert_status(200);
}
