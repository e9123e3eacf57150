//! `GET /api/status`: every domain's health, asked concurrently, within a bound.

use std::time::Duration;

use eventos_common::peer::{Carrying, PeerResponse, get_all};
use serde::Serialize;
use serde_json::Value;
use spin_sdk::variables;

/// The domains on the page, and the variable holding each one's base URL.
pub const DOMAINS: [(&str, &str); 4] = [
    ("users", "users_url"),
    ("events", "events_url"),
    ("participation", "participation_url"),
    ("tickets", "tickets_url"),
];

/// Well inside the 2 s the contract promises, so a hanging domain still leaves time to answer.
const HEALTH_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    pub name: &'static str,
    /// `ok`, `degraded` (answering, but its database is not) or `unavailable`.
    pub status: &'static str,
    pub latency_ms: Option<f64>,
    pub instance: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub status: &'static str,
    pub components: Vec<ComponentStatus>,
}

pub fn overview() -> Overview {
    let targets: Vec<(String, String)> = DOMAINS
        .iter()
        .map(|(name, variable)| (variables::get(variable).unwrap_or_default(), format!("/api/{name}/health")))
        .collect();
    let answers = get_all(&targets, HEALTH_TIMEOUT, Carrying::TheRequest);
    let components: Vec<ComponentStatus> =
        DOMAINS.iter().zip(answers).map(|((name, _), answer)| judge(name, answer.ok())).collect();
    let status = if components.iter().all(|c| c.status == "ok") { "ok" } else { "degraded" };
    Overview { status, components }
}

/// What one health answer says about its domain.
pub fn judge(name: &'static str, answer: Option<(PeerResponse, Duration)>) -> ComponentStatus {
    let unavailable = ComponentStatus { name, status: "unavailable", latency_ms: None, instance: None, version: None };
    let Some((response, took)) = answer else {
        return unavailable;
    };
    let Ok(health) = serde_json::from_slice::<Value>(&response.body) else {
        return unavailable;
    };
    let status = match (response.status, health["status"].as_str()) {
        (200, Some("ok")) => "ok",
        (200 | 503, Some(_)) => "degraded",
        _ => return unavailable,
    };
    ComponentStatus {
        name,
        status,
        latency_ms: Some((took.as_secs_f64() * 1e5).round() / 100.0),
        instance: health["instance"].as_str().map(str::to_owned),
        version: health["version"].as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Option<(PeerResponse, Duration)> {
        Some((PeerResponse { status, body: body.as_bytes().to_vec() }, Duration::from_millis(3)))
    }

    #[test]
    fn a_healthy_answer_is_ok_with_its_facts() {
        let judged = judge("users", answer(200, r#"{"status":"ok","instance":"pod-1","version":"0.1.0"}"#));
        assert_eq!(judged.status, "ok");
        assert_eq!(judged.instance.as_deref(), Some("pod-1"));
        assert_eq!(judged.latency_ms, Some(3.0));
    }

    #[test]
    fn a_domain_whose_database_is_down_is_degraded() {
        assert_eq!(judge("users", answer(503, r#"{"status":"degraded"}"#)).status, "degraded");
    }

    #[test]
    fn no_answer_or_garbage_is_unavailable() {
        assert_eq!(judge("users", None).status, "unavailable");
        assert_eq!(judge("users", answer(200, "<html>")).status, "unavailable");
        assert_eq!(judge("users", answer(500, r#"{"status":"ok"}"#)).status, "unavailable");
    }
}
