//! What participation asks the events component.

use eventos_common::Problem;
use eventos_common::peer::{event, event_not_open, fetch};
use uuid::Uuid;

/// The event's current capacity and status, or `None` if the events component does not know it.
pub fn event_capacity(id: Uuid) -> Result<Option<(i64, String)>, Problem> {
    let Some(event) = fetch("events", "events_url", &format!("/api/events/{id}"))? else {
        return Ok(None);
    };
    facts(&event).map(Some)
}

/// The capacity of an event open for registration; the 4xx explains otherwise.
pub fn open_event_capacity(id: Uuid) -> Result<i64, Problem> {
    match facts(&event(id)?)? {
        (capacity, status) if status == "published" => Ok(capacity),
        (_, status) => Err(event_not_open(&format!("the event is {status}; only published events take registrations"))),
    }
}

fn facts(event: &serde_json::Value) -> Result<(i64, String), Problem> {
    let capacity = event["capacity"].as_i64().ok_or_else(|| Problem::internal("an event without capacity"))?;
    Ok((capacity, event["status"].as_str().unwrap_or_default().to_owned()))
}
