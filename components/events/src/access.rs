//! Who may see and who may change an event.

use eventos_common::auth::{Caller, Forbidden, Role};

use crate::error::EventError;
use crate::event::Event;
use crate::repo::Visibility;
use crate::status::Status;

/// Published events are public; moderators see every event, organizers their own.
pub fn may_see(caller: Option<&Caller>, event: &Event) -> bool {
    event.status == Status::Published
        || caller.is_some_and(|caller| caller.has(Role::Moderator) || caller.user_id == event.organizer_id)
}

/// What `GET /api/events` lists for this caller.
pub fn visibility(caller: Option<&Caller>) -> Visibility {
    match caller {
        Some(caller) if caller.has(Role::Moderator) => Visibility::Everything,
        Some(caller) => Visibility::PublishedAndOrganizedBy(caller.user_id),
        None => Visibility::Published,
    }
}

/// Only the event's own organizer (or an admin) edits or cancels it; an event
/// the caller may not even see is not found.
pub fn require_manager(caller: &Caller, event: &Event) -> Result<(), EventError> {
    if caller.is_admin() || (caller.user_id == event.organizer_id && caller.has(Role::Organizer)) {
        Ok(())
    } else if may_see(Some(caller), event) {
        Err(Forbidden("only the event's organizer may change it").into())
    } else {
        Err(EventError::NotFound)
    }
}
