//! Events the events component described a moment ago, remembered in Spin's
//! `default` key-value store (see `recent`), so that a burst of registrations
//! for one event asks the events component about once a second, not once a
//! registration.
//!
//! - An event is remembered for at most the variable `known_event_seconds`
//!   (1 by default: until the second the events component answered in is
//!   over; at most [`crate::recent::CAP_SECONDS`]; 0 asks every time), as
//!   ticketing trusts a `published` heard from events for a second.
//! - Every change of an event forgets it ([`KnownEvents::forget`]) in the store
//!   the application's components share (under eventos and `spin up`); where
//!   each keeps its own (on the node, and per pod on a cluster), a change
//!   reaches the other domains within that second, as it would reach a request
//!   that raced it.
//! - `peer::find_event` remembers only a published event. Anybody may see one,
//!   so the events component describes it alike to every caller; any other it
//!   describes to its organizer and moderators alone, and it is asked about
//!   with each caller's own token. An event not found is never remembered
//!   either: one created a moment ago is found at once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::recent::{ForSeconds, Recent, now};

const KNOWN_EVENTS: &str = "known-event/";
/// How long an event is taken as the events component described it, by default.
pub const KNOWN_EVENT_SECONDS: i64 = 1;

/// The store, unless the setting is 0.
pub struct KnownEvents(Option<ForSeconds>);

impl KnownEvents {
    pub fn open() -> Self {
        Self(ForSeconds::open(KNOWN_EVENTS, "known_event_seconds", KNOWN_EVENT_SECONDS))
    }

    /// The event as the events component described it lately.
    pub fn recall<T: DeserializeOwned>(&self, id: Uuid) -> Option<T> {
        self.0.as_ref()?.recall(&id.to_string())
    }

    /// The events component just described `id` as `facts`.
    pub fn learned<T: Serialize>(&self, id: Uuid, facts: &T) {
        if let Some(known) = &self.0 {
            known.remember(&id.to_string(), facts);
        }
    }

    /// `id` changed: whatever was remembered of it is gone.
    pub fn forget(id: Uuid) {
        Recent::open(KNOWN_EVENTS).forget(&id.to_string(), now());
    }
}
