//! What can go wrong in the users domain, and the one place each case becomes
//! the problem document its caller gets.

use eventos_common::db::DbError;
use eventos_common::fields::Invalid;
use eventos_common::{FieldError, Problem};

#[derive(Debug)]
pub enum UserError {
    Invalid(Invalid),
    NotFound,
    /// Another user has this email address.
    EmailTaken,
    Db(DbError),
}

eventos_common::wraps!(UserError { Db(DbError), Invalid(Invalid) });

impl From<UserError> for Problem {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(invalid) => invalid.into(),
            UserError::NotFound => Problem::not_found("user"),
            UserError::EmailTaken => Problem::conflict(
                "duplicate-email",
                "Email already registered",
                "a user with this email already exists",
            )
            .with_errors(vec![FieldError::new("email", "is already registered")]),
            UserError::Db(error) => error.into(),
        }
    }
}
