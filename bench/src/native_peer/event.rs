//! `GET /api/events/{id}`: the events component's statement, its JSON (a
//! published event; anything else a 404 problem, as an anonymous caller gets).

use chrono::{NaiveDateTime, SecondsFormat};
use deadpool_postgres::Pool;
use hyper::StatusCode;
use serde::{Serialize, Serializer};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::{Answer, Peer};

/// The events component's statement, column for column.
const FIND_EVENT: &str = "SELECT id, title, description, venue, starts_at AT TIME ZONE 'UTC' AS starts_at, \
    ends_at AT TIME ZONE 'UTC' AS ends_at, capacity, organizer_id, status, moderation_reason, moderated_by, \
    created_at AT TIME ZONE 'UTC' AS created_at, updated_at AT TIME ZONE 'UTC' AS updated_at \
    FROM events WHERE id = $1";

#[derive(Serialize)]
pub struct Event {
    id: Uuid,
    title: String,
    description: Option<String>,
    venue: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    starts_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    ends_at: NaiveDateTime,
    capacity: i32,
    pub organizer_id: Uuid,
    pub status: String,
    moderation_reason: Option<String>,
    moderated_by: Option<Uuid>,
    #[serde(serialize_with = "rfc3339")]
    created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    updated_at: NaiveDateTime,
}

fn rfc3339<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl Event {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            title: row.get("title"),
            description: row.get("description"),
            venue: row.get("venue"),
            starts_at: row.get("starts_at"),
            ends_at: row.get("ends_at"),
            capacity: row.get("capacity"),
            organizer_id: row.get("organizer_id"),
            status: row.get("status"),
            moderation_reason: row.get("moderation_reason"),
            moderated_by: row.get("moderated_by"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        }
    }
}

pub async fn get(peer: &Peer, path: &str) -> Answer {
    let found = match path.strip_prefix("/api/events/").and_then(|id| id.parse::<Uuid>().ok()) {
        Some(id) => find(&peer.events, id).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(event)) if event.status == "published" => {
            Answer::json(StatusCode::OK, serde_json::to_vec(&event).unwrap_or_default())
        }
        Ok(_) => Answer::problem(StatusCode::NOT_FOUND, "Not found", "no such event"),
        Err(e) => Answer::unavailable(e),
    }
}

/// The event `id`, as the events component reads it.
pub async fn find(pool: &Pool, id: Uuid) -> Result<Option<Event>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let statement = client.prepare_cached(FIND_EVENT).await.map_err(|e| e.to_string())?;
    let rows = client.query(&statement, &[&id]).await.map_err(|e| e.to_string())?;
    Ok(rows.first().map(Event::from_row))
}
