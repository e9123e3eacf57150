//! The Kubernetes manifests, checked offline: every overlay renders and validates
//! against the real schemas and webhook rules, broken copies are caught with a
//! message naming the object and field, and the migration Job's program keeps the
//! same schema and ledger as `eventos migrate`.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{admin_query, admin_url, run_eventos, unique_prefix, workspace};

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
    let telemetry = "exporter_otlp_endpoint: http://otel-collector.eventos-system.svc.cluster.local:4318";
    assert!(prod.contains(telemetry) && prod.contains("kind: Deployment\nmetadata:\n  labels:"));
    assert!(!dev.contains("otel"), "telemetry is the prod overlay's (an optional component)");
}

#[test]
fn telemetry_must_reach_a_collector_and_a_prometheus_the_manifests_deploy() {
    let rendered = render("prod");
    let dir = workspace().join("target/test-fixtures");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let cases = [
        (
            "otel-collector.eventos-system.svc.cluster.local:4318",
            "spec.deploymentConfig.otel.exporter_otlp_endpoint: no Service otel-collector",
        ),
        (
            "prometheus.eventos-system.svc.cluster.local:9090",
            "SpinApp/status: spec.variables.prometheus_url: no Service prometheus",
        ),
    ];
    for (endpoint, complaint) in cases {
        assert!(rendered.contains(endpoint), "the prod overlay names {endpoint}");
        let broken = dir.join(format!("{}.yaml", unique_prefix("otel")));
        std::fs::write(&broken, rendered.replace(endpoint, &endpoint.replace(".svc", "-gone.svc"))).expect("write");
        let (ok, report) = validate(&["--rendered", broken.to_str().expect("path")]);
        std::fs::remove_file(broken).ok();
        assert!(!ok && report.contains(complaint), "{report}");
    }
    // Spin exports the components' logs too: a collector without a logs pipeline answers 404.
    let logs = "        logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [debug]}\n";
    assert!(rendered.contains(logs), "the collector takes logs");
    let (ok, report) = validate_text(&rendered.replace(logs, ""));
    assert!(!ok && report.contains("no logs pipeline from otlp"), "{report}");
}

