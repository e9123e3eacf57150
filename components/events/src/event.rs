//! Events as the domain sees them: only valid values get past `parse`.

use chrono::{DateTime, NaiveDateTime, Utc};
use eventos_common::fields::{
    Fields, Invalid, Patch, WholeNumber, optional_text, optional_uuid, required_int, required_text,
};
use eventos_common::time::{required_timestamp, rfc3339};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::EventError;
use crate::status::{Decision, Status};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_VENUE_CHARS: usize = 200;
pub const MAX_REASON_CHARS: usize = 1000;
pub const CAPACITY_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub venue: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub starts_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub organizer_id: Uuid,
    pub status: Status,
    pub moderation_reason: Option<String>,
    /// The moderator whose decision put the event in its current status.
    pub moderated_by: Option<Uuid>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// `POST /api/events` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEventBody {
    title: Option<String>,
    description: Option<String>,
    venue: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    capacity: Option<WholeNumber>,
    organizer_id: Option<String>,
}

/// `PATCH /api/events/{id}` as sent. `organizer_id` is named so that sending it
/// is a clear 422 rather than an unknown-field 400.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEventBody {
    #[serde(default)]
    title: Patch<String>,
    #[serde(default)]
    description: Patch<String>,
    #[serde(default)]
    venue: Patch<String>,
    #[serde(default)]
    starts_at: Patch<String>,
    #[serde(default)]
    ends_at: Patch<String>,
    #[serde(default)]
    capacity: Patch<WholeNumber>,
    #[serde(default)]
    organizer_id: Patch<serde_json::Value>,
}

/// `POST /api/events/{id}/moderation` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationBody {
    decision: Option<Decision>,
    reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub title: String,
    pub description: Option<String>,
    pub venue: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    /// The organizer the body names; the caller when it names none.
    pub organizer_id: Option<Uuid>,
}

/// What a PATCH changes; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub venue: Option<Option<String>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub capacity: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Moderation {
    pub decision: Decision,
    pub reason: Option<String>,
}

impl NewEvent {
    pub fn parse(body: CreateEventBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let title = fields.take("title", required_text(body.title, MAX_TITLE_CHARS));
        let description = fields.take("description", optional_text(body.description, MAX_DESCRIPTION_CHARS));
        let venue = fields.take("venue", optional_text(body.venue, MAX_VENUE_CHARS));
        let starts_at = fields.take("starts_at", required_timestamp(body.starts_at));
        let ends_at = fields.take("ends_at", required_timestamp(body.ends_at));
        let capacity = fields.take("capacity", capacity(body.capacity));
        let organizer_id = fields.take("organizer_id", optional_uuid(body.organizer_id));
        if let (Some(starts), Some(ends)) = (starts_at, ends_at) {
            check_order(&mut fields, starts, ends);
        }
        match (title, description, venue, starts_at, ends_at, capacity, organizer_id) {
            (
                Some(title),
                Some(description),
                Some(venue),
                Some(starts_at),
                Some(ends_at),
                Some(capacity),
                Some(organizer_id),
            ) if fields.is_clean() => {
                Ok(Self { title, description, venue, starts_at, ends_at, capacity, organizer_id })
            }
            _ => Err(fields.invalid()),
        }
    }
}

impl EventChanges {
    pub fn parse(body: UpdateEventBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        if body.organizer_id != Patch::Absent {
            fields.reject("organizer_id", "cannot be changed");
        }
        let changes = Self {
            title: fields.take_patch("title", body.title, |v| required_text(v, MAX_TITLE_CHARS)),
            description: clearable(&mut fields, "description", body.description, MAX_DESCRIPTION_CHARS),
            venue: clearable(&mut fields, "venue", body.venue, MAX_VENUE_CHARS),
            starts_at: fields.take_patch("starts_at", body.starts_at, required_timestamp),
            ends_at: fields.take_patch("ends_at", body.ends_at, required_timestamp),
            capacity: fields.take_patch("capacity", body.capacity, capacity),
        };
        if fields.is_clean() { Ok(changes) } else { Err(fields.invalid()) }
    }
}

