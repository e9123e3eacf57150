//! The node runtime a SpinKube node runs: containerd 1.7 with
//! containerd-shim-spin, started once per test process (its root, state and
//! socket under target/), the application pushed as the OCI artifact
//! `eventos registry push` makes to a docker-registry on loopback and pulled by
//! `ctr`, then one container per SpinApp of the production overlay with
//! `SPIN_COMPONENTS_TO_RETAIN` and the variables that SpinApp names, calling
//! each other over HTTP as pods call each other's Services, behind a gateway
//! that routes as the manifest's triggers do.
//!
//! `NODE_BIN` names the folder of `containerd-1.7.34`, `ctr-1.7.34` and
//! `containerd-shim-spin-v2`; containerd needs root.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::LazyLock;

use serde_json::Value;

use super::{free_address, listens, workspace};

/// The containerd namespace the containers live in, as on a kubelet's node.
const NAMESPACE: &str = "k8s.io";

/// This process's containerd, registry and pulled artifact.
pub struct Node {
    bin: PathBuf,
    socket: PathBuf,
    /// The artifact as `ctr` knows it: `registry/eventos:tag`.
    pub image: String,
    /// Holds the supervisor's stdin: when the test process ends, it closes, and
    /// the supervisor kills every task, containerd and the registry.
    _stdin: std::sync::Mutex<ChildStdin>,
    /// One container starts at a time (see [`Node::start_container`]).
    starting: std::sync::Mutex<()>,
}

/// The node of this test process, started on first use.
pub fn node() -> &'static Node {
    static NODE: LazyLock<Node> = LazyLock::new(Node::start);
    &NODE
}

/// `NODE_BIN`, the folder holding the node runtime's binaries.
pub fn node_bin() -> Option<PathBuf> {
    let bin = PathBuf::from(std::env::var_os("NODE_BIN").filter(|s| !s.is_empty())?);
    ["containerd-1.7.34", "ctr-1.7.34", "containerd-shim-spin-v2"].iter().all(|b| bin.join(b).is_file()).then_some(bin)
}

