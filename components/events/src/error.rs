//! What can go wrong in the events domain, and the one place each case becomes
//! the problem document its caller gets.

use eventos_common::Problem;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;

use crate::status::IllegalTransition;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no event with that id")]
    NotFound,
    /// The event's status does not allow the change.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<EventError> for Problem {
    fn from(error: EventError) -> Self {
        match error {
            EventError::Invalid(invalid) => invalid.into(),
            EventError::NotFound => Problem::not_found("event"),
            EventError::Illegal(illegal) => Problem::conflict(
                "invalid-transition",
                "Not allowed in the event's current status",
                illegal.to_string(),
            )
            .with("current_status", illegal.current.as_str()),
            EventError::Forbidden(refusal) => refusal.into(),
            EventError::Db(error) => error.into(),
        }
    }
}
