//! Black-box test support: the real `.wasm` components served by a real runtime
//! (`eventos`, or Spin 3.6.3 itself) against a real PostgreSQL, on a free port,
//! with databases of their own.
#![allow(dead_code)]

pub mod gateway;
pub mod node;
pub mod otlp;
pub mod outage;
pub mod people;
pub mod prometheus;
pub mod proxy;
pub mod receivers;
pub mod redis;
pub mod world;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host lives in the workspace").to_path_buf()
}

/// A running platform: the manifest served by the runtime under test (see
/// [`runtime`]), on a free port, with databases of its own. Dropping it stops the
/// runtime and drops its databases.
pub struct Platform {
    pub base: String,
    pub prefix: String,
    pub log: PathBuf,
    child: Child,
    runtime: Running,
}

/// The platform of the repository's spin.toml that the tests of one process
/// share: started by the first test that asks, stopped with the process (its
/// runtime sees its stdin close and drops its databases). A test that needs
/// other settings starts a [`Platform`] of its own, stopped when it ends, so a
/// process holds one long-lived default platform, not one per file. It closes
/// a connection idle for 2 s (30 s by default): the connections a burst of one
/// test opened are not held while the next tests start platforms of their own
/// on a server of 100 connections.
pub static APP: LazyLock<Platform> = LazyLock::new(|| {
    Platform::start_with(&workspace().join("spin.toml"), "app", &[("EVENTOS_PG_IDLE_TIMEOUT_MS", "2000")])
});

/// What stopping the platform takes, by runtime.
enum Running {
    /// `eventos up --ephemeral`: closing its stdin stops it and drops its databases.
    Eventos { stdin: Option<ChildStdin> },
    /// `spin up` on databases `eventos migrate` provisioned, under [`SPIN_SUPERVISOR`].
    Spin { stdin: Option<ChildStdin> },
    /// A container per SpinApp on this process's node; closing the stdin of the
    /// child (a shell waiting for it) drops the databases.
    Node { containers: Option<node::Containers>, stdin: Option<ChildStdin> },
}

/// Where the platform of `prefix` logs, its folder made.
fn log_file_for(prefix: &str) -> PathBuf {
    let log = workspace().join("target/test-logs").join(format!("{prefix}.log"));
    std::fs::create_dir_all(log.parent().expect("log dir")).expect("create log dir");
    log
}

