//! The status component: `/api/status` with every domain up and with one hanging,
//! and a real browser buying a ticket through the page.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::prometheus::Prometheus;
use crate::support::world::{self, id};
use crate::support::{Platform, free_address, workspace};
use serde_json::json;

#[test]
fn the_overview_lists_every_domain_as_ok() {
    let app = Platform::start();
    let reply = app.get("/api/status");
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "ok");
    let components = reply.body["components"].as_array().expect("components");
    let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["users", "events", "participation", "tickets"]);
    for component in components {
        assert_eq!(component["status"], "ok", "{component}");
        assert!(component["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
        assert!(component["instance"].as_str().is_some_and(|i| !i.is_empty()));
        assert_eq!(component["version"], "0.1.0");
    }
    let health = app.get("/api/status/health");
    assert_eq!((health.body["status"].as_str(), health.body.get("database")), (Some("ok"), None));
}

#[test]
fn a_hanging_domain_is_unavailable_and_the_overview_still_answers_in_time() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let app =
        Platform::start_with(&workspace().join("spin.toml"), "statushang", &[("SPIN_VARIABLE_TICKETS_URL", &url)]);
    let started = Instant::now();
    let reply = app.get("/api/status");
    let took = started.elapsed();
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "degraded");
    let tickets = &reply.body["components"][3];
    assert_eq!((tickets["name"].as_str(), tickets["status"].as_str()), (Some("tickets"), Some("unavailable")));
    assert_eq!(reply.body["components"][0]["status"], "ok");
    // The contract's bound is 2 s; the margin absorbs a busy machine, not a hang.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    drop(silent);
}

/// A stand-in for Prometheus' HTTP API that answers `count` queries, each with
/// tickets at `value`, and hands back the request heads it was sent.
fn prometheus_api(count: usize, value: &str) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let answer = json!({"status": "success", "data": {"resultType": "vector",
        "result": [{"metric": {"component": "tickets"}, "value": [1.0, value]}]}})
    .to_string();
    let heads = std::thread::spawn(move || {
        (0..count)
            .map(|_| {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut head = String::new();
                while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                stream.write_all(reply.as_bytes()).expect("answer");
                head
            })
            .collect()
    });
    (url, heads)
}

#[test]
fn traffic_comes_from_the_configured_prometheus_only_and_never_carries_the_callers_token() {
    let app = Platform::start();
    let unset = app.anonymous().get("/api/status/traffic");
    unset.assert_status(200);
    assert_eq!((unset.body["configured"].as_bool(), &unset.body["components"]), (Some(false), &json!([])));
    app.anonymous().send("POST", "/api/status/traffic", &[], None).assert_problem(405, "method-not-allowed");

    let (url, heads) = prometheus_api(3, "0.5");
    let app =
        Platform::start_with(&workspace().join("spin.toml"), "traffic", &[("SPIN_VARIABLE_PROMETHEUS_URL", &url)]);
    let reply = app.get("/api/status/traffic");
    reply.assert_status(200);
    assert_eq!(reply.body["configured"], true);
    let tickets = &reply.body["components"][3];
    assert_eq!((tickets["name"].as_str(), tickets["requests_per_second"].as_f64()), (Some("tickets"), Some(0.5)));
    assert_eq!((tickets["error_ratio"].as_f64(), tickets["p99_ms"].as_f64()), (Some(0.5), Some(500.0)));
    assert_eq!(reply.body["components"][0]["requests_per_second"], serde_json::Value::Null);
    let heads = heads.join().expect("the stand-in's requests");
    for head in &heads {
        assert!(head.starts_with("GET /api/v1/query?query="), "{head}");
        assert!(!head.to_ascii_lowercase().contains("authorization"), "the caller's token went to Prometheus: {head}");
    }
}

