//! Spin's runtime conformance suite against `eventos`, and against each real
//! Spin present as the reference (Spin 3.6.3 and Spin 4.0: see
//! `crate::support::referees`): every test of the packaged suite, with the services it
//! declares (PostgreSQL, HTTP echo, TCP echo, and Redis and Mosquitto servers
//! of its own), compared as the suite's own runner compares.
//!
//! The suite is `SPIN_CONFORMANCE` or `../shared/spin-conformance` beside the
//! repository; without it this test says so and passes, except under `CI=true`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::redis::RedisServer;
use crate::support::{free_address, listens, referees, run_eventos, workspace};
use serde::Deserialize;

/// What `--runtime-config-file` names, in a test's scratch folder.
const RUNTIME_CONFIG: &str = "runtime-config.toml";

/// Tests that grant a capability `eventos` does not provide, and the words its
/// refusal at load must contain.
const REFUSED: &[(&str, &str)] = &[
    ("sqlite", "sqlite_databases"),
    ("outbound-mqtt", "outbound MQTT"),
    ("outbound-redis", "outbound Redis"),
    ("outbound-redis-variable-permission", "outbound Redis"),
];

#[derive(Deserialize)]
struct TestFile {
    invocations: Vec<Invocation>,
    #[serde(default)]
    preconditions: Vec<Precondition>,
}

#[derive(Deserialize)]
struct Invocation {
    request: TestRequest,
    response: TestResponse,
}

#[derive(Deserialize)]
struct TestRequest {
    #[serde(default = "get")]
    method: String,
    path: String,
    #[serde(default)]
    headers: Vec<Header>,
    body: Option<String>,
}

fn get() -> String {
    "GET".into()
}

#[derive(Deserialize)]
struct TestResponse {
    #[serde(default = "ok")]
    status: u16,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(default)]
    body: String,
}

