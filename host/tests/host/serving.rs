//! The `eventos` host itself: routing, Spin headers, variables, allow-lists,
//! traps, service chaining, per-domain databases, migrations and errors.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::proxy::Proxy;
use crate::support::{Platform, admin_address, admin_url, encode, run_eventos, workspace};
use serde_json::json;

fn probe_manifest() -> PathBuf {
    workspace().join("host/tests/fixtures/probe.toml")
}

fn start_probe(env: &[(&str, &str)]) -> Platform {
    let address = admin_address();
    let mut env = env.to_vec();
    env.push(("SPIN_VARIABLE_PROBE_DB_HOST", &address));
    Platform::start_with(&probe_manifest(), "probe", &env)
}

#[test]
fn a_request_to_an_unknown_route_is_404() {
    let probe = start_probe(&[]);
    probe.get("/elsewhere").assert_bare(404);
    probe.get("/").assert_bare(404);
}

#[test]
fn variables_come_from_the_manifest_unless_the_environment_overrides_them() {
    let defaults = start_probe(&[]);
    assert_eq!(defaults.get("/probe/var?name=greeting").text, "hello from the manifest");
    let overridden = start_probe(&[("SPIN_VARIABLE_GREETING", "hello from the environment")]);
    assert_eq!(overridden.get("/probe/var?name=greeting").text, "hello from the environment");
}

#[test]
fn a_component_sees_only_its_own_variables() {
    let probe = start_probe(&[]);
    let reply = probe.get("/probe/var?name=unbound");
    reply.assert_status(404);
    assert!(reply.text.contains("Undefined"), "{}", reply.text);
    let invalid = probe.get("/probe/var?name=Not-A-Name");
    assert!(invalid.text.contains("InvalidName"), "{}", invalid.text);
}

#[test]
fn postgres_is_reachable_only_at_allowed_addresses() {
    let probe = start_probe(&[]);
    let allowed = probe.get(&format!("/probe/pg?address={}", encode(&admin_url())));
    assert_eq!((allowed.status, allowed.text.as_str()), (200, "connected"));
    for denied in [
        "postgres://postgres@127.0.0.2:5432/postgres",
        "host=localhost port=5432 user=postgres",
        "postgres://postgres@127.0.0.1:6543/postgres",
    ] {
        let reply = probe.get(&format!("/probe/pg?address={}", encode(denied)));
        reply.assert_status(502);
        assert!(
            reply.text.contains("ConnectionFailed") && reply.text.contains("not permitted"),
            "{denied}: {}",
            reply.text
        );
    }
}

