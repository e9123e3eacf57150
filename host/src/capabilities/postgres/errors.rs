//! Failed statements as the guest sees them, shaped as Spin 3.6.3 shapes them:
//! the server's structured error with its SQLSTATE and fields, or text.

use std::error::Error as _;

use crate::capabilities::bindings::spin::postgres4_0_0::postgres::{DbError, Error, QueryError};
use crate::observe::telemetry::spans::Blame;

/// Whose doing a failed statement was: the host's when the database could not
/// be reached or the connection was lost; else the guest's (its statement, its
/// parameters, or what the server refused them for).
pub fn blame(error: &Error) -> Blame {
    match error {
        Error::ConnectionFailed(_) => Blame::Host,
        _ => Blame::Guest,
    }
}

/// A statement the server or the driver refused.
pub fn query_failed(error: &tokio_postgres::Error) -> Error {
    let as_text = format!("{error:?}");
    let Some(db) = error.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(as_text));
    };
    let line = db.line().map(|line| line.to_string());
    let extras = [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("line", line.as_deref()),
        ("where_", db.where_()),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?.to_owned())))
    .collect();
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text,
        severity: db.severity().to_owned(),
        code: db.code().code().to_owned(),
        message: db.message().to_owned(),
        detail: db.detail().map(str::to_owned),
        extras,
    }))
}

/// tokio-postgres prints only "db error" for server errors; the cause is one level down.
pub fn error_text(error: &tokio_postgres::Error) -> String {
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_database_is_blamed_on_the_host_and_a_refused_statement_on_the_guest() {
        assert_eq!(blame(&Error::ConnectionFailed("timed out waiting for a database connection".into())), Blame::Host);
        assert_eq!(blame(&Error::BadParameter("not an int4".into())), Blame::Guest);
        assert_eq!(blame(&Error::QueryFailed(QueryError::Text("deadlock detected".into()))), Blame::Guest);
    }
}
