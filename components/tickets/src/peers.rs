//! What ticketing asks the events component.

use eventos_common::Problem;
use eventos_common::peer::{
    EventFacts, EventStatus, event, event_not_found, event_not_open, fetch_all, user_not_found,
};
use uuid::Uuid;

/// Ticket types may be added to any event that is not cancelled.
pub fn require_event_not_cancelled(id: Uuid) -> Result<(), Problem> {
    match event(id)?.status {
        EventStatus::Cancelled => Err(event_not_open("the event is cancelled")),
        _ => Ok(()),
    }
}

/// Asks events and users at once: the event must be on sale and the user must exist.
pub fn require_event_on_sale_and_user(event_id: Uuid, user_id: Uuid) -> Result<(), Problem> {
    let mut answers = fetch_all(&[
        ("events", "events_url", format!("/api/events/{event_id}")),
        ("users", "users_url", format!("/api/users/{user_id}")),
    ])
    .into_iter();
    let (event, user) = (answers.next(), answers.next());
    let event = event.ok_or_else(|| Problem::internal("no answer for the event"))??.ok_or_else(event_not_found)?;
    user.ok_or_else(|| Problem::internal("no answer for the user"))??.ok_or_else(user_not_found)?;
    match EventFacts::read(event)?.status {
        EventStatus::Published => Ok(()),
        status => Err(event_not_open(&format!(
            "the event is {}; tickets are sold for published events only",
            status.as_str()
        ))),
    }
}