#[test]
fn a_trapping_component_fails_only_that_request() {
    let probe = start_probe(&[]);
    let request_id = crate::support::unique_prefix("trap");
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    probe
        .send("GET", "/probe/trap", &[("x-request-id", &request_id), ("traceparent", traceparent)], None)
        .assert_bare(500);
    let after = probe.get("/probe/echo");
    after.assert_status(200);
    let logged = probe.log_text().lines().find(|line| line.contains("trapped")).map(str::to_owned);
    let logged = logged.expect("the trap is logged");
    assert!(logged.contains(&format!(r#""request_id":"{request_id}""#)), "under the caller's request id: {logged}");
    assert!(logged.contains(r#""trace_id":"0af7651916cd43dd8448eb211c80319c""#), "and its trace: {logged}");
    assert!(logged.contains(r#""blame":"guest""#), "blamed on the guest, not the host: {logged}");
}

#[test]
fn a_component_stuck_in_a_loop_is_ended_at_its_deadline() {
    let probe = start_probe(&[("EVENTOS_REQUEST_TIMEOUT_MS", "300")]);
    let started = std::time::Instant::now();
    probe.get("/probe/spin").assert_bare(500);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the loop was interrupted");
    probe.get("/probe/echo").assert_status(200);
}

#[test]
fn a_body_far_larger_than_the_hosts_buffers_arrives_whole() {
    // The guest sets its response first and writes the body afterwards, waiting
    // for the host to take each part: the host must go on running it meanwhile.
    let probe = start_probe(&[]);
    let expected: String = (0..4 * 1024 * 1024).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    let direct = probe.get("/probe/big?kb=4096");
    direct.assert_status(200);
    assert!(direct.text == expected, "the direct answer has {} of {} bytes", direct.text.len(), expected.len());
    let chained = probe.get(&format!("/probe/get?url={}", encode("http://probe.spin.internal/probe/big?kb=512")));
    chained.assert_status(200);
    assert!(chained.text == expected[..512 * 1024], "the chained answer has {} bytes", chained.text.len());
    probe.get("/probe/echo").assert_status(200);
}

#[test]
fn service_chaining_is_served_in_process_and_checked_against_the_allow_list() {
    let probe = start_probe(&[]);
    let chained =
        probe.get(&format!("/probe/get?url={}", encode("http://probe.spin.internal/probe/var?name=greeting")));
    assert_eq!((chained.status, chained.text.as_str()), (200, "hello from the manifest"));
    let denied = probe.get(&format!("/probe/get?url={}", encode("http://users.spin.internal/api/users/health")));
    denied.assert_status(502);
    assert!(denied.text.contains("HttpRequestDenied"), "{}", denied.text);
    let outside = probe.get(&format!("/probe/get?url={}", encode("http://127.0.0.1:9/")));
    assert!(outside.text.contains("HttpRequestDenied"), "{}", outside.text);
}

#[test]
fn a_domain_role_cannot_connect_to_another_domains_database() {
    let app = Platform::start();
    let users_role = format!("{}_users", app.prefix);
    let events_db = format!("{}_events", app.prefix);
    let address = admin_address();
    let own = crate::support::connect_and_query(
        &format!("postgres://{users_role}@{address}/{users_role}?sslmode=disable"),
        "SELECT current_user",
    );
    assert_eq!(own, Ok(vec![users_role.clone()]));
    let other = crate::support::connect_and_query(
        &format!("postgres://{users_role}@{address}/{events_db}?sslmode=disable"),
        "SELECT 1",
    );
    let error = other.expect_err("another domain's database is closed to this role");
    assert!(error.starts_with("42501"), "insufficient privilege, got {error}");
}

/// A fixture application of one component, `demo`, with these migrations.
pub(crate) fn demo_with_migrations(name: &str, migrations: &[(&str, &str)]) -> PathBuf {
    let dir = workspace().join("target/test-fixtures").join(crate::support::unique_prefix(name));
    let folder = dir.join("components/demo/migrations");
    std::fs::create_dir_all(&folder).expect("fixture dir");
    std::fs::write(
        dir.join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"demo\"\n[component.demo]\nsource = \"demo.wasm\"\n",
    )
    .expect("manifest");
    for (file, sql) in migrations {
        std::fs::write(folder.join(file), sql).expect("sql");
    }
    dir
}

#[test]
fn migrations_are_applied_once_and_never_edited() {
    let dir = demo_with_migrations(
        "mig",
        &[
            ("0001_create_things.sql", "CREATE TABLE things (id int PRIMARY KEY);"),
            ("0002_add_name.sql", "ALTER TABLE things ADD COLUMN name text;"),
        ],
    );
    let migrations = dir.join("components/demo/migrations");
    let manifest = dir.join("spin.toml");
    let manifest = manifest.to_str().expect("utf-8 path");
    let prefix = crate::support::unique_prefix("mig");
    let migrate = || run_eventos(&["migrate", "--manifest", manifest, "--prefix", &prefix]);

    let first = migrate();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("2 migration(s) applied, 0 already applied"));
    let second = migrate();
    assert!(String::from_utf8_lossy(&second.stderr).contains("0 migration(s) applied, 2 already applied"));
    let database = format!("{prefix}_demo");
    let ledger = crate::support::admin_query(&database, "SELECT version FROM eventos_migrations ORDER BY version");
    assert_eq!(ledger, Ok(vec!["0001".to_string(), "0002".to_string()]));

    std::fs::write(migrations.join("0001_create_things.sql"), "CREATE TABLE things (id bigint PRIMARY KEY);")
        .expect("edit");
    let edited = migrate();
    assert!(!edited.status.success());
    assert!(String::from_utf8_lossy(&edited.stderr).contains("changed after it was applied"));

    let dropped = run_eventos(&["drop", "--manifest", manifest, "--prefix", &prefix]);
    assert!(dropped.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_hosts_lines_are_json_unless_text_is_asked_for_and_rust_log_filters_them() {
    let dir = demo_with_migrations("lines", &[("0001_things.sql", "CREATE TABLE things (id int);")]);
    let manifest = dir.join("spin.toml");
    let prefix = crate::support::unique_prefix("lines");
    let migrate = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_eventos"));
        command.args(["migrate", "--manifest", manifest.to_str().expect("path"), "--prefix", &prefix]);
        command.env_remove("RUST_LOG").env_remove("EVENTOS_LOG_FORMAT").envs(env.iter().copied());
        let out = command.output().expect("run eventos");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stderr).expect("utf-8")
    };

    // Not a terminal: one JSON object per line, with its level and message.
    let json = migrate(&[]);
    let line: serde_json::Value = serde_json::from_str(json.lines().next().expect("a line")).expect("JSON");
    assert_eq!(line["level"], "INFO", "{json}");
    assert!(
        line["message"].as_str().is_some_and(|m| m.ends_with("1 migration(s) applied, 0 already applied")),
        "{json}"
    );
    let text = migrate(&[("EVENTOS_LOG_FORMAT", "text")]);
    assert!(text.contains("INFO") && text.contains("0 migration(s) applied, 1 already applied"), "{text}");
    assert!(serde_json::from_str::<serde_json::Value>(text.lines().next().expect("a line")).is_err(), "{text}");
    assert_eq!(migrate(&[("RUST_LOG", "eventos=warn")]), "", "info lines are filtered out");

    let dropped = run_eventos(&["drop", "--manifest", manifest.to_str().expect("path"), "--prefix", &prefix]);
    assert!(dropped.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_component_is_a_clear_error() {
    let dir = workspace().join("target/test-fixtures").join(crate::support::unique_prefix("missing"));
    std::fs::create_dir_all(&dir).expect("fixture dir");
    std::fs::write(
        dir.join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"x\"\n[component.x]\nsource = \"nowhere.wasm\"\n",
    )
    .expect("manifest");
    let out = run_eventos(&[
        "up",
        "--no-build",
        "--listen",
        "127.0.0.1:0",
        "--manifest",
        dir.join("spin.toml").to_str().expect("path"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("nowhere.wasm") && stderr.contains("build it first"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_manifest_is_a_clear_error() {
    let dir = workspace().join("target/test-fixtures").join(crate::support::unique_prefix("bad"));
    std::fs::create_dir_all(&dir).expect("fixture dir");
    std::fs::write(dir.join("spin.toml"), "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"ghost\"\n").expect("manifest");
    let out = run_eventos(&["migrate", "--manifest", dir.join("spin.toml").to_str().expect("path")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("spin.toml") && stderr.contains("ghost"), "{stderr}");
    let missing = run_eventos(&["migrate", "--manifest", "/nonexistent/spin.toml"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--manifest"));
    std::fs::remove_dir_all(&dir).ok();
}

/// As on Spin: a component may name only key-value stores the application
/// defines (`default`, here), or the application does not load.
#[test]
fn a_component_naming_a_key_value_store_nobody_defines_does_not_load() {
    let manifest = std::fs::read_to_string(probe_manifest()).expect("the probe's manifest");
    let granted =
        manifest.replace("[component.probe]\n", "[component.probe]\nkey_value_stores = [\"default\", \"sessions\"]\n");
    assert_ne!(granted, manifest, "the grant is written into the probe's table");
    // Beside the probe's manifest, so that its relative paths still hold.
    let path = probe_manifest().with_file_name(format!("{}.toml", crate::support::unique_prefix("kv")));
    std::fs::write(&path, granted).expect("write the manifest");
    let out = run_eventos(&[
        "up",
        "--no-build",
        "--ephemeral",
        "--listen",
        "127.0.0.1:0",
        "-f",
        path.to_str().expect("path"),
    ]);
    std::fs::remove_file(&path).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"unknown key_value_stores label "sessions" for component "probe""#), "{stderr}");
}

#[test]
fn a_connection_goes_back_to_the_pool_without_what_the_last_guest_left_on_it() {
    // One connection per address, so the second request gets the first one's
    // connection: only once it is reset, since the reset holds it.
    let probe = start_probe(&[("EVENTOS_PG_POOL_SIZE", "1")]);
    let address = encode(&admin_url());
    probe.get(&format!("/probe/session?address={address}")).assert_status(200);
    for what in
        ["tx", "failed", "set", "set_config", "commented", "lock", "temp", "select_into_temp", "savepoint", "chain"]
    {
        probe.get(&format!("/probe/leak?address={address}&what={what}")).assert_status(200);
        let session = probe.get(&format!("/probe/session?address={address}"));
        session.assert_status(200);
        assert_eq!(session.text, "name= fresh_transaction=true held=0", "{what} leaked into the next request");
    }
}

/// `eventos` provisions its databases: a host restarted while its PostgreSQL restarts too (a node reboot) waits for
/// the server instead of exiting.
#[test]
fn a_host_started_before_its_database_waits_for_it() {
    let proxy = Proxy::start(&admin_address());
    proxy.cut();
    let admin = admin_url().replacen(&admin_address(), &proxy.address.to_string(), 1);
    let restore_later = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        proxy.restore();
        proxy
    });
    let app = Platform::start_with(&workspace().join("spin.toml"), "late_db", &[("EVENTOS_PG_ADMIN_URL", &admin)]);
    let _proxy = restore_later.join().expect("the proxy thread");
    assert!(app.log_text().contains("waiting up to"), "the host said it waits:\n{}", app.log_text());
    app.post("/api/users", &json!({"email": "late@example.com", "name": "Late"})).assert_status(201);
}

#[test]
fn a_request_in_flight_when_the_host_stops_still_gets_its_answer() {
    let mut probe = start_probe(&[]);
    let url = probe.url("/probe/sleep?ms=1500");
    let slow = std::thread::spawn(move || crate::support::send(&url, "GET", &[], None));
    // The guest is at work on it well before it sleeps 1.5 s.
    std::thread::sleep(Duration::from_millis(500));
    probe.stop();
    let reply = slow.join().expect("the request thread");
    assert_eq!((reply.status, reply.text.as_str()), (200, "slept"));
    assert!(probe.has_exited_within(Duration::from_secs(15)), "the host stops once the answer is out");
}

/// A client gone mid-request leaves nothing for shutdown to wait for: the host
/// exits well within its 10 s grace (a leaked in-flight count waited it all out).
#[test]
fn a_client_that_hangs_up_mid_request_does_not_hold_up_shutdown() {
    use std::io::Write;
    let mut probe = start_probe(&[]);
    let address = probe.url("").trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.write_all(b"GET /probe/sleep?ms=300 HTTP/1.1\r\nHost: probe\r\n\r\n").expect("send");
    drop(stream);
    std::thread::sleep(Duration::from_millis(800));
    let stopped = std::time::Instant::now();
    probe.stop();
    assert!(probe.has_exited_within(Duration::from_secs(15)), "the host exits");
    assert!(stopped.elapsed() < Duration::from_secs(8), "exited after {:?}", stopped.elapsed());
}

/// A host that only a wildcard of `allowed_outbound_hosts` admits is reached at
/// public addresses only: a name or address inside the network is refused
/// before any packet goes to it (`DestinationIpProhibited`), while a host the
/// manifest names is reached wherever it is.
#[test]
fn a_wildcard_host_is_never_reached_inside_the_network() {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let listener = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = listener.local_addr().expect("address").port();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let _ = std::io::Write::write_all(&mut stream, b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nreached");
        }
    });
    let app = Platform::start_with(&workspace().join("host/tests/fixtures/wildcard.toml"), "wildcard", &[]);
    for inside in
        ["http://localhost:9/", "http://127.0.0.1:9/", "http://[::1]:9/", "http://0:9/", "http://169.254.169.254:9/"]
    {
        let refused = app.get(&format!("/probe/get?url={}", encode(inside)));
        refused.assert_status(502);
        assert!(refused.text.contains("DestinationIpProhibited"), "{inside}: {}", refused.text);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    let named = app.get(&format!("/probe/get?url={}", encode(&format!("http://127.0.0.2:{port}/"))));
    assert_eq!((named.status, named.text.as_str()), (200, "reached"));
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
