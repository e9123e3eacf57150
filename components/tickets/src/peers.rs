//! What ticketing asks the events and users components.

use eventos_common::auth::{Caller, Forbidden, Role};
use eventos_common::peer::{EventFacts, EventStatus, KnownUsers, PeerError, event, fetch_all, find_event};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::repo;

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
pub fn require_event_for_ticket_types(id: Uuid, caller: &Caller) -> Result<(), TicketingError> {
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
/// are asked at once; but events is not asked when the event was heard to be
/// on sale a moment ago (see `repo::event_facts`), nor users about a buyer
/// known to exist (`KnownUsers`), and what they say is remembered for the next
/// sales.
pub fn require_on_sale(
    conn: &Connection,
    event_id: Uuid,
    known_on_sale: bool,
    other_buyer: Option<Uuid>,
) -> Result<(), TicketingError> {
    let known_users = KnownUsers::open();
    let unknown_buyer = other_buyer.filter(|user_id| !known_users.knows(*user_id));
    let mut questions = Vec::new();
    if !known_on_sale {
        questions.push(("events", "events_url", format!("/api/events/{event_id}")));
    }
    questions.extend(unknown_buyer.map(|user_id| ("users", "users_url", format!("/api/users/{user_id}"))));
    if questions.is_empty() {
        return Ok(());
    }
    let mut answers = fetch_all(&questions).into_iter();
    let event = match known_on_sale {
        true => None,
        false => Some(answers.next().ok_or_else(|| PeerError::Bug("no answer for the event".into()))??),
    };
    if let (Some(user), Some(user_id)) = (answers.next(), unknown_buyer) {
        user?.ok_or(PeerError::UserNotFound)?;
        known_users.learned(user_id);
    }
    let Some(event) = event else {
        return Ok(());
    };
    let facts = EventFacts::read(event.ok_or(PeerError::EventNotFound)?)?;
    repo::event_facts::remember_event(conn, event_id, &facts)?;
    match facts.status {
        EventStatus::Published => Ok(()),
        status => Err(PeerError::EventNotOpen(format!(
            "the event is {}; tickets are sold for published events only",
            status.as_str()
        ))
        .into()),
    }
}
