//! The node runtime a SpinKube node runs: containerd 1.7 with
//! containerd-shim-spin, the application pulled as the OCI artifact
//! `eventos registry push` makes (`scripts/test-on-node.sh` starts the node and
//! names it in `NODE_BIN`, `NODE_SOCKET` and `NODE_IMAGE`), and one container
//! per SpinApp of the production overlay with `SPIN_COMPONENTS_TO_RETAIN` and
//! the variables that SpinApp binds, calling each other over HTTP as pods call
//! each other's Services, behind a gateway that routes as the manifest's
//! triggers do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Platform, Running, admin_url, free_address, gateway, listens, provision_for_spin, workspace};

/// The containerd namespace the containers live in, as on a kubelet's node.
const NAMESPACE: &str = "k8s.io";
/// The overlay whose SpinApps the node runs: the production one, with telemetry
/// (the status page's `prometheus_url`).
const OVERLAY: &str = "k8s/overlays/prod";
/// Starts of a container that does not listen before the test gives up.
const STARTS: u32 = 3;

/// The node the tests run on.
pub struct Node {
    ctr: PathBuf,
    socket: PathBuf,
    /// The artifact as containerd knows it: `registry/eventos:tag`.
    image: String,
    /// One container starts at a time (see [`Node::start_container`]).
    starting: Mutex<()>,
}

/// The node `scripts/test-on-node.sh` started for this run.
pub fn node() -> &'static Node {
    static NODE: LazyLock<Node> = LazyLock::new(|| {
        let named = |variable: &str| {
            std::env::var(variable)
                .unwrap_or_else(|_| panic!("EVENTOS_TEST_RUNTIME=node needs {variable}: run scripts/test-on-node.sh"))
        };
        Node {
            ctr: PathBuf::from(named("NODE_BIN")).join("ctr-1.7.34"),
            socket: PathBuf::from(named("NODE_SOCKET")),
            image: named("NODE_IMAGE"),
            starting: Mutex::new(()),
        }
    });
    &NODE
}

impl Node {
    fn ctr(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command.arg("--address").arg(&self.socket).args(["-n", NAMESPACE]);
        command
    }

    /// Starts the container `name` and waits until it listens on `address`, one
    /// at a time: containerd-shim-spin v0.24 saves the compiled components and
    /// relabels the image at every start (the application's own layer is never
    /// compiled, so the shim never finds the image complete), and two starts
    /// relabelling one image at once can fail one of them ("Failed to read Spin
    /// app manifest from /spin.toml").
    ///
    /// The container keeps only `components` and gets `env` (`SPIN_VARIABLE_*`
    /// for the variables, as SpinKube's executor sets them). `ctr` stays
    /// attached and appends its output to `log`, as a kubelet collects a pod's:
    /// the shim writes to the paths containerd gives it, so a `--log-uri` (a
    /// URI, not a path) would lose it, and unread pipes would stop it once full.
    ///
    /// A start that does not listen within a minute (the task exited, or hangs)
    /// is killed and started again, as a kubelet whose startup probe failed
    /// restarts the container; after three such starts the test fails.
    pub fn start_container(
        &self,
        name: &str,
        address: &str,
        components: &str,
        env: &[(String, String)],
        log: &Path,
    ) -> Child {
        let _one_at_a_time = self.starting.lock().unwrap_or_else(PoisonError::into_inner);
        for attempt in 1..=STARTS {
            let mut child = self.run(name, address, components, env, log);
            if listens(address, &mut child) {
                return child;
            }
            self.remove(name, &mut child);
            let _ = self.ctr().args(["container", "rm", name]).output();
            let note =
                format!("node: {name} did not listen on {address} (start {attempt} of {STARTS}); started again\n");
            let _ = std::fs::OpenOptions::new().append(true).open(log).and_then(|mut f| f.write_all(note.as_bytes()));
        }
        panic!("{name} did not listen on {address} after {STARTS} starts (see {})", log.display())
    }

    /// `ctr run` for the container, attached, its output appended to `log`.
    fn run(&self, name: &str, address: &str, components: &str, env: &[(String, String)], log: &Path) -> Child {
        let mut command = self.ctr();
        command.args(["run", "--rm", "--net-host", "--runtime", "io.containerd.spin.v2"]);
        command.args(["--env", &format!("SPIN_HTTP_LISTEN_ADDR={address}")]);
        command.args(["--env", &format!("SPIN_COMPONENTS_TO_RETAIN={components}")]);
        for (key, value) in env {
            command.args(["--env", &format!("{key}={value}")]);
        }
        let output = || std::fs::OpenOptions::new().create(true).append(true).open(log).expect("the container's log");
        command
            .args([&self.image, name, "/"])
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .expect("ctr run")
    }

