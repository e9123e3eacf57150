//! What ticketing asks the events and users components.

use eventos_common::auth::{Caller, Forbidden, Role};
use eventos_common::peer::{EventFacts, EventStatus, PeerError, event, fetch_all, find_event};
use uuid::Uuid;

/// The event if the caller may see it, and so its ticket types: the events
/// component decides with the caller's token (anyone sees a published event;
/// one awaiting review or rejected, its organizer, moderators and admins).
pub fn event_as_seen(id: Uuid) -> Result<Option<EventFacts>, PeerError> {
    find_event(id)
}

/// Whether `caller` may see what only the event's organizer and admins see
/// (hidden ticket types, vouchers).
pub fn runs_event(caller: Option<&Caller>, event: &EventFacts) -> bool {
    caller.is_some_and(|caller| {
        caller.is_admin() || (caller.has(Role::Organizer) && event.organizer_id == caller.user_id)
    })
}

/// Ticket types are added by the event's organizer (or an admin) to any event
/// that is not cancelled.
pub fn require_event_for_ticket_types(id: Uuid, caller: &Caller) -> Result<(), crate::error::TicketingError> {
    let event = event(id)?;
    if !caller.is_admin() && event.organizer_id != caller.user_id {
        return Err(Forbidden("only the event's organizer may add ticket types").into());
    }
    match event.status {
        EventStatus::Cancelled => Err(PeerError::EventNotOpen("the event is cancelled".into()).into()),
        _ => Ok(()),
    }
}

/// The event must be on sale; a buyer who is not the caller must exist. Both
/// are asked at once.
pub fn require_event_on_sale(event_id: Uuid, other_buyer: Option<Uuid>) -> Result<(), PeerError> {
    let mut questions = vec![("events", "events_url", format!("/api/events/{event_id}"))];
    questions.extend(other_buyer.map(|user_id| ("users", "users_url", format!("/api/users/{user_id}"))));
    let mut answers = fetch_all(&questions).into_iter();
    let event = answers.next().ok_or_else(|| PeerError::Bug("no answer for the event".into()))??;
    if let Some(user) = answers.next() {
        user?.ok_or(PeerError::UserNotFound)?;
    }
    match EventFacts::read(event.ok_or(PeerError::EventNotFound)?)?.status {
        EventStatus::Published => Ok(()),
        status => Err(PeerError::EventNotOpen(format!(
            "the event is {}; tickets are sold for published events only",
            status.as_str()
        ))),
    }
}
