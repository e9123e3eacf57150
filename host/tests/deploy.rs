//! From a clean clone to a deployment, with no cluster: the application pushed to
//! a real registry on loopback (Debian's `docker-registry`), read back and
//! compared layer by layer with the built components and with what `spin
//! registry push` makes of the same application, served from the registry by
//! real Spin, and `make deploy` planning the pinned overlay with `kubectl apply
//! --dry-run=client`.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{find_spin, free_address, listens, provision_for_spin, run_eventos, send, unique_prefix, workspace};

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
        let wasm = std::fs::read(workspace().join(format!("target/wasm32-wasip2/release/{id}.wasm"))).expect("built");
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

#[test]
fn the_artifact_is_what_spin_registry_push_makes_and_real_spin_serves_it() {
    let Some(spin) = find_spin() else {
        eprintln!("skipped: no Spin CLI (set SPIN or put spin on PATH)");
        return;
    };
    let registry = Registry::start();
    let pinned = push(&registry, "eventos");
    let ours = registry.json(&format!("eventos/manifests/{}", pinned.rsplit_once('@').expect("digest").1));
    let out = Command::new(&spin)
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
    let mut spin_up = Command::new(&spin)
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
        let bearer = format!("Bearer {}", support::admin_token());
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

#[test]
fn make_deploy_pushes_pins_and_plans_every_object() {
    let registry = Registry::start();
    let fixtures = workspace().join("target/test-fixtures").join(unique_prefix("deploy"));
    std::fs::create_dir_all(&fixtures).expect("fixtures");
    let port_file = fixtures.join("port");
    let mut api = Command::new("python3")
        .arg(workspace().join("scripts/kube-discovery.py"))
        .arg(&port_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !port_file.exists() && std::time::Instant::now() < deadline {
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
    let out = Command::new("make")
        .args(["-s", "deploy", &format!("REGISTRY={}", registry.address), "OVERLAY=dev", "INSECURE=1", "DRY_RUN=1"])
        .current_dir(workspace())
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("make deploy");
    let _ = api.kill();
    let looked_up = {
        use std::io::Read;
        let mut text = String::new();
        api.stdout.take().expect("piped").read_to_string(&mut text).ok();
        text
    };
    let _ = api.wait();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&fixtures);
    assert!(out.status.success(), "make deploy failed:\n{report}");

    for planned in [
        "secret/eventos-db-ca created (dry run)",
        "secret/eventos-ca-certificates created (dry run)",
        "spinappexecutor.core.spinkube.dev/containerd-shim-spin created (dry run)",
        "cluster.postgresql.cnpg.io/tickets-db created (dry run)",
        "job.batch/tickets-migrate-0004 created (dry run)",
        "keycloak.k8s.keycloak.org/keycloak created (dry run)",
        "keycloakrealmimport.k8s.keycloak.org/eventos-realm created (dry run)",
    ] {
        assert!(report.contains(planned), "{planned:?} missing:\n{report}");
    }
    for app in ["users", "events", "participation", "tickets", "status"] {
        assert!(report.contains(&format!("spinapp.core.spinkube.dev/{app} created (dry run)")), "{app}:\n{report}");
        assert!(looked_up.contains(&format!("/spinapps/{app}\n")), "kubectl never looked up SpinApp {app}");
    }
    assert!(report.contains(" 0 problem(s)"), "the pinned overlay validates:\n{report}");

    let pinned = report.lines().find_map(|l| l.strip_prefix("deploy: pushed ")).expect("the pushed reference");
    let rendered = Command::new("kubectl")
        .args(["kustomize", "target/deploy/dev"])
        .current_dir(workspace())
        .output()
        .expect("kubectl");
    let rendered = String::from_utf8_lossy(&rendered.stdout);
    assert_eq!(rendered.matches(&format!("image: {pinned}\n")).count(), 5, "every SpinApp runs the pushed digest");
}
