//! A real OpenID provider in front of the platform: the certified
//! `oidc-provider`, shaped like the Keycloak realm (RS256 access tokens for the
//! audience `eventos`, roles in `realm_access`). Its tokens are accepted as they
//! come from its token endpoint, and a person signs in on its login page
//! through the status page's PKCE flow, then buys a ticket as themself.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{LazyLock, Mutex};

use crate::support::world::id;
use crate::support::{Platform, free_address, workspace};
use serde_json::{Value, json};

struct Provider {
    issuer: String,
    /// Holding it keeps the provider up; the test process's end closes it.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

struct World {
    provider: Provider,
    app: Platform,
}

/// The provider first (its issuer and keys are the platform's variables), then
/// the platform with no development key, then the provider learns where the
/// status page is.
static WORLD: LazyLock<World> = LazyLock::new(|| {
    let browser_dir = workspace().join("host/tests/browser");
    assert!(
        browser_dir.join("node_modules/oidc-provider").is_dir(),
        "oidc-provider is not installed: run `make setup` (npm ci in host/tests/browser)"
    );
    let port = free_address().rsplit(':').next().expect("a port").to_owned();
    let mut child = Command::new("node")
        .current_dir(&browser_dir)
        .args(["oidc-provider.mjs", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oidc-provider");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next_json = || -> Value {
        let line = lines.next().expect("a line from the provider").expect("readable");
        serde_json::from_str(&line).expect("one JSON line")
    };
    let started = next_json();
    let issuer = started["issuer"].as_str().expect("issuer").to_owned();
    let jwks = started["jwks"].to_string();
    let env = [
        ("SPIN_VARIABLE_AUTH_ISSUER", issuer.as_str()),
        ("SPIN_VARIABLE_AUTH_JWKS", jwks.as_str()),
        ("SPIN_VARIABLE_AUTH_DEV_KEY", ""),
    ];
    let app = Platform::start_with(&workspace().join("spin.toml"), "oidc", &env);
    writeln!(stdin, "{}", app.url("/")).expect("tell the provider the redirect URI");
    assert_eq!(next_json()["listening"], true);
    // Whatever it prints from now on is drained: a closed pipe would kill it.
    std::thread::spawn(move || lines.for_each(drop));
    World { provider: Provider { issuer, _stdin: Mutex::new(stdin), _child: Mutex::new(child) }, app }
});

/// An access token from the provider's token endpoint, for a client-credentials client.
fn token_for(client: &str) -> String {
    let reply = crate::support::send(
        &format!("{}/token", WORLD.provider.issuer),
        "POST",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(format!("grant_type=client_credentials&client_id={client}&client_secret={client}-secret").into_bytes()),
    );
    reply.assert_status(200);
    reply.body["access_token"].as_str().expect("access_token").to_owned()
}

#[test]
fn tokens_from_its_token_endpoint_are_accepted_and_only_they() {
    let app = &WORLD.app;
    let me = app.with_token(&token_for("eventos-script")).get("/api/users/me");
    me.assert_status(200);
    assert_eq!(me.body["email"], "eventos-script@oidc.example");
    app.with_token(&token_for("eventos-admin")).get("/api/users?limit=1").assert_status(200);
    app.with_token(&token_for("eventos-script")).get("/api/users?limit=1").assert_problem(403, "forbidden");
    // The development key is not this platform's: neither its tokens nor its sign-in.
    app.get("/api/users/me").assert_problem(401, "unauthenticated");
    let options = app.anonymous().get("/api/status/sign-in");
    assert_eq!(
        options.body,
        json!({"provider": {"issuer": WORLD.provider.issuer, "client_id": "eventos-status"}, "development": false})
    );
    app.anonymous()
        .post("/api/status/sign-in/development", &json!({"name": "Mallory", "roles": ["admin"]}))
        .assert_problem(404, "not-found");
}

#[test]
fn a_person_signs_in_on_its_login_page_and_buys_a_ticket_as_themself() {
    let app = &WORLD.app;
    let admin = app.with_token(&token_for("eventos-admin"));
    let event = admin.post(
        "/api/events",
        &json!({"title": "Signed in", "starts_at": "2027-06-01T19:00:00Z", "ends_at": "2027-06-01T23:00:00Z", "capacity": 10}),
    );
    event.assert_status(201);
    admin
        .post(&format!("/api/events/{}/moderation", id(&event.body)), &json!({"decision": "approve"}))
        .assert_status(200);
    let ticket_type = admin.post(
        "/api/tickets/types",
        &json!({"event_id": event.body["id"], "name": "GA", "price_cents": 500, "currency": "EUR", "quantity": 5}),
    );
    ticket_type.assert_status(201);

    let login = crate::support::unique_prefix("ada");
    let shots = workspace().join("target/browser/oidc");
    let output = Command::new("node")
        .current_dir(workspace().join("host/tests/browser"))
        .arg("buy-a-ticket.mjs")
        .args([&app.url(""), id(&event.body), id(&ticket_type.body), &format!("oidc:{login}")])
        .arg(&shots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    let code = result["code"].as_str().expect("code");
    let ticket = admin.get(&format!("/api/tickets/{code}"));
    ticket.assert_status(200);
    let order = admin.get(&format!("/api/tickets/orders/{}", ticket.body["order_id"].as_str().expect("order id")));
    assert_eq!(order.body["user_id"], result["user_id"], "bought as the person who signed in");
    assert_eq!(result["email"], format!("{login}@oidc.example"), "the provider's person, made a user from its token");
}
