//! `GET /api/<domain>/health`: the component, its instance, and its database's latency.

use std::time::Instant;

use serde_json::{Value, json};
use spin_sdk::variables;

use crate::{ApiResponse, Problem, db};

/// The name of the instance serving this request: host locally, pod on Kubernetes.
pub fn instance_name() -> String {
    variables::get("instance_name").unwrap_or_else(|_| "unknown".into())
}

/// The health document. With `schema` (the last migration the component's code
/// needs), it asks the component's own database which migrations it holds: ready
/// only once the database has that one, so no traffic meets an old schema.
pub fn health(component: &str, version: &str, schema: Option<&str>) -> ApiResponse {
    let mut doc = json!({
        "status": "ok",
        "component": component,
        "version": version,
        "instance": instance_name(),
    });
    let Some(needed) = schema else {
        return ApiResponse::ok(&doc);
    };
    let started = Instant::now();
    let (status, database) = match db::connect().and_then(|conn| db::schema_version(&conn)) {
        Ok(found) if found.as_deref().is_some_and(|found| found >= needed) => {
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            (200, json!({"status": "ok", "latency_ms": (latency_ms * 1000.0).round() / 1000.0, "schema": found}))
        }
        Ok(found) => {
            doc["status"] = Value::from("degraded");
            (503, json!({"status": "migrating", "schema": found, "needs": needed}))
        }
        Err(error) => {
            doc["status"] = Value::from("degraded");
            (503, json!({"status": "unavailable", "error": Problem::from(error).detail}))
        }
    };
    doc["database"] = database;
    ApiResponse::json(status, &doc)
}
