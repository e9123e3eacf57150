//! Each event's Ed25519 keys: the newest one not retired signs its tickets.

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, column, query};
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use super::bytes32;
use crate::signed_code;

/// A key as it is published: everything but its seed.
pub struct PublishedKey {
    pub key_id: i32,
    pub public_key: [u8; 32],
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

/// The key that signs an event's tickets now.
pub struct SigningKey {
    pub key_id: i32,
    pub seed: [u8; 32],
}

const PUBLISHED_COLUMNS: &str = "key_id, public_key, created_at AT TIME ZONE 'UTC' AS created_at, \
     retired_at AT TIME ZONE 'UTC' AS retired_at";

fn published_from_row(row: &Row<'_>) -> Result<PublishedKey, DbError> {
    Ok(PublishedKey {
        key_id: column(row, "key_id")?,
        public_key: bytes32(row, "public_key")?,
        created_at: column(row, "created_at")?,
        retired_at: column(row, "retired_at")?,
    })
}

/// Every key of the event, oldest first.
pub fn published(conn: &Connection, event_id: Uuid) -> Result<Vec<PublishedKey>, DbError> {
    let sql = format!("SELECT {PUBLISHED_COLUMNS} FROM signing_keys WHERE event_id = $1 ORDER BY key_id");
    query(conn, &sql, &[event_id.into()], published_from_row)
}

/// One key of the event, retired or not.
pub fn find(conn: &Connection, event_id: Uuid, key_id: i32) -> Result<Option<PublishedKey>, DbError> {
    let sql = format!("SELECT {PUBLISHED_COLUMNS} FROM signing_keys WHERE event_id = $1 AND key_id = $2");
    Ok(query(conn, &sql, &[event_id.into(), key_id.into()], published_from_row)?.into_iter().next())
}

/// The key that signs the event's tickets, made the first time one is needed.
pub fn signing(conn: &Connection, event_id: Uuid) -> Result<SigningKey, DbError> {
    let current = |conn: &Connection| {
        let sql = "SELECT key_id, seed FROM signing_keys WHERE event_id = $1 AND retired_at IS NULL
                   ORDER BY key_id DESC LIMIT 1";
        let key = |row: &Row<'_>| Ok(SigningKey { key_id: column(row, "key_id")?, seed: bytes32(row, "seed")? });
        Ok::<_, DbError>(query(conn, sql, &[event_id.into()], key)?.into_iter().next())
    };
    if let Some(key) = current(conn)? {
        return Ok(key);
    }
    // Two first signers race to make key 1; the loser's insert does nothing and it reads the winner's.
    add(conn, event_id)?;
    current(conn)?.ok_or_else(|| DbError::bug("an event's signing key was made and is gone"))
}

/// A new key for the event, numbered after its newest; `None` if another was
/// made with that number at the same moment.
pub fn add(conn: &Connection, event_id: Uuid) -> Result<Option<PublishedKey>, DbError> {
    let seed: [u8; 32] = wasi::random::random::get_random_bytes(32)
        .try_into()
        .map_err(|_| DbError::bug("the platform's random source gave the wrong number of bytes"))?;
    let sql = format!(
        "INSERT INTO signing_keys (event_id, key_id, seed, public_key)
         SELECT $1, coalesce(max(key_id), 0) + 1, $2, $3 FROM signing_keys WHERE event_id = $1
         ON CONFLICT DO NOTHING RETURNING {PUBLISHED_COLUMNS}"
    );
    let params = [
        event_id.into(),
        ParameterValue::Binary(seed.to_vec()),
        ParameterValue::Binary(signed_code::public_key(&seed).to_vec()),
    ];
    Ok(query(conn, &sql, &params, published_from_row)?.into_iter().next())
}

/// Retires a key: it signs and verifies nothing from now on. `None` if the event has no such key.
pub fn retire(conn: &Connection, event_id: Uuid, key_id: i32) -> Result<Option<PublishedKey>, DbError> {
    let sql = format!(
        "UPDATE signing_keys SET retired_at = coalesce(retired_at, clock_timestamp())
         WHERE event_id = $1 AND key_id = $2 RETURNING {PUBLISHED_COLUMNS}"
    );
    Ok(query(conn, &sql, &[event_id.into(), key_id.into()], published_from_row)?.into_iter().next())
}
