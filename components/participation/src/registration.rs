//! Registrations as the domain sees them.

use chrono::NaiveDateTime;
use eventos_common::auth::{Caller, Forbidden};
use eventos_common::fields::{Fields, Invalid, optional_uuid, required_uuid};
use eventos_common::time::rfc3339;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::RegistrationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Confirmed,
    Waitlisted,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Confirmed, Status::Waitlisted, Status::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Waitlisted => "waitlisted",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Cancelling is allowed once; the caller learns whether a seat was freed.
    pub fn cancel(self) -> Result<Status, RegistrationError> {
        match self {
            Status::Cancelled => Err(RegistrationError::AlreadyCancelled),
            _ => Ok(Status::Cancelled),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub status: Status,
    /// 1-based place in the waitlist; null unless waitlisted.
    pub position: Option<i64>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    event_id: Option<String>,
    user_id: Option<String>,
}

/// A registration as asked for: `user_id` names somebody when it is not the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterRequest {
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRegistration {
    pub event_id: Uuid,
    pub user_id: Uuid,
}

impl RegisterRequest {
    pub fn parse(body: RegisterBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let event_id = fields.take("event_id", required_uuid(body.event_id));
        let user_id = fields.take("user_id", optional_uuid(body.user_id));
        match (event_id, user_id) {
            (Some(event_id), Some(user_id)) => Ok(Self { event_id, user_id }),
            _ => Err(fields.invalid()),
        }
    }

    /// The registration `caller` may make: their own, or anybody's for an admin.
    pub fn by(self, caller: &Caller) -> Result<NewRegistration, Forbidden> {
        Ok(NewRegistration { event_id: self.event_id, user_id: caller.acting_for(self.user_id)? })
    }
}

/// `GET /api/participation/events/{id}/summary`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub event_id: Uuid,
    pub capacity: i64,
    pub confirmed: i64,
    pub waitlisted: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_is_a_required_uuid_and_the_user_an_optional_one() {
        let body: RegisterBody = serde_json::from_str(r#"{"event_id":"x","user_id":"y"}"#).expect("json");
        let Invalid(errors) = RegisterRequest::parse(body).expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_id", "user_id"]);
        let body: RegisterBody =
            serde_json::from_str(r#"{"event_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d"}"#).expect("json");
        assert_eq!(RegisterRequest::parse(body).map(|r| r.user_id), Ok(None));
    }

    #[test]
    fn a_live_registration_can_be_cancelled_once() {
        assert_eq!(Status::Confirmed.cancel(), Ok(Status::Cancelled));
        assert_eq!(Status::Waitlisted.cancel(), Ok(Status::Cancelled));
        assert!(matches!(Status::Cancelled.cancel(), Err(RegistrationError::AlreadyCancelled)));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }
}
