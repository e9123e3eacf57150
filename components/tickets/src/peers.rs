//! What ticketing asks the events component.

use eventos_common::peer::{EventFacts, EventStatus, PeerError, event, fetch_all};
use uuid::Uuid;

/// Ticket types may be added to any event that is not cancelled.
pub fn require_event_not_cancelled(id: Uuid) -> Result<(), PeerError> {
    match event(id)?.status {
        EventStatus::Cancelled => Err(PeerError::EventNotOpen("the event is cancelled".into())),
        _ => Ok(()),
    }
}

/// Asks events and users at once: the event must be on sale and the user must exist.
pub fn require_event_on_sale_and_user(event_id: Uuid, user_id: Uuid) -> Result<(), PeerError> {
    let mut answers = fetch_all(&[
        ("events", "events_url", format!("/api/events/{event_id}")),
        ("users", "users_url", format!("/api/users/{user_id}")),
    ])
    .into_iter();
    let (event, user) = (answers.next(), answers.next());
    let missing = |what: &str| PeerError::Bug(format!("no answer for the {what}"));
    let event = event.ok_or_else(|| missing("event"))??.ok_or(PeerError::EventNotFound)?;
    user.ok_or_else(|| missing("user"))??.ok_or(PeerError::UserNotFound)?;
    match EventFacts::read(event)?.status {
        EventStatus::Published => Ok(()),
        status => Err(PeerError::EventNotOpen(format!(
            "the event is {}; tickets are sold for published events only",
            status.as_str()
        ))),
    }
}
