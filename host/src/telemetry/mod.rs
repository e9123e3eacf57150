//! OpenTelemetry, as Spin emits it: when the standard variables name an OTLP
//! endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! for traces alone), every request is a trace exported over OTLP/HTTP in
//! protobuf, and the SDK honours the other `OTEL_*` variables (headers, timeout,
//! sampler, batching, service name, resource attributes). Unset, no span is ever
//! made: a request pays one `None` check.

mod export;
pub mod spans;
pub mod statement;

use anyhow::{Context as _, Result, bail};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

pub use spans::Trace;

/// The tracer every span of this process starts from, and what exports them.
pub struct Telemetry {
    tracer: SdkTracer,
    provider: SdkTracerProvider,
    propagator: TraceContextPropagator,
}

impl Telemetry {
    /// The exporter the environment asks for, or `None` when it names no endpoint
    /// (or `OTEL_SDK_DISABLED=true`). `application` names the service unless
    /// `OTEL_SERVICE_NAME` does.
    pub fn from_env(application: &str) -> Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if disabled || endpoint.is_none() {
            return Ok(None);
        }
        let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"));
        if let Some(protocol) = protocol.filter(|protocol| protocol != "http/protobuf") {
            bail!("OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: eventos exports OTLP over HTTP only (http/protobuf)");
        }
        let exporter = SpanExporter::builder()
            .with_http()
            .with_http_client(export::HyperClient::new(tokio::runtime::Handle::current()))
            .build()
            .context("the OTLP span exporter")?;
        let mut resource = Resource::builder();
        if var("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name(application.to_owned());
        }
        let provider =
            SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
        let tracer = provider.tracer("eventos");
        Ok(Some(Self { tracer, provider, propagator: TraceContextPropagator::new() }))
    }

    /// Exports what is still buffered; blocks, so it runs off the async workers.
    pub async fn shutdown(&self) {
        let provider = self.provider.clone();
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
}
