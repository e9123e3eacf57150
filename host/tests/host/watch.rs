//! `eventos up --watch` swaps a component in while it serves: under load on that
//! component, through ten swaps and a build that fails, no request fails, and
//! every request that starts once a swap is reported is answered by the new build.
//!
//! The component is the probe; its "build" copies one of eleven copies of its
//! wasm, each with its own number written into the probe's build stamp, so the
//! builds differ in content (and digest) and say which one answered.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::{Platform, unique_prefix, workspace};
use serde_json::Value;
use sha2::{Digest, Sha256};

const STAMP: &[u8] = b"eventos-probe-build:";
const DIGITS: usize = 12;
const SWAPS: u64 = 10;
const WORKERS: usize = 4;
/// How long each build serves the load before the next swap.
const DWELL: Duration = Duration::from_millis(300);
/// How long a build may take to be noticed, built and swapped in.
const SWAP_PATIENCE: Duration = Duration::from_secs(60);

/// An application of one component, the probe, whose build copies
/// `builds/<version.txt>.wasm`, and which rebuilds when `version.txt` changes.
fn swappable_app() -> PathBuf {
    let dir = workspace().join("target/watch-tests").join(unique_prefix("swap"));
    std::fs::create_dir_all(dir.join("builds")).expect("create the app's folder");
    let probe = workspace().join("target/wasm32-wasip2/component/probe.wasm");
    let wasm = std::fs::read(&probe).expect("the probe is built: run `make components` first");
    let stamps: Vec<usize> =
        wasm.windows(STAMP.len()).enumerate().filter(|(_, w)| *w == STAMP).map(|(i, _)| i).collect();
    let [stamp] = stamps[..] else { panic!("the probe's build stamp appears once in its wasm: {stamps:?}") };
    let digits = stamp + STAMP.len()..stamp + STAMP.len() + DIGITS;
    for number in 0..=SWAPS {
        let mut build = wasm.clone();
        build[digits.clone()].copy_from_slice(format!("{number:0DIGITS$}").as_bytes());
        std::fs::write(dir.join(format!("builds/{number}.wasm")), build).expect("write a build");
    }
    std::fs::copy(dir.join("builds/0.wasm"), dir.join("probe.wasm")).expect("the first build");
    std::fs::write(dir.join("version.txt"), "0").expect("write version.txt");
    let manifest = r#"spin_manifest_version = 2

[application]
name = "swap"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "probe.wasm"

[component.probe.build]
command = "cp builds/$(cat version.txt).wasm probe.wasm"
watch = ["version.txt"]
"#;
    std::fs::write(dir.join("spin.toml"), manifest).expect("write spin.toml");
    dir
}

fn digest_of(dir: &Path, number: u64) -> String {
    let wasm = std::fs::read(dir.join(format!("builds/{number}.wasm"))).expect("read a build");
    format!("sha256:{}", hex::encode(Sha256::digest(wasm)))
}

/// The probe's entry in the host's report of live builds.
fn reported(app: &Platform) -> Value {
    let report = app.get("/.well-known/eventos/builds");
    report.assert_status(200);
    report.body.as_array().and_then(|all| all.iter().find(|b| b["component"] == "probe")).cloned().expect("probe")
}

fn wait_for(app: &Platform, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SWAP_PATIENCE;
    loop {
        let report = reported(app);
        if done(&report) {
            return report;
        }
        assert!(Instant::now() < deadline, "{what} within {SWAP_PATIENCE:?}: {report}\n{}", app.log_text());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One request of the load: when it started, and which build answered (None: it failed).
struct Answer {
    started: Instant,
    build: Option<u64>,
    failure: Option<String>,
}

/// Workers asking the probe for its build, back to back on kept-alive connections, until `stop`.
fn load(base: &str, stop: &Arc<AtomicBool>) -> Vec<JoinHandle<Vec<Answer>>> {
    (0..WORKERS)
        .map(|_| {
            let (url, stop) = (format!("{base}/probe/build"), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let answer = match agent.get(&url).call() {
                        Ok(mut response) if response.status() == 200 => {
                            let text = response.body_mut().read_to_string().unwrap_or_default();
                            let build = text.strip_prefix("eventos-probe-build:").and_then(|n| n.parse().ok());
                            Answer { started, build, failure: build.is_none().then(|| format!("200 {text:?}")) }
                        }
                        Ok(response) => Answer { started, build: None, failure: Some(response.status().to_string()) },
                        Err(error) => Answer { started, build: None, failure: Some(error.to_string()) },
                    };
                    answers.push(answer);
                }
                answers
            })
        })
        .collect()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[test]
fn a_component_swapped_ten_times_under_load_fails_no_request_and_a_broken_build_keeps_the_old_serving() {
    let dir = swappable_app();
    let app = Platform::start_watching(&dir.join("spin.toml"), "swap");
    let first = reported(&app);
    assert_eq!((first["build"].as_str(), &first["swapped_at"]), (Some(digest_of(&dir, 0).as_str()), &Value::Null));

    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(&app.base, &stop);
    let began = Instant::now();
    // When each build was reported live: requests that start after it must get it (or a later one).
    let mut live_since = vec![(0, began)];
    let mut swap_times = Vec::new();
    for number in 1..=SWAPS {
        std::thread::sleep(DWELL);
        let written = Instant::now();
        std::fs::write(dir.join("version.txt"), number.to_string()).expect("change the source");
        let digest = digest_of(&dir, number);
        let report = wait_for(&app, &format!("build {number} live"), |r| r["build"] == digest.as_str());
        live_since.push((number, Instant::now()));
        swap_times.push(written.elapsed());
        assert!(report["swapped_at"].is_string() && report["failed_build"].is_null(), "{report}");
    }
    std::thread::sleep(DWELL);
    std::fs::write(dir.join("version.txt"), "broken").expect("break the build");
    let report = wait_for(&app, "the broken build reported", |r| r["failed_build"].is_object());
    assert_eq!(report["build"].as_str(), Some(digest_of(&dir, SWAPS).as_str()), "the last good build still serves");
    let reason = report["failed_build"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("build command of component `probe` failed"), "{report}");
    std::thread::sleep(DWELL);
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<Answer> = workers.into_iter().flat_map(|w| w.join().expect("a load worker")).collect();
    let elapsed = began.elapsed();

    let failures: Vec<&String> = answers.iter().filter_map(|a| a.failure.as_ref()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {:?}",
        failures.len(),
        answers.len(),
        &failures[..5.min(failures.len())]
    );
    for answer in &answers {
        let newest_live = live_since.iter().rev().find(|(_, since)| *since <= answer.started).map_or(0, |(n, _)| *n);
        let build = answer.build.expect("answered");
        assert!(
            build >= newest_live,
            "a request started after build {newest_live} went live was answered by build {build}"
        );
    }
    for number in 0..=SWAPS {
        assert!(answers.iter().any(|a| a.build == Some(number)), "build {number} served none of the load");
    }
    let last = answers.iter().max_by_key(|a| a.started).expect("answers");
    assert_eq!(last.build, Some(SWAPS), "after the broken build, the last good one answers");
    assert!(app.log_text().contains("keeps serving"), "the failed build is shown:\n{}", app.log_text());
    println!(
        "swap under load: {} requests in {:.1?} ({:.0}/s, {WORKERS} workers), 0 failed; {SWAPS} swaps, change to live: median {:?}, max {:?}",
        answers.len(),
        elapsed,
        answers.len() as f64 / elapsed.as_secs_f64(),
        median(swap_times.clone()),
        swap_times.iter().max().expect("swaps"),
    );
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
