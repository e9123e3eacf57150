//! `GET /api/status/traffic`: each domain's request rate, error ratio and p99
//! over the last five minutes, asked of Prometheus' HTTP API at `prometheus_url`
//! (which scrapes the host's `eventos_*` metrics, or receives them over OTLP
//! through a collector). Without one, the answer says so and the page shows
//! health alone.

use std::collections::HashMap;
use std::time::Duration;

use eventos_common::peer::{Carrying, PeerResponse, get_all};
use eventos_common::{ApiResponse, ApiResult, Problem};
use serde::Serialize;
use serde_json::Value;
use spin_sdk::variables;

use crate::overview::DOMAINS;

/// The span each figure is taken over (as PromQL writes it).
pub const WINDOW: &str = "5m";
/// Prometheus answers instant queries in milliseconds; a page must not wait on one that hangs.
const PROMETHEUS_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainTraffic {
    pub name: &'static str,
    pub requests_per_second: Option<f64>,
    /// Server errors (5xx) over all answers; `None` without a request in the window.
    pub error_ratio: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traffic {
    pub configured: bool,
    pub window: &'static str,
    pub components: Vec<DomainTraffic>,
}

/// The three queries, each one value per component. Under Spin, whose only
/// per-component series is its request count (`spin.request_count` over OTLP),
/// the rate falls back to that; errors and p99 come from `eventos`' metrics alone.
fn queries() -> [String; 3] {
    let all = format!("sum by (component) (rate(eventos_requests_total[{WINDOW}]))");
    let spin = format!(
        "sum by (component) (label_replace(rate(spin_request_count_total[{WINDOW}]), \"component\", \"$1\", \"component_id\", \"(.*)\"))"
    );
    let errors = format!("sum by (component) (rate(eventos_requests_total{{status=\"5xx\"}}[{WINDOW}]))");
    let p99 = format!(
        "histogram_quantile(0.99, sum by (component, le) (rate(eventos_request_duration_seconds_bucket[{WINDOW}])))"
    );
    // A domain without a server error has no 5xx series: its errors are none, not unknown.
    [format!("{all} or {spin}"), format!("({errors} or {all} * 0) / {all}"), p99]
}

/// Where Prometheus is, if anywhere: a host under the reserved `.invalid` name
/// (the manifest's default, which `allowed_outbound_hosts` needs to be a URL)
/// means none.
fn prometheus() -> Option<String> {
    let url = variables::get("prometheus_url").ok()?;
    let host = url.split_once("://")?.1.split([':', '/']).next()?;
    (!host.is_empty() && !host.ends_with(".invalid")).then_some(url)
}

pub fn traffic() -> ApiResult {
    let Some(base) = prometheus() else {
        return answer(Traffic { configured: false, window: WINDOW, components: Vec::new() });
    };
    let targets: Vec<(String, String)> = queries()
        .iter()
        .map(|query| {
            let encoded = serde_urlencoded::to_string([("query", query)]).expect("a string pair always encodes");
            (base.clone(), format!("/api/v1/query?{encoded}"))
        })
        .collect();
    let answers = get_all(&targets, PROMETHEUS_TIMEOUT, Carrying::Nothing);
    let mut series = Vec::with_capacity(answers.len());
    for answer in answers {
        let vector = answer.and_then(|(response, _)| per_component(&response));
        series.push(vector.map_err(|cause| {
            Problem::unavailable("Prometheus did not answer; try again shortly").because(format!("prometheus: {cause}"))
        })?);
    }
    answer(assemble(&series[0], &series[1], &series[2]))
}

fn answer(traffic: Traffic) -> ApiResult {
    Ok(ApiResponse::ok(&traffic).with_header("cache-control", "no-store"))
}

/// An instant query's vector, by its `component` label; values that are not
/// numbers (a ratio of no requests is `NaN`) are left out.
pub fn per_component(response: &PeerResponse) -> Result<HashMap<String, f64>, String> {
    if response.status != 200 {
        return Err(format!("answered {}", response.status));
    }
    let document: Value = serde_json::from_slice(&response.body).map_err(|e| format!("not JSON: {e}"))?;
    let result = (document["status"] == "success")
        .then(|| document["data"]["result"].as_array())
        .flatten()
        .ok_or("not an instant vector")?;
    Ok(result
        .iter()
        .filter_map(|sample| {
            let component = sample["metric"]["component"].as_str()?;
            let value: f64 = sample["value"][1].as_str()?.parse().ok()?;
            value.is_finite().then(|| (component.to_owned(), value))
        })
        .collect())
}

/// Each domain's figures, rounded for reading; a domain Prometheus knows nothing of has none.
pub fn assemble(rates: &HashMap<String, f64>, errors: &HashMap<String, f64>, p99s: &HashMap<String, f64>) -> Traffic {
    let round = |value: f64, places: i32| (value * 10f64.powi(places)).round() / 10f64.powi(places);
    let components = DOMAINS
        .iter()
        .map(|(name, _)| DomainTraffic {
            name,
            requests_per_second: rates.get(*name).map(|rate| round(*rate, 3)),
            error_ratio: errors.get(*name).map(|ratio| round(*ratio, 4)),
            p99_ms: p99s.get(*name).map(|seconds| round(seconds * 1000.0, 2)),
        })
        .collect();
    Traffic { configured: true, window: WINDOW, components }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> PeerResponse {
        PeerResponse { status: 200, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn a_vector_is_read_per_component_and_nan_is_left_out() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"component":"tickets"},"value":[1700000000.1,"2.5"]},
            {"metric":{"component":"users"},"value":[1700000000.1,"NaN"]},
            {"metric":{},"value":[1700000000.1,"7"]}]}}"#;
        let read = per_component(&answer(body)).expect("a vector");
        assert_eq!(read, HashMap::from([("tickets".to_owned(), 2.5)]));
    }

    #[test]
    fn an_error_or_a_stranger_is_not_a_vector() {
        assert!(per_component(&answer(r#"{"status":"error","error":"bad query"}"#)).is_err());
        assert!(per_component(&answer("<html>")).is_err());
        assert!(per_component(&PeerResponse { status: 503, body: Vec::new() }).is_err());
    }

    #[test]
    fn figures_are_per_domain_in_milliseconds_and_absent_when_unknown() {
        let rates = HashMap::from([("tickets".to_owned(), 1.23456)]);
        let errors = HashMap::from([("tickets".to_owned(), 0.25)]);
        let p99s = HashMap::from([("tickets".to_owned(), 0.0123456)]);
        let traffic = assemble(&rates, &errors, &p99s);
        let tickets = traffic.components.iter().find(|c| c.name == "tickets").expect("tickets");
        assert_eq!(
            (tickets.requests_per_second, tickets.error_ratio, tickets.p99_ms),
            (Some(1.235), Some(0.25), Some(12.35))
        );
        let users = traffic.components.iter().find(|c| c.name == "users").expect("users");
        assert_eq!((users.requests_per_second, users.p99_ms), (None, None));
        assert_eq!(traffic.components.len(), DOMAINS.len());
    }

    #[test]
    fn every_query_asks_per_component_over_the_window() {
        for query in queries() {
            assert!(query.contains("by (component") && query.contains(&format!("[{WINDOW}]")), "{query}");
        }
    }
}
