//! A real Prometheus (Debian's) scraping one target every second.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{encode, listens, send};

pub struct Prometheus {
    child: Child,
    pub address: String,
}

impl Prometheus {
    /// Prometheus on `address`, scraping `target`'s `/metrics`, its data kept under `dir`.
    pub fn start(address: &str, target: &str, dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("prometheus dir");
        let config = dir.join("prometheus.yml");
        let yaml = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             scrape_configs:\n  - job_name: eventos\n    static_configs: [{{targets: ['{target}']}}]\n"
        );
        std::fs::write(&config, yaml).expect("prometheus.yml");
        let mut child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log"))
            .spawn()
            .expect("start prometheus (make setup installs it)");
        assert!(listens(address, &mut child), "prometheus did not listen: see {}", dir.display());
        Self { child, address: address.to_owned() }
    }

    /// The value of an instant query, once Prometheus has one.
    pub fn query(&self, promql: &str) -> Option<f64> {
        let url = format!("http://{}/api/v1/query?query={}", self.address, encode(promql));
        let reply = send(&url, "GET", &[], None);
        let value: &Value = &reply.body["data"]["result"][0]["value"][1];
        value.as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
