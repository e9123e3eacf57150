//! What participation asks the events component.

use eventos_common::peer::{EventStatus, PeerError, event, find_event};
use uuid::Uuid;

/// The event's current capacity, or `None` if the events component does not know it.
pub fn event_capacity(id: Uuid) -> Result<Option<i64>, PeerError> {
    Ok(find_event(id)?.map(|event| event.capacity))
}

/// The capacity of an event open for registration; the 4xx explains otherwise.
pub fn open_event_capacity(id: Uuid) -> Result<i64, PeerError> {
    let event = event(id)?;
    match event.status {
        EventStatus::Published => Ok(event.capacity),
        status => Err(PeerError::EventNotOpen(format!(
            "the event is {}; only published events take registrations",
            status.as_str()
        ))),
    }
}
