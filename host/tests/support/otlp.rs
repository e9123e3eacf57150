//! An OTLP/HTTP receiver (`host/tests/otlp/receiver.py`) that decodes what
//! `eventos` exports with OpenTelemetry's own protobuf definitions and writes it
//! as JSON lines, a span or a metric's data point each.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Platform, free_address, listens, unique_prefix, workspace};

pub struct Receiver {
    child: Child,
    pub address: String,
    output: PathBuf,
}

impl Receiver {
    pub fn start(tag: &str) -> Self {
        let address = free_address();
        let output = workspace().join("target/test-logs").join(format!("{}.otlp.jsonl", unique_prefix(tag)));
        std::fs::create_dir_all(output.parent().expect("dir")).expect("log dir");
        let mut child = Command::new("python3")
            .arg(workspace().join("host/tests/otlp/receiver.py"))
            .arg(&address)
            .arg(&output)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the OTLP receiver (make setup installs opentelemetry-proto)");
        assert!(listens(&address, &mut child), "the OTLP receiver did not listen");
        Self { child, address, output }
    }

    /// `eventos` exporting to this receiver, spans and metrics pushed often, with `env` besides.
    pub fn platform(&self, tag: &str, env: &[(&str, &str)]) -> Platform {
        let endpoint = format!("http://{}", self.address);
        let mut all = vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
        ];
        all.extend_from_slice(env);
        Platform::start_with(&workspace().join("spin.toml"), tag, &all)
    }

    pub fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
    }

    /// The records `select` picks, once `done` says they are all there (or after 20 s).
    pub fn wait_for(&self, select: impl Fn(&Value) -> bool, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let picked: Vec<Value> = self.records().into_iter().filter(&select).collect();
            if done(&picked) || Instant::now() > deadline {
                return picked;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The spans of `trace_id`, once `done` says they are all there.
    pub fn trace(&self, trace_id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for(|record| record["trace_id"] == trace_id, done)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
