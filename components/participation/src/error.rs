//! What can go wrong in the participation domain, and the one place each case
//! becomes the problem document its caller gets.

use eventos_common::Problem;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::peer::PeerError;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no registration with that id")]
    NotFound,
    /// The event in the path is unknown to the events component.
    #[error("no event with that id")]
    EventNotFound,
    /// The user already holds a live registration for the event.
    #[error("this user already holds a registration for this event")]
    AlreadyRegistered,
    #[error("this registration was cancelled before")]
    AlreadyCancelled,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Peer(#[from] PeerError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RegistrationError> for Problem {
    fn from(error: RegistrationError) -> Self {
        let detail = error.to_string();
        match error {
            RegistrationError::Invalid(invalid) => invalid.into(),
            RegistrationError::NotFound => Problem::not_found("registration"),
            RegistrationError::EventNotFound => Problem::not_found("event"),
            RegistrationError::AlreadyRegistered => {
                Problem::conflict("already-registered", "Already registered", detail)
            }
            RegistrationError::AlreadyCancelled => {
                Problem::conflict("already-cancelled", "Registration already cancelled", detail)
            }
            RegistrationError::Forbidden(refusal) => refusal.into(),
            RegistrationError::Peer(error) => error.into(),
            RegistrationError::Db(error) => error.into(),
        }
    }
}