fn ok() -> u16 {
    200
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: Option<String>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
struct Precondition {
    kind: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Passed,
    Failed(String),
    /// The runtime would not load the application.
    Refused(String),
    /// A service the test needs does not run on this machine.
    NoService(String),
}

/// The suite, or `None` once `test` said it is skipped (a failure under `CI=true`).
fn suite(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SPIN_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/spin-conformance"));
    if dir.join("tests").is_dir() {
        return Some(dir);
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "no conformance suite under CI=true (set SPIN_CONFORMANCE)");
    println!("{test}: no suite (set SPIN_CONFORMANCE); skipped");
    None
}

#[test]
fn the_conformance_suite_passes_on_eventos_as_on_spin() {
    let Some(suite) = suite("conformance") else {
        return;
    };
    let referees = referees();
    let mut names: Vec<String> = std::fs::read_dir(suite.join("tests"))
        .expect("read the suite")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for name in &names {
        let test = suite.join("tests").join(name);
        let on_eventos = run_test(&suite, &test, Runtime::Eventos, None);
        let on_spins: Vec<(&str, Outcome)> = referees
            .iter()
            .map(|(name, spin)| (name.as_str(), run_test(&suite, &test, Runtime::Spin(spin), None)))
            .collect();
        let expected_refusal = REFUSED.iter().find(|(refused, _)| refused == name).map(|(_, words)| *words);
        let right = match (&on_eventos, expected_refusal) {
            (Outcome::Refused(error), Some(words)) => error.contains(words),
            (Outcome::Passed, None) => true,
            _ => false,
        };
        if !right {
            wrong.push(format!("{name}: eventos {on_eventos:?}, the references {on_spins:?}"));
        }
        for (spin, outcome) in &on_spins {
            if let Outcome::Failed(why) | Outcome::Refused(why) | Outcome::NoService(why) = outcome {
                wrong.push(format!("{name}: the reference, {spin}, did not pass: {why}"));
            }
        }
        let references: Vec<String> =
            on_spins.iter().map(|(spin, outcome)| format!("{spin}: {}", short(outcome))).collect();
        report.push(format!("{name:<42} eventos: {:<10} {}", short(&on_eventos), references.join("  ")));
    }
    println!("conformance ({} tests):\n{}", names.len(), report.join("\n"));
    assert!(wrong.is_empty(), "{}\n\n{}", wrong.join("\n"), report.join("\n"));
}

/// Spin's key-value tests again, with the `default` store put on a Redis server
/// of the test's own by a runtime config file, on `eventos` and on each Spin:
/// the server must have served each run's writes, so a store that quietly
/// stayed in memory fails.
#[test]
fn the_key_value_tests_pass_with_default_on_redis_as_on_spin() {
    let Some(suite) = suite("conformance on Redis") else {
        return;
    };
    let redis = RedisServer::start().expect("a Redis server of the test's own");
    let config = format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://{}\"\n", redis.address);
    let referees = referees();
    let runtimes = std::iter::once(("eventos", Runtime::Eventos))
        .chain(referees.iter().map(|(name, spin)| (name.as_str(), Runtime::Spin(spin))));
    let mut wrong = Vec::new();
    for (runtime_name, runtime) in runtimes {
        for name in ["key-value", "key-value-no-permission"] {
            redis.command(&["CONFIG", "RESETSTAT"]);
            let outcome = run_test(&suite, &suite.join("tests").join(name), runtime, Some(&config));
            let writes = redis.command(&["INFO", "commandstats"]).iter().any(|line| line.starts_with("cmdstat_set:"));
            println!(
                "{name:<28} default on Redis, {runtime_name}: {} (writes reached Redis: {writes})",
                short(&outcome)
            );
            if !matches!(outcome, Outcome::Passed) {
                wrong.push(format!("{name} on {runtime_name}: {outcome:?}"));
            }
            if writes != (name == "key-value") {
                wrong.push(format!("{name} on {runtime_name}: writes reached Redis: {writes}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn short(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) => "FAILED",
        Outcome::Refused(_) => "refused",
        Outcome::NoService(_) => "no service",
    }
}

#[derive(Clone, Copy)]
enum Runtime<'a> {
    Eventos,
    Spin(&'a Path),
}

/// Runs one test of the suite; with `runtime_config`, the runtime reads it from
/// a file, as `--runtime-config-file` (the flag is the same on both).
fn run_test(suite: &Path, test: &Path, runtime: Runtime, runtime_config: Option<&str>) -> Outcome {
    let spec: TestFile = json5::from_str(&std::fs::read_to_string(test.join("test.json5")).expect("read test.json5"))
        .expect("test.json5 parses");
    let mut services = Services::default();
    for precondition in &spec.preconditions {
        if let Err(missing) = services.start(suite, &precondition.kind) {
            return Outcome::NoService(missing);
        }
    }
    let scratch = workspace().join("target/conformance").join(test.file_name().expect("a name"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    std::fs::copy(test.join("component.wasm"), scratch.join("component.wasm")).expect("copy the component");
    let manifest = services.substitute(&std::fs::read_to_string(test.join("spin.toml")).expect("read spin.toml"));
    std::fs::write(scratch.join("spin.toml"), manifest).expect("write spin.toml");
    if let Some(config) = runtime_config {
        std::fs::write(scratch.join(RUNTIME_CONFIG), config).expect("write the runtime config");
    }
    let mut server = match Server::start(runtime, &scratch, runtime_config.is_some()) {
        Ok(server) => server,
        Err(error) => return Outcome::Refused(error),
    };
    let outcome = spec
        .invocations
        .iter()
        .find_map(|invocation| check(&server.address, invocation, &services).err())
        .map_or(Outcome::Passed, Outcome::Failed);
    server.stop();
    outcome
}

/// One invocation, compared as the suite's runner compares.
fn check(address: &str, invocation: &Invocation, services: &Services) -> Result<(), String> {
    let request = &invocation.request;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut builder =
        ureq::http::Request::builder().method(request.method.as_str()).uri(format!("http://{address}{}", request.path));
    for header in &request.headers {
        builder =
            builder.header(header.name.as_str(), services.substitute(header.value.as_deref().unwrap_or_default()));
    }
    let outgoing = builder.body(request.body.clone().unwrap_or_default().into_bytes()).map_err(|e| e.to_string())?;
    let mut response = agent.run(outgoing).map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_ascii_lowercase()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let expected = &invocation.response;
    if status != expected.status || body != expected.body {
        return Err(format!("got {status} {body:?}, expected {} {:?}", expected.status, expected.body));
    }
    for header in &expected.headers {
        let name = header.name.to_ascii_lowercase();
        match headers.iter().find(|(k, _)| *k == name) {
            None if !header.optional => return Err(format!("header `{name}` missing; got {headers:?}")),
            Some((_, value)) if header.value.as_ref().is_some_and(|v| v.to_ascii_lowercase() != *value) => {
                return Err(format!("header `{name}` is `{value}`, expected {:?}", header.value));
            }
            _ => {}
        }
    }
    if let Some((name, _)) =
        headers.iter().find(|(k, _)| !expected.headers.iter().any(|h| h.name.eq_ignore_ascii_case(k)))
    {
        return Err(format!("unexpected header `{name}`; got {headers:?}"));
    }
    Ok(())
}

/// The services a test runs against, and the ports their guest ports map to.
#[derive(Default)]
struct Services {
    ports: HashMap<u16, u16>,
    children: Vec<Child>,
    redis: Vec<RedisServer>,
}

impl Services {
    fn start(&mut self, suite: &Path, kind: &str) -> Result<(), String> {
        match kind {
            "postgres" => {
                let port = spin_dev_database(suite)?;
                self.ports.insert(5432, port);
            }
            "http-echo" | "tcp-echo" => {
                let script = suite.join("services").join(format!("{kind}.py"));
                let mut child = Command::new("python3")
                    .arg("-u")
                    .arg(script)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("{kind}: {e}"))?;
                let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
                self.children.push(child);
                for line in lines.by_ref().map_while(Result::ok) {
                    if let Some(pair) = line.strip_prefix("PORT=(").and_then(|rest| rest.strip_suffix(')')) {
                        let (guest, real) = pair.split_once(',').expect("PORT=(guest,real)");
                        self.ports.insert(guest.parse().expect("port"), real.trim().parse().expect("port"));
                    }
                    if line == "READY" {
                        break;
                    }
                }
                // The services log every request to stdout: keep reading, or they die of a broken pipe.
                std::thread::spawn(move || lines.for_each(drop));
            }
            // Spin's defaults keep these in files next to the manifest.
            "key-value-store" | "sqlite" => {}
            "redis" => {
                let server = RedisServer::start()?;
                self.ports.insert(6379, server.port());
                self.redis.push(server);
            }
            // A server of the test's own on a free port (`make setup` installs Debian's):
            // nothing of the machine's is used, and nothing outlives the test.
            "mqtt" => {
                let address = free_address();
                let port = address.rsplit_once(':').map(|(_, p)| p.to_owned()).expect("a port");
                let mut child = Command::new("mosquitto")
                    .args(["-p", &port])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("mqtt: cannot start mosquitto ({e}); make setup installs it"))?;
                let answers = listens(&address, &mut child);
                self.children.push(child);
                if !answers {
                    return Err(format!("mqtt: mosquitto did not listen on {address}"));
                }
                self.ports.insert(1883, port.parse().expect("a port"));
            }
            other => return Err(format!("unknown service `{other}`")),
        }
        Ok(())
    }

    /// `%{port=N}` becomes the port where the service exposing guest port N listens.
    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (guest, real) in &self.ports {
            out = out.replace(&format!("%{{port={guest}}}"), &real.to_string());
        }
        out
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh `spin_dev` database with the suite's tables, on the private cluster
/// (it serves no TLS, so Spin's default `sslmode=prefer` needs no certificate).
fn spin_dev_database(suite: &Path) -> Result<u16, String> {
    let out = run_eventos(&["postgres", "--manifest", &workspace().join("spin.toml").to_string_lossy()]);
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() {
        return Err(format!("no private cluster: {}", String::from_utf8_lossy(&out.stderr)));
    }
    crate::support::connect_and_query(&admin, "DROP DATABASE IF EXISTS spin_dev WITH (FORCE)")?;
    crate::support::connect_and_query(&admin, "CREATE DATABASE spin_dev")?;
    crate::support::connect_and_query(&admin, "ALTER ROLE postgres PASSWORD 'postgres'")?;
    let database = admin.replacen("/postgres?", "/spin_dev?", 1);
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(suite.join("services/postgres-init"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    scripts.sort();
    for script in scripts {
        crate::support::connect_and_query(&database, &std::fs::read_to_string(&script).map_err(|e| e.to_string())?)?;
    }
    let port = admin.rsplit_once(':').and_then(|(_, rest)| rest.split('/').next()?.parse().ok());
    port.ok_or_else(|| format!("no port in {admin}"))
}

struct Server {
    address: String,
    child: Child,
}

impl Server {
    fn start(runtime: Runtime, dir: &Path, runtime_config: bool) -> Result<Self, String> {
        let log = dir.join("runtime.log");
        let mut command = match runtime {
            Runtime::Eventos => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_eventos"));
                command.args(["up", "--no-build", "--manifest", "spin.toml"]);
                command
            }
            Runtime::Spin(spin) => {
                let mut command = Command::new(spin);
                // Spin's component logs stay in the test's scratch folder (Spin 4 refuses an empty --log-dir).
                command.args(["up", "--from", "spin.toml", "--log-dir", "spin-logs"]);
                command
            }
        };
        if runtime_config {
            command.args(["--runtime-config-file", RUNTIME_CONFIG]);
        }
        let address = free_address();
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut child = command
            .args(["--listen", &address])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| e.to_string())?;
        if !listens(&address, &mut child) {
            let _ = child.kill();
            return Err(std::fs::read_to_string(&log).unwrap_or_default());
        }
        Ok(Self { address, child })
    }

    /// SIGTERM, as Ctrl-C would: Spin's `spin trigger` child goes with it.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
