//! Where the host's own lines and spans go, set once per process: lines to
//! stderr (JSON, as the components write theirs, unless stderr is a terminal),
//! filtered by `RUST_LOG` as Spin filters its own (default: the host's lines at
//! `info`); spans to OpenTelemetry, and only when it exports them, so that a
//! request pays nothing for spans nobody collects.

use std::io::IsTerminal;
use std::str::FromStr;

use anyhow::{Context as _, Result, bail};
use tracing_subscriber::filter::{FilterExt, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

use super::telemetry::Telemetry;

/// The host's lines when `RUST_LOG` names none.
const DEFAULT_FILTER: &str = "eventos=info";

/// Installs the process's subscriber: lines, and with `telemetry` its spans.
pub fn install(telemetry: Option<&Telemetry>) -> Result<()> {
    let subscriber = subscriber(telemetry)?;
    tracing::subscriber::set_global_default(subscriber).context("the process's log subscriber was already set")
}

/// Lines, and spans only where they are exported: a layer that may take spans,
/// even an absent one (`Option::None`), would make every span macro build one.
fn subscriber(telemetry: Option<&Telemetry>) -> Result<Box<dyn tracing::Subscriber + Send + Sync>> {
    let lines = tracing_subscriber::registry().with(lines_layer()?);
    let Some(telemetry) = telemetry else { return Ok(Box::new(lines)) };
    let spans = tracing_opentelemetry::layer()
        .with_tracer(telemetry.tracer())
        // A span says what the host sets on it, nothing of where in the host it began.
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
        .with_filter(filter_fn(|metadata| metadata.is_span() && metadata.target().starts_with("eventos")));
    Ok(Box::new(lines.with(spans)))
}

/// Lines (events, never spans) to stderr, as `EVENTOS_LOG_FORMAT` (`json` or
/// `text`) says, else JSON unless stderr is a terminal.
fn lines_layer() -> Result<Box<dyn Layer<Registry> + Send + Sync>> {
    let directives = std::env::var("RUST_LOG").ok().filter(|text| !text.trim().is_empty());
    let directives = directives.as_deref().unwrap_or(DEFAULT_FILTER);
    let targets = Targets::from_str(directives).with_context(|| format!("RUST_LOG={directives}: not a filter"))?;
    let events_only = targets.and(filter_fn(|metadata| metadata.is_event()));
    let json = match std::env::var("EVENTOS_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        Ok(other) => bail!("EVENTOS_LOG_FORMAT={other}: `json` or `text`"),
        Err(_) => !std::io::stderr().is_terminal(),
    };
    let format = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false);
    Ok(if json {
        format
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(events_only)
            .boxed()
    } else {
        format.with_target(false).with_filter(events_only).boxed()
    })
}

#[cfg(test)]
mod tests {
    use super::subscriber;
    use crate::observe::telemetry::spans;

    #[test]
    fn without_an_exporter_a_request_makes_no_span() {
        let subscriber = subscriber(None).expect("the subscriber");
        tracing::subscriber::with_default(subscriber, || {
            let mut request = hyper::Request::new(());
            assert!(spans::serve(&mut request, "users", "/api/users/...").is_disabled());
            assert!(spans::statement("eventos_users", "SELECT 1").is_disabled());
            assert!(request.headers().get("traceparent").is_none(), "nothing was injected");
        });
    }
}
