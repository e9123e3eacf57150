//! What can go wrong in the users domain, and the one place each case becomes
//! the problem document its caller gets.

use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::{FieldError, Problem};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no user with that id")]
    NotFound,
    /// Another user has this email address.
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<UserError> for Problem {
    fn from(error: UserError) -> Self {
        let detail = error.to_string();
        match error {
            UserError::Invalid(invalid) => invalid.into(),
            UserError::NotFound => Problem::not_found("user"),
            UserError::EmailTaken => Problem::conflict("duplicate-email", "Email already registered", detail)
                .with_errors(vec![FieldError::new("email", "is already registered")]),
            UserError::Db(error) => error.into(),
        }
    }
}
