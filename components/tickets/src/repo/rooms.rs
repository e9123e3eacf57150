//! Waiting rooms and their visitors: the draw at the on-sale, places taken
//! first come first served after it, and the tickets each pass bought.

use eventos_common::db::{DbError, column, in_transaction, query, query_a_row};
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use super::bytes32;
use crate::waiting_room::{Room, RoomSettings, Visitor};

/// The time between two admissions, as SQL over `waiting_rooms r`.
const SPACING: &str = "(interval '60 seconds' / r.admissions_per_minute)";

const ROOM_COLUMNS: &str = "r.on_sale_at AT TIME ZONE 'UTC' AS on_sale_at, r.admissions_per_minute, r.per_buyer_limit, \
     r.pass_seconds, r.seed, r.pass_secret, r.drawn_at AT TIME ZONE 'UTC' AS drawn_at, \
     r.closed_at AT TIME ZONE 'UTC' AS closed_at, r.early_joined::bigint AS early_visitors, \
     (r.early_joined + r.late_count)::bigint AS visitors";

fn room_from_row(row: &Row<'_>) -> Result<Room, DbError> {
    Ok(Room {
        on_sale_at: column(row, "on_sale_at")?,
        admissions_per_minute: column(row, "admissions_per_minute")?,
        per_buyer_limit: column(row, "per_buyer_limit")?,
        pass_seconds: column(row, "pass_seconds")?,
        seed: bytes32(row, "seed")?,
        pass_secret: bytes32(row, "pass_secret")?,
        drawn_at: column(row, "drawn_at")?,
        closed_at: column(row, "closed_at")?,
        visitors: column(row, "visitors")?,
        early_visitors: column(row, "early_visitors")?,
    })
}

pub fn find(conn: &Connection, event_id: Uuid) -> Result<Option<Room>, DbError> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM waiting_rooms r WHERE r.event_id = $1");
    Ok(query(conn, &sql, &[event_id.into()], room_from_row)?.into_iter().next())
}

/// Makes the room, or changes its settings and opens it again; a new room's
/// `seed` and `pass_secret` are kept for good, so its published commitment holds.
pub fn put(
    conn: &Connection,
    event_id: Uuid,
    settings: &RoomSettings,
    seed: [u8; 32],
    pass_secret: [u8; 32],
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO waiting_rooms AS r (event_id, on_sale_at, admissions_per_minute, per_buyer_limit, pass_seconds, seed, pass_secret)
         VALUES ($1, $2::timestamp AT TIME ZONE 'UTC', $3, $4, $5, $6, $7)
         ON CONFLICT (event_id) DO UPDATE SET on_sale_at = excluded.on_sale_at,
             admissions_per_minute = excluded.admissions_per_minute, per_buyer_limit = excluded.per_buyer_limit,
             pass_seconds = excluded.pass_seconds, closed_at = NULL",
        &[
            event_id.into(),
            settings.on_sale_at.into(),
            settings.admissions_per_minute.into(),
            settings.per_buyer_limit.into(),
            settings.pass_seconds.into(),
            ParameterValue::Binary(seed.to_vec()),
            ParameterValue::Binary(pass_secret.to_vec()),
        ],
    )?;
    Ok(())
}

pub fn close(conn: &Connection, event_id: Uuid) -> Result<(), DbError> {
    conn.execute(
        "UPDATE waiting_rooms SET closed_at = coalesce(closed_at, clock_timestamp()) WHERE event_id = $1",
        &[event_id.into()],
    )?;
    Ok(())
}

/// Draws the early visitors' places once the on-sale has come: each is ranked
/// by SHA-256(seed ‖ its visitor id as text) and admitted a spacing after the
/// one before; late visitors queue after the last. The room's row is locked
/// first, so every early visitor's join has committed and none joins meanwhile.
pub fn draw_if_due(conn: &Connection, event_id: Uuid) -> Result<(), DbError> {
    in_transaction(conn, |conn| {
        let due = query(
            conn,
            "SELECT true AS due FROM waiting_rooms
             WHERE event_id = $1 AND drawn_at IS NULL AND clock_timestamp() >= on_sale_at FOR UPDATE",
            &[event_id.into()],
            |row| column::<bool>(row, "due"),
        )?;
        if due.is_empty() {
            return Ok(());
        }
        conn.execute(
            &format!(
                "WITH ranked AS (
                     SELECT v.user_id, row_number() OVER (
                         ORDER BY sha256(r.seed || convert_to(v.visitor_id::text, 'UTF8')), v.visitor_id) AS place
                     FROM room_visitors v JOIN waiting_rooms r USING (event_id)
                     WHERE v.event_id = $1 AND v.early)
                 UPDATE room_visitors v SET position = ranked.place, admit_at = r.on_sale_at + (ranked.place - 1) * {SPACING}
                 FROM ranked, waiting_rooms r
                 WHERE v.event_id = $1 AND v.user_id = ranked.user_id AND r.event_id = $1"
            ),
            &[event_id.into()],
        )?;
        conn.execute(
            &format!(
                "UPDATE waiting_rooms r SET drawn_at = clock_timestamp(), early_count = drawn.early,
                        next_admission_at = r.on_sale_at + drawn.early * {SPACING}
                 FROM (SELECT count(*) AS early FROM room_visitors WHERE event_id = $1 AND early) AS drawn
                 WHERE r.event_id = $1"
            ),
            &[event_id.into()],
        )?;
        Ok(())
    })
}