/// (what to break, how, a fragment the validator's message must contain)
const BROKEN: &[(&str, &str, &str, &str)] = &[
    (
        "webhook egress that reaches into the cluster's networks",
        "        except:\n        - 10.0.0.0/8\n",
        "        except:\n",
        "NetworkPolicy/events: spec.egress[1]: webhook egress to 0.0.0.0/0 must except the private networks 10.0.0.0/8",
    ),
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
        "a migration Job that trusts only the new database CA during a rotation",
        "          - key: ca-certificates.crt\n            path: ca.crt\n          secretName: eventos-ca-certificates\n",
        "          - key: ca.crt\n            path: ca.crt\n          secretName: eventos-db-ca\n",
        "PGSSLROOTCERT /tls/ca.crt comes from 'eventos-db-ca', not 'eventos-ca-certificates'",
    ),
    (
        "a route to a Service without a port (Gateway API's CEL rule)",
        "    - name: status\n      port: 80\n",
        "    - name: status\n",
        "HTTPRoute/status-page: spec.rules[0].backendRefs[0]: Must have port for Service reference (CEL:",
    ),
    (
        "a ScaledObject whose minimum passes its maximum (KEDA's CEL rule)",
        "  minReplicaCount: 0\n",
        "  minReplicaCount: 9\n",
        "ScaledObject/users: spec: minReplicaCount must be less than or equal to maxReplicaCount (CEL:",
    ),
    (
        "an InterceptorRoute that scales on nothing (the HTTP add-on's CEL rule)",
        "  scalingMetric:\n    concurrency:\n      targetValue: 50\n",
        "  scalingMetric: {}\n",
        "InterceptorRoute/users: spec.scalingMetric: at least one of 'concurrency' or 'requestRate' must be set (CEL:",
    ),
    (
        "an ICU locale without the ICU provider (CloudNativePG's CEL rule)",
        "  bootstrap:\n    initdb:\n      database: users\n",
        "  bootstrap:\n    initdb:\n      database: users\n      icuLocale: en\n",
        "Cluster/users-db: spec.bootstrap.initdb: icuLocale is only available when localeProvider is set to `icu` (CEL:",
    ),
    (
        "more replicas than the database has connections for",
        "maxReplicaCount: 4",
        "maxReplicaCount: 10",
        "ScaledObject/users: spec.maxReplicaCount: 10 replicas × 64 connections + 10 = 650 exceed Cluster/users-db's max_connections 300",
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
        "an Ingress for the retired ingress-nginx",
        "kind: Gateway\n",
        "kind: Ingress\n",
        "Ingress/eventos: spec.ingressClassName: ingress-nginx is retired",
    ),
    (
        "a route to the interceptor without a grant in its namespace",
        "  name: eventos-routes\n  namespace: keda\n",
        "  name: eventos-routes\n  namespace: eventos-system\n",
        "HTTPRoute/status-page: spec.rules[1].backendRefs: Service keda/keda-add-ons-http-interceptor-proxy",
    ),
    (
        "the status page's API paths sent past the interceptor",
        "    - name: keda-add-ons-http-interceptor-proxy\n      namespace: keda\n",
        "    - name: keda-add-ons-http-interceptor-proxy\n      namespace: eventos-system\n",
        "HTTPRoute/status-page: spec.rules[hostname=eventos.local]: /api/users reaches",
    ),
    (
        "a status page that signs in anyone",
        "  - name: auth_client_id\n    value: eventos-status\n",
        "  - name: auth_client_id\n    value: eventos-status\n  - name: auth_dev_key\n    value: \"00\"\n",
        "SpinApp/status: spec.variables.auth_dev_key: the development sign-in signs in anyone",
    ),
    (
        "a migration Job not named after its newest migration",
        "name: tickets-migrate-0013-8c19ea78",
        "name: tickets-migrate",
        "Job/tickets-migrate: metadata.name: must end in -0013-8c19ea78",
    ),
    (
        "a changed migration program under the old Job's name (immutable on the server)",
        "-- The migration program of the users domain",
        "-- The changed migration program of the users domain",
        "Job/users-migrate-0002-bdfe65b1: metadata.name: must end in -0002-",
    ),
    (
        "the Keycloak operator cut off from the API server by default deny",
        "  egress:\n  - ports:\n    - port: 443\n      protocol: TCP\n    - port: 6443\n      protocol: TCP\n  - ports:\n    - port: 9000",
        "  egress:\n  - ports:\n    - port: 9000",
        "no policy lets the Keycloak operator",
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
        "components trusting an issuer Keycloak does not write",
        "auth_issuer: http://id.eventos.local/realms/eventos",
        "auth_issuer: http://id.eventos.local/realms/master",
        "ConfigMap/eventos-config: data.auth_issuer",
    ),
    (
        "a domain that sends webhooks left out of the retries",
        "              value: events participation tickets\n",
        "              value: events participation\n",
        "CronJob/webhook-dispatch: env DOMAINS: tickets sends webhooks",
    ),
    (
        "a database that shuts the webhook retries out",
        "    - podSelector:\n        matchLabels:\n          app.kubernetes.io/name: webhook-dispatch\n",
        "",
        "CronJob/webhook-dispatch's pods may not reach events-db on TCP 5432",
    ),
    (
        "an unknown container field",
        "        name: migrate\n",
        "        name: migrate\n        imagePolicy: Always\n",
        "Job/users-migrate-0002-bdfe65b1: spec.template.spec.containers.0",
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

fn render_runtime_class(folder: &str) -> String {
    let out = Command::new("kubectl").arg("kustomize").arg(workspace().join(folder)).output().expect("render");
    assert!(out.status.success(), "{folder}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The default node runtime embeds Spin 4.0 (containerd-shim-spin v0.25.1), the
/// documented alternative Spin 3.6.3 (v0.24.0); both validate.
#[test]
fn each_node_runtime_installs_the_shim_of_its_spin() {
    for (folder, shim) in [("runtime-class", "v0.25.1"), ("runtime-class/spin-3.6.3", "v0.24.0")] {
        let rendered = render_runtime_class(folder);
        let (ok, report) = validate_text(&rendered);
        assert!(ok && report.contains("2 objects, 0 problem(s)"), "{folder}: {report}");
        let releases: Vec<&str> = rendered.lines().filter_map(|l| l.split("/releases/download/").nth(1)).collect();
        assert_eq!(releases.len(), 2, "{folder}: one download per platform");
        assert!(releases.iter().all(|r| r.starts_with(&format!("{shim}/"))), "{folder}: {releases:?}");
    }
}

/// The README installs the runtime-class-manager whose Shim CRD the validator
/// checks against: `fetchStrategy.platforms` exists only from 0.2.0, and 0.1.0's
/// CRD would refuse the Shim.
#[test]
fn the_runtime_class_manager_the_readme_installs_is_the_one_whose_crd_is_checked() {
    let readmes =
        ["k8s/README.md", "runtime-class/README.md"].map(|f| std::fs::read_to_string(workspace().join(f)).expect(f));
    let readme = readmes.join("\n");
    let installed: Vec<&str> = readme
        .lines()
        .filter(|l| l.contains("helm upgrade --install rcm "))
        .filter_map(|l| l.split("--version ").nth(1)?.split_whitespace().next())
        .collect();
    let sources = std::fs::read_to_string(schemas().join("SOURCE.md")).expect("SOURCE.md");
    let checked = sources
        .lines()
        .find(|l| l.contains("runtime.spinkube.dev_shims.yaml"))
        .and_then(|l| l.split("tag v").nth(1)?.split(|c: char| !(c.is_ascii_digit() || c == '.')).next())
        .expect("SOURCE.md names the Shim CRD's tag");
    assert_eq!(
        installed, [checked; 2],
        "the READMEs install runtime-class-manager {installed:?}, the CRD checked is v{checked}"
    );
    let crd = std::fs::read_to_string(schemas().join("runtime.spinkube.dev_shims.yaml")).expect("CRD");
    assert!(crd.contains("platforms:"), "the Shim CRD checked has fetchStrategy.platforms");
}

#[test]
fn the_node_runtime_is_what_runtime_class_manager_installs() {
    let rendered = render_runtime_class("runtime-class");
    for (what, from, to, expected) in [
        (
            "a RuntimeClass that lets pods land where no shim is",
            "scheduling:\n  nodeSelector:\n    spin: \"true\"\n",
            "",
            "RuntimeClass/wasmtime-spin-v2: scheduling.nodeSelector",
        ),
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
fn the_job_programs_are_what_eventos_renders_from_the_migrations() {
    let rendered = workspace().join("target/test-fixtures").join(unique_prefix("job-sql"));
    std::fs::create_dir_all(&rendered).expect("dir");
    write_job_sql(&workspace().join("spin.toml"), &rendered);
    for domain in ["users", "events", "participation", "tickets"] {
        let file = format!("{domain}.sql");
        let committed = std::fs::read_to_string(workspace().join("k8s/base/migrate").join(&file)).expect("committed");
        let fresh = std::fs::read_to_string(rendered.join(&file)).expect("rendered");
        assert!(
            committed == fresh,
            "k8s/base/migrate/{file} is stale: run `eventos migrate --job-sql k8s/base/migrate`"
        );
    }
    std::fs::remove_dir_all(rendered).ok();
}

/// `eventos migrate --job-sql`: each domain's migration program of `manifest`, written into `dir`.
fn write_job_sql(manifest: &std::path::Path, dir: &std::path::Path) {
    let (manifest, dir) = (manifest.to_str().expect("path"), dir.to_str().expect("path"));
    let out = run_eventos(&["migrate", "--manifest", manifest, "--job-sql", dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// What the migration Job runs: psql on the domain's program, with the Job's options.
fn run_job_program(program: &std::path::Path, url: &str) -> std::process::Output {
    Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(program)
        .output()
        .expect("run psql")
}

fn database_url(database: &str) -> String {
    admin_url().replacen("/postgres?", &format!("/{database}?"), 1).replace("?sslmode=disable", "")
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
fn the_migration_job_program_leaves_the_same_schema_and_ledger_as_eventos_migrate() {
    let prefix = unique_prefix("k8s");
    let manifest = workspace().join("spin.toml");
    let manifest = manifest.to_str().expect("path");
    let migrated = run_eventos(&["migrate", "--manifest", manifest, "--prefix", &prefix]);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    for domain in ["users", "events", "participation", "tickets"] {
        let by_eventos = format!("{prefix}_{domain}");
        let by_job = format!("{prefix}_{domain}_job");
        admin_query("postgres", &format!("CREATE DATABASE {by_job}")).expect("create database");
        let program = workspace().join("k8s/base/migrate").join(format!("{domain}.sql"));
        let first = run_job_program(&program, &database_url(&by_job));
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        assert!(String::from_utf8_lossy(&first.stderr).contains("migrate: applied 0001_"), "the first run applies");
        let second = run_job_program(&program, &database_url(&by_job));
        assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
        assert!(!String::from_utf8_lossy(&second.stderr).contains("applied"), "applied once only");
        assert_eq!(schema_of(&by_job), schema_of(&by_eventos), "{domain}: the schemas differ");
        let ledger = "SELECT string_agg(version || ' ' || name || ' ' || checksum, ',' ORDER BY version) FROM eventos_migrations";
        assert_eq!(admin_query(&by_job, ledger), admin_query(&by_eventos, ledger), "{domain}: the ledgers differ");
        admin_query("postgres", &format!("DROP DATABASE {by_job} WITH (FORCE)")).expect("drop");
    }
    let dropped = run_eventos(&["drop", "--manifest", manifest, "--prefix", &prefix]);
    assert!(dropped.status.success());
}

#[test]
fn the_migration_job_program_refuses_an_edited_or_deleted_migration() {
    let dir = workspace().join("target/test-fixtures").join(unique_prefix("edited"));
    let migrations = dir.join("components/demo/migrations");
    std::fs::create_dir_all(&migrations).expect("dir");
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        "spin_manifest_version = 2\n[application]\nname = \"demo\"\n[component.demo]\nsource = \"demo.wasm\"\n",
    )
    .expect("manifest");
    let render = || {
        write_job_sql(&manifest, &dir);
        dir.join("demo.sql")
    };
    std::fs::write(migrations.join("0001_first.sql"), "CREATE TABLE first (id int);").expect("write");
    let database = unique_prefix("edited");
    admin_query("postgres", &format!("CREATE DATABASE {database}")).expect("create");
    let url = database_url(&database);
    assert!(run_job_program(&render(), &url).status.success());

    std::fs::write(migrations.join("0001_first.sql"), "CREATE TABLE first (id bigint);").expect("edit");
    let edited = run_job_program(&render(), &url);
    assert!(!edited.status.success());
    assert!(String::from_utf8_lossy(&edited.stderr).contains("0001_first was changed after it was applied"));

    std::fs::remove_file(migrations.join("0001_first.sql")).expect("delete");
    std::fs::write(migrations.join("0002_second.sql"), "CREATE TABLE second (id int);").expect("write");
    let deleted = run_job_program(&render(), &url);
    assert!(!deleted.status.success());
    assert!(String::from_utf8_lossy(&deleted.stderr).contains("migration 0001 was applied but its file is gone"));
    assert_eq!(admin_query(&database, "SELECT to_regclass('second')::text"), Ok(Vec::new()), "nothing ran");

    admin_query("postgres", &format!("DROP DATABASE {database} WITH (FORCE)")).expect("drop");
    std::fs::remove_dir_all(dir).ok();
}
