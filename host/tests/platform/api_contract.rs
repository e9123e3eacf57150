//! `openapi.yaml` against the running platform: every route of spin.toml is
//! documented, every documented operation is served, and a bounded schemathesis
//! run (fixed seed) finds no 5xx, no undocumented status, no schema violation.

use std::process::Command;
use std::sync::LazyLock;

use crate::support::{Platform, openapi_document as document, workspace};
use serde_json::Value;

/// Webhook receivers schemathesis registers are never reached: deliveries may
/// go only to a port of this machine where nothing listens.
static APP: LazyLock<Platform> = LazyLock::new(|| {
    let env = [("SPIN_VARIABLE_WEBHOOK_HOSTS", "http://127.0.0.1:9")];
    Platform::start_with(&crate::support::workspace().join("spin.toml"), "openapi", &env)
});

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn every_route_of_the_manifest_is_documented() {
    let manifest: toml::Table =
        std::fs::read_to_string(workspace().join("spin.toml")).expect("read").parse().expect("toml");
    let doc = document();
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    for trigger in manifest["trigger"]["http"].as_array().expect("triggers") {
        let Some(route) = trigger["route"].as_str() else { continue };
        let base = route.trim_end_matches("/...");
        let documented = paths.iter().any(|p| if route.ends_with("/...") { p.starts_with(base) } else { *p == route });
        assert!(documented, "route {route} of {} is not in openapi.yaml", trigger["component"]);
    }
}

#[test]
fn every_documented_operation_is_served() {
    for (method, path) in operations(&document()) {
        // Served only where a development key is configured, which a cluster never is.
        if crate::support::on_node() && path == "/api/status/sign-in/development" {
            continue;
        }
        let concrete = path
            .replace("{id}", "6f1c7f9e-1111-4c4c-8a8a-123456789abc")
            .replace("{code}", "TKT-0000-0000")
            .replace("{name}", "app.js");
        let body = matches!(method.as_str(), "POST" | "PATCH").then(|| b"{}".to_vec());
        let reply = APP.send(&method, &concrete, &[("content-type", "application/json")], body);
        let unrouted = reply.status == 404 && reply.body["detail"].as_str().is_some_and(|d| d.starts_with("no route"));
        assert!(!unrouted && reply.status != 405, "{method} {path} is documented but not served: {reply:#?}");
        assert!(reply.status < 500, "{method} {path}: {reply:#?}");
    }
}

/// `make fuzz` runs this test longer: `EVENTOS_FUZZ_EXAMPLES` per operation (20
/// by default) from `EVENTOS_FUZZ_SEED` (1).
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_owned())
}

#[test]
fn schemathesis_finds_no_server_error_and_no_contract_violation() {
    let report = workspace().join("target/fuzz");
    // An admin's token on every request, so that every operation is fuzzed past who may ask.
    let subject = crate::support::unique_prefix("fuzz");
    let token = crate::support::dev_token(&subject, &["--email", &format!("{subject}@example.com"), "--role", "admin"]);
    let authorization = format!("Authorization: Bearer {token}");
    let out = Command::new("st")
        .arg("--config-file")
        .arg(workspace().join("schemathesis.toml"))
        .arg("run")
        .arg(workspace().join("openapi.yaml"))
        .args(["--url", &APP.base, "--checks", "all", "--header", &authorization])
        // Speed is `make bench`'s to measure: a shared machine that stalls for
        // seconds fails no check here (`all` would hold each answer to 10 s),
        // and a request unanswered for a minute still fails.
        .args(["--max-response-time", "60", "--request-timeout", "60"])
        .args(["--max-examples", &setting("EVENTOS_FUZZ_EXAMPLES", "20"), "--seed", &setting("EVENTOS_FUZZ_SEED", "1")])
        .arg("--no-color")
        .arg("--report-dir")
        .arg(&report)
        .output()
        .expect("schemathesis (`st`) is installed: run `make setup`");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary = text.lines().find(|l| l.contains(" generated, ")).unwrap_or_default();
    println!("schemathesis: {}", summary.trim());
}
