//! The spans of one request, named and attributed as OpenTelemetry's semantic
//! conventions say: the server span (`GET /api/orders`), and under it the
//! instantiation, every Postgres statement (operation and table, never the text
//! or a value) and every call out or to another component, whose `traceparent`
//! names the call's own span so the callee's server span hangs under it. No
//! span records a path or a query: they carry ids and values.

use std::sync::Arc;

use hyper::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

use super::Telemetry;
use super::statement;

/// A span in progress, and the context its children start from. Cheap to clone;
/// the span ends when `end` is called, or else when the last clone goes.
#[derive(Clone)]
pub struct Trace {
    telemetry: Arc<Telemetry>,
    context: Context,
}

impl Telemetry {
    /// The server span of a request `component` serves under `route`: the child
    /// of the caller's `traceparent`, which the request then carries as this
    /// span's, so that what the guest logs and forwards names it.
    pub fn serve<B>(self: &Arc<Self>, request: &mut hyper::Request<B>, component: &str, route: &str) -> Trace {
        let callers = self.propagator.extract(&HeaderExtractor(request.headers()));
        let method = request.method().as_str().to_owned();
        let attributes = vec![
            KeyValue::new("http.request.method", method.clone()),
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("eventos.component", component.to_owned()),
        ];
        let trace = self.start(&callers, format!("{method} {route}"), SpanKind::Server, attributes);
        trace.inject(request.headers_mut());
        trace
    }

    fn start(self: &Arc<Self>, parent: &Context, name: String, kind: SpanKind, attributes: Vec<KeyValue>) -> Trace {
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, parent);
        Trace { telemetry: self.clone(), context: parent.with_span(span) }
    }
}

impl Trace {
    /// The instantiation of `component` for this request.
    pub fn instantiation(&self, component: &str) -> Trace {
        let attributes = vec![KeyValue::new("eventos.component", component.to_owned())];
        self.child(format!("instantiate {component}"), SpanKind::Internal, attributes)
    }

    /// One statement on `database`: its operation and table, never its text.
    pub fn statement(&self, database: &str, sql: &str) -> Trace {
        let (operation, table) = statement::describe(sql);
        let mut attributes = vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.namespace", database.to_owned()),
            KeyValue::new("db.operation.name", operation.clone()),
        ];
        let name = match table {
            Some(table) => {
                let name = format!("{operation} {table}");
                attributes.push(KeyValue::new("db.collection.name", table));
                name
            }
            None => operation,
        };
        self.child(name, SpanKind::Client, attributes)
    }

    /// A call out of this request (to another component or another host), which
    /// from here on carries this call's span as its `traceparent`.
    pub fn call<B>(&self, request: &mut hyper::Request<B>) -> Trace {
        let method = request.method().as_str().to_owned();
        let mut attributes = vec![KeyValue::new("http.request.method", method.clone())];
        if let Some(host) = request.uri().host() {
            attributes.push(KeyValue::new("server.address", host.to_owned()));
        }
        let trace = self.child(method, SpanKind::Client, attributes);
        trace.inject(request.headers_mut());
        trace
    }

    fn child(&self, name: String, kind: SpanKind, attributes: Vec<KeyValue>) -> Trace {
        self.telemetry.start(&self.context, name, kind, attributes)
    }

    fn inject(&self, headers: &mut HeaderMap) {
        self.telemetry.propagator.inject_context(&self.context, &mut HeaderInjector(headers));
    }

    /// Ends an HTTP span with the status answered (server errors mark it failed);
    /// `None`: no answer came.
    pub fn end_http(&self, status: Option<u16>) {
        let span = self.context.span();
        match status {
            Some(status) => {
                span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
                if status >= 500 {
                    span.set_attribute(KeyValue::new("error.type", status.to_string()));
                    span.set_status(Status::error(""));
                }
            }
            None => {
                span.set_attribute(KeyValue::new("error.type", "no_response"));
                span.set_status(Status::error(""));
            }
        }
        span.end();
    }

    /// Ends a span that succeeded or failed (without saying why: a database's
    /// message may quote a value).
    pub fn end(&self, failed: bool) {
        let span = self.context.span();
        if failed {
            span.set_status(Status::error(""));
        }
        span.end();
    }
}
