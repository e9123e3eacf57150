//! From a clean clone to a deployment, with no cluster: the application pushed to
//! a real registry on loopback (Debian's `docker-registry`), read back and
//! compared layer by layer with the built components and with what `spin
//! registry push` makes of the same application, served from the registry by
//! real Spin, and `make deploy` planning the pinned overlay with `kubectl apply
//! --dry-run=client`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::support::{
    free_address, listens, provision_for_spin, referees, run_eventos, send, unique_prefix, workspace,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A `docker-registry` of its own on a free loopback port, its storage under target/.
struct Registry {
    address: String,
    storage: PathBuf,
    child: Child,
}

impl Registry {
    fn start() -> Self {
        let address = free_address();
        let storage = workspace().join("target/test-registry").join(unique_prefix("registry"));
        std::fs::create_dir_all(&storage).expect("registry storage");
        let config = storage.join("config.yml");
        let settings = format!(
            "version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: {address}}}\n",
            storage.join("data").display()
        );
        std::fs::write(&config, settings).expect("registry config");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (make setup installs it)");
        assert!(listens(&address, &mut child), "docker-registry did not listen on {address}");
        Self { address, storage, child }
    }

    /// The bytes the registry holds at `/v2/<path>` (blobs are binary: no text decoding).
    fn get(&self, path: &str) -> Vec<u8> {
        let mut response = ureq::get(&format!("http://{}/v2/{path}", self.address))
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        response.body_mut().with_config().limit(64 << 20).read_to_vec().expect("body")
    }