#[test]
fn a_real_prometheus_is_asked_through_the_manifests_allowed_hosts() {
    let address = free_address();
    let dir = workspace().join("target/test-logs").join(crate::support::unique_prefix("prometheus"));
    let _prometheus = Prometheus::start(&address, "127.0.0.1:9", &dir);
    let url = format!("http://{address}");
    let app =
        Platform::start_with(&workspace().join("spin.toml"), "traffic", &[("SPIN_VARIABLE_PROMETHEUS_URL", &url)]);
    let reply = app.anonymous().get("/api/status/traffic");
    reply.assert_status(200);
    assert_eq!(reply.body["configured"], true);
    let names: Vec<&str> = reply.body["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["users", "events", "participation", "tickets"]);
}

#[test]
fn the_page_and_its_assets_are_served_by_the_component() {
    let app = Platform::start();
    let page = app.get("/");
    page.assert_status(200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("default-src 'self'")));
    assert!(page.text.contains("<script src=\"/static/app.js\""));
    for asset in [
        "/static/app.js",
        "/static/session.js",
        "/static/history.js",
        "/static/traffic.js",
        "/static/builds.js",
        "/static/app.css",
        "/static/icon.svg",
    ] {
        app.get(asset).assert_status(200);
    }
    for traversal in
        ["/static/../spin.toml", "/static/%2e%2e%2fspin.toml", "/static/..%2f..%2fCargo.toml", "/static/nope.js"]
    {
        app.get(traversal).assert_problem(404, "not-found");
    }
}

