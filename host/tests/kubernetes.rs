//! The Kubernetes manifests, checked offline: every overlay renders and validates
//! against the real schemas and webhook rules, broken copies are caught with a
//! message naming the object and field, and the migration Job's script keeps the
//! same schema and ledger as `eventos migrate`.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{admin_query, admin_url, run_eventos, unique_prefix, workspace};

fn schemas() -> PathBuf {
    workspace().join("k8s/schemas")
}

/// Runs the validator; returns (success, everything it printed).
fn validate(source: &[&str]) -> (bool, String) {
    let out = Command::new("python3")
        .arg(workspace().join("k8s/validate.py"))
        .args(source)
        .arg("--schemas")
        .arg(schemas())
        .arg("--manifest")
        .arg(workspace().join("spin.toml"))
        .output()
        .expect("python3 runs the validator");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn render(overlay: &str) -> String {
    let out = Command::new("kubectl")
        .args(["kustomize"])
        .arg(workspace().join("k8s/overlays").join(overlay))
        .output()
        .expect("kubectl renders the overlay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn every_overlay_renders_and_validates_with_zero_problems() {
    for overlay in ["dev", "prod"] {
        let dir = workspace().join("k8s/overlays").join(overlay);
        let (ok, report) = validate(&["--overlay", dir.to_str().expect("path")]);
        assert!(ok && report.contains(" 0 problem(s)"), "{overlay}:\n{report}");
    }
    let runtime_class =
        Command::new("kubectl").arg("kustomize").arg(workspace().join("runtime-class")).output().expect("render");
    assert!(runtime_class.status.success());
}

#[test]
fn the_overlays_differ_where_they_should() {
    let (dev, prod) = (render("dev"), render("prod"));
    assert!(dev.contains("instances: 1") && !dev.contains("instances: 3"));
    assert!(prod.contains("instances: 3") && prod.contains("podAntiAffinityType: required"));
    assert!(dev.contains("eventos/eventos:dev") && prod.contains("eventos/eventos:0.1.0"));
    assert_eq!(dev.matches("kind: SpinApp\n").count(), 5);
    assert_eq!(dev.matches("minReplicaCount: 0").count(), 4, "every domain but status scales to zero");
}

/// (what to break, how, a fragment the validator's message must contain)
const BROKEN: &[(&str, &str, &str, &str)] = &[
    ("a replica count that is not a number", "  replicas: 1\n", "  replicas: two\n", "SpinApp/status: spec.replicas"),
    (
        "a misplaced field",
        "  executor: containerd-shim-spin\n",
        "  executor: containerd-shim-spin\n  runtimeConfig:\n    secretName: db\n",
        "spec.runtimeConfig: Additional properties are not allowed ('secretName'",
    ),
    (
        "replicas on an autoscaled app",
        "  enableAutoscaling: true\n",
        "  enableAutoscaling: true\n  replicas: 2\n",
        "spec.replicas: must be absent when enableAutoscaling is true",
    ),
    (
        "an invocation limit above the memory limit",
        "memory: 64Mi\n  podLabels",
        "memory: 1Gi\n  podLabels",
        "spec.invocationLimits.memory: 1Gi exceeds",
    ),
    (
        "an executor that is not there",
        "  name: containerd-shim-spin\n",
        "  name: another-executor\n",
        "spec.executor: no SpinAppExecutor",
    ),
    (
        "a component spin.toml does not have",
        "  components:\n  - tickets\n",
        "  components:\n  - ghost\n",
        "SpinApp/tickets: spec.components: 'ghost'",
    ),
    (
        "a SpinApp name over 52 characters",
        "  name: status\n  namespace: eventos-system\nspec:\n  checks:",
        "  name: status-with-a-name-far-too-long-for-the-spin-operator-webhook\n  namespace: eventos-system\nspec:\n  checks:",
        "metadata.name: longer than 52 characters",
    ),
    (
        "a database URL whose host is not the allowed one, letter for letter",
        "key: fqdn-uri",
        "key: uri",
        "SpinApp/users: spec.variables.users_db_host",
    ),
    (
        "a disruption budget on a single database instance",
        "enablePDB: false",
        "enablePDB: true",
        "Cluster/users-db: spec.enablePDB",
    ),
    (
        "a liveness probe that depends on the database",
        "path: /.well-known/spin/health",
        "path: /api/users/health",
        "SpinApp/users: spec.checks.liveness.httpGet.path",
    ),
    (
        "a status page whose box office reaches no domain",
        "    - api.eventos.local\n    - eventos.local\n",
        "    - api.eventos.local\n",
        "InterceptorRoute/users: spec.rules: no rule matches host 'eventos.local'",
    ),
    (
        "a migration Job not named after its newest migration",
        "name: tickets-migrate-0003",
        "name: tickets-migrate",
        "Job/tickets-migrate: metadata.name: must end in -0003",
    ),
    (
        "Spin pods that do not trust the databases' CA",
        "    caCertSecret: eventos-ca-certificates\n",
        "    installDefaultCACerts: true\n",
        "SpinApp/users: spec.variables.users_db_url: Spin verifies users-db's certificate",
    ),
    (
        "a database certificate from a CA the pods do not trust",
        "serverCASecret: eventos-db-ca",
        "serverCASecret: users-db-ca",
        "Cluster/users-db: spec.certificates.serverCASecret",
    ),
    (
        "a database certificate that does not name the host Spin connects to",
        "    - users-db-rw.eventos-system.svc.cluster.local\n",
        "    - users-db-rw.eventos-system.svc\n",
        "Cluster/users-db: spec.certificates.serverAltDNSNames: the server certificate does not name",
    ),
    (
        "an unknown container field",
        "        name: migrate\n",
        "        name: migrate\n        imagePolicy: Always\n",
        "Job/users-migrate-0001: spec.template.spec.containers.0",
    ),
];

#[test]
fn broken_manifests_are_rejected_naming_the_object_and_field() {
    let rendered = render("dev");
    let dir = workspace().join("target/test-fixtures");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    for (what, from, to, expected) in BROKEN {
        assert!(rendered.contains(from), "{what}: the rendered manifests no longer contain {from:?}");
        let broken = dir.join(format!("{}.yaml", unique_prefix("broken")));
        std::fs::write(&broken, rendered.replacen(from, to, 1)).expect("write");
        let (ok, report) = validate(&["--rendered", broken.to_str().expect("path")]);
        assert!(!ok, "{what} was accepted:\n{report}");
        assert!(report.contains(expected), "{what}: expected {expected:?} in\n{report}");
        std::fs::remove_file(broken).ok();
    }
}

/// Writes `text` where the validator can read it, runs it, and removes it.
fn validate_text(text: &str) -> (bool, String) {
    let dir = workspace().join("target/test-fixtures");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let file = dir.join(format!("{}.yaml", unique_prefix("rendered")));
    std::fs::write(&file, text).expect("write");
    let outcome = validate(&["--rendered", file.to_str().expect("path")]);
    std::fs::remove_file(file).ok();
    outcome
}

#[test]
fn the_node_runtime_is_what_runtime_class_manager_installs() {
    let out = Command::new("kubectl").arg("kustomize").arg(workspace().join("runtime-class")).output().expect("render");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rendered = String::from_utf8(out.stdout).expect("utf-8");
    let (ok, report) = validate_text(&rendered);
    assert!(ok && report.contains(" 0 problem(s)"), "{report}");
    for (what, from, to, expected) in [
        ("a rolling rollout", "type: recreate", "type: rolling", "Shim/spin-v2: spec.rolloutStrategy.type"),
        (
            "the handler of the shim's old name",
            "handler: spin-v2\nkind",
            "handler: spin\nkind",
            "RuntimeClass/wasmtime-spin-v2: handler",
        ),
        (
            "the Shim's own handler",
            "    handler: spin-v2",
            "    handler: spin",
            "Shim/spin-v2: spec.runtimeClass.handler",
        ),
        (
            "the deprecated fetch strategy",
            "  fetchStrategy:\n",
            "  fetchStrategy:\n    type: anonymousHttp\n",
            "Shim/spin-v2: spec.fetchStrategy",
        ),
    ] {
        assert!(rendered.contains(from), "{what}: the rendered runtime class no longer contains {from:?}");
        let (ok, report) = validate_text(&rendered.replacen(from, to, 1));
        assert!(!ok && report.contains(expected), "{what}: expected {expected:?} in\n{report}");
    }
}

#[test]
fn every_spinapp_comes_after_the_executor_its_webhook_looks_up() {
    let rendered = render("prod");
    let documents: Vec<&str> = rendered.split("\n---\n").collect();
    let (executor, rest): (Vec<&str>, Vec<&str>) =
        documents.iter().partition(|doc| doc.contains("kind: SpinAppExecutor"));
    assert_eq!(executor.len(), 1, "one SpinAppExecutor");
    let executor_last = [rest, executor].concat().join("\n---\n");
    let (ok, report) = validate_text(&executor_last);
    assert!(!ok && report.contains("comes after this SpinApp"), "{report}");
}

#[test]
fn every_migration_file_is_packaged_for_the_jobs() {
    let kustomization = std::fs::read_to_string(workspace().join("components/kustomization.yaml")).expect("read");
    for domain in ["users", "events", "participation", "tickets"] {
        let dir = workspace().join("components").join(domain).join("migrations");
        for file in std::fs::read_dir(&dir).expect("migrations dir") {
            let name = file.expect("entry").file_name().into_string().expect("utf-8");
            assert!(kustomization.contains(&format!("{domain}/migrations/{name}")), "{domain}/{name} is not packaged");
        }
    }
}

fn schema_of(database: &str) -> String {
    let url = admin_url().replacen("/postgres?", &format!("/{database}?"), 1).replace("?sslmode=disable", "");
    let out = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", "--no-comments", &url])
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| !line.starts_with("--") && !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_migration_job_script_leaves_the_same_schema_and_ledger_as_eventos_migrate() {
    let prefix = unique_prefix("k8s");
    let manifest = workspace().join("spin.toml");
    let manifest = manifest.to_str().expect("path");
    let migrated = run_eventos(&["migrate", "--manifest", manifest, "--prefix", &prefix]);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    for domain in ["users", "events", "participation", "tickets"] {
        let by_eventos = format!("{prefix}_{domain}");
        let by_script = format!("{prefix}_{domain}_job");
        admin_query("postgres", &format!("CREATE DATABASE {by_script}")).expect("create database");
        let url = admin_url().replacen("/postgres?", &format!("/{by_script}?"), 1).replace("?sslmode=disable", "");
        let script = workspace().join("k8s/base/migrate/migrate.sh");
        let migrations = workspace().join("components").join(domain).join("migrations");
        let run = || {
            Command::new("sh").arg(&script).arg(&migrations).env("DATABASE_URL", &url).output().expect("run migrate.sh")
        };
        let first = run();
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let second = run();
        assert!(String::from_utf8_lossy(&second.stdout).contains("0 migration(s) applied"), "applied once only");
        assert_eq!(schema_of(&by_script), schema_of(&by_eventos), "{domain}: the schemas differ");
        let ledger = "SELECT string_agg(version || ' ' || name || ' ' || checksum, ',' ORDER BY version) FROM eventos_migrations";
        assert_eq!(admin_query(&by_script, ledger), admin_query(&by_eventos, ledger), "{domain}: the ledgers differ");
        admin_query("postgres", &format!("DROP DATABASE {by_script} WITH (FORCE)")).expect("drop");
    }
    let dropped = run_eventos(&["drop", "--manifest", manifest, "--prefix", &prefix]);
    assert!(dropped.status.success());
}

#[test]
fn the_migration_job_script_refuses_an_edited_migration() {
    let dir = workspace().join("target/test-fixtures").join(unique_prefix("edited"));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("0001_first.sql"), "CREATE TABLE first (id int);").expect("write");
    let database = unique_prefix("edited");
    admin_query("postgres", &format!("CREATE DATABASE {database}")).expect("create");
    let url = admin_url().replacen("/postgres?", &format!("/{database}?"), 1).replace("?sslmode=disable", "");
    let script = workspace().join("k8s/base/migrate/migrate.sh");
    let run = || Command::new("sh").arg(&script).arg(&dir).env("DATABASE_URL", &url).output().expect("run");
    assert!(run().status.success());
    std::fs::write(dir.join("0001_first.sql"), "CREATE TABLE first (id bigint);").expect("edit");
    let edited = run();
    assert!(!edited.status.success());
    assert!(String::from_utf8_lossy(&edited.stderr).contains("changed after it was applied"));
    admin_query("postgres", &format!("DROP DATABASE {database} WITH (FORCE)")).expect("drop");
    std::fs::remove_dir_all(dir).ok();
}
