//! What can go wrong in the participation domain, and the one place each case
//! becomes the problem document its caller gets.

use eventos_common::Problem;
use eventos_common::auth::Forbidden;
use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::peer::PeerError;

#[derive(Debug, PartialEq)]
pub enum RegistrationError {
    Invalid(Invalid),
    NotFound,
    /// The event in the path is unknown to the events component.
    EventNotFound,
    /// The user already holds a live registration for the event.
    AlreadyRegistered,
    AlreadyCancelled,
    Forbidden(Forbidden),
    Peer(PeerError),
    Db(DbError),
}

eventos_common::wraps!(RegistrationError { Db(DbError), Peer(PeerError), Invalid(Invalid), Forbidden(Forbidden) });

impl From<RegistrationError> for Problem {
    fn from(error: RegistrationError) -> Self {
        match error {
            RegistrationError::Invalid(invalid) => invalid.into(),
            RegistrationError::NotFound => Problem::not_found("registration"),
            RegistrationError::EventNotFound => Problem::not_found("event"),
            RegistrationError::AlreadyRegistered => Problem::conflict(
                "already-registered",
                "Already registered",
                "this user already holds a registration for this event",
            ),
            RegistrationError::AlreadyCancelled => Problem::conflict(
                "already-cancelled",
                "Registration already cancelled",
                "this registration was cancelled before",
            ),
            RegistrationError::Forbidden(refusal) => refusal.into(),
            RegistrationError::Peer(error) => error.into(),
            RegistrationError::Db(error) => error.into(),
        }
    }
}
