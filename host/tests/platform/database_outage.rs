//! A domain whose database goes away answers 503 problems quickly and reports
//! itself degraded; the other domains keep serving; and everything recovers by
//! itself when the database is back, with no restart.

use std::time::{Duration, Instant};

use crate::support::proxy::Proxy;
use crate::support::world::id;
use crate::support::{Platform, admin_address, unique_prefix, workspace};
use serde_json::json;

/// The host's bounds while a database is gone: connect 5 s, statement 10 s. A
/// refused connection (this test) fails at once; the margin absorbs a busy machine.
const QUICK: Duration = Duration::from_secs(8);

#[test]
fn a_database_outage_is_503_for_its_domain_only_and_heals_by_itself() {
    let proxy = Proxy::start(&admin_address());
    let prefix = unique_prefix("outage");
    let url = format!("postgres://{prefix}_users@{}/{prefix}_users?sslmode=disable", proxy.address);
    let host = proxy.address.to_string();
    let app = Platform::start_as(
        &workspace().join("spin.toml"),
        &prefix,
        &[("SPIN_VARIABLE_USERS_DB_URL", &url), ("SPIN_VARIABLE_USERS_DB_HOST", &host)],
    );
    let user = app.post("/api/users", &json!({"email": "before@example.com", "name": "Before"}));
    user.assert_status(201);
    let user_path = format!("/api/users/{}", id(&user.body));

    proxy.cut();
    for (method, path, body) in [
        ("GET", user_path.as_str(), None),
        ("POST", "/api/users", Some(json!({"email": "during@example.com", "name": "During"}))),
        ("GET", "/api/users", None),
    ] {
        let started = Instant::now();
        let reply = match body {
            Some(body) => app.json(method, path, &body),
            None => app.send(method, path, &[], None),
        };
        reply.assert_problem(503, "service-unavailable");
        assert!(started.elapsed() < QUICK, "{method} {path} took {:?}", started.elapsed());
    }
    let health = app.get("/api/users/health");
    health.assert_status(503);
    assert_eq!(
        (health.body["status"].as_str(), health.body["database"]["status"].as_str()),
        (Some("degraded"), Some("unavailable"))
    );
    let overview = app.get("/api/status");
    assert_eq!(overview.body["status"], "degraded", "{overview:#?}");
    assert_eq!(overview.body["components"][0]["status"], "degraded");
    assert_eq!(overview.body["components"][1]["status"], "ok");
    app.get("/api/events/health").assert_status(200);
    app.post(
        "/api/events",
        &json!({"title": "Still on", "starts_at": "2027-01-01T10:00:00Z", "ends_at": "2027-01-01T11:00:00Z",
        "capacity": 5, "organizer_id": id(&user.body)}),
    )
    .assert_status(201);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get("/api/users/health").status != 200 {
        assert!(Instant::now() < deadline, "users did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(app.get(&user_path).body["name"], "Before", "what was acknowledged before the outage is there");
    app.post("/api/users", &json!({"email": "after@example.com", "name": "After"})).assert_status(201);
    assert_eq!(app.get("/api/status").body["status"], "ok");
}

/// Readiness follows the schema: until its database holds the newest migration
/// the component's code needs, a domain's health is 503 "migrating" (so a
/// Kubernetes rollout sends it no traffic), and ready again once it does.
#[test]
fn a_domain_whose_database_lacks_its_newest_migration_is_not_ready() {
    let app = Platform::start();
    let database = format!("{}_tickets", app.prefix);
    app.get("/api/tickets/health").assert_status(200);
    let newest =
        crate::support::admin_query(&database, "SELECT max(version) FROM eventos_migrations").expect("the ledger");
    let newest = newest.first().expect("a version").clone();
    crate::support::admin_query(
        &database,
        &format!("UPDATE eventos_migrations SET version = '0000' WHERE version = '{newest}'"),
    )
    .expect("hide the newest migration");
    let health = app.get("/api/tickets/health");
    health.assert_status(503);
    assert_eq!(health.body["database"]["status"], "migrating", "{health:#?}");
    assert_eq!(health.body["database"]["needs"], newest.as_str());
    app.get("/api/users/health").assert_status(200);
    crate::support::admin_query(
        &database,
        &format!("UPDATE eventos_migrations SET version = '{newest}' WHERE version = '0000'"),
    )
    .expect("restore it");
    app.get("/api/tickets/health").assert_status(200);
}
