//! Builders for the things most tests need first: users, published events, ticket types.

use serde_json::{Value, json};

use super::{Platform, unique_prefix};

pub fn user(app: &Platform) -> Value {
    let email = format!("{}@example.com", unique_prefix("user"));
    let reply = app.post("/api/users", &json!({"email": email, "name": "Test User"}));
    reply.assert_status(201);
    reply.body
}

pub fn event(app: &Platform, capacity: i64) -> Value {
    let organizer = user(app);
    let reply = app.post(
        "/api/events",
        &json!({"title": "Concert", "starts_at": "2027-06-01T19:00:00Z", "ends_at": "2027-06-01T23:00:00Z",
                "capacity": capacity, "organizer_id": organizer["id"]}),
    );
    reply.assert_status(201);
    reply.body
}

pub fn published_event(app: &Platform, capacity: i64) -> Value {
    let event = event(app, capacity);
    let reply = app.post(&format!("/api/events/{}/moderation", id(&event)), &json!({"decision": "approve"}));
    reply.assert_status(200);
    reply.body
}

pub fn ticket_type(app: &Platform, event: &Value, quantity: i64) -> Value {
    let reply = app.post(
        "/api/tickets/types",
        &json!({"event_id": event["id"], "name": "General admission", "price_cents": 2500,
                "currency": "EUR", "quantity": quantity}),
    );
    reply.assert_status(201);
    reply.body
}

/// How many requests for `event`'s document the events component has logged
/// so far: how often another domain asked it about the event.
pub fn times_events_was_asked_about(app: &Platform, event: &Value) -> usize {
    let path = format!(r#""path":"/api/events/{}""#, id(event));
    app.log_text().lines().filter(|l| l.contains(r#""component":"events""#) && l.contains(&path)).count()
}

pub fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

/// The stock buckets hold exactly the tickets that stand plus the lines open
/// checkouts hold, and no bucket is past its share: read from the database.
pub fn assert_stock_adds_up(app: &Platform, ticket_type: &Value) {
    let sql = format!(
        "SELECT (SELECT sum(sold) FROM ticket_stock WHERE ticket_type_id = t.id)
              = (SELECT count(*) FROM tickets WHERE ticket_type_id = t.id AND status <> 'void')
              + (SELECT coalesce(sum(quantity), 0) FROM checkout_lines WHERE ticket_type_id = t.id AND held)
            AND NOT EXISTS (SELECT 1 FROM ticket_stock WHERE ticket_type_id = t.id AND sold > quantity)
         FROM ticket_types t WHERE t.id = '{}'",
        id(ticket_type)
    );
    assert_eq!(super::admin_query(&format!("{}_tickets", app.prefix), &sql), Ok(vec!["t".to_string()]));
}