/// A unique database prefix for this process and call.
pub fn unique_prefix(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("t_{tag}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

impl Platform {
    /// The application of the repository's `spin.toml`.
    pub fn start() -> Self {
        Self::start_with(&workspace().join("spin.toml"), "app", &[])
    }

    pub fn start_with(manifest: &Path, tag: &str, env: &[(&str, &str)]) -> Self {
        Self::start_as(manifest, &unique_prefix(tag), env)
    }

    /// Starts with a chosen database prefix (for tests that must know the names up front).
    pub fn start_as(manifest: &Path, prefix: &str, env: &[(&str, &str)]) -> Self {
        for (id, wasm) in wasm_sources(manifest) {
            assert!(wasm.exists(), "component `{id}` is not built ({}): run `make components` first", wasm.display());
        }
        let log = log_file_for(prefix);
        match runtime() {
            Runtime::Eventos => Self::start_eventos(manifest, prefix, env, &[], log),
            Runtime::Spin(spin) => Self::start_spin(spin, manifest, prefix, env, log),
            Runtime::Node => Self::start_node(manifest, prefix, env, log),
        }
    }

    /// `eventos up --watch` (whatever the runtime under test): what `eventos` alone does.
    pub fn start_watching(manifest: &Path, tag: &str) -> Self {
        let prefix = unique_prefix(tag);
        let log = log_file_for(&prefix);
        Self::start_eventos(manifest, &prefix, &[("EVENTOS_PG_ADMIN_URL", &admin_url())], &["--watch"], log)
    }

    /// `eventos up --runtime-config-file FILE` with the repository's `spin.toml`:
    /// the key-value stores the file defines (what `eventos` alone reads).
    pub fn start_with_runtime_config(tag: &str, file: &Path) -> Self {
        let prefix = unique_prefix(tag);
        let log = log_file_for(&prefix);
        let args = ["--runtime-config-file", file.to_str().expect("a UTF-8 path")];
        Self::start_eventos(
            &workspace().join("spin.toml"),
            &prefix,
            &[("EVENTOS_PG_ADMIN_URL", &admin_url())],
            &args,
            log,
        )
    }

    fn start_eventos(manifest: &Path, prefix: &str, env: &[(&str, &str)], args: &[&str], log: PathBuf) -> Self {
        let log_file = std::fs::File::create(&log).expect("create log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_eventos"));
        command
            .args(["up", "--no-build", "--ephemeral", "--listen", "127.0.0.1:0", "--prefix", prefix])
            .args(args)
            .arg("--manifest")
            .arg(manifest)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .envs(env.iter().copied());
        let mut child = command.spawn().expect("start eventos");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the host's first line");
        let base = line
            .trim()
            .strip_prefix("eventos: serving ")
            .unwrap_or_else(|| {
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("eventos did not start: {line:?}\n{log_text}")
            })
            .to_owned();
        Self { base, prefix: prefix.to_owned(), log, child, runtime: Running::Eventos { stdin: Some(stdin) } }
    }

    /// What a Spin user does: `eventos migrate --print-env` for the databases, then
    /// `spin up`, under a shell that stops it (as Ctrl-C would) and drops the
    /// databases once its stdin closes: when the platform is dropped, or when the
    /// test process ends without dropping it (a `static` platform).
    fn start_spin(spin: &Path, manifest: &Path, prefix: &str, env: &[(&str, &str)], log: PathBuf) -> Self {
        let admin = admin_url();
        let provisioned =
            provision_for_spin(manifest, prefix, &[&[("EVENTOS_PG_ADMIN_URL", admin.as_str())], env].concat());
        let address = free_address();
        let mut child = Command::new("sh")
            .args(["-c", SPIN_SUPERVISOR, "spin-supervisor"])
            .arg(spin)
            .arg(manifest)
            .arg(&address)
            .arg(env!("CARGO_BIN_EXE_eventos"))
            .arg(prefix)
            .arg(log.with_extension("spin-logs"))
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(&log).expect("create log file"))
            .stderr(std::fs::OpenOptions::new().append(true).open(&log).expect("open log file"))
            // The test's own settings win over what was provisioned, as they do on eventos.
            .env("EVENTOS_PG_ADMIN_URL", &admin)
            .envs(provisioned)
            .envs(env.iter().copied())
            .spawn()
            .expect("start spin up under sh");
        let stdin = child.stdin.take();
        let mut platform = Self {
            base: format!("http://{address}"),
            prefix: prefix.to_owned(),
            log,
            child,
            runtime: Running::Spin { stdin },
        };
        platform.wait_until_listening(&address);
        platform
    }

    /// Spin says nothing a test can wait for on a pipe; it is ready once it accepts connections.
    fn wait_until_listening(&mut self, address: &str) {
        assert!(listens(address, &mut self.child), "spin up did not listen:\n{}", self.log_text());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests carrying an admin's token: what most tests need, so that they
    /// test the rule they name rather than who may ask.
    pub fn get(&self, path: &str) -> Reply {
        self.as_admin().get(path)
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.as_admin().delete(path)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.as_admin().post(path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.as_admin().patch(path, body)
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.as_admin().json(method, path, body)
    }

    /// An admin's request, unless `headers` carry an `Authorization` of their own.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
        self.as_admin().send(method, path, headers, body)
    }

    fn as_admin(&self) -> Client<'_> {
        self.with_token(admin_token())
    }

    /// Requests carrying `token` as their bearer token.
    pub fn with_token(&self, token: &str) -> Client<'_> {
        Client { base: &self.base, token: Some(token.to_owned()) }
    }

    /// Requests carrying no token at all.
    pub fn anonymous(&self) -> Client<'_> {
        Client { base: &self.base, token: None }
    }

    /// Everything the runtime and its components logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once it holds `needle`: Spin relays a component's output a moment
    /// after the response, so a test reading it waits (up to 10 s).
    pub fn log_containing(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.log_text();
            if text.contains(needle) || std::time::Instant::now() >= deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the runtime to stop (closing its stdin), as Ctrl-C does; it then
    /// finishes what it is serving and drops its databases.
    pub fn stop(&mut self) {
        match &mut self.runtime {
            Running::Eventos { stdin } | Running::Spin { stdin } => drop(stdin.take()),
            Running::Node { containers, stdin } => {
                drop(containers.take());
                drop(stdin.take());
            }
        }
    }

    pub fn has_exited_within(&mut self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.stop();
        if !self.has_exited_within(Duration::from_secs(15)) {
            let _ = self.child.kill();
        }
    }
}