#[test]
fn a_person_buys_a_ticket_from_the_page_in_a_real_browser() {
    let Some(browser_dir) = crate::support::browser_signing_in() else { return };
    // Prometheus scrapes the host's metrics for the page's traffic columns (under
    // Spin there are none of the host's metrics: the columns show, without figures).
    let (metrics, prometheus_address) = (free_address(), free_address());
    let prometheus_url = format!("http://{prometheus_address}");
    let env = [("EVENTOS_METRICS_LISTEN", metrics.as_str()), ("SPIN_VARIABLE_PROMETHEUS_URL", prometheus_url.as_str())];
    let app = Platform::start_with(&workspace().join("spin.toml"), "browser", &env);
    let dir = workspace().join("target/test-logs").join(&app.prefix);
    let _prometheus = Prometheus::start(&prometheus_address, &metrics, &dir);
    let event = world::published_event(&app, 100);
    let ticket_type = world::ticket_type(&app, &event, 10);
    let voucher = json!({"event_id": event["id"], "code": "BROWSER-25", "percent_off": 25, "max_uses": 1});
    app.post("/api/tickets/vouchers", &voucher).assert_status(201);
    // The event's on-sale goes through a waiting room admitting a buyer every
    // ten seconds, and two buyers came first: the page shows its buyer third (to
    // be let in 20 s after the first, however long the page takes to get there),
    // then buys with the pass.
    let room = json!({"on_sale_at": chrono::Utc::now().to_rfc3339(), "admissions_per_minute": 6});
    app.json("PUT", &format!("/api/tickets/events/{}/waiting-room", id(&event)), &room).assert_status(201);
    for token in crate::support::people::crowd(2) {
        let path = format!("/api/tickets/events/{}/waiting-room/visitors", id(&event));
        app.with_token(&token).send("POST", &path, &[], None).assert_status(201);
    }
    let name = crate::support::unique_prefix("Browser buyer");
    let shots = workspace().join("target/browser");
    let on_eventos = matches!(crate::support::runtime(), crate::support::Runtime::Eventos);
    let output = Command::new("node")
        .current_dir(&browser_dir)
        .env("TRAFFIC", if on_eventos { "figures" } else { "columns" })
        .env("VOUCHER", "browser-25")
        .env("QUEUED", "1")
        .arg("buy-a-ticket.mjs")
        .args([&app.base, id(&event), id(&ticket_type), &format!("dev:{name}")])
        .arg(&shots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    // The checkout held one ticket at the voucher's price, and the page showed it.
    let held = &result["held"];
    assert!(held["amount"].as_str().is_some_and(|a| a.contains("18.75")), "{held}");
    assert!(held["discount"].as_str().is_some_and(|d| d.contains("6.25") && d.contains("BROWSER-25")), "{held}");
    assert!(held["left"].as_str().is_some_and(|l| l.starts_with("9 of 10")), "{held}");
    let code = result["code"].as_str().expect("code");
    assert!(code.starts_with("TKT-") && code.len() == 13, "{code}");
    assert!(result["processed_by"].as_str().is_some_and(|p| !p.is_empty()));
    let queue = result["queue"].as_str().unwrap_or_default();
    assert!(queue.starts_with("Number 3 in the queue, about"), "{queue}");
    // The receipt shows the ticket as its QR symbol, drawn, and offers the order's PDF.
    let qr = &result["qr"];
    assert!(qr["svg"].as_str().is_some_and(|svg| svg.starts_with("<svg")) && qr["drawn"] == true, "{qr}");
    assert_eq!(result["pdf_offered"], true);
    let ticket = app.get(&format!("/api/tickets/{code}"));
    assert_eq!((ticket.status, ticket.body["ticket_type_id"].clone()), (200, ticket_type["id"].clone()));
    // The buyer is whoever signed in: the same person a token for that name is.
    let order = app.get(&format!("/api/tickets/orders/{}", ticket.body["order_id"].as_str().expect("order id")));
    let same_person = crate::support::dev_token(&format!("dev:{}", name.to_lowercase()), &["--email", "b@example.com"]);
    let me = app.with_token(&same_person).get("/api/users/me");
    assert_eq!(order.body["user_id"], me.body["id"], "bought as the signed-in person");
    assert_eq!(
        (order.body["amount_cents"].as_i64(), order.body["voucher_code"].as_str()),
        (Some(1875), Some("BROWSER-25"))
    );
    assert!(order.body["checkout_id"].is_string(), "bought through a checkout");
    assert!(shots.join("status-page.png").is_file() && shots.join("status-page-phone.png").is_file());
    // Every domain's history chart drew its checks: a state mark each, and a latency line.
    let charts = result["charts"].as_array().expect("charts");
    assert_eq!(charts.len(), 4, "{charts:?}");
    for chart in charts {
        let points = chart["points"].as_u64().expect("points");
        assert!(points >= 2 && chart["states"].as_u64() == Some(points) && chart["lines"] == 1, "{chart}");
    }
    // Tickets' traffic, in three cells beside its chart.
    let traffic = result["traffic"].as_array().expect("traffic cells");
    let labels: Vec<&str> = traffic.iter().map(|cell| cell["label"].as_str().expect("a label")).collect();
    assert_eq!(labels, ["Requests", "Errors", "p99"]);
    assert!(traffic.iter().all(|cell| cell["hidden"] == false), "{traffic:?}");
    if on_eventos {
        let text = |i: usize| traffic[i]["text"].as_str().expect("text");
        assert!(text(0).ends_with("/s") && text(1).ends_with('%') && text(2).ends_with(" ms"), "{traffic:?}");
    }
    // Tickets' live build, as the host reports it; Spin reports none and the column stays hidden.
    let build = &result["build"];
    if on_eventos {
        let builds = app.get("/.well-known/eventos/builds");
        let reported =
            builds.body.as_array().expect("a report per component").iter().find(|b| b["component"] == "tickets");
        let digest = reported.expect("tickets is reported")["build"].clone();
        assert!(digest.as_str().is_some_and(|d| d.starts_with("sha256:")), "{digest}");
        assert_eq!((build["hidden"].clone(), build["digest"].clone()), (json!(false), digest), "{build}");
    } else {
        assert_eq!(build["hidden"], true, "{build}");
    }
    println!("status page: loaded in {} ms, {} bytes", result["load_ms"], result["page_bytes"]);
}
