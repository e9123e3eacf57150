//! The metrics operators alert on: `eventos` counts every answer per component,
//! route and status class, serves the counts on a listener of their own
//! (`EVENTOS_METRICS_LISTEN`, never the application's), and a real Prometheus
//! (Debian's) scrapes them and answers with the same numbers; with an OTLP
//! endpoint set, the same numbers are pushed over OTLP.

use std::time::{Duration, Instant};

use crate::support::otlp::Receiver;
use crate::support::prometheus::Prometheus;
use crate::support::world::{self, id};
use crate::support::{Platform, free_address, send, workspace};
use serde_json::{Value, json};

const EVENT_READS: &str = r#"eventos_requests_total{component="events",route="/api/events/...",status="2xx"}"#;
const EVENT_MISSES: &str = r#"eventos_requests_total{component="events",route="/api/events/...",status="4xx"}"#;

fn scrape(address: &str) -> String {
    let reply = send(&format!("http://{address}/metrics"), "GET", &[], None);
    reply.assert_status(200);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("application/openmetrics-text")));
    reply.text
}

/// The value of one series in an exposition; absent is zero.
fn sample(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[test]
fn answers_are_counted_per_component_route_and_status_and_prometheus_reads_the_same() {
    let metrics = free_address();
    let app = Platform::start_with(&workspace().join("spin.toml"), "metrics", &[("EVENTOS_METRICS_LISTEN", &metrics)]);
    let event = world::published_event(&app, 10);
    let before = scrape(&metrics);
    for _ in 0..7 {
        app.anonymous().get(&format!("/api/events/{}", id(&event))).assert_status(200);
    }
    for _ in 0..3 {
        app.anonymous().get("/api/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc").assert_status(404);
    }
    let after = scrape(&metrics);
    assert_eq!(sample(&after, EVENT_READS) - sample(&before, EVENT_READS), 7.0, "{after}");
    assert_eq!(sample(&after, EVENT_MISSES) - sample(&before, EVENT_MISSES), 3.0, "{after}");
    let connections = format!(r#"eventos_pg_pool_connections{{database="{}_events"}}"#, app.prefix);
    assert!(sample(&after, &connections) >= 1.0, "the events pool: {after}");
    assert!(sample(&after, "eventos_instances_max") >= 1.0);
    assert!(after.contains("eventos_instantiation_duration_seconds_count{component=\"events\"}"));
    // A replayed order: its insert collides with the first one's key, and the statement fails.
    let ticket_type = world::ticket_type(&app, &event, 5);
    let order = serde_json::json!({"ticket_type_id": ticket_type["id"], "quantity": 1});
    let headers = [("content-type", "application/json"), ("idempotency-key", "metrics-replay")];
    let body = || Some(order.to_string().into_bytes());
    app.send("POST", "/api/tickets/orders", &headers, body()).assert_status(201);
    let failed = format!(r#"eventos_pg_statement_errors_total{{database="{}_tickets"}}"#, app.prefix);
    let failures_before = sample(&scrape(&metrics), &failed);
    app.send("POST", "/api/tickets/orders", &headers, body()).assert_status(200);
    assert!(sample(&scrape(&metrics), &failed) > failures_before, "the colliding insert was counted");
    // Not on the application's routes, and nothing else on the metrics listener.
    app.anonymous().get("/metrics").assert_status(404);
    assert_eq!(send(&format!("http://{metrics}/"), "GET", &[], None).status, 404);

    let prometheus =
        Prometheus::start(&free_address(), &metrics, &workspace().join("target/test-logs").join(&app.prefix));
    let expected = sample(&after, EVENT_READS);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = None;
    while Instant::now() < deadline && seen != Some(expected) {
        std::thread::sleep(Duration::from_millis(500));
        seen = prometheus.query(EVENT_READS);
    }
    assert_eq!(seen, Some(expected), "what Prometheus scraped");
}

/// The newest exported value of `name` with exactly `attributes`.
fn latest(points: &[Value], name: &str, attributes: &Value) -> Option<f64> {
    points.iter().rev().find(|p| p["name"] == name && &p["attributes"] == attributes)?["value"].as_f64()
}

#[test]
fn with_an_otlp_endpoint_the_same_counts_are_pushed_over_otlp() {
    let receiver = Receiver::start("otlp_metrics");
    let metrics = free_address();
    let app = receiver.platform("otlp_metrics", &[("EVENTOS_METRICS_LISTEN", &metrics)]);
    let event = world::published_event(&app, 10);
    for _ in 0..5 {
        app.anonymous().get(&format!("/api/events/{}", id(&event))).assert_status(200);
    }
    for _ in 0..2 {
        app.anonymous().get("/api/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc").assert_status(404);
    }
    let scraped = scrape(&metrics);
    let (reads, misses) = (sample(&scraped, EVENT_READS), sample(&scraped, EVENT_MISSES));
    assert_eq!(misses, 2.0, "{scraped}");

    let route = |status: &str| json!({"component": "events", "route": "/api/events/...", "status": status});
    let pool = json!({"database": format!("{}_events", app.prefix)});
    let points = receiver.wait_for(
        |record| record["signal"] == "metric",
        |points| {
            latest(points, "eventos.requests", &route("2xx")) == Some(reads)
                && latest(points, "eventos.requests", &route("4xx")) == Some(misses)
                && latest(points, "eventos.pg_pool_connections", &pool).is_some()
        },
    );
    assert_eq!(latest(&points, "eventos.requests", &route("2xx")), Some(reads), "what OTLP carried: {points:#?}");
    assert_eq!(latest(&points, "eventos.requests", &route("4xx")), Some(misses));
    let durations = json!({"component": "events", "route": "/api/events/..."});
    assert_eq!(latest(&points, "eventos.request_duration", &durations), Some(reads + misses), "one per answer");
    let events = json!({"component": "events"});
    assert!(latest(&points, "eventos.instantiation_duration", &events).is_some_and(|n| n >= reads + misses));
    assert!(latest(&points, "eventos.pg_pool_connections", &pool).is_some_and(|n| n >= 1.0));
    assert!(latest(&points, "eventos.instances_max", &json!({})).is_some_and(|n| n >= 1.0));
    assert!(latest(&points, "eventos.pg_statement_errors", &pool).is_some(), "counted even at zero");
}

fn traffic_of<'a>(traffic: &'a Value, domain: &str) -> &'a Value {
    let components = traffic["components"].as_array().expect("components");
    components.iter().find(|c| c["name"] == domain).unwrap_or_else(|| panic!("no {domain}: {traffic}"))
}

#[test]
fn the_status_page_reads_each_domains_traffic_from_prometheus() {
    let (metrics, prometheus_address) = (free_address(), free_address());
    let prometheus_url = format!("http://{prometheus_address}");
    let env = [("EVENTOS_METRICS_LISTEN", metrics.as_str()), ("SPIN_VARIABLE_PROMETHEUS_URL", prometheus_url.as_str())];
    let app = Platform::start_with(&workspace().join("spin.toml"), "traffic", &env);
    let prometheus =
        Prometheus::start(&prometheus_address, &metrics, &workspace().join("target/test-logs").join(&app.prefix));
    // A rate is a series' growth between scrapes, not its birth: the event's making
    // begins the events series, the reads come after Prometheus has seen it once.
    let event = world::published_event(&app, 10);
    let deadline = Instant::now() + Duration::from_secs(30);
    while prometheus.query("up") != Some(1.0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    for _ in 0..6 {
        app.anonymous().get(&format!("/api/events/{}", id(&event))).assert_status(200);
    }
    app.anonymous().get("/api/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc").assert_status(404);
    let deadline = Instant::now() + Duration::from_secs(30);
    let traffic = loop {
        let reply = app.anonymous().get("/api/status/traffic");
        reply.assert_status(200);
        let events = traffic_of(&reply.body, "events");
        let seen = events["requests_per_second"].as_f64().is_some_and(|rate| rate > 0.0);
        if seen || Instant::now() > deadline {
            break reply.body;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!((traffic["configured"].as_bool(), traffic["window"].as_str()), (Some(true), Some("5m")), "{traffic}");
    let events = traffic_of(&traffic, "events");
    assert!(events["requests_per_second"].as_f64().is_some_and(|rate| rate > 0.0), "{events}");
    assert_eq!(events["error_ratio"].as_f64(), Some(0.0), "a 404 is the caller's error, not the server's: {events}");
    assert!(events["p99_ms"].as_f64().is_some_and(|ms| ms > 0.0 && ms < 3_300.0), "{events}");
    let participation = traffic_of(&traffic, "participation");
    assert_eq!(participation["requests_per_second"], Value::Null, "no request reached it: {participation}");

    drop(prometheus);
    app.anonymous().get("/api/status/traffic").assert_problem(503, "service-unavailable");
}
