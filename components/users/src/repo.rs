//! All SQL of the users domain.

/// The last migration this code needs; health answers 503 until the database has it.
pub const SCHEMA: &str = "0002";

use eventos_common::db::{DbError, column, is_unique_violation, query};
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::error::UserError;
use crate::user::{NewUser, User, UserChanges};

/// Stored instants are read in UTC (see `eventos_common::db`).
const COLUMNS: &str = "id, email, name, created_at AT TIME ZONE 'UTC' AS created_at, \
                       updated_at AT TIME ZONE 'UTC' AS updated_at";

fn user_from_row(row: &Row<'_>) -> Result<User, DbError> {
    Ok(User {
        id: column(row, "id")?,
        email: column(row, "email")?,
        name: column(row, "name")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn duplicate_email(error: spin_sdk::pg4::PgError) -> UserError {
    if is_unique_violation(&error) { UserError::EmailTaken } else { DbError::from(error).into() }
}

/// A taken email inserts nothing rather than failing: on Spin a constraint that
/// fails while a query's rows stream back is reported without its SQLSTATE.
pub fn insert(conn: &Connection, user: &NewUser) -> Result<User, UserError> {
    // One clock reading for both stamps: two defaults could straddle a microsecond.
    let sql = format!(
        "INSERT INTO users (email, name, created_at, updated_at) SELECT $1, $2, at, at FROM clock_timestamp() AS at
         ON CONFLICT (email) DO NOTHING RETURNING {COLUMNS}"
    );
    let inserted = query(conn, &sql, &[user.email.clone().into(), user.name.clone().into()], user_from_row)?;
    inserted.into_iter().next().ok_or(UserError::EmailTaken)
}

/// The user a token stands for, under the id its issuer and subject fix. Two
/// first requests at once insert one row; a taken email inserts none.
pub fn insert_as(conn: &Connection, id: Uuid, user: &NewUser) -> Result<User, UserError> {
    let sql = format!(
        "INSERT INTO users (id, email, name, created_at, updated_at) SELECT $1, $2, $3, at, at FROM clock_timestamp() AS at
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    );
    let params = [id.into(), user.email.clone().into(), user.name.clone().into()];
    if let Some(inserted) = query(conn, &sql, &params, user_from_row)?.into_iter().next() {
        return Ok(inserted);
    }
    find(conn, id)?.ok_or(UserError::EmailTaken)
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<User>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(query(conn, &sql, &[id.into()], user_from_row)?.into_iter().next())
}

/// Ordered by `created_at, id`; `email` filters to the one user with that address.
pub fn list(conn: &Connection, email: Option<String>, page: &PageRequest) -> Result<Vec<User>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users
         WHERE ($1::text IS NULL OR email = $1)"
    );
    let (sql, params) = keyset(&sql, ("created_at", "id"), vec![email.into()], page);
    query(conn, &sql, &params, user_from_row)
}

/// `execute`d, so that a taken email comes back with its SQLSTATE on Spin too; then read back.
pub fn update(conn: &Connection, id: Uuid, changes: &UserChanges) -> Result<Option<User>, UserError> {
    let sql = "UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), updated_at = clock_timestamp()
         WHERE id = $1";
    let params = [id.into(), changes.email.clone().into(), changes.name.clone().into()];
    if conn.execute(sql, &params).map_err(duplicate_email)? == 0 {
        return Ok(None);
    }
    Ok(find(conn, id)?)
}

pub fn delete(conn: &Connection, id: Uuid) -> Result<bool, DbError> {
    let deleted = conn.execute("DELETE FROM users WHERE id = $1", &[id.into()])?;
    Ok(deleted > 0)
}

eventos_common::schema_is_newest_migration!(SCHEMA);