/// Runs `spin up` until stdin closes, then stops it with SIGTERM (which stops
/// its `spin trigger` child too; SIGKILL would orphan it) and drops the databases.
/// Components log to Spin's own output, as they do to `eventos`'s; Spin also
/// writes them to files in a folder of the test's own, removed at the end (Spin
/// 4 refuses an empty `--log-dir`, which Spin 3 takes as "no files").
/// Arguments: spin, manifest, listen address, eventos, database prefix, log folder.
const SPIN_SUPERVISOR: &str = r#"
"$1" up --from "$2" --listen "$3" --log-dir "$6" </dev/null &
spin=$!
cat >/dev/null
kill -TERM "$spin" 2>/dev/null
wait "$spin"
"$4" drop --prefix "$5" --manifest "$2" >/dev/null 2>&1
rm -rf "$6"
"#;

/// The runtime the black-box tests run on: `eventos`, or real Spin when
/// `EVENTOS_TEST_RUNTIME=spin` (found through `SPIN`, else `PATH`).
pub enum Runtime {
    Eventos,
    Spin(PathBuf),
    /// containerd with containerd-shim-spin (see `node.rs`).
    Node,
}

/// Whether the tests run on the node: the application as the cluster
/// configures it (no development sign-in, for one), behind a gateway.
pub fn on_node() -> bool {
    matches!(runtime(), Runtime::Node)
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| match std::env::var("EVENTOS_TEST_RUNTIME").as_deref() {
        Ok("spin") => Runtime::Spin(find_spin().expect("EVENTOS_TEST_RUNTIME=spin: set SPIN or put spin on PATH")),
        Ok("node") => Runtime::Node,
        Ok("eventos") | Err(_) => Runtime::Eventos,
        Ok(other) => panic!("EVENTOS_TEST_RUNTIME is `{other}`: use `eventos`, `spin` or `node`"),
    });
    &RUNTIME
}

/// What a Spin user does before `spin up`: `eventos migrate --print-env` for the
/// databases of `prefix`, its `export` lines as (name, value) pairs for the environment.
pub fn provision_for_spin(manifest: &Path, prefix: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
    let migrated = Command::new(env!("CARGO_BIN_EXE_eventos"))
        .args(["migrate", "--print-env", "--prefix", prefix, "--manifest"])
        .arg(manifest)
        .envs(env.iter().copied())
        .output()
        .expect("run eventos migrate");
    assert!(migrated.status.success(), "eventos migrate failed: {}", String::from_utf8_lossy(&migrated.stderr));
    String::from_utf8_lossy(&migrated.stdout)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.strip_prefix("export ")?.split_once('=')?;
            Some((name.to_owned(), value.trim_matches('\'').to_owned()))
        })
        .collect()
}

