//! What can go wrong in the events domain, and the one place each case becomes
//! the problem document its caller gets.

use eventos_common::Problem;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;

use crate::status::IllegalTransition;

#[derive(Debug)]
pub enum EventError {
    Invalid(Invalid),
    NotFound,
    /// The event's status does not allow the change.
    Illegal(IllegalTransition),
    Forbidden(Forbidden),
    Db(DbError),
}

eventos_common::wraps!(EventError { Db(DbError), Invalid(Invalid), Illegal(IllegalTransition), Forbidden(Forbidden) });

impl From<EventError> for Problem {
    fn from(error: EventError) -> Self {
        match error {
            EventError::Invalid(invalid) => invalid.into(),
            EventError::NotFound => Problem::not_found("event"),
            EventError::Illegal(IllegalTransition { current, verb, rule }) => Problem::conflict(
                "invalid-transition",
                "Not allowed in the event's current status",
                format!("the event is {} and cannot be {verb}: {rule}", current.as_str()),
            )
            .with("current_status", current.as_str()),
            EventError::Forbidden(refusal) => refusal.into(),
            EventError::Db(error) => error.into(),
        }
    }
}
