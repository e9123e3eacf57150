//! Calls to another domain's component over HTTP (Spin outbound HTTP; locally
//! served in-process through `*.spin.internal`), always bounded in time.
//!
//! A peer that is down, refuses, or does not answer in time is a 503 problem for
//! our caller — never a hang and never a 500.

use std::cell::RefCell;
use std::time::Duration;

use spin_sdk::variables;

use crate::known_events::KnownEvents;
use crate::outbound::{Answer, Call, send_all};
use crate::recent::{Recent, now};

use crate::{FieldError, Problem};

/// Why asking another domain's component did not give what the caller needs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeerError {
    /// Down, silent or failing: our caller may try again later.
    #[error("the {peer} service is unavailable: {cause}")]
    Unavailable { peer: String, cause: String },
    /// The event the request names does not exist.
    #[error("no event with that id")]
    EventNotFound,
    /// The user the request names does not exist.
    #[error("no user with that id")]
    UserNotFound,
    /// The event is not open for what was asked; the text says why.
    #[error("{0}")]
    EventNotOpen(String),
    /// A peer answered something we cannot read, or we could not ask: our bug.
    #[error("a peer call failed: {0}")]
    Bug(String),
}

impl From<PeerError> for Problem {
    fn from(error: PeerError) -> Self {
        let detail = error.to_string();
        match error {
            PeerError::Unavailable { peer, cause } => {
                Problem::unavailable(format!("the {peer} service is unavailable; try again shortly"))
                    .because(format!("{peer}: {cause}"))
            }
            // A 422: the request names what does not exist.
            PeerError::EventNotFound => Problem::new(422, "event-not-found", "Event not found", detail)
                .with_errors(vec![FieldError::new("event_id", "no such event")]),
            PeerError::UserNotFound => Problem::new(422, "user-not-found", "User not found", detail)
                .with_errors(vec![FieldError::new("user_id", "no such user")]),
            PeerError::EventNotOpen(detail) => Problem::conflict("event-not-open", "Event not open", detail),
            PeerError::Bug(cause) => Problem::internal(cause),
        }
    }
}

thread_local! {
    /// The headers every peer call of this request carries. An instance serves
    /// one request, so this is that request's, set before its route runs.
    static FORWARDED: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
}

/// Peer calls from now on carry `request_id` as `X-Request-Id` and this span as
/// their `traceparent`, so that one request leaves one trail and one trace in
/// every domain's log, and the caller's `Authorization`, so that every domain
/// decides for itself who may do what.
pub fn forward_for_this_request(request_id: &str, trace: &crate::trace::TraceContext, authorization: Option<String>) {
    let mut headers = vec![("x-request-id", request_id.to_owned()), ("traceparent", trace.traceparent())];
    headers.extend(authorization.map(|value| ("authorization", value)));
    FORWARDED.with(|forwarded| *forwarded.borrow_mut() = headers);
}

/// The longest a peer may take to answer.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// A peer's answer.
pub type PeerResponse = Answer;

impl Answer {
    pub fn json(&self) -> Result<serde_json::Value, PeerError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| PeerError::Bug(format!("a peer answered with invalid JSON: {e}")))
    }
}

/// What a call carries of the request being served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Carrying {
    /// Its request id, trace and `Authorization` (`forward_for_this_request`): a call to another domain.
    TheRequest,
    /// Nothing: a call to a service outside the platform, which never sees a caller's token.
    Nothing,
}

/// `GET`s every `(base URL, path)` at once and waits at most `timeout` for all of
/// them; each answer comes with how long it took.
pub fn get_all(
    targets: &[(String, String)],
    timeout: Duration,
    carrying: Carrying,
) -> Vec<Result<(PeerResponse, Duration), String>> {
    let headers = match carrying {
        Carrying::TheRequest => FORWARDED.with(|forwarded| {
            forwarded.borrow().iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
        }),
        Carrying::Nothing => Vec::new(),
    };
    let calls: Vec<Call> =
        targets.iter().map(|(base, path)| Call::get(base.clone(), path.clone(), headers.clone())).collect();
    send_all(&calls, timeout)
}

/// `GET {base}{path}` where `base` is the Spin variable `base_variable` (e.g. `events_url`).
pub fn get(peer: &str, base_variable: &str, path: &str) -> Result<PeerResponse, PeerError> {
    let base = variables::get(base_variable).map_err(|e| PeerError::Bug(format!("variable {base_variable}: {e}")))?;
    let answer = get_all(&[(base, path.to_owned())], PEER_TIMEOUT, Carrying::TheRequest).pop();
    let answer = answer.unwrap_or_else(|| Err("no answer".into()));
    answer.map(|(response, _)| response).map_err(|why| peer_unavailable(peer, why))
}

/// A peer that is down, silent or failing: the caller may try again later.
fn peer_unavailable(peer: &str, why: impl std::fmt::Display) -> PeerError {
    PeerError::Unavailable { peer: peer.to_owned(), cause: why.to_string() }
}

/// What a peer's answer to `GET` of one resource means: the document, or `None` for a 404.
fn document(peer: &str, response: PeerResponse) -> Result<Option<serde_json::Value>, PeerError> {
    match response.status {
        200 => response.json().map(Some),
        404 => Ok(None),
        other => Err(peer_unavailable(peer, format!("answered {other}"))),
    }
}

/// `GET` a resource from a peer: `Some(document)` on 200, `None` on 404.
pub fn fetch(peer: &str, base_variable: &str, path: &str) -> Result<Option<serde_json::Value>, PeerError> {
    document(peer, get(peer, base_variable, path)?)
}