impl Moderation {
    pub fn parse(body: ModerationBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let decision = fields.take("decision", body.decision.ok_or_else(|| "is required: approve or reject".into()));
        let reason = fields.take("reason", optional_text(body.reason, MAX_REASON_CHARS));
        match (decision, reason) {
            (Some(Decision::Reject), Some(None)) => Err(Invalid::field("reason", "is required to reject an event")),
            (Some(decision), Some(reason)) => Ok(Self { decision, reason }),
            _ => Err(fields.invalid()),
        }
    }
}

impl Event {
    /// The event after an edit, or why the edit is not allowed.
    pub fn edited(&self, changes: &EventChanges) -> Result<Event, EventError> {
        let status = self.status.after_edit()?;
        let starts_at = changes.starts_at.map_or(self.starts_at, |at| at.naive_utc());
        let ends_at = changes.ends_at.map_or(self.ends_at, |at| at.naive_utc());
        if ends_at <= starts_at {
            let field = if changes.ends_at.is_some() { "ends_at" } else { "starts_at" };
            return Err(Invalid::field(field, "ends_at must be after starts_at").into());
        }
        let unchanged = status == self.status;
        let reason = if unchanged { self.moderation_reason.clone() } else { None };
        Ok(Event {
            title: changes.title.clone().unwrap_or_else(|| self.title.clone()),
            description: changes.description.clone().unwrap_or_else(|| self.description.clone()),
            venue: changes.venue.clone().unwrap_or_else(|| self.venue.clone()),
            starts_at,
            ends_at,
            capacity: changes.capacity.unwrap_or(self.capacity),
            status,
            moderation_reason: reason,
            moderated_by: if unchanged { self.moderated_by } else { None },
            ..self.clone()
        })
    }

    pub fn moderated(&self, moderation: &Moderation, moderator: Uuid) -> Result<Event, EventError> {
        Ok(Event {
            status: self.status.moderate(moderation.decision)?,
            moderation_reason: moderation.reason.clone(),
            moderated_by: Some(moderator),
            ..self.clone()
        })
    }

    pub fn cancelled(&self) -> Result<Event, EventError> {
        Ok(Event { status: self.status.cancel()?, ..self.clone() })
    }
}

fn capacity(value: Option<WholeNumber>) -> Result<i32, String> {
    let capacity = required_int(value, CAPACITY_RANGE)?;
    i32::try_from(capacity).map_err(|_| "is out of range".into())
}

fn check_order(fields: &mut Fields, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) {
    if ends_at <= starts_at {
        fields.reject("ends_at", "must be after starts_at");
    }
}

