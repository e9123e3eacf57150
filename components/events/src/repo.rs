//! All SQL of the events domain.

/// The last migration this code needs; health answers 503 until the database has it.
pub const SCHEMA: &str = "0005";

use chrono::{DateTime, Utc};
use eventos_common::db::{DbError, column, query};
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use crate::event::{Event, NewEvent};
use crate::status::Status;

/// Stored instants are read in UTC (see `eventos_common::db`).
const COLUMNS: &str = "id, title, description, venue, starts_at AT TIME ZONE 'UTC' AS starts_at, \
                       ends_at AT TIME ZONE 'UTC' AS ends_at, capacity, organizer_id, status, moderation_reason, \
                       moderated_by, \
                       created_at AT TIME ZONE 'UTC' AS created_at, updated_at AT TIME ZONE 'UTC' AS updated_at";

/// The filters of `GET /api/events`.
#[derive(Debug, Default)]
pub struct EventFilter {
    pub status: Option<Status>,
    pub organizer_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub visible_to: Visibility,
}

/// Which events a caller may see: published ones, and more for some.
#[derive(Debug, Default)]
pub enum Visibility {
    /// Moderators and admins see every event.
    Everything,
    /// Anyone sees published events; an organizer sees their own as well.
    #[default]
    Published,
    PublishedAndOrganizedBy(Uuid),
}

fn event_from_row(row: &Row<'_>) -> Result<Event, DbError> {
    let status: String = column(row, "status")?;
    Ok(Event {
        id: column(row, "id")?,
        title: column(row, "title")?,
        description: column(row, "description")?,
        venue: column(row, "venue")?,
        starts_at: column(row, "starts_at")?,
        ends_at: column(row, "ends_at")?,
        capacity: column(row, "capacity")?,
        organizer_id: column(row, "organizer_id")?,
        status: Status::parse(&status).ok_or_else(|| DbError::bug(format!("stored status `{status}`")))?,
        moderation_reason: column(row, "moderation_reason")?,
        moderated_by: column(row, "moderated_by")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
    })
}

fn one(conn: &Connection, sql: &str, params: &[ParameterValue]) -> Result<Option<Event>, DbError> {
    Ok(query(conn, sql, params, event_from_row)?.into_iter().next())
}

pub fn insert(conn: &Connection, event: &NewEvent, organizer_id: Uuid) -> Result<Event, DbError> {
    let sql = format!(
        "INSERT INTO events (title, description, venue, starts_at, ends_at, capacity, organizer_id)
         VALUES ($1, $2, $3, $4::timestamp AT TIME ZONE 'UTC', $5::timestamp AT TIME ZONE 'UTC', $6, $7)
         RETURNING {COLUMNS}"
    );
    let params = [
        event.title.clone().into(),
        event.description.clone().into(),
        event.venue.clone().into(),
        event.starts_at.naive_utc().into(),
        event.ends_at.naive_utc().into(),
        event.capacity.into(),
        organizer_id.into(),
    ];
    one(conn, &sql, &params)?.ok_or_else(|| DbError::bug("INSERT returned no row"))
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<Event>, DbError> {
    one(conn, &format!("SELECT {COLUMNS} FROM events WHERE id = $1"), &[id.into()])
}

/// Locks the event's row until the surrounding transaction ends.
pub fn find_for_update(conn: &Connection, id: Uuid) -> Result<Option<Event>, DbError> {
    one(conn, &format!("SELECT {COLUMNS} FROM events WHERE id = $1 FOR UPDATE"), &[id.into()])
}

/// Writes every mutable field of `event` back.
pub fn save(conn: &Connection, event: &Event) -> Result<Option<Event>, DbError> {
    let sql = format!(
        "UPDATE events SET title = $2, description = $3, venue = $4, starts_at = $5::timestamp AT TIME ZONE 'UTC',
                ends_at = $6::timestamp AT TIME ZONE 'UTC',
                capacity = $7, status = $8, moderation_reason = $9, moderated_by = $10, updated_at = clock_timestamp()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let params = [
        event.id.into(),
        event.title.clone().into(),
        event.description.clone().into(),
        event.venue.clone().into(),
        event.starts_at.into(),
        event.ends_at.into(),
        event.capacity.into(),
        event.status.as_str().to_owned().into(),
        event.moderation_reason.clone().into(),
        event.moderated_by.into(),
    ];
    one(conn, &sql, &params)
}

/// Ordered by `starts_at, id`; `from` is inclusive and `to` exclusive.
pub fn list(conn: &Connection, filter: &EventFilter, page: &PageRequest) -> Result<Vec<Event>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::uuid IS NULL OR organizer_id = $2)
           AND ($3::timestamp IS NULL OR starts_at >= $3::timestamp AT TIME ZONE 'UTC')
           AND ($4::timestamp IS NULL OR starts_at < $4::timestamp AT TIME ZONE 'UTC')
           AND ($5 OR status = 'published' OR organizer_id = $6::uuid)"
    );
    let filters = vec![
        filter.status.map(|s| s.as_str().to_owned()).into(),
        filter.organizer_id.into(),
        filter.from.map(|at| at.naive_utc()).into(),
        filter.to.map(|at| at.naive_utc()).into(),
        matches!(filter.visible_to, Visibility::Everything).into(),
        match filter.visible_to {
            Visibility::PublishedAndOrganizedBy(organizer) => Some(organizer),
            _ => None,
        }
        .into(),
    ];
    let (sql, params) = keyset(&sql, ("starts_at", "id"), filters, page);
    query(conn, &sql, &params, event_from_row)
}

eventos_common::schema_is_newest_migration!(SCHEMA);
