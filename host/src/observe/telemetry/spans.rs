//! The spans of one request, named and attributed as OpenTelemetry's semantic
//! conventions say: the server span (`GET /api/orders`), and under it the
//! instantiation, every Postgres statement (operation and table, never the text
//! or a value) and every call out or to another component, whose `traceparent`
//! names the call's own span so the callee's server span hangs under it. No
//! span records a path or a query: they carry ids and values.
//!
//! They are `tracing` spans, each a child of the span current where it starts:
//! a request's guest runs inside its server span, so what the guest does (a
//! statement, a call) hangs under it without being handed a span. When nothing
//! exports spans, each is disabled and costs a check.

use hyper::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::statement;

/// The server span of a request `component` serves under `route`: the child of
/// the caller's `traceparent`, which the request then carries as this span's, so
/// that what the guest logs and forwards names it.
pub fn serve<B>(request: &mut hyper::Request<B>, component: &str, route: &str) -> Span {
    let method = request.method().as_str();
    let span = tracing::info_span!(
        parent: None,
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        error.blame = Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = Empty,
        error.type = Empty,
        eventos.component = component,
    );
    if !span.is_disabled() {
        let callers = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
        let _ = span.set_parent(callers);
        inject(&span, request.headers_mut());
    }
    span
}

/// The instantiation of `component` for this request.
pub fn instantiation(component: &str) -> Span {
    tracing::info_span!(
        "instantiate",
        otel.name = %format_args!("instantiate {component}"),
        otel.kind = "internal",
        otel.status_code = Empty,
        error.blame = Empty,
        eventos.component = component,
    )
}

/// One statement on `database`: its operation and table, never its text.
pub fn statement(database: &str, sql: &str) -> Span {
    if !tracing::span_enabled!(tracing::Level::INFO) {
        return Span::none();
    }
    let described = statement::describe_cached(sql);
    tracing::info_span!(
        "statement",
        otel.name = described.name.as_str(),
        otel.kind = "client",
        otel.status_code = Empty,
        error.blame = Empty,
        db.system.name = "postgresql",
        db.namespace = database,
        db.operation.name = described.operation.as_str(),
        db.collection.name = described.table.as_deref(),
    )
}

/// A call out of this request (to another component or another host), which
/// from here on carries this call's span as its `traceparent`.
pub fn call<B>(request: &mut hyper::Request<B>) -> Span {
    let span = tracing::info_span!(
        "call",
        otel.name = request.method().as_str(),
        otel.kind = "client",
        otel.status_code = Empty,
        error.blame = Empty,
        http.request.method = request.method().as_str(),
        http.response.status_code = Empty,
        error.type = Empty,
        server.address = request.uri().host(),
    );
    if !span.is_disabled() {
        inject(&span, request.headers_mut());
    }
    span
}

fn inject(span: &Span, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
}

/// An HTTP span's answer (server errors mark it failed); `None`: no answer came.
pub fn answered(span: &Span, status: Option<u16>) {
    match status {
        Some(status) => {
            span.record("http.response.status_code", i64::from(status));
            if status >= 500 {
                span.record("error.type", status.to_string().as_str());
                failed(span);
            }
        }
        None => {
            span.record("error.type", "no_response");
            failed(span);
        }
    }
}

/// Marks a span failed, without saying why: a database's message may quote a value.
pub fn failed(span: &Span) {
    span.record("otel.status_code", "error");
}

/// Whose doing a failure most likely was, as Spin marks its spans (`error.blame`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The guest's: it trapped, ran past its deadline, set no response, or sent
    /// a statement the database refused.
    Guest,
    /// The host's: it could not make the instance, or reach the database.
    Host,
}

impl Blame {
    pub fn as_str(self) -> &'static str {
        match self {
            Blame::Guest => "guest",
            Blame::Host => "host",
        }
    }
}

/// Marks a span failed, and by whom.
pub fn blamed(span: &Span, blame: Blame) {
    span.record("error.blame", blame.as_str());
    failed(span);
}