/// A text that may be changed or cleared with null.
fn clearable(fields: &mut Fields, name: &str, value: Patch<String>, max: usize) -> Option<Option<String>> {
    match value {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(v) => fields.take(name, optional_text(Some(v), max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"{"title":"RustConf","starts_at":"2026-05-01T18:00:00Z","ends_at":"2026-05-01T22:00:00Z",
        "capacity":100,"organizer_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d"}"#;

    fn create(json: &str) -> Result<NewEvent, Invalid> {
        NewEvent::parse(serde_json::from_str(json).expect("well-formed body"))
    }

    fn with(field: &str, value: &str) -> String {
        let mut body: serde_json::Value = serde_json::from_str(VALID).expect("json");
        body[field] = serde_json::from_str(value).expect("json value");
        body.to_string()
    }

    fn invalid_fields(json: &str) -> Vec<String> {
        create(json).expect_err("invalid").0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_event_parses() {
        let event = create(VALID).expect("valid");
        assert_eq!(event.capacity, 100);
        assert_eq!(event.description, None);
    }

    #[test]
    fn a_capacity_of_zero_is_rejected() {
        assert_eq!(invalid_fields(&with("capacity", "0")), ["capacity"]);
    }

    #[test]
    fn a_capacity_over_a_million_is_rejected() {
        assert_eq!(invalid_fields(&with("capacity", "1000001")), ["capacity"]);
    }

    #[test]
    fn an_event_must_end_after_it_starts() {
        assert_eq!(invalid_fields(&with("ends_at", "\"2026-05-01T18:00:00Z\"")), ["ends_at"]);
    }

    #[test]
    fn timestamps_must_be_rfc3339() {
        assert_eq!(invalid_fields(&with("starts_at", "\"May 1st\"")), ["starts_at"]);
    }

    #[test]
    fn a_title_must_not_be_blank() {
        assert_eq!(invalid_fields(&with("title", "\"   \"")), ["title"]);
    }

    #[test]
    fn a_description_over_5000_characters_is_rejected() {
        assert_eq!(invalid_fields(&with("description", &format!("\"{}\"", "d".repeat(5001)))), ["description"]);
    }

    #[test]
    fn every_missing_required_field_is_reported() {
        assert_eq!(invalid_fields("{}"), ["title", "starts_at", "ends_at", "capacity"]);
    }

    #[test]
    fn rejecting_needs_a_reason() {
        let body: ModerationBody = serde_json::from_str(r#"{"decision":"reject"}"#).expect("json");
        assert_eq!(Moderation::parse(body), Err(Invalid::field("reason", "is required to reject an event")));
    }

    #[test]
    fn approving_needs_no_reason() {
        let body: ModerationBody = serde_json::from_str(r#"{"decision":"approve"}"#).expect("json");
        assert!(Moderation::parse(body).is_ok());
    }

    #[test]
    fn an_unknown_decision_is_malformed() {
        assert!(serde_json::from_str::<ModerationBody>(r#"{"decision":"maybe"}"#).is_err());
    }

    #[test]
    fn the_organizer_cannot_be_changed() {
        let body: UpdateEventBody = serde_json::from_str(r#"{"organizer_id":"x"}"#).expect("json");
        let Invalid(errors) = EventChanges::parse(body).expect_err("refused");
        assert_eq!(errors[0].field, "organizer_id");
    }

    #[test]
    fn a_patch_may_clear_the_venue_but_not_the_title() {
        let body: UpdateEventBody = serde_json::from_str(r#"{"venue":null}"#).expect("json");
        assert_eq!(EventChanges::parse(body).map(|c| c.venue), Ok(Some(None)));
        let body: UpdateEventBody = serde_json::from_str(r#"{"title":null}"#).expect("json");
        assert!(EventChanges::parse(body).is_err());
    }

    fn stored(status: Status) -> Event {
        let at = |h: i64| DateTime::<Utc>::from_timestamp(1_777_000_000 + h * 3600, 0).expect("valid").naive_utc();
        Event {
            id: Uuid::nil(),
            title: "T".into(),
            description: None,
            venue: None,
            starts_at: at(0),
            ends_at: at(2),
            capacity: 10,
            organizer_id: Uuid::nil(),
            status,
            moderation_reason: Some("too vague".into()),
            moderated_by: Some(Uuid::nil()),
            created_at: at(0),
            updated_at: at(0),
        }
    }

    #[test]
    fn an_edit_that_ends_before_the_stored_start_is_rejected() {
        let changes = EventChanges {
            ends_at: Some(DateTime::<Utc>::from_timestamp(1_000, 0).expect("valid")),
            ..EventChanges::default()
        };
        let refused = stored(Status::Published).edited(&changes).expect_err("ends before it starts");
        assert!(
            matches!(&refused, EventError::Invalid(Invalid(errors)) if errors[0].field == "ends_at"),
            "{refused:?}"
        );
    }

    #[test]
    fn editing_a_rejected_event_resubmits_it_without_the_old_reason() {
        let edited = stored(Status::Rejected).edited(&EventChanges::default()).expect("allowed");
        assert_eq!((edited.status, edited.moderation_reason), (Status::PendingReview, None));
    }
}
