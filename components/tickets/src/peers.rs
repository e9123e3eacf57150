//! What ticketing asks the events component.

use eventos_common::Problem;
use eventos_common::peer::{event, event_not_open};
use uuid::Uuid;

fn event_status(id: Uuid) -> Result<String, Problem> {
    Ok(event(id)?["status"].as_str().unwrap_or_default().to_owned())
}

/// Ticket types may be added to any event that is not cancelled.
pub fn require_event_not_cancelled(id: Uuid) -> Result<(), Problem> {
    match event_status(id)?.as_str() {
        "cancelled" => Err(event_not_open("the event is cancelled")),
        _ => Ok(()),
    }
}

/// Tickets are sold only for published events.
pub fn require_event_on_sale(id: Uuid) -> Result<(), Problem> {
    match event_status(id)?.as_str() {
        "published" => Ok(()),
        status => Err(event_not_open(&format!("the event is {status}; tickets are sold for published events only"))),
    }
}
