//! The component's own database: opening it and telling the caller's faults
//! from outages and from our bugs.
//!
//! Spin binds each parameter as its own type and reads every timestamp column as
//! a naive date-time, with no coercion either way. So stored instants
//! (`timestamptz`) are selected `AT TIME ZONE 'UTC'`, and a placeholder for one is
//! written `$n::timestamp AT TIME ZONE 'UTC'` and bound as a UTC `Datetime`.

use spin_sdk::pg4::{Connection, Decode, ParameterValue, PgError, QueryError, Row};
use spin_sdk::variables;

use crate::Problem;

/// The Spin variable that holds this component's connection string.
const DB_URL_VARIABLE: &str = "db_url";

/// A failure of the component's own database, sorted once by what the caller
/// can do about it; the text is the cause, for the log only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbError {
    /// Down, unreachable or exhausted: try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Rolled back whole for colliding with concurrent work: repeat the request.
    #[error("the request collided with concurrent ones: {0}")]
    Collided(String),
    /// The database holds no migrations yet: health says so until it does.
    #[error("the database has no migrations yet")]
    Unmigrated,
    /// Anything else is a bug of ours.
    #[error("a database statement failed: {0}")]
    Bug(String),
}

impl DbError {
    pub fn bug(cause: impl Into<String>) -> Self {
        DbError::Bug(cause.into())
    }
}

impl From<PgError> for DbError {
    fn from(error: PgError) -> Self {
        let cause = describe(&error);
        let outage = match &error {
            PgError::ConnectionFailed(_) => true,
            PgError::QueryFailed(QueryError::Text(_)) => true,
            PgError::QueryFailed(QueryError::DbError(db)) => is_outage_state(&db.code),
            _ => false,
        };
        if outage {
            DbError::Unavailable(cause)
        } else if sqlstate(&error).is_some_and(is_transient_state) {
            DbError::Collided(cause)
        } else {
            DbError::Bug(cause)
        }
    }
}

/// Outages are 503 (retry later); anything else is our bug and a 500.
impl From<DbError> for Problem {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(cause) => {
                Problem::unavailable("the database is unavailable; try again shortly").because(cause)
            }
            // Rolled back whole by the database: the request may simply be repeated.
            DbError::Collided(cause) => {
                Problem::unavailable("the request collided with concurrent ones; try again").because(cause)
            }
            DbError::Unmigrated => Problem::unavailable("the database has no migrations yet"),
            DbError::Bug(cause) => Problem::internal(cause),
        }
    }
}

pub fn connect() -> Result<Connection, DbError> {
    let url = variables::get(DB_URL_VARIABLE).map_err(|e| DbError::bug(format!("variable {DB_URL_VARIABLE}: {e}")))?;
    Ok(Connection::open(&url)?)
}

/// The last migration the database holds (`eventos_migrations`, the ledger both
/// `eventos migrate` and the Kubernetes migration Job keep); `None` before any.
/// An aggregate yields its row even on an empty ledger (see [`query`]).
pub fn schema_version(conn: &Connection) -> Result<Option<String>, DbError> {
    let rows = conn.query("SELECT max(version) AS version FROM eventos_migrations", &[]).map_err(|error| {
        match sqlstate(&error) {
            // No ledger yet: nothing is migrated.
            Some("42P01") => DbError::Unmigrated,
            _ => DbError::from(error),
        }
    })?;
    Ok(rows.rows().next().and_then(|row| row.get::<String>("version")))
}

/// The newest migration in a component's `migrations/` folder, by its `NNNN_` version:
/// what the component's `SCHEMA` must name (see [`schema_is_newest_migration!`]).
pub fn newest_migration(dir: &str) -> Option<String> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.split_once('_').map(|(v, _)| v.to_owned()))
        .max()
}

/// A test, in the calling component, that `$schema` names the newest file of its
/// own `migrations/` folder.
#[macro_export]
macro_rules! schema_is_newest_migration {
    ($schema:path) => {
        #[cfg(test)]
        #[test]
        fn the_schema_this_code_needs_is_the_newest_migration() {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
            assert_eq!($crate::db::newest_migration(dir).as_deref(), Some($schema));
        }
    };
}

/// The SQLSTATE of a database error, if the server sent one.
pub fn sqlstate(error: &PgError) -> Option<&str> {
    match error {
        PgError::QueryFailed(QueryError::DbError(db)) => Some(db.code.as_str()),
        _ => None,
    }
}

pub fn is_unique_violation(error: &PgError) -> bool {
    sqlstate(error) == Some("23505")
}