/// The user must exist: known lately, or asked of the users component.
pub fn require_user(id: uuid::Uuid) -> Result<(), PeerError> {
    let known = KnownUsers::open();
    if known.knows(id) {
        return Ok(());
    }
    match fetch("users", "users_url", &format!("/api/users/{id}"))? {
        Some(_) => {
            known.learned(id);
            Ok(())
        }
        None => Err(PeerError::UserNotFound),
    }
}

/// Users the users component said exist, remembered for [`KNOWN_USER_SECONDS`]
/// (see `recent`), so that naming the same user again asks nobody. A user
/// stops existing only when deleted, and deleting one forgets it
/// ([`KnownUsers::forget`]) in the store the application's components share
/// (under eventos and `spin up`); where each keeps its own (on the node, and per
/// pod on a cluster), a user deleted less than that long ago may still be
/// named, as by a request that raced the deletion.
pub struct KnownUsers(Recent);

/// How long a user is known to exist without asking again.
pub const KNOWN_USER_SECONDS: i64 = 30;
const KNOWN_USERS: &str = "known-user/";

impl KnownUsers {
    pub fn open() -> Self {
        Self(Recent::open(KNOWN_USERS))
    }

    pub fn knows(&self, id: uuid::Uuid) -> bool {
        self.0.recall::<bool>(&id.to_string(), now()).is_some()
    }

    /// The users component just said `id` exists.
    pub fn learned(&self, id: uuid::Uuid) {
        let now = now();
        self.0.remember(&id.to_string(), &true, now, now + KNOWN_USER_SECONDS);
    }

    /// `id` was deleted.
    pub fn forget(id: uuid::Uuid) {
        Self::open().0.forget(&id.to_string(), now());
    }
}

/// The event as the events component knows it, or `event-not-found`.
pub fn event(id: uuid::Uuid) -> Result<EventFacts, PeerError> {
    find_event(id)?.ok_or(PeerError::EventNotFound)
}

/// The event, or `None` when the events component does not know it: as it
/// described the event lately (`known_events`), or asked now.
pub fn find_event(id: uuid::Uuid) -> Result<Option<EventFacts>, PeerError> {
    let known = KnownEvents::open();
    if let Some(facts) = known.recall(id) {
        return Ok(Some(facts));
    }
    let facts = fetch("events", "events_url", &format!("/api/events/{id}"))?.map(EventFacts::read).transpose()?;
    // Only a published event is described alike to every caller.
    if let Some(facts) = facts.as_ref().filter(|facts| facts.status == EventStatus::Published) {
        known.learned(id, facts);
    }
    Ok(facts)
}

/// The caller is an organizer and `event_id` is one of their events.
pub fn organizes(caller: &crate::auth::Caller, event_id: uuid::Uuid) -> Result<bool, PeerError> {
    if !caller.has(crate::auth::Role::Organizer) {
        return Ok(false);
    }
    Ok(find_event(event_id)?.is_some_and(|event| event.organizer_id == caller.user_id))
}

/// Whose records of an event a list may show `caller`: anybody's (or those of
/// `named_user`) for an admin or the event's organizer; otherwise the caller's
/// own, who may name only themself.
pub fn list_scope(
    caller: &crate::auth::Caller,
    event_id: Option<uuid::Uuid>,
    named_user: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, Problem> {
    let sees_all = caller.is_admin() || event_id.map(|id| organizes(caller, id)).transpose()? == Some(true);
    Ok(caller.list_scope(named_user, sees_all)?)
}

/// What other domains decide on about an event, read from the events
/// component's document (which says more; the rest is not theirs to read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventFacts {
    pub status: EventStatus,
    pub capacity: i64,
    pub organizer_id: uuid::Uuid,
}

impl EventFacts {
    pub fn read(document: serde_json::Value) -> Result<Self, PeerError> {
        serde_json::from_value(document).map_err(|e| PeerError::Bug(format!("the events component's event: {e}")))
    }
}

/// An event's place in its life cycle, as the events component names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    PendingReview,
    Published,
    Rejected,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::PendingReview => "pending_review",
            EventStatus::Published => "published",
            EventStatus::Rejected => "rejected",
            EventStatus::Cancelled => "cancelled",
        }
    }
}

/// Several `fetch`es at once, bounded by one timeout: `Some(document)` on 200,
/// `None` on 404, a 503 problem when a peer is down or silent.
pub fn fetch_all(requests: &[(&str, &str, String)]) -> Vec<Result<Option<serde_json::Value>, PeerError>> {
    let targets: Vec<(String, String)> = requests
        .iter()
        .map(|(_, variable, path)| (variables::get(variable).unwrap_or_default(), path.clone()))
        .collect();
    get_all(&targets, PEER_TIMEOUT, Carrying::TheRequest)
        .into_iter()
        .zip(requests)
        .map(|(answer, (peer, _, _))| {
            let (response, _) = answer.map_err(|why| peer_unavailable(peer, why))?;
            document(peer, response)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_read_for_what_other_domains_decide_on() {
        let organizer = "0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d";
        let document = serde_json::json!({"id": "x", "title": "T", "status": "published", "capacity": 40,
                                          "venue": null, "organizer_id": organizer});
        let facts =
            EventFacts { status: EventStatus::Published, capacity: 40, organizer_id: organizer.parse().expect("uuid") };
        assert_eq!(EventFacts::read(document).ok(), Some(facts));
        let unknown = serde_json::json!({"status": "archived", "capacity": 40, "organizer_id": organizer});
        assert_eq!(Problem::from(EventFacts::read(unknown).expect_err("unknown status")).status, 500);
    }
}