/// `openapi.yaml` as JSON (read with Python's YAML parser, which the validator also uses).
pub fn openapi_document() -> Value {
    let out = Command::new("python3")
        .args(["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"])
        .arg(workspace().join("openapi.yaml"))
        .output()
        .expect("python3 reads openapi.yaml");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The Spin CLI: `SPIN` if set, else `spin` on `PATH`.
pub fn find_spin() -> Option<PathBuf> {
    if let Some(spin) = std::env::var_os("SPIN").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(spin));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("spin")).find(|path| path.is_file())
}

/// The real Spin CLIs the suite is held to: Spin 3.6.3 (`SPIN`, else `spin` on
/// `PATH`) and Spin 4.0 (`SPIN4`), each named by its `--version`. Either may be
/// absent on a developer's machine; under `CI=true` an absent one fails the test.
pub fn referees() -> Vec<(String, PathBuf)> {
    let spin4 = std::env::var_os("SPIN4").filter(|s| !s.is_empty()).map(PathBuf::from);
    let mut found = Vec::new();
    for (variable, spin) in [("SPIN", find_spin()), ("SPIN4", spin4)] {
        match spin.filter(|path| path.is_file()) {
            Some(path) => {
                let version = Command::new(&path).arg("--version").output().expect("run spin --version");
                let name =
                    String::from_utf8_lossy(&version.stdout).split_whitespace().take(2).collect::<Vec<_>>().join(" ");
                found.push((name, path));
            }
            None if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("no Spin CLI in {variable} under CI=true: a referee is missing")
            }
            None => println!("no Spin CLI in {variable}: that referee is skipped"),
        }
    }
    found
}

/// Whether `child` comes to accept connections on `address` within a minute
/// (false as soon as it exits).
pub fn listens(address: &str, child: &mut Child) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(address).is_err() {
        if !matches!(child.try_wait(), Ok(None)) || std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// An address nobody listens on right now, for a runtime that cannot be told port 0.
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").to_string()
}

fn wasm_sources(manifest: &Path) -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(manifest).expect("read manifest");
    let doc: toml::Table = text.parse().expect("manifest is TOML");
    let dir = manifest.parent().expect("manifest dir");
    doc.get("component")
        .and_then(|c| c.as_table())
        .map(|components| {
            components.iter().filter_map(|(id, c)| Some((id.clone(), dir.join(c.get("source")?.as_str()?)))).collect()
        })
        .unwrap_or_default()
}

/// An HTTP answer, with its body parsed as JSON when it is JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text; empty when it is not UTF-8 (see `bytes`).
    pub text: String,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an RFC 9457 problem with this status and type slug.
    pub fn assert_problem(&self, status: u16, slug: &str) -> &Self {
        assert_eq!(self.status, status, "expected {status} {slug}, got {self:#?}");
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:#?}");
        assert_eq!(self.body["type"], format!("https://eventos.dev/problems/{slug}"), "{self:#?}");
        assert_eq!(self.body["status"], status, "{self:#?}");
        assert!(self.body["title"].is_string() && self.body["detail"].is_string(), "{self:#?}");
        self
    }

    /// Asserts an answer the runtime made itself, bare as Spin makes it: no body.
    pub fn assert_bare(&self, status: u16) -> &Self {
        assert_eq!((self.status, self.text.as_str()), (status, ""), "{self:#?}");
        self
    }

    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{self:#?}");
        self
    }

    /// The fields named by a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Requests to one platform as one caller.
pub struct Client<'a> {
    base: &'a str,
    token: Option<String>,
}

impl Client<'_> {
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.json("POST", path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.json("PATCH", path, body)
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.send(method, path, &[("content-type", "application/json")], Some(body.to_string().into_bytes()))
    }

    /// The caller's token goes along unless `headers` carry an `Authorization` of their own.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
        let bearer = self.token.as_ref().map(|token| format!("Bearer {token}"));
        let mut headers = headers.to_vec();
        if let Some(bearer) = &bearer
            && !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("authorization", bearer));
        }
        send(&format!("{}{path}", self.base), method, &headers, body)
    }
}

