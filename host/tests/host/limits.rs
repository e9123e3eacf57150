//! The host's resource limits, each proven with the purpose-built probe guest:
//! memory per instance, instances at once, request head and body size, and the
//! time a client gets to send its headers. (The per-request deadline is in host.rs.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{Platform, admin_address, workspace, world};
use serde_json::json;

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

/// How many of the host's warnings say `message`.
fn warnings(app: &Platform, message: &str) -> usize {
    app.log_text().lines().filter(|line| line.contains(message) && line.contains("\"WARN\"")).count()
}

/// A pool of one connection, held by a request: the next requests are turned
/// away while it is still held (they do not queue behind it), and the host
/// says so once, not once per request.
#[test]
fn an_exhausted_pool_turns_requests_away_at_once_and_says_so_once() {
    let app = probe(&[("EVENTOS_PG_POOL_SIZE", "1"), ("EVENTOS_PG_POOL_WAIT_MS", "100")]);
    let tag = crate::support::unique_prefix("held");
    let address = crate::support::encode(&format!("{}&application_name={tag}", crate::support::admin_url()));
    let holding = || {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{tag}' AND query LIKE '%pg_sleep%'"
        );
        crate::support::admin_query("postgres", &sql) == Ok(vec!["1".to_string()])
    };
    std::thread::scope(|scope| {
        let holder = scope.spawn(|| app.get(&format!("/probe/pg-hold?address={address}&ms=4000")));
        let started = Instant::now();
        while !holding() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(holding(), "the holder took the pool's only connection");
        for _ in 0..5 {
            let refused = app.get(&format!("/probe/pg?address={address}"));
            assert_eq!(refused.status, 502, "{refused:#?}");
            assert!(refused.text.contains("exhausted"), "{}", refused.text);
        }
        assert!(!holder.is_finished(), "every request was turned away while the connection was still held");
        holder.join().expect("thread").assert_status(200);
    });
    assert_eq!(warnings(&app, "turned requests away"), 1, "{}", app.log_text());
    app.get(&format!("/probe/pg?address={address}")).assert_status(200);
}

/// A database that refuses every connection (a role allowed none, as a
/// server out of connections refuses): each request fails at once, and the
/// host says so once per interval.
#[test]
fn a_database_that_refuses_connections_is_said_once_per_interval() {
    let role = crate::support::unique_prefix("refused");
    crate::support::admin_query("postgres", &format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")).expect("a role");
    let app = probe(&[]);
    let url = crate::support::admin_url().replacen("postgres@", &format!("{role}@"), 1);
    let address = crate::support::encode(&url);
    for _ in 0..10 {
        let refused = app.get(&format!("/probe/pg?address={address}"));
        assert_eq!(refused.status, 502, "{refused:#?}");
        assert!(refused.text.contains("too many connections"), "{}", refused.text);
    }
    assert_eq!(warnings(&app, "turned requests away"), 1, "{}", app.log_text());
    crate::support::admin_query("postgres", &format!("DROP ROLE {role}")).expect("drop the role");
}

/// Connections nobody used for `EVENTOS_PG_IDLE_TIMEOUT_MS` are closed: an idle
/// host holds none.
#[test]
fn idle_connections_are_closed() {
    let app = probe(&[("EVENTOS_PG_IDLE_TIMEOUT_MS", "300")]);
    let tag = crate::support::unique_prefix("idle");
    let address = crate::support::encode(&format!("{}&application_name={tag}", crate::support::admin_url()));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                app.get(&format!("/probe/pg-hold?address={address}&ms=200")).assert_status(200);
            });
        }
    });
    let open = || {
        let sql = format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{tag}'");
        crate::support::admin_query("postgres", &sql).expect("count")[0].parse::<u32>().expect("a count")
    };
    let started = Instant::now();
    let mut seen = open();
    while seen > 0 && started.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
        seen = open();
    }
    assert_eq!(seen, 0, "the idle connections are closed");
}
