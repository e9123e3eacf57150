//! All SQL of the users domain.

use eventos_common::db::{self, column, is_unique_violation, query};
use eventos_common::page::{PageRequest, cursor_params};
use eventos_common::{FieldError, Problem};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::user::{NewUser, User, UserChanges};

/// Stored instants are read in UTC (see `eventos_common::db`).
const COLUMNS: &str = "id, email, name, created_at AT TIME ZONE 'UTC' AS created_at, \
                       updated_at AT TIME ZONE 'UTC' AS updated_at";

fn user_from_row(row: &Row<'_>) -> Result<User, Problem> {
    Ok(User {
        id: column(row, "id")?,
        email: column(row, "email")?,
        name: column(row, "name")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn duplicate_email(error: spin_sdk::pg4::PgError) -> Problem {
    if is_unique_violation(&error) {
        Problem {
            errors: vec![FieldError::new("email", "is already registered")],
            ..Problem::conflict("duplicate-email", "Email already registered", "a user with this email already exists")
        }
    } else {
        db::db_problem(error)
    }
}

pub fn insert(conn: &Connection, user: &NewUser) -> Result<User, Problem> {
    let sql = format!("INSERT INTO users (email, name) VALUES ($1, $2) RETURNING {COLUMNS}");
    let rows = conn.query(&sql, &[user.email.clone().into(), user.name.clone().into()]).map_err(duplicate_email)?;
    let row = rows.rows().next().ok_or_else(|| Problem::internal("INSERT returned no row"))?;
    user_from_row(&row)
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<User>, Problem> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(query(conn, &sql, &[id.into()], user_from_row)?.into_iter().next())
}

/// Ordered by `created_at, id`; `email` filters to the one user with that address.
pub fn list(conn: &Connection, email: Option<String>, page: &PageRequest) -> Result<Vec<User>, Problem> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users
         WHERE ($1::text IS NULL OR email = $1)
           AND ($2::timestamp IS NULL OR (created_at, id) > ($2::timestamp AT TIME ZONE 'UTC', $3::uuid))
         ORDER BY created_at, id
         LIMIT $4"
    );
    let [after_at, after_id] = cursor_params(page.after);
    query(conn, &sql, &[email.into(), after_at, after_id, page.fetch_limit().into()], user_from_row)
}

pub fn update(conn: &Connection, id: Uuid, changes: &UserChanges) -> Result<Option<User>, Problem> {
    let sql = format!(
        "UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), updated_at = clock_timestamp()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let params = [id.into(), changes.email.clone().into(), changes.name.clone().into()];
    let rows = conn.query(&sql, &params).map_err(duplicate_email)?;
    rows.rows().next().map(|row| user_from_row(&row)).transpose()
}

pub fn delete(conn: &Connection, id: Uuid) -> Result<bool, Problem> {
    let deleted = conn.execute("DELETE FROM users WHERE id = $1", &[id.into()]).map_err(db::db_problem)?;
    Ok(deleted > 0)
}