    fn json(&self, path: &str) -> Value {
        serde_json::from_slice(&self.get(path)).expect("JSON")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `eventos registry push`; returns the pinned reference it prints.
fn push(registry: &Registry, tag: &str) -> String {
    let reference = format!("{}/eventos:{tag}", registry.address);
    let manifest = workspace().join("spin.toml");
    let manifest = manifest.to_str().expect("path");
    let out = run_eventos(&["registry", "push", &reference, "--insecure", "--no-build", "-f", manifest]);
    assert!(out.status.success(), "push failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

#[test]
fn a_pushed_application_has_one_layer_per_component_and_its_locked_app() {
    let registry = Registry::start();
    let pinned = push(&registry, "first");
    let digest = pinned.rsplit_once('@').expect("pinned by digest").1;
    assert_eq!(pinned, format!("{}/eventos@{digest}", registry.address));
    let manifest_bytes = registry.get(&format!("eventos/manifests/{digest}"));
    assert_eq!(sha256(&manifest_bytes), digest, "the registry names the manifest by its content");
    let manifest: Value = serde_json::from_slice(&manifest_bytes).expect("JSON");
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    assert_eq!(manifest["annotations"]["org.opencontainers.image.title"], "eventos");

    let layers = manifest["layers"].as_array().expect("layers");
    let (locked_layer, wasm_layers) = layers.split_last().expect("layers");
    assert_eq!(locked_layer["mediaType"], "application/vnd.fermyon.spin.application.v1+config");
    let ids = ["users", "events", "participation", "tickets", "status"];
    assert_eq!(wasm_layers.len(), ids.len(), "one layer per component, in manifest order");
    for (id, layer) in ids.iter().zip(wasm_layers) {
        let wasm = std::fs::read(workspace().join(format!("target/wasm32-wasip2/component/{id}.wasm"))).expect("built");
        assert_eq!(layer["mediaType"], "application/vnd.wasm.content.layer.v1+wasm");
        assert_eq!(layer["digest"], sha256(&wasm), "{id}: the layer is the built component");
        assert_eq!(layer["size"], wasm.len());
        let pulled = registry.get(&format!("eventos/blobs/{}", layer["digest"].as_str().expect("digest")));
        assert_eq!(sha256(&pulled), layer["digest"], "{id}: pulled back intact");
    }

    let locked = registry.json(&format!("eventos/blobs/{}", locked_layer["digest"].as_str().expect("digest")));
    for (component, layer) in locked["components"].as_array().expect("components").iter().zip(wasm_layers) {
        assert_eq!(
            component["source"]["digest"], layer["digest"],
            "{}: the locked app names its layer",
            component["id"]
        );
    }
    let config = registry.json(&format!("eventos/blobs/{}", manifest["config"]["digest"].as_str().expect("digest")));
    assert_eq!((config["architecture"].as_str(), config["os"].as_str()), (Some("wasm"), Some("wasip1")));
    assert_eq!(config["config"]["Labels"]["com.fermyon.spin.lockedAppDigest"], locked_layer["digest"]);

    let again = push(&registry, "second");
    assert_eq!(again.rsplit_once('@').expect("digest").0, pinned.rsplit_once('@').expect("digest").0);
}

/// `eventos registry push REF` as its `--help` says, in the application's folder:
/// the default manifest `spin.toml` has an empty parent path, and its build
/// commands must still run there.
#[test]
fn a_plain_push_builds_in_the_folder_of_the_default_manifest() {
    let registry = Registry::start();
    let folder = workspace().join("target/test-fixtures").join(unique_prefix("plain-push"));
    std::fs::create_dir_all(&folder).expect("folder");
    let users = workspace().join("target/wasm32-wasip2/component/users.wasm");
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"plain\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"users\"\n\
         [component.users]\nsource = \"users.wasm\"\n\
         [component.users.build]\ncommand = \"cp '{}' users.wasm\"\n",
        users.display()
    );
    std::fs::write(folder.join("spin.toml"), manifest).expect("manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_eventos"))
        .args(["registry", "push", &format!("{}/plain:built", registry.address), "--insecure"])
        .current_dir(&folder)
        .output()
        .expect("run eventos");
    let built = std::fs::read(folder.join("users.wasm"));
    let _ = std::fs::remove_dir_all(&folder);
    assert!(out.status.success(), "a plain push failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(built.ok(), std::fs::read(&users).ok(), "the build command ran in the manifest's folder");
    assert!(String::from_utf8_lossy(&out.stdout).contains("/plain@sha256:"), "it printed the pinned reference");
}

#[test]
fn the_artifact_is_what_spin_registry_push_makes_and_real_spin_serves_it() {
    for (name, spin) in referees() {
        println!("the artifact against {name}");
        the_artifact_is_what_this_spin_pushes_and_serves(&spin);
    }
}

fn the_artifact_is_what_this_spin_pushes_and_serves(spin: &std::path::Path) {
    let registry = Registry::start();
    let pinned = push(&registry, "eventos");
    let ours = registry.json(&format!("eventos/manifests/{}", pinned.rsplit_once('@').expect("digest").1));
    let out = Command::new(spin)
        .args(["registry", "push", "--insecure", &format!("{}/eventos:spin", registry.address)])
        .current_dir(workspace())
        .output()
        .expect("spin registry push");
    assert!(out.status.success(), "spin registry push: {}", String::from_utf8_lossy(&out.stderr));
    let spins = registry.json("eventos/manifests/spin");
    assert_eq!(ours["layers"], spins["layers"], "the same layers, locked application included, byte for byte");
    assert_eq!(ours["config"], spins["config"], "the same image config");
    let without_time = |m: &Value| {
        let mut annotations = m["annotations"].clone();
        annotations.as_object_mut().expect("annotations").remove("org.opencontainers.image.created");
        annotations
    };
    assert_eq!(without_time(&ours), without_time(&spins));

    // What the cluster does with the artifact: real Spin runs it from the registry.
    let prefix = unique_prefix("registry");
    let manifest = workspace().join("spin.toml");
    let databases = provision_for_spin(&manifest, &prefix, &[]);
    let address = free_address();
    let mut spin_up = Command::new(spin)
        .args(["up", "--from-registry", &pinned, "--insecure", "--listen", &address])
        .envs(databases)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spin up");
    let served = listens(&address, &mut spin_up).then(|| {
        let base = format!("http://{address}");
        let email = format!("{prefix}@example.com");
        let body = serde_json::to_vec(&json!({"email": email, "name": "Registry"})).expect("json");
        let bearer = format!("Bearer {}", crate::support::admin_token());
        let headers = [("content-type", "application/json"), ("authorization", bearer.as_str())];
        let created = send(&format!("{base}/api/users"), "POST", &headers, Some(body));
        let status = send(&format!("{base}/api/status"), "GET", &[], None);
        (created, status)
    });
    let _ = Command::new("kill").args(["-TERM", &spin_up.id().to_string()]).status();
    let _ = spin_up.wait();
    run_eventos(&["drop", "--prefix", &prefix, "--manifest", manifest.to_str().expect("path")]);
    let (created, status) = served.expect("spin up --from-registry did not listen");
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(status.body["status"], "ok", "every domain answers from the pulled artifact: {}", status.text);
}

/// `scripts/kube-dry-run-api.py`: a stand-in API that takes dry runs only,
/// refuses what the API server refuses as too long and what spin-operator's
/// webhook refuses while its cache lags, and prints every request.
struct DryRunApi {
    child: Child,
    kubeconfig: PathBuf,
    fixtures: PathBuf,
}

impl DryRunApi {
    /// Serves with the objects of `seed` (YAML) existing.
    fn start(seed: &str) -> Self {
        let fixtures = workspace().join("target/test-fixtures").join(unique_prefix("deploy"));
        std::fs::create_dir_all(&fixtures).expect("fixtures");
        let (port_file, seed_file) = (fixtures.join("port"), fixtures.join("seed.yaml"));
        std::fs::write(&seed_file, seed).expect("seed");
        // Its log goes to a file: a pipe nobody reads while kubectl runs would fill and stall it.
        let child = Command::new("python3")
            .arg(workspace().join("scripts/kube-dry-run-api.py"))
            .args([&port_file, &seed_file])
            .stdout(std::fs::File::create(fixtures.join("api.log")).expect("log file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::fs::read_to_string(&port_file).map_or(true, |p| p.is_empty()) && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let port = std::fs::read_to_string(&port_file).expect("the API listens");
        let kubeconfig = fixtures.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: dry, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
                 contexts: [{{name: dry, context: {{cluster: dry}}}}]\ncurrent-context: dry\nusers: []\n"
            ),
        )
        .expect("kubeconfig");
        Self { child, kubeconfig, fixtures }
    }

    /// Runs `make -s deploy` with `args` against this API; returns its output
    /// and what the API was asked, once it is stopped.
    fn deploy(self, args: &[&str]) -> (bool, String, ApiLog) {
        let out = Command::new("make")
            .args(["-s", "deploy", "OVERLAY=dev", "VALIDATE=false"])
            .args(args)
            .current_dir(workspace())
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .expect("make deploy");
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), report, self.stop())
    }

    /// Stops the API; what it was asked.
    fn stop(mut self) -> ApiLog {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(self.fixtures.join("api.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&self.fixtures);
        ApiLog(text)
    }
}

/// What the stand-in API printed: a line per request, `body <json>` after each write.
struct ApiLog(String);

impl ApiLog {
    fn lines(&self, verb: &str) -> Vec<&str> {
        self.0.lines().filter(|l| l.starts_with(verb)).collect()
    }

    /// The bodies of every write, in order.
    fn bodies(&self) -> Vec<Value> {
        self.0.lines().filter_map(|l| l.strip_prefix("body ")).map(|b| serde_json::from_str(b).expect("JSON")).collect()
    }

    fn secret(&self, name: &str) -> Value {
        let found = self.bodies().into_iter().rev().find(|b| b["kind"] == "Secret" && b["metadata"]["name"] == name);
        found.unwrap_or_else(|| panic!("no Secret {name} was written"))
    }
}

fn secret_file(secret: &Value, key: &str) -> String {
    use base64::Engine;
    let encoded = secret["data"][key].as_str().unwrap_or_else(|| panic!("no {key} in {secret}"));
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64")).expect("text")
}

/// CloudNativePG's rule (pkg/certs, `ParseECPrivateKey`): a PEM block of type
/// `EC PRIVATE KEY` holding a SEC1 key; anything else stops it before any pod.
fn parses_as_cloudnative_pg_does(key_pem: &str) -> Result<(), String> {
    let (label, der) = sec1::der::pem::decode_vec(key_pem.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    if label != "EC PRIVATE KEY" {
        return Err(format!("invalid private key PEM block type {label:?}"));
    }
    sec1::EcPrivateKey::try_from(der.as_slice()).map(|_| ()).map_err(|e| format!("not a SEC1 EC key: {e}"))
}

#[test]
fn the_ca_key_rule_refuses_what_cloudnative_pg_refuses() {
    let dir = workspace().join("target/test-fixtures").join(unique_prefix("keys"));
    std::fs::create_dir_all(&dir).expect("dir");
    let pkcs8 = dir.join("pkcs8.key");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out"])
        .arg(&pkcs8)
        .status()
        .expect("openssl");
    assert!(made.success());
    let text = std::fs::read_to_string(&pkcs8).expect("key");
    let _ = std::fs::remove_dir_all(&dir);
    let refused = parses_as_cloudnative_pg_does(&text).expect_err("a PKCS#8 key");
    assert!(refused.contains("PEM block type"), "{refused}");
}

#[test]
fn make_deploy_applies_every_object_server_side() {
    let registry = Registry::start();
    let (ok, report, api) =
        DryRunApi::start("").deploy(&[&format!("REGISTRY={}", registry.address), "INSECURE=1", "DRY_RUN=server"]);
    assert!(ok, "make deploy DRY_RUN=server failed:\n{report}");
    assert!(report.contains(" 0 problem(s)"), "the pinned overlay validates:\n{report}");
    // A fresh cluster: spin-operator's webhook would refuse every SpinApp (a dry-run
    // executor never reaches its cache), so the server judges all but them.
    assert!(api.lines("refused").is_empty(), "the API refused: {:?}", api.lines("refused"));
    for app in ["users", "events", "participation", "tickets", "status"] {
        assert!(report.contains(&format!("SpinApp/{app}: not judged by the server")), "{app}:\n{report}");
        assert!(!report.contains(&format!("spinapp.core.spinkube.dev/{app} serverside-applied")), "{app}:\n{report}");
    }
    assert!(api.lines("created").is_empty(), "a client-side apply: {:?}", api.lines("created"));
    assert!(!report.contains("its import gained"), "a fresh cluster has no realm to update:\n{report}");
    for planned in [
        "secret/eventos-db-ca serverside-applied (server dry run)",
        "secret/eventos-ca-certificates serverside-applied (server dry run)",
        "secret/eventos-dispatcher serverside-applied (server dry run)",
        "cronjob.batch/webhook-dispatch serverside-applied (server dry run)",
        "spinappexecutor.core.spinkube.dev/containerd-shim-spin serverside-applied (server dry run)",
        "cluster.postgresql.cnpg.io/tickets-db serverside-applied (server dry run)",
        "keycloak.k8s.keycloak.org/keycloak serverside-applied (server dry run)",
        "gateway.gateway.networking.k8s.io/eventos serverside-applied (server dry run)",
        "httproute.gateway.networking.k8s.io/status-page serverside-applied (server dry run)",
        "referencegrant.gateway.networking.k8s.io/eventos-routes serverside-applied (server dry run)",
        "keycloakrealmimport.k8s.keycloak.org/eventos-realm serverside-applied (server dry run)",
    ] {
        assert!(report.contains(planned), "{planned:?} missing:\n{report}");
    }
    // Named after its newest migration and its program's digest (kubernetes.rs holds the name to them).
    let migration =
        |l: &str| l.starts_with("job.batch/tickets-migrate-00") && l.ends_with(" serverside-applied (server dry run)");
    assert!(report.lines().any(migration), "the tickets migration Job is missing:\n{report}");
    // Every write is a server-side apply by the field manager `eventos`, and none
    // carries a copy of itself in an annotation.
    let applied = api.lines("applied");
    assert!(applied.len() > 40 && applied.iter().all(|l| l.ends_with(" eventos")), "{applied:?}");
    assert!(!api.0.contains("last-applied-configuration"), "an object carries last-applied-configuration");

    // A cluster whose executor exists: the server judges the SpinApps too, after the
    // executor. Its Keycloak imported the realm before the dispatcher's client and the
    // staff role were added to it: the operator never imports an existing realm again,
    // so the deploy imports what the realm lacks.
    let existing = "{apiVersion: core.spinkube.dev/v1alpha1, kind: SpinAppExecutor, \
                    metadata: {name: containerd-shim-spin, namespace: eventos-system}}\n---\n\
                    {apiVersion: k8s.keycloak.org/v2alpha1, kind: KeycloakRealmImport, \
                    metadata: {name: eventos-realm, namespace: eventos-system}, \
                    spec: {keycloakCRName: keycloak, realm: {realm: eventos, \
                    roles: {realm: [{name: organizer}, {name: moderator}, {name: admin}]}, \
                    clients: [{clientId: eventos-status}]}}}";
    let (ok, report, api) =
        DryRunApi::start(existing).deploy(&[&format!("REGISTRY={}", registry.address), "INSECURE=1", "DRY_RUN=server"]);
    assert!(ok && api.lines("refused").is_empty(), "make deploy DRY_RUN=server failed:\n{report}");
    for app in ["users", "events", "participation", "tickets", "status"] {
        assert!(report.contains(&format!("spinapp.core.spinkube.dev/{app} serverside-applied")), "{app}:\n{report}");
    }
    assert!(
        report.contains(
            "the realm eventos exists, and its import gained clients: eventos-cli eventos-dispatcher; realm roles: staff"
        ) && report.contains("the partial import is planned, not made"),
        "the realm's new client and role are imported into the running Keycloak:\n{report}"
    );
    let applied = api.lines("applied");
    let executor = applied.iter().position(|l| l.contains("SpinAppExecutor")).expect("the executor");
    let first_app = applied.iter().position(|l| l.contains("SpinApp ")).expect("a SpinApp");
    assert!(
        executor + 1 < first_app && applied[executor + 1].starts_with("applied Namespace"),
        "the executor alone first"
    );

    // The databases' CA is what CloudNativePG parses; the pods' bundle is that CA alone.
    let ca = api.secret("eventos-db-ca");
    parses_as_cloudnative_pg_does(&secret_file(&ca, "ca.key")).expect("CloudNativePG parses the CA key");
    let bundle = secret_file(&api.secret("eventos-ca-certificates"), "ca-certificates.crt");
    assert_eq!(bundle, secret_file(&ca, "ca.crt"), "the bundle is the databases' CA, whatever this machine trusts");

    let pinned = report.lines().find_map(|l| l.strip_prefix("deploy: pushed ")).expect("the pushed reference");
    let rendered = Command::new("kubectl")
        .args(["kustomize", "target/deploy/dev"])
        .current_dir(workspace())
        .output()
        .expect("kubectl");
    let rendered = String::from_utf8_lossy(&rendered.stdout);
    assert_eq!(rendered.matches(&format!("image: {pinned}\n")).count(), 5, "every SpinApp runs the pushed digest");

    // Rotating the CA: the pods trust both, and every server certificate is made again.
    let image = format!("IMAGE={pinned}");
    let mut seed = serde_json::to_string(&ca).expect("JSON");
    for cluster in ["users", "events", "participation", "tickets", "keycloak"] {
        seed += &format!(
            "\n---\n{{apiVersion: v1, kind: Secret, metadata: {{name: {cluster}-db-server, namespace: eventos-system}}}}"
        );
    }
    let (ok, report, rotated) = DryRunApi::start(&seed).deploy(&[&image, "DRY_RUN=server", "ROTATE_DB_CA=1"]);
    assert!(ok, "the rotation failed:\n{report}");
    let new_ca = rotated.secret("eventos-db-ca");
    assert_ne!(secret_file(&new_ca, "ca.crt"), secret_file(&ca, "ca.crt"), "a new CA");
    parses_as_cloudnative_pg_does(&secret_file(&new_ca, "ca.key")).expect("CloudNativePG parses the new key");
    let bundle = secret_file(&rotated.secret("eventos-ca-certificates"), "ca-certificates.crt");
    assert_eq!(bundle, secret_file(&new_ca, "ca.crt") + &secret_file(&ca, "ca.crt"), "the new CA and the old");
    let deleted = rotated.lines("deleted");
    for cluster in ["users", "events", "participation", "tickets", "keycloak"] {
        let line = format!("deleted Secret eventos-system/{cluster}-db-server");
        assert!(
            deleted.contains(&line.as_str()),
            "{cluster}: its server certificate stays from the old CA: {deleted:?}"
        );
    }

    // DRY_RUN=1 still plans without a server of record.
    let (ok, report, _) = DryRunApi::start("").deploy(&[&image, "DRY_RUN=1"]);
    assert!(ok && report.contains("spinapp.core.spinkube.dev/tickets created (dry run)"), "{report}");
}

/// What the old deploy did, a client-side apply of a trust bundle made of this
/// machine's whole CA file, is what an API server refuses: the copy in
/// `last-applied-configuration` takes the annotations over 256 KiB.
#[test]
fn a_client_side_apply_of_a_large_secret_is_refused_as_too_long() {
    let api = DryRunApi::start("");
    let secret = api.fixtures.join("big.yaml");
    let big = "x".repeat(300 * 1024);
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(big);
    std::fs::write(
        &secret,
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: big, namespace: eventos-system}}\ndata: {{bundle: {data}}}\n"),
    )
    .expect("write");
    let run = |server_side: bool| {
        let mut command = Command::new("kubectl");
        command
            .args(["apply", "--dry-run=server", "--validate=false", "-f"])
            .arg(&secret)
            .env("KUBECONFIG", &api.kubeconfig);
        if server_side {
            command.args(["--server-side", "--field-manager=eventos"]);
        }
        command.output().expect("kubectl")
    };
    let (client_side, server_side) = (run(false), run(true));
    let log = api.stop();
    assert!(!client_side.status.success(), "the client-side apply went through");
    assert!(String::from_utf8_lossy(&client_side.stderr).contains("metadata.annotations: Too long"), "{client_side:?}");
    assert!(server_side.status.success(), "{server_side:?}");
    assert_eq!(log.lines("refused").len(), 1, "{}", log.0);
}

/// macOS ships bash 3.2, where `set -u` takes `"${array[@]}"` of an empty
/// array for an unbound variable and stops the script (bash 4.4 lifted it): every
/// expansion of an array that may be empty (made `name=()`) in a script run with
/// `set -u` must be written `${name[@]+"${name[@]}"}`.
#[test]
fn the_scripts_survive_bash_3_2_empty_arrays() {
    let mut unguarded = Vec::new();
    for entry in std::fs::read_dir(workspace().join("scripts")).expect("scripts") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        if !text.lines().any(|l| l.trim_start().starts_with("set -") && l.contains('u')) {
            continue;
        }
        let empty_able =
            text.split(|c: char| c.is_whitespace() || c == ';').filter_map(|word| word.strip_suffix("=()"));
        for name in empty_able.collect::<std::collections::BTreeSet<_>>() {
            let expansion = format!("\"${{{name}[@]}}\"");
            let guard = format!("${{{name}[@]+");
            for (at, _) in text.match_indices(&expansion) {
                if !text[..at].ends_with(&guard) {
                    let line = text[..at].lines().count();
                    unguarded.push(format!("{}:{line}: {expansion}", path.display()));
                }
            }
        }
    }
    assert!(unguarded.is_empty(), "empty arrays that stop bash 3.2 under set -u:\n{}", unguarded.join("\n"));
}
