//! All SQL of the participation domain.
//!
//! Every write to one event's registrations first takes that event's transaction
//! lock, so counting confirmed seats and acting on the count are one step: the
//! capacity invariant holds under any concurrency, and other events are not held up.

/// The last migration this code needs; health answers 503 until the database has it.
pub const SCHEMA: &str = "0004";

use eventos_common::db::{DbError, column, query, query_a_row};
use eventos_common::journal;
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::error::RegistrationError;
use crate::registration::{NewRegistration, Registration, Status};

/// The waitlist position is derived, so it never goes stale: the number of
/// waitlisted registrations of the event that arrived no later than this one.
/// Stored instants are read in UTC (see `eventos_common::db`).
const COLUMNS: &str = "r.id, r.event_id, r.user_id, r.status,
    r.created_at AT TIME ZONE 'UTC' AS created_at, r.updated_at AT TIME ZONE 'UTC' AS updated_at,
    CASE WHEN r.status = 'waitlisted' THEN
        (SELECT count(*) FROM registrations w
         WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.queue_seq <= r.queue_seq)
    END AS position";

#[derive(Debug, Default)]
pub struct RegistrationFilter {
    pub event_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub status: Option<Status>,
}

fn registration_from_row(row: &Row<'_>) -> Result<Registration, DbError> {
    let status: String = column(row, "status")?;
    Ok(Registration {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        user_id: column(row, "user_id")?,
        status: Status::parse(&status).ok_or_else(|| DbError::bug(format!("stored status `{status}`")))?,
        position: column(row, "position")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

/// Holds the event's lock until the transaction ends.
pub fn lock_event(conn: &Connection, event_id: Uuid) -> Result<(), DbError> {
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", &[event_id.to_string().into()])
        .map_err(DbError::from)?;
    Ok(())
}

/// Confirms the earliest waitlisted registrations while seats are free
/// (after a cancellation, or after the capacity was raised), in queue order;
/// their ids. Needs the event's lock.
pub fn promote_waitlisted(conn: &Connection, event_id: Uuid, capacity: i64) -> Result<Vec<Uuid>, DbError> {
    let promoted = query(
        conn,
        "UPDATE registrations SET status = 'confirmed', updated_at = clock_timestamp()
         WHERE id IN (
             SELECT id FROM registrations
             WHERE event_id = $1 AND status = 'waitlisted'
             ORDER BY queue_seq
             LIMIT GREATEST(0, $2 - (SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'))
         )
         RETURNING id, queue_seq",
        &[event_id.into(), capacity.into()],
        |row| Ok((column::<i64>(row, "queue_seq")?, column::<Uuid>(row, "id")?)),
    )?;
    let mut promoted = promoted;
    promoted.sort();
    Ok(promoted.into_iter().map(|(_, id)| id).collect())
}

/// Registers `new` in one round trip, the event's lock included (see the
/// `register` function of migration 0004): waiting registrations are confirmed
/// first while seats are free, then the new one is confirmed or waitlisted, each
/// journaled by `actor`. A live registration of the same user is refused.
pub fn register(
    conn: &Connection,
    new: &NewRegistration,
    capacity: i64,
    actor: Uuid,
) -> Result<Registration, RegistrationError> {
    let params = [new.event_id.into(), new.user_id.into(), capacity.into(), actor.into()];
    // One row whatever was inserted (see `db::query_a_row`); no id when nothing was.
    let (registration, ready) = query_a_row(conn, "SELECT * FROM register($1, $2, $3, $4)", &params, |row| {
        let id: Option<Uuid> = column(row, "id")?;
        let ready: i64 = column(row, "ready")?;
        Ok((id.map(|_| registration_from_row(row)).transpose()?, ready))
    })?;
    journal::ready(ready);
    registration.ok_or(RegistrationError::AlreadyRegistered)
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<Registration>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM registrations r WHERE r.id = $1");
    Ok(query(conn, &sql, &[id.into()], registration_from_row)?.into_iter().next())
}

pub fn set_status(conn: &Connection, id: Uuid, status: Status) -> Result<(), DbError> {
    conn.execute(
        "UPDATE registrations SET status = $2, updated_at = clock_timestamp() WHERE id = $1",
        &[id.into(), status.as_str().to_owned().into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// Ordered by `created_at, id`.
pub fn list(conn: &Connection, filter: &RegistrationFilter, page: &PageRequest) -> Result<Vec<Registration>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM registrations r
         WHERE ($1::uuid IS NULL OR r.event_id = $1)
           AND ($2::uuid IS NULL OR r.user_id = $2)
           AND ($3::text IS NULL OR r.status = $3)"
    );
    let filters =
        vec![filter.event_id.into(), filter.user_id.into(), filter.status.map(|s| s.as_str().to_owned()).into()];
    let (sql, params) = keyset(&sql, ("r.created_at", "r.id"), filters, page);
    query(conn, &sql, &params, registration_from_row)
}

/// (confirmed, waitlisted) of one event.
pub fn counts(conn: &Connection, event_id: Uuid) -> Result<(i64, i64), DbError> {
    let sql = "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
                      count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted
               FROM registrations WHERE event_id = $1";
    query_a_row(conn, sql, &[event_id.into()], |row| Ok((column(row, "confirmed")?, column(row, "waitlisted")?)))
}

eventos_common::schema_is_newest_migration!(SCHEMA);