const VISITOR_COLUMNS: &str = "visitor_id, early, position, admit_at AT TIME ZONE 'UTC' AS admit_at, bought";

fn visitor_from_row(row: &Row<'_>) -> Result<Visitor, DbError> {
    Ok(Visitor {
        visitor_id: column(row, "visitor_id")?,
        early: column(row, "early")?,
        position: column(row, "position")?,
        admit_at: column(row, "admit_at")?,
        bought: column(row, "bought")?,
    })
}

pub fn visitor(conn: &Connection, event_id: Uuid, user_id: Uuid) -> Result<Option<Visitor>, DbError> {
    let sql = format!("SELECT {VISITOR_COLUMNS} FROM room_visitors WHERE event_id = $1 AND user_id = $2");
    Ok(query(conn, &sql, &[event_id.into(), user_id.into()], visitor_from_row)?.into_iter().next())
}

/// Gives the buyer a place in the open room: early before the draw, else the
/// next place and the next admission time, each after the one before. `None`
/// if the buyer had a place already (or the room is closed).
pub fn join(conn: &Connection, event_id: Uuid, user_id: Uuid) -> Result<Option<Visitor>, DbError> {
    // Always one row (of NULLs when no place was made): a statement that may
    // yield none could hang on Spin 4.0 (see `db::query`).
    let sql = format!(
        "WITH room AS (
             UPDATE waiting_rooms r SET
                 early_joined = r.early_joined + CASE WHEN r.drawn_at IS NULL THEN 1 ELSE 0 END,
                 late_count = r.late_count + CASE WHEN r.drawn_at IS NULL THEN 0 ELSE 1 END,
                 next_admission_at = CASE WHEN r.drawn_at IS NULL THEN NULL
                                          ELSE greatest(r.next_admission_at, clock_timestamp()) + {SPACING} END
             WHERE r.event_id = $1 AND r.closed_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM room_visitors WHERE event_id = $1 AND user_id = $2)
             RETURNING r.drawn_at IS NULL AS early, r.early_count + r.late_count AS position,
                       r.next_admission_at - {SPACING} AS admit_at),
         made AS (
             INSERT INTO room_visitors (event_id, user_id, early, position, admit_at)
             SELECT $1, $2, early, position, admit_at FROM room
             ON CONFLICT DO NOTHING RETURNING {VISITOR_COLUMNS})
         SELECT made.* FROM (VALUES (1)) AS one LEFT JOIN made ON true"
    );
    query_a_row(conn, &sql, &[event_id.into(), user_id.into()], |row| {
        let made: Option<Uuid> = column(row, "visitor_id")?;
        made.map(|_| visitor_from_row(row)).transpose()
    })
}

/// The early visitors in the order drawn.
pub fn drawn_order(conn: &Connection, event_id: Uuid) -> Result<Vec<Uuid>, DbError> {
    let sql = "SELECT visitor_id FROM room_visitors WHERE event_id = $1 AND early ORDER BY position";
    query(conn, sql, &[event_id.into()], |row| column(row, "visitor_id"))
}

/// Takes `quantity` of the buyer's per-buyer limit; false if it would pass it
/// (or the buyer has no place).
pub fn take_quota(
    conn: &Connection,
    event_id: Uuid,
    user_id: Uuid,
    quantity: i32,
    limit: i32,
) -> Result<bool, DbError> {
    let sql = "UPDATE room_visitors SET bought = bought + $3 WHERE event_id = $1 AND user_id = $2 AND bought + $3 <= $4
               RETURNING true AS taken";
    let params = [event_id.into(), user_id.into(), quantity.into(), limit.into()];
    Ok(!query(conn, sql, &params, |row| column::<bool>(row, "taken"))?.is_empty())
}

/// Gives back what a sale that failed took of the buyer's limit.
pub fn give_back_quota(conn: &Connection, event_id: Uuid, user_id: Uuid, quantity: i32) -> Result<(), DbError> {
    conn.execute(
        "UPDATE room_visitors SET bought = greatest(bought - $3, 0) WHERE event_id = $1 AND user_id = $2",
        &[event_id.into(), user_id.into(), quantity.into()],
    )?;
    Ok(())
}