/// An admin's token, made once per test process.
pub fn admin_token() -> &'static str {
    static TOKEN: LazyLock<String> =
        LazyLock::new(|| dev_token("test-admin", &["--role", "admin", "--email", "admin@example.com"]));
    &TOKEN
}

pub fn send(url: &str, method: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.unwrap_or_default()).expect("valid request");
    let mut response = agent.run(request).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = response.body_mut().read_to_vec().unwrap_or_default();
    let text = String::from_utf8(bytes.clone()).unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, text, body, bytes }
}

/// `text` as one query-string value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The administrative connection string the runtime's databases are made with:
/// `EVENTOS_PG_ADMIN_URL`; under Spin the private cluster, sized for Spin's
/// connection pools (a server's default 100 connections are not enough for a
/// hundred concurrent orders); else the server `eventos` itself would pick.
pub fn admin_url() -> String {
    if let Ok(url) = std::env::var("EVENTOS_PG_ADMIN_URL") {
        return url;
    }
    if let Runtime::Spin(_) | Runtime::Node = runtime() {
        return private_cluster_url().to_owned();
    }
    let local = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 5432)),
        Duration::from_secs(1),
    );
    match local {
        Ok(_) => "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into(),
        Err(_) => "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable".into(),
    }
}

/// The private cluster, started once per test process.
fn private_cluster_url() -> &'static str {
    static URL: LazyLock<String> = LazyLock::new(|| {
        let out = run_eventos(&["postgres", "--manifest", &workspace().join("spin.toml").to_string_lossy()]);
        assert!(out.status.success(), "eventos postgres: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    });
    &URL
}

/// `host:port` of the admin server.
pub fn admin_address() -> String {
    let url = admin_url();
    let after_at = url.split('@').nth(1).unwrap_or("127.0.0.1:5432/");
    after_at.split('/').next().unwrap_or("127.0.0.1:5432").to_owned()
}

/// Where the browser tests' scripts and playwright-core are, for a browser that
/// signs in with the development sign-in; `None` on the node, whose status page
/// (like a cluster's: its SpinApp binds no `auth_dev_key`) offers none.
pub fn browser_signing_in() -> Option<PathBuf> {
    if on_node() {
        return None;
    }
    let dir = workspace().join("host/tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `make setup` (npm ci in host/tests/browser)"
    );
    Some(dir)
}

/// Runs `eventos` to completion with these arguments.
pub fn run_eventos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eventos")).args(args).output().expect("run eventos")
}

/// A bearer token from `eventos token` for the repository's spin.toml, as a
/// script would get one; `claims` are its flags (`--email`, `--role`...).
pub fn dev_token(subject: &str, claims: &[&str]) -> String {
    eventos_token(subject, claims).trim().to_owned()
}

/// What `eventos token` prints for the repository's spin.toml, given these flags after `--sub`.
pub fn eventos_token(subject: &str, flags: &[&str]) -> String {
    let manifest = workspace().join("spin.toml");
    let mut args = vec!["token", "-f", manifest.to_str().expect("path"), "--sub", subject];
    args.extend_from_slice(flags);
    let out = run_eventos(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs SQL through the admin connection on `database`, returning each row's first column as text.
pub fn admin_query(database: &str, sql: &str) -> Result<Vec<String>, String> {
    let url = admin_url().replacen("/postgres?", &format!("/{database}?"), 1);
    connect_and_query(&url, sql)
}

/// Connects with `url` and runs `sql`; errors carry the SQLSTATE.
pub fn connect_and_query(url: &str, sql: &str) -> Result<Vec<String>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(describe)?;
        tokio::spawn(connection);
        let rows = client.simple_query(sql).await.map_err(describe)?;
        Ok(rows
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect())
    })
}

fn describe(error: tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}
