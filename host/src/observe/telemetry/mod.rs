//! OpenTelemetry, as Spin emits it: when the standard variables name an OTLP
//! endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! and `..._METRICS_ENDPOINT` for one signal alone), every request is a trace and
//! the host's metrics are pushed too, over OTLP/HTTP in protobuf; the SDK honours
//! the other `OTEL_*` variables (headers, timeout, sampler, batching, export
//! interval, service name, resource attributes). The spans are `tracing`'s
//! ([`spans`]); the process's subscriber (`observe/logs.rs`) hands them to
//! this exporter. Unset, nothing is made, and no span either.

pub mod export;
pub mod spans;
pub mod statement;

use anyhow::{Context as _, Result, bail};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// What exports this process's spans.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// The exporter the environment asks for, or `None` when it exports no traces.
    /// `application` names the service unless `OTEL_SERVICE_NAME` does.
    pub fn from_env(application: &str) -> Result<Option<Self>> {
        if !exported(Signal::Traces)? {
            return Ok(None);
        }
        let exporter = SpanExporter::builder()
            .with_http()
            .with_http_client(export::HyperClient::new(tokio::runtime::Handle::current()))
            .build()
            .context("the OTLP span exporter")?;
        let provider =
            SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource(application)).build();
        Ok(Some(Self { provider }))
    }

    /// The tracer the host's spans are made with.
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("eventos")
    }

    /// Exports what is still buffered; blocks, so it runs off the async workers.
    pub async fn shutdown(&self) {
        let provider = self.provider.clone();
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
}

#[derive(Clone, Copy)]
pub enum Signal {
    Traces,
    Metrics,
}

impl Signal {
    /// How the standard variables name this signal (`OTEL_EXPORTER_OTLP_{name}_ENDPOINT`).
    fn name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
        }
    }
}

/// Whether the environment asks for `signal` to be exported: an endpoint named
/// for it or for all signals, unless `OTEL_SDK_DISABLED=true` or
/// `OTEL_{signal}_EXPORTER=none`. A protocol other than `http/protobuf` is
/// refused rather than ignored.
pub fn exported(signal: Signal) -> Result<bool> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    let name = signal.name();
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true"))
        || var(&format!("OTEL_{name}_EXPORTER")).is_some_and(|value| value == "none");
    let endpoint = var(&format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT")).or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
    if disabled || endpoint.is_none() {
        return Ok(false);
    }
    let protocol = var(&format!("OTEL_EXPORTER_OTLP_{name}_PROTOCOL")).or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(protocol) = protocol.filter(|protocol| protocol != "http/protobuf") {
        bail!("OTLP protocol `{protocol}` for {name}: eventos exports OTLP over HTTP only (http/protobuf)");
    }
    Ok(true)
}

/// What every exported span and metric says of its source: the application's
/// name, unless `OTEL_SERVICE_NAME` says otherwise, and `OTEL_RESOURCE_ATTRIBUTES`.
pub fn resource(application: &str) -> Resource {
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|name| !name.trim().is_empty());
    let resource = Resource::builder();
    if named { resource.build() } else { resource.with_service_name(application.to_owned()).build() }
}