    /// Ends the container `name` as the kubelet ends a pod's: SIGKILL; the
    /// `ctr run --rm` attached to it then removes its task and the container.
    pub fn remove(&self, name: &str, attached: &mut Child) {
        let _ = self.ctr().args(["task", "kill", "-s", "SIGKILL", name]).output();
        // A `ctr run` whose task never started does not end with it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(attached.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = attached.kill();
        let _ = attached.wait();
    }
}

/// A SpinApp: its name, its components, and the variables it binds (each with
/// its literal `value`, when it has one).
pub struct SpinApp {
    pub name: String,
    pub components: Vec<String>,
    pub variables: Vec<(String, Option<String>)>,
}

/// Each SpinApp `OVERLAY` renders (`kubectl kustomize`).
pub fn spinapps() -> Vec<SpinApp> {
    let rendered = Command::new("kubectl").arg("kustomize").arg(workspace().join(OVERLAY)).output().expect("kubectl");
    assert!(rendered.status.success(), "kubectl kustomize {OVERLAY}: {}", String::from_utf8_lossy(&rendered.stderr));
    let mut python = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml\n\
             apps = [d for d in yaml.safe_load_all(sys.stdin) if d and d.get('kind') == 'SpinApp']\n\
             json.dump([[a['metadata']['name'], a['spec']['components'],\n\
                         [[v['name'], v.get('value')] for v in a['spec'].get('variables', [])]] for a in apps], sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 reads the SpinApps");
    std::io::Write::write_all(&mut python.stdin.take().expect("stdin"), &rendered.stdout).expect("write");
    let out = python.wait_with_output().expect("python3 reads the SpinApps");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let apps: Value = serde_json::from_slice(&out.stdout).expect("json");
    let text = |value: &Value| value.as_str().expect("text").to_owned();
    apps.as_array()
        .expect("a list")
        .iter()
        .map(|app| SpinApp {
            name: text(&app[0]),
            components: app[1].as_array().expect("components").iter().map(text).collect(),
            variables: app[2]
                .as_array()
                .expect("variables")
                .iter()
                .map(|v| (text(&v[0]), v[1].as_str().map(str::to_owned)))
                .collect(),
        })
        .collect()
}

/// How a SpinApp's container is started, kept to start it again.
pub struct Spec {
    pub app: String,
    name: String,
    address: String,
    components: String,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Spec {
    fn start(&self) -> Child {
        node().start_container(&self.name, &self.address, &self.components, &self.env, &self.log)
    }
}

/// The containers of one platform, each with the `ctr` attached to it while it
/// runs: removed when the platform is dropped.
#[derive(Default)]
pub struct Containers {
    running: Vec<(Spec, Option<Child>)>,
}

impl Containers {
    fn start(&mut self, spec: Spec) {
        let attached = spec.start();
        self.running.push((spec, Some(attached)));
    }

    fn of(&mut self, app: &str) -> &mut (Spec, Option<Child>) {
        self.running.iter_mut().find(|(spec, _)| spec.app == app).unwrap_or_else(|| panic!("no SpinApp {app}"))
    }

    /// Kills `app`'s container as a node losing it does (SIGKILL), its task and
    /// container gone when this returns.
    pub fn kill(&mut self, app: &str) {
        let (spec, attached) = self.of(app);
        if let Some(mut attached) = attached.take() {
            node().remove(&spec.name, &mut attached);
        }
    }

    /// Starts `app`'s container again, as the kubelet does: it answers when this returns.
    pub fn restart(&mut self, app: &str) {
        let (spec, attached) = self.of(app);
        assert!(attached.is_none(), "{app} is running");
        *attached = Some(spec.start());
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for (spec, attached) in &mut self.running {
            if let Some(attached) = attached {
                node().remove(&spec.name, attached);
            }
        }
    }
}

impl Platform {
    /// On the node: a container per SpinApp of the production overlay, each
    /// given the variables its SpinApp binds (a peer's URL is its container's
    /// address, as a peer's Service is on a cluster), behind a gateway routing
    /// as the manifest's triggers do.
    pub(super) fn start_node(manifest: &Path, prefix: &str, env: &[(&str, &str)], log: PathBuf) -> Self {
        assert_eq!(manifest, workspace().join("spin.toml"), "the node runs the application of spin.toml only");
        let admin = admin_url();
        let provisioned =
            provision_for_spin(manifest, prefix, &[&[("EVENTOS_PG_ADMIN_URL", admin.as_str())], env].concat());
        let from_test: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let set = |name: &str| {
            let key = format!("SPIN_VARIABLE_{}", name.to_uppercase());
            from_test.iter().chain(&provisioned).find(|(k, _)| *k == key).map(|(_, v)| v.clone())
        };
        let apps = spinapps();
        let addresses: Vec<String> = apps.iter().map(|_| free_address()).collect();
        std::fs::File::create(&log).expect("create log file");
        let mut containers = Containers::default();
        for (app, address) in apps.iter().zip(&addresses) {
            let name = format!("{prefix}-{}", app.name);
            let peer = |variable: &str| {
                let peer = variable.strip_suffix("_url")?;
                apps.iter().position(|other| other.name == peer).map(|i| format!("http://{}", addresses[i]))
            };
            let bound = app.variables.iter().filter_map(|(variable, literal)| {
                let value = match variable.as_str() {
                    "instance_name" => Some(name.clone()),
                    // A value naming a cluster's host means nothing here (and no test may send a
                    // packet off this machine): its default applies, as where nothing is deployed.
                    _ => set(variable)
                        .or_else(|| peer(variable))
                        .or_else(|| literal.clone().filter(|value| !value.contains(".svc.cluster.local"))),
                };
                value.map(|value| (format!("SPIN_VARIABLE_{}", variable.to_uppercase()), value))
            });
            // Telemetry is configured as Spin's is, from the process environment.
            let telemetry = from_test.iter().filter(|(key, _)| key.starts_with("OTEL_")).cloned();
            let env: Vec<(String, String)> = bound.chain(telemetry).collect();
            let (components, log) = (app.components.join(","), log.clone());
            containers.start(Spec { app: app.name.clone(), name, address: address.clone(), components, env, log });
        }
        let gateway = gateway::Gateway::start(routes_to(manifest, &apps, &addresses));
        // Ends the platform when its stdin closes: when it is dropped, or when the
        // test process ends without dropping it (a `static` platform).
        let node = node();
        let mut child = Command::new("sh")
            .args(["-c", NODE_PLATFORM_KEEPER, "node-platform"])
            .arg(env!("CARGO_BIN_EXE_eventos"))
            .arg(prefix)
            .arg(manifest)
            .arg(&node.ctr)
            .arg(&node.socket)
            .args(containers.running.iter().map(|(spec, _)| &spec.name))
            .env("EVENTOS_PG_ADMIN_URL", &admin)
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the platform's keeper");
        let stdin = child.stdin.take();
        Self {
            base: format!("http://{}", gateway.address),
            prefix: prefix.to_owned(),
            log,
            child,
            runtime: Running::Node { containers: Some(containers), stdin },
        }
    }
}

/// Waits for its stdin to close, then kills the platform's containers (a
/// dropped platform has removed them already) and drops its databases.
/// Arguments: eventos, the database prefix, the manifest, ctr, the socket, the containers.
const NODE_PLATFORM_KEEPER: &str = r#"
cat >/dev/null
eventos=$1 prefix=$2 manifest=$3 ctr=$4 socket=$5
shift 5
for name in "$@"; do "$ctr" --address "$socket" -n k8s.io task kill -s SIGKILL "$name" >/dev/null 2>&1; done
"$eventos" drop --prefix "$prefix" --manifest "$manifest" >/dev/null 2>&1
"#;

/// Where the gateway sends each route of the manifest's triggers: to the
/// container of the SpinApp that keeps the route's component.
fn routes_to(manifest: &Path, apps: &[SpinApp], addresses: &[String]) -> Vec<(String, String)> {
    let manifest: toml::Table = std::fs::read_to_string(manifest).expect("read").parse().expect("toml");
    let triggers = manifest["trigger"]["http"].as_array().expect("triggers");
    triggers
        .iter()
        .filter_map(|trigger| {
            let route = trigger["route"].as_str()?;
            let component = trigger["component"].as_str()?;
            let app = apps.iter().position(|app| app.components.iter().any(|c| c == component))?;
            Some((route.trim_end_matches("/...").to_owned(), addresses[app].clone()))
        })
        .collect()
}

impl Platform {
    /// The node's containers of this platform, to kill and restart (on the node only).
    pub fn containers(&mut self) -> &mut Containers {
        match &mut self.runtime {
            Running::Node { containers: Some(containers), .. } => containers,
            _ => panic!("containers are the node's"),
        }
    }
}
