//! What the host counts for its operators: requests, their durations and their
//! errors per component and route; instantiations and their time; instances in
//! use against the cap; and per database, the pool's connections, its waiters
//! and the statements that failed. Prometheus scrapes them from a listener of
//! their own (`EVENTOS_METRICS_LISTEN`), never from the application's routes;
//! with an OTLP endpoint set, the same are pushed over OTLP too.

pub mod instruments;
pub mod otlp;

use std::time::Duration;

use anyhow::Result;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use self::instruments::{DatabaseLabels, PoolReading, Sources, describe, seconds_buckets};
use crate::observe::metrics::otlp::Meters;

/// The content type of the OpenMetrics text format Prometheus asks for.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// What a client's request is labelled with when it came from another component.
pub const CHAINED_ROUTE: &str = "(chained)";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    component: String,
    /// The manifest's route that matched (bounded: never the path itself).
    route: String,
    /// `2xx` .. `5xx`: errors are `5xx`.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    component: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    component: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds_histogram() -> Histogram {
    Histogram::new(seconds_buckets())
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histograms<RouteLabels>,
    instantiations: Histograms<ComponentLabels>,
    instances_in_use: Gauge,
    instances_max: Gauge,
    pool_connections: Family<DatabaseLabels, Gauge>,
    pool_idle: Family<DatabaseLabels, Gauge>,
    pool_waiting: Family<DatabaseLabels, Gauge>,
    sources: Sources,
    /// The same, over OTLP, when the environment names an endpoint.
    otlp: Option<Meters>,
}

impl Metrics {
    /// `application` names the service OTLP metrics come from.
    pub fn new(sources: Sources, application: &str) -> Result<Self> {
        let otlp = Meters::from_env(application, sources.clone())?;
        let mut metrics = Self {
            registry: Registry::with_prefix("eventos"),
            requests: Family::default(),
            durations: Family::new_with_constructor(seconds_histogram),
            instantiations: Family::new_with_constructor(seconds_histogram),
            instances_in_use: Gauge::default(),
            instances_max: Gauge::default(),
            pool_connections: Family::default(),
            pool_idle: Family::default(),
            pool_waiting: Family::default(),
            sources,
            otlp,
        };
        // The pools' own count, which they keep as statements fail.
        let statement_errors = metrics.sources.pools.statement_errors().clone();
        let r = &mut metrics.registry;
        r.register("requests", describe::REQUESTS, metrics.requests.clone());
        r.register_with_unit("request_duration", describe::REQUEST_DURATION, Unit::Seconds, metrics.durations.clone());
        r.register_with_unit(
            "instantiation_duration",
            describe::INSTANTIATION_DURATION,
            Unit::Seconds,
            metrics.instantiations.clone(),
        );
        r.register("instances_in_use", describe::INSTANCES_IN_USE, metrics.instances_in_use.clone());
        r.register("instances_max", describe::INSTANCES_MAX, metrics.instances_max.clone());
        r.register("pg_pool_connections", describe::POOL_CONNECTIONS, metrics.pool_connections.clone());
        r.register("pg_pool_idle", describe::POOL_IDLE, metrics.pool_idle.clone());
        r.register("pg_pool_waiting", describe::POOL_WAITING, metrics.pool_waiting.clone());
        r.register("pg_statement_errors", describe::STATEMENT_ERRORS, statement_errors);
        Ok(metrics)
    }

    pub fn record_request(&self, component: &str, route: &str, status: u16, elapsed: Duration) {
        let status = format!("{}xx", status / 100);
        if let Some(otlp) = &self.otlp {
            otlp.record_request(component, route, &status, elapsed);
        }
        let (component, route) = (component.to_owned(), route.to_owned());
        self.requests
            .get_or_create(&RequestLabels { component: component.clone(), route: route.clone(), status })
            .inc();
        self.durations.get_or_create(&RouteLabels { component, route }).observe(elapsed.as_secs_f64());
    }

    pub fn record_instantiation(&self, component: &str, elapsed: Duration) {
        if let Some(otlp) = &self.otlp {
            otlp.record_instantiation(component, elapsed);
        }
        let labels = ComponentLabels { component: component.to_owned() };
        self.instantiations.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The exposition, with the gauges set to the instances in use and their cap,
    /// and to each database pool's status, as they are now.
    pub fn render(&self) -> String {
        let (in_use, max) = self.sources.instances();
        self.instances_in_use.set(in_use as i64);
        self.instances_max.set(max as i64);
        for PoolReading { database, status, .. } in self.sources.pools() {
            let labels = DatabaseLabels { database };
            self.pool_connections.get_or_create(&labels).set(status.size as i64);
            self.pool_idle.get_or_create(&labels).set(status.available as i64);
            self.pool_waiting.get_or_create(&labels).set(status.waiting as i64);
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Pushes what OTLP has not yet been sent; blocks, so it runs off the async workers.
    pub async fn shutdown(&self) {
        if let Some(otlp) = &self.otlp {
            otlp.shutdown().await;
        }
    }
}