/// The table whose unique constraint `error` violated, when it is one.
pub fn unique_violation_table(error: &PgError) -> Option<&str> {
    match error {
        PgError::QueryFailed(QueryError::DbError(db)) if db.code == "23505" => {
            db.extras.iter().find(|(key, _)| key == "table").map(|(_, table)| table.as_str())
        }
        _ => None,
    }
}

/// Connection exceptions, server shutdown, and resource exhaustion: not the request's fault.
fn is_outage_state(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
}

/// Serialization failures and deadlocks.
fn is_transient_state(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
}

fn describe(error: &PgError) -> String {
    match error {
        PgError::ConnectionFailed(text) => format!("connection failed: {text}"),
        PgError::BadParameter(text) => format!("bad parameter: {text}"),
        PgError::QueryFailed(QueryError::Text(text)) => format!("query failed: {text}"),
        PgError::QueryFailed(QueryError::DbError(db)) => {
            format!("query failed: {} ({})", db.message, db.code)
        }
        PgError::ValueConversionFailed(text) => format!("value conversion failed: {text}"),
        PgError::Other(text) => text.clone(),
    }
}

/// Runs `work` inside one transaction on `conn`, rolling back on any error.
pub fn in_transaction<T, E: From<DbError>>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    conn.execute("BEGIN", &[]).map_err(DbError::from)?;
    match work(conn) {
        Ok(value) => {
            conn.execute("COMMIT", &[]).map_err(DbError::from)?;
            Ok(value)
        }
        Err(error) => {
            // The connection goes back to the host's pool; leave nothing open on it.
            let _ = conn.execute("ROLLBACK", &[]);
            Err(error)
        }
    }
}

/// A statement's parameters, bound by name: `bind` keeps a value and gives
/// back its placeholder (`$3`), which the SQL then names where it uses it. A
/// statement built from pieces numbers its parameters in one place, and adding
/// one renumbers nothing by hand.
#[derive(Default)]
pub struct Params(Vec<ParameterValue>);

impl Params {
    pub fn bind(&mut self, value: impl Into<ParameterValue>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }

    pub fn values(&self) -> &[ParameterValue] {
        &self.0
    }
}

/// A column of a row the component's own SQL selected; absence is our bug.
pub fn column<T: Decode>(row: &Row<'_>, name: &str) -> Result<T, DbError> {
    row.get(name).ok_or_else(|| DbError::bug(format!("column {name} is missing or not of the expected type")))
}

/// The column that tells a row of the statement from the row that stands for "none".
const ROW_MARK: &str = "eventos_row";

/// Runs a query; each row becomes a `T`.
///
/// Spin 4.0's `query` never returns when a statement yields no rows (its
/// outbound-pg waits for column names that only a first row would bring:
/// spinframework/spin#3671, fixed after 4.0.2; containerd-shim-spin v0.25 runs
/// 4.0.1). So the statement runs as a CTE beside one row of NULLs, and yields at
/// least that row; the marked rows are the statement's, in its order (a nested
/// loop under one outer row keeps the inner order). A statement with a
/// data-modifying `WITH` of its own cannot be nested: see [`query_a_row`].
pub fn query<T>(
    conn: &Connection,
    sql: &str,
    params: &[ParameterValue],
    from_row: impl Fn(&Row<'_>) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    let rows = conn.query(&never_empty(sql), params)?;
    rows.rows().filter(|row| row.get::<bool>(ROW_MARK).is_some()).map(|row| from_row(&row)).collect()
}

/// `sql` as [`query`] sends it: beside one row of NULLs, its own rows marked.
pub fn never_empty(sql: &str) -> String {
    format!(
        "WITH statement AS ({sql}) SELECT marked.* FROM (VALUES (1)) AS none \
         LEFT JOIN (SELECT true AS {ROW_MARK}, * FROM statement) AS marked ON true"
    )
}

/// Runs a statement that yields exactly one row by its own shape (an aggregate,
/// an `INSERT ... VALUES` without `ON CONFLICT`), as written: safe from the
/// empty-result hang [`query`] avoids, and free to begin with its own `WITH`.
pub fn query_a_row<T>(
    conn: &Connection,
    sql: &str,
    params: &[ParameterValue],
    from_row: impl Fn(&Row<'_>) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let rows = conn.query(sql, params)?;
    let row = rows.rows().next().ok_or_else(|| DbError::bug("a statement that yields a row yielded none"))?;
    from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_bound_gets_the_next_placeholder() {
        let mut params = Params::default();
        assert_eq!(params.bind(7i32), "$1");
        assert_eq!(params.bind("seven".to_owned()), "$2");
        assert_eq!(params.bind(Some(7i64)), "$3");
        assert!(
            matches!(params.values(), [ParameterValue::Int32(7), ParameterValue::Str(s), ParameterValue::Int64(7)] if s == "seven")
        );
    }
}