impl Node {
    fn start() -> Self {
        let bin = node_bin().expect("EVENTOS_TEST_RUNTIME=node: NODE_BIN must name the node runtime's folder");
        let dir = workspace().join("target/node").join(std::process::id().to_string());
        std::fs::create_dir_all(dir.join("registry")).expect("node folder");
        let socket = dir.join("containerd.sock");
        let registry = free_address();
        let config = dir.join("registry.yml");
        let storage = dir.join("registry").display().to_string();
        std::fs::write(
            &config,
            format!("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage}\nhttp:\n  addr: {registry}\n"),
        )
        .expect("registry config");
        let mut supervisor = Command::new("sh")
            .args(["-c", NODE_SUPERVISOR, "node-supervisor"])
            .arg(&bin)
            .arg(&dir)
            .arg(&socket)
            .arg(&config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("supervisor.log")).expect("log"))
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .spawn()
            .expect("start the node supervisor");
        let mut ready = String::new();
        BufReader::new(supervisor.stdout.take().expect("stdout")).read_line(&mut ready).expect("supervisor");
        assert_eq!(ready.trim(), "ready", "containerd or the registry did not start: see {}", dir.display());
        assert!(listens(&registry, &mut supervisor), "docker-registry did not listen on {registry}");
        let stdin = supervisor.stdin.take().expect("stdin");
        let image = format!("{registry}/eventos:test");
        let pushed = Command::new(env!("CARGO_BIN_EXE_eventos"))
            .args(["registry", "push", "--insecure", "--no-build", &image])
            .current_dir(workspace())
            .output()
            .expect("eventos registry push");
        assert!(pushed.status.success(), "push: {}", String::from_utf8_lossy(&pushed.stderr));
        let node = Node { bin, socket, image, _stdin: std::sync::Mutex::new(stdin), starting: Default::default() };
        node.ctr(&["image", "pull", "--plain-http", &node.image]);
        node.precompile(&dir);
        node
    }

    /// The first start of an artifact compiles every component and keeps them in
    /// containerd's content store: done once here, so that the platforms the
    /// tests start at once do not all compile together.
    fn precompile(&self, dir: &Path) {
        let address = free_address();
        let name = format!("precompile-{}", std::process::id());
        self.start_container(&name, &address, None, &[], &dir.join("precompile.log"));
        self.remove(&name);
    }

    /// Starts a container (see [`Node::run`]) and waits until it listens, one
    /// at a time. containerd-shim-spin v0.24 saves the compiled components and
    /// relabels the image at every start (the application's own layer is never
    /// compiled, so the shim never finds the image complete), and two starts
    /// relabelling one image at once can fail one of them ("Failed to read Spin
    /// app manifest from /spin.toml").
    pub fn start_container(
        &self,
        name: &str,
        address: &str,
        components: Option<&str>,
        env: &[(String, String)],
        log: &Path,
    ) {
        let _one_at_a_time = self.starting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.run(name, address, components, env, log);
        wait_for_listener(address, name);
    }

    /// Runs `ctr` against this node's containerd; its output.
    pub fn ctr(&self, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("ctr-1.7.34"))
            .arg("--address")
            .arg(&self.socket)
            .args(["-n", NAMESPACE])
            .args(args)
            .output()
            .expect("run ctr");
        assert!(out.status.success(), "ctr {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts the container `name` (a new task), listening on `address`, with
    /// only `components` kept (all, without) and `env` (`SPIN_VARIABLE_*` for
    /// the variables, as SpinKube's executor sets them), as the shim runs a
    /// SpinApp's pod. `ctr` stays attached and appends the container's output
    /// to `log`, as a kubelet collects a pod's: the shim writes to the paths
    /// containerd gives it, so a `--log-uri` (a URI, not a path) would lose it,
    /// and unread pipes would stop it once full.
    fn run(&self, name: &str, address: &str, components: Option<&str>, env: &[(String, String)], log: &Path) {
        let mut args: Vec<String> = vec!["run".into(), "--rm".into(), "--net-host".into()];
        args.extend(["--runtime".into(), "io.containerd.spin.v2".into()]);
        args.extend(["--env".into(), format!("SPIN_HTTP_LISTEN_ADDR={address}")]);
        if let Some(components) = components {
            args.extend(["--env".into(), format!("SPIN_COMPONENTS_TO_RETAIN={components}")]);
        }
        for (key, value) in env {
            args.extend(["--env".into(), format!("{key}={value}")]);
        }
        args.extend([self.image.clone(), name.to_owned(), "/".into()]);
        let output = || std::fs::OpenOptions::new().create(true).append(true).open(log).expect("the container's log");
        Command::new(self.bin.join("ctr-1.7.34"))
            .arg("--address")
            .arg(&self.socket)
            .args(["-n", NAMESPACE])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .expect("ctr run");
    }

    /// Ends the container `name` as the kubelet ends a pod's: SIGKILL, then the
    /// task and the container removed.
    pub fn remove(&self, name: &str) {
        let _ = self.try_ctr(&["task", "kill", "-s", "SIGKILL", name]);
        for _ in 0..100 {
            if self.try_ctr(&["task", "rm", name]).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.try_ctr(&["container", "rm", name]);
    }

    fn try_ctr(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(self.bin.join("ctr-1.7.34"))
            .arg("--address")
            .arg(&self.socket)
            .args(["-n", NAMESPACE])
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

/// Starts containerd and docker-registry, says `ready` once containerd answers,
/// and waits for its stdin to close: then kills every task, stops both and
/// removes the folder. Arguments: the binaries' folder, the node's folder, the
/// socket, the registry's configuration.
const NODE_SUPERVISOR: &str = r#"
"$1/containerd-1.7.34" --root "$2/root" --state "$2/state" --address "$3" >"$2/containerd.log" 2>&1 &
containerd=$!
docker-registry serve "$4" >"$2/registry.log" 2>&1 &
registry=$!
i=0
until "$1/ctr-1.7.34" --address "$3" version >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 300 ] || exit 1; sleep 0.1
done
echo ready
cat >/dev/null
for task in $("$1/ctr-1.7.34" --address "$3" -n k8s.io task ls -q 2>/dev/null); do
  "$1/ctr-1.7.34" --address "$3" -n k8s.io task kill -s SIGKILL "$task" 2>/dev/null
  "$1/ctr-1.7.34" --address "$3" -n k8s.io task rm -f "$task" >/dev/null 2>&1
done
for container in $("$1/ctr-1.7.34" --address "$3" -n k8s.io container ls -q 2>/dev/null); do
  "$1/ctr-1.7.34" --address "$3" -n k8s.io container rm "$container" >/dev/null 2>&1
done
kill "$containerd" "$registry" 2>/dev/null
wait "$containerd" "$registry" 2>/dev/null
# A shim outlives containerd (as it must on a node): end those of this node, and what they mounted.
pkill -KILL -f -- "-address $3" 2>/dev/null
sleep 0.5
grep " $2/" /proc/mounts | cut -d" " -f2 | sort -r | while read -r mount; do umount "$mount" 2>/dev/null; done
rm -rf "$2"
"#;

/// The overlay whose SpinApps the node runs: the production one, with telemetry
/// (the status page's `prometheus_url`).
const OVERLAY: &str = "k8s/overlays/prod";

/// Each SpinApp `OVERLAY` renders (`kubectl kustomize`): its name, its
/// components, and the variables it binds (each with its literal `value`, when
/// it has one).
pub fn spinapps() -> Vec<(String, Vec<String>, Vec<(String, Option<String>)>)> {
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
    apps.as_array()
        .expect("a list")
        .iter()
        .map(|app| {
            let name = app[0].as_str().expect("name").to_owned();
            let components = app[1].as_array().expect("components").iter().map(|c| c.as_str().expect("id").to_owned());
            let variables = app[2]
                .as_array()
                .expect("variables")
                .iter()
                .map(|v| (v[0].as_str().expect("name").to_owned(), v[1].as_str().map(str::to_owned)));
            (name, components.collect(), variables.collect())
        })
        .collect()
}

/// The containers of one platform: removed when it is dropped.
pub struct Containers {
    pub names: Vec<String>,
}

impl Drop for Containers {
    fn drop(&mut self) {
        for name in &self.names {
            node().remove(name);
        }
    }
}

/// Waits (up to two minutes) until something accepts connections on `address`.
pub fn wait_for_listener(address: &str, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::net::TcpStream::connect(address).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not listen on {address}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
