//! One trace per order across domains: with `OTEL_EXPORTER_OTLP_ENDPOINT` set,
//! the runtime exports OTLP spans, which a receiver decodes with OpenTelemetry's
//! own protobuf definitions. The order's work in tickets, events and users hangs
//! parent to child through the calls between them, each with its Postgres
//! statements; on `eventos`, each with its instantiation, and no span says a value.

use std::collections::HashMap;

use crate::support::otlp::Receiver;
use crate::support::world::{self, id};
use crate::support::{Runtime, runtime};
use serde_json::{Value, json};

/// The server span of the order the test sent, as the runtime routed it.
fn request_span(spans: &[Value]) -> Option<&Value> {
    spans.iter().find(|s| s["kind"] == 2 && s["attributes"]["http.route"] == "/api/tickets/...")
}

/// The span a component's work for the request hangs under: `eventos`' server
/// span for it; Spin serves a chained call in-process without a server span,
/// under its `execute_wasm_component` span (on the node too, where each
/// component's Spin serves its calls from the network).
fn served<'a>(spans: &'a [Value], component: &str) -> Option<&'a Value> {
    match runtime() {
        Runtime::Eventos => spans.iter().find(|s| s["kind"] == 2 && s["attributes"]["eventos.component"] == component),
        Runtime::Spin(_) | Runtime::Node => {
            spans.iter().find(|s| s["name"] == format!("execute_wasm_component {component}"))
        }
    }
}

/// A Postgres span (`eventos` names the system as current conventions do, Spin as older ones did).
fn is_statement(span: &Value) -> bool {
    let attributes = &span["attributes"];
    attributes["db.system.name"] == "postgresql" || attributes["db.system"] == "postgresql"
}

fn children<'a>(spans: &'a [Value], parent: &Value) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["parent_span_id"] == parent["span_id"]).collect()
}

#[test]
fn an_order_is_one_trace_across_tickets_events_and_users() {
    let receiver = Receiver::start("traces");
    let app = receiver.platform("traces", &[]);
    let event = world::published_event(&app, 100);
    let ticket_type = world::ticket_type(&app, &event, 10);
    let user = world::user(&app);
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let callers_span = "b7ad6b7169203331";
    let traceparent = format!("00-{trace_id}-{callers_span}-01");
    let request_id = crate::support::unique_prefix("traced");
    let headers = [
        ("content-type", "application/json"),
        ("traceparent", traceparent.as_str()),
        ("x-request-id", request_id.as_str()),
    ];
    // An admin buying for a named user: tickets asks events and users.
    let body = json!({"ticket_type_id": ticket_type["id"], "user_id": user["id"], "quantity": 2});
    let order = app.send("POST", "/api/tickets/orders", &headers, Some(body.to_string().into_bytes()));
    order.assert_status(201);

    // Spans arrive in the batches each runtime exports: wait for every one asserted on.
    let spans = receiver.trace(&trace_id, |spans| {
        ["tickets", "events", "users"].iter().all(|c| served(spans, c).is_some())
            && spans.iter().filter(|s| is_statement(s)).count() >= 3
            && request_span(spans).is_some()
    });
    let by_id: HashMap<&str, &Value> = spans.iter().map(|s| (s["span_id"].as_str().expect("an id"), s)).collect();
    let request = request_span(&spans).unwrap_or_else(|| panic!("no span for the request: {spans:#?}"));
    assert_eq!(request["parent_span_id"], callers_span, "the caller's traceparent is the parent");
    assert!(request["name"].as_str().is_some_and(|name| name.starts_with("POST /api/tickets")), "{request}");
    let tickets = served(&spans, "tickets").unwrap_or_else(|| panic!("no tickets span: {spans:#?}"));

    for callee in ["events", "users"] {
        let served = served(&spans, callee).unwrap_or_else(|| panic!("no {callee} span: {spans:#?}"));
        let mut call = by_id[served["parent_span_id"].as_str().expect("a parent")];
        if matches!(runtime(), Runtime::Node) && call["kind"] == 2 {
            // On the node a call reaches the callee's own Spin over the network: its server span sits between.
            call = by_id[call["parent_span_id"].as_str().expect("a parent")];
        }
        assert_eq!(call["kind"], 3, "{callee} is served under a client span: {call}");
        assert_eq!(call["parent_span_id"], tickets["span_id"], "the call is tickets': {call}");
        assert!(served["start"].as_u64() >= call["start"].as_u64(), "served within the call");
    }
    for component in ["tickets", "events", "users"] {
        let under = children(&spans, served(&spans, component).expect("served"));
        assert!(under.iter().any(|s| is_statement(s)), "{component}'s statements: {under:#?}");
    }
    if matches!(runtime(), Runtime::Eventos) {
        what_eventos_adds(&spans, &app.prefix);
        // No value the request carried or made shows in any span (Spin records
        // statements' text and the URLs it calls, which hold ids).
        let exported = serde_json::to_string(&spans).expect("spans as text");
        let email = user["email"].as_str().expect("an email");
        let values = [
            id(&user),
            id(&ticket_type),
            id(&event),
            id(&order.body),
            email,
            crate::support::admin_token(),
            &request_id,
        ];
        for value in values {
            assert!(!exported.contains(value), "a span carries {value}: {exported}");
        }
    }
    // The guest's log line names the same trace.
    let log = app.log_containing(&request_id);
    let line = log.lines().find(|line| line.contains(&request_id)).expect("a line under the request id");
    assert!(line.contains(&trace_id), "{line}");
}

/// `eventos`' own conventions: the request's status, an instantiation span per
/// component, each statement on its domain's database naming operation and table.
fn what_eventos_adds(spans: &[Value], prefix: &str) {
    let tickets = served(spans, "tickets").expect("served");
    assert_eq!(tickets["service"], "eventos", "the application's name (Spin says `spin`)");
    assert_eq!(tickets["attributes"]["http.request.method"], "POST");
    assert_eq!(tickets["attributes"]["http.response.status_code"], 201);
    for component in ["tickets", "events", "users"] {
        let served = served(spans, component).expect("served");
        let under = children(spans, served);
        assert!(
            under.iter().any(|s| s["name"] == format!("instantiate {component}")),
            "{component}'s instantiation: {under:#?}"
        );
        let database = format!("{prefix}_{component}");
        let statements: Vec<_> = under.iter().filter(|s| is_statement(s)).collect();
        assert!(statements.iter().all(|s| s["attributes"]["db.namespace"] == database.as_str()), "{statements:#?}");
        if component != "tickets" {
            let call = spans.iter().find(|s| s["span_id"] == served["parent_span_id"]).expect("the call");
            assert_eq!(call["attributes"]["http.response.status_code"], 200);
        }
    }
    let tables: Vec<&str> =
        children(spans, tickets).iter().filter_map(|s| s["attributes"]["db.collection.name"].as_str()).collect();
    assert!(tables.contains(&"tickets"), "the sale names the table it writes last: {tables:?}");
}
