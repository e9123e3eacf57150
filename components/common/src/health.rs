//! `GET /api/<domain>/health`: the component, its instance, and its database's latency.

use std::time::Instant;

use serde_json::{Value, json};
use spin_sdk::variables;

use crate::{ApiResponse, db};

/// The name of the instance serving this request: host locally, pod on Kubernetes.
pub fn instance_name() -> String {
    variables::get("instance_name").unwrap_or_else(|_| "unknown".into())
}

/// The health document; `with_database` pings the component's own database.
pub fn health(component: &str, version: &str, with_database: bool) -> ApiResponse {
    let mut doc = json!({
        "status": "ok",
        "component": component,
        "version": version,
        "instance": instance_name(),
    });
    if !with_database {
        return ApiResponse::ok(&doc);
    }
    let started = Instant::now();
    let database = db::connect().and_then(|conn| conn.query("SELECT 1", &[]).map_err(db::db_problem));
    let (status, database) = match database {
        Ok(_) => {
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            (200, json!({"status": "ok", "latency_ms": (latency_ms * 1000.0).round() / 1000.0}))
        }
        Err(problem) => {
            doc["status"] = Value::from("degraded");
            (503, json!({"status": "unavailable", "error": problem.detail}))
        }
    };
    doc["database"] = database;
    ApiResponse::json(status, &doc)
}
