//! The host's metrics over OTLP, pushed every `OTEL_METRIC_EXPORT_INTERVAL`
//! (60 s unless set), cumulative: the instruments of the Prometheus listener,
//! with the same labels and with names a collector's Prometheus exporter turns
//! into the same series (`eventos.requests` becomes `eventos_requests_total`),
//! so one set of queries serves both.

use std::time::Duration;

use anyhow::{Context as _, Result};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider as _};
use opentelemetry_otlp::{MetricExporter, WithHttpConfig};
use opentelemetry_sdk::metrics::SdkMeterProvider;

use crate::observe::metrics::instruments::{PoolReading, Sources, describe, seconds_buckets};
use crate::observe::telemetry::export::HyperClient;
use crate::observe::telemetry::{Signal, exported, resource};

pub struct Meters {
    provider: SdkMeterProvider,
    requests: Counter<u64>,
    request_duration: Histogram<f64>,
    instantiation_duration: Histogram<f64>,
}

impl Meters {
    /// The exporter the environment asks for, or `None` when it exports no
    /// metrics; the gauges read `sources` each time they are collected.
    pub fn from_env(application: &str, sources: Sources) -> Result<Option<Self>> {
        if !exported(Signal::Metrics)? {
            return Ok(None);
        }
        let exporter = MetricExporter::builder()
            .with_http()
            .with_http_client(HyperClient::new(tokio::runtime::Handle::current()))
            .build()
            .context("the OTLP metric exporter")?;
        let provider =
            SdkMeterProvider::builder().with_periodic_exporter(exporter).with_resource(resource(application)).build();
        let meter = provider.meter("eventos");
        let seconds = |name: &'static str, description: &'static str| {
            (meter.f64_histogram(name))
                .with_description(description)
                .with_unit("s")
                .with_boundaries(seconds_buckets().collect())
                .build()
        };
        let meters = Self {
            requests: (meter.u64_counter("eventos.requests")).with_description(describe::REQUESTS).build(),
            request_duration: seconds("eventos.request_duration", describe::REQUEST_DURATION),
            instantiation_duration: seconds("eventos.instantiation_duration", describe::INSTANTIATION_DURATION),
            provider,
        };
        observe(&meter, sources);
        Ok(Some(meters))
    }

    pub fn record_request(&self, component: &str, route: &str, status_class: &str, elapsed: Duration) {
        let component = KeyValue::new("component", component.to_owned());
        let route = KeyValue::new("route", route.to_owned());
        let status = KeyValue::new("status", status_class.to_owned());
        self.request_duration.record(elapsed.as_secs_f64(), &[component.clone(), route.clone()]);
        self.requests.add(1, &[component, route, status]);
    }

    pub fn record_instantiation(&self, component: &str, elapsed: Duration) {
        self.instantiation_duration.record(elapsed.as_secs_f64(), &[KeyValue::new("component", component.to_owned())]);
    }

    /// Pushes the last readings; blocks, so it runs off the async workers.
    pub async fn shutdown(&self) {
        let provider = self.provider.clone();
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
}

/// The gauges, and the pools' failed statements, read from `sources` when collected.
fn observe(meter: &Meter, sources: Sources) {
    let instances = |name: &'static str, description: &'static str, pick: fn((usize, usize)) -> usize| {
        let sources = sources.clone();
        (meter.i64_observable_gauge(name))
            .with_description(description)
            .with_callback(move |gauge| gauge.observe(pick(sources.instances()) as i64, &[]))
            .build();
    };
    instances("eventos.instances_in_use", describe::INSTANCES_IN_USE, |(in_use, _)| in_use);
    instances("eventos.instances_max", describe::INSTANCES_MAX, |(_, max)| max);

    let pool = |name: &'static str, description: &'static str, pick: fn(&PoolReading) -> usize| {
        let sources = sources.clone();
        (meter.i64_observable_gauge(name))
            .with_description(description)
            .with_callback(move |gauge| {
                for reading in sources.pools() {
                    gauge.observe(pick(&reading) as i64, &[database(&reading)]);
                }
            })
            .build();
    };
    pool("eventos.pg_pool_connections", describe::POOL_CONNECTIONS, |r| r.status.size);
    pool("eventos.pg_pool_idle", describe::POOL_IDLE, |r| r.status.available);
    pool("eventos.pg_pool_waiting", describe::POOL_WAITING, |r| r.status.waiting);

    (meter.u64_observable_counter("eventos.pg_statement_errors"))
        .with_description(describe::STATEMENT_ERRORS)
        .with_callback(move |counter| {
            for reading in sources.pools() {
                counter.observe(reading.statement_errors, &[database(&reading)]);
            }
        })
        .build();
}

fn database(reading: &PoolReading) -> KeyValue {
    KeyValue::new("database", reading.database.clone())
}
