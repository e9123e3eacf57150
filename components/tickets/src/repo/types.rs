//! Ticket types and what they have sold, held and left.

use eventos_common::db::{DbError, Params, column, query, query_a_row};
use eventos_common::journal;
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use crate::model::{RoomGate, SaleType, TicketType, bucket_count};
use crate::requests::NewTicketType;

/// The buckets count what is sold and what open checkouts hold, expired or not;
/// a held line counts as held until it expires, and after that as nothing: its
/// stock is free for whoever needs it next (see `checkouts.rs`). Stored instants
/// are read in UTC (see `eventos_common::db`).
const TYPE_COLUMNS: &str = "t.id, t.event_id, t.name, t.price_cents, t.currency, t.quantity, t.hidden, \
    (SELECT coalesce(sum(s.sold), 0)::int FROM ticket_stock s WHERE s.ticket_type_id = t.id) AS taken, \
    (SELECT coalesce(sum(l.quantity), 0)::int FROM checkout_lines l WHERE l.ticket_type_id = t.id AND l.held) AS open_held, \
    (SELECT coalesce(sum(l.quantity), 0)::int FROM checkout_lines l JOIN checkouts c ON c.id = l.checkout_id \
     WHERE l.ticket_type_id = t.id AND l.held AND c.expires_at > clock_timestamp()) AS held, \
    t.created_at AT TIME ZONE 'UTC' AS created_at";

fn ticket_type_from_row(row: &Row<'_>) -> Result<TicketType, DbError> {
    let quantity: i32 = column(row, "quantity")?;
    let sold = column::<i32>(row, "taken")? - column::<i32>(row, "open_held")?;
    let held: i32 = column(row, "held")?;
    Ok(TicketType {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        name: column(row, "name")?,
        price_cents: column(row, "price_cents")?,
        currency: column(row, "currency")?,
        quantity,
        hidden: column(row, "hidden")?,
        sold,
        held,
        available: quantity - sold - held,
        created_at: column(row, "created_at")?,
    })
}

/// Creates the type and its stock buckets in one statement.
pub fn insert_ticket_type(conn: &Connection, new: &NewTicketType) -> Result<TicketType, DbError> {
    let sql = "WITH t AS (
             INSERT INTO ticket_types (event_id, name, price_cents, currency, quantity, hidden)
             VALUES ($1, $2, $3, $4, $5, $7) RETURNING *
         ), buckets AS (
             INSERT INTO ticket_stock (ticket_type_id, bucket, quantity)
             SELECT t.id, b, t.quantity / $6 + CASE WHEN b < t.quantity % $6 THEN 1 ELSE 0 END
             FROM t, generate_series(0, $6 - 1) AS b
         )
         SELECT t.id, t.event_id, t.name, t.price_cents, t.currency, t.quantity, t.hidden,
                0 AS taken, 0 AS open_held, 0 AS held, t.created_at AT TIME ZONE 'UTC' AS created_at
         FROM t";
    let params = [
        new.event_id.into(),
        new.name.clone().into(),
        new.price_cents.into(),
        new.currency.clone().into(),
        new.quantity.into(),
        bucket_count(new.quantity).into(),
        new.hidden.into(),
    ];
    query_a_row(conn, sql, &params, ticket_type_from_row)
}

pub fn find_ticket_type(conn: &Connection, id: Uuid) -> Result<Option<TicketType>, DbError> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM ticket_types t WHERE t.id = $1");
    Ok(query(conn, &sql, &[id.into()], ticket_type_from_row)?.into_iter().next())
}

fn sale_type_from_row(row: &Row<'_>) -> Result<SaleType, DbError> {
    Ok(SaleType {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        price_cents: column(row, "price_cents")?,
        currency: column(row, "currency")?,
        quantity: column(row, "quantity")?,
        hidden: column(row, "hidden")?,
        known_on_sale: column(row, "known_on_sale")?,
        watched: column(row, "watched")?,
        room: room_gate(row)?,
    })
}

fn room_gate(row: &Row<'_>) -> Result<Option<RoomGate>, DbError> {
    let secret: Option<Vec<u8>> = column(row, "room_secret")?;
    let Some(secret) = secret else { return Ok(None) };
    let pass_secret = secret.try_into().map_err(|_| DbError::bug("a room's secret is not 32 bytes"))?;
    Ok(Some(RoomGate { pass_secret, per_buyer_limit: column(row, "room_limit")? }))
}

fn sale_type_columns() -> String {
    format!(
        "t.id, t.event_id, t.price_cents, t.currency, t.quantity, t.hidden, {}, {}, \
         (SELECT w.pass_secret FROM waiting_rooms w WHERE w.event_id = t.event_id AND w.closed_at IS NULL) AS room_secret, \
         (SELECT w.per_buyer_limit FROM waiting_rooms w WHERE w.event_id = t.event_id AND w.closed_at IS NULL) AS room_limit",
        super::event_facts::known_on_sale_column(),
        journal::watched_column("t.event_id", "order.confirmed")
    )
}

/// What a sale needs of the type: one primary-key read, no stock figures, and
/// whether its event is known to be on sale.
pub fn find_sale_type(conn: &Connection, id: Uuid) -> Result<Option<SaleType>, DbError> {
    Ok(query(conn, &find_sale_type_sql(), &[id.into()], sale_type_from_row)?.into_iter().next())
}

/// A condition that holds while the type `lately` stands for still reads as it
/// did: the same price, currency and stock, visible, no waiting room open, its
/// event known to be on sale, and watched by webhooks or not as it was. Its
/// values are bound in `params`.
pub fn unchanged_since(params: &mut Params, lately: &SaleType) -> String {
    let (id, price, currency) =
        (params.bind(lately.id), params.bind(lately.price_cents), params.bind(lately.currency.clone()));
    let (quantity, watched) = (params.bind(lately.quantity), params.bind(lately.watched));
    format!(
        "EXISTS (SELECT 1 FROM (SELECT {} FROM ticket_types t WHERE t.id = {id}) AS now
                 WHERE now.price_cents = {price} AND now.currency = {currency} AND now.quantity = {quantity}
                   AND NOT now.hidden AND now.known_on_sale AND now.room_secret IS NULL AND now.watched = {watched})",
        sale_type_columns()
    )
}

/// The ticket type `$1` with what a sale needs of it.
pub fn find_sale_type_sql() -> String {
    format!("SELECT {} FROM ticket_types t WHERE t.id = $1", sale_type_columns())
}

/// The types of `ids` that exist, in id order.
pub fn find_sale_types(conn: &Connection, ids: &[Uuid]) -> Result<Vec<SaleType>, DbError> {
    let sql = format!(
        "SELECT {} FROM ticket_types t WHERE t.id = ANY($1::text[]::uuid[]) ORDER BY t.id",
        sale_type_columns()
    );
    query(conn, &sql, &[super::uuid_array(ids.iter().copied())], sale_type_from_row)
}

/// Ordered by `created_at, id`; hidden types only when `with_hidden`.
pub fn list_ticket_types(
    conn: &Connection,
    event_id: Option<Uuid>,
    with_hidden: bool,
    page: &PageRequest,
) -> Result<Vec<TicketType>, DbError> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM ticket_types t
         WHERE ($1::uuid IS NULL OR t.event_id = $1) AND ($2 OR NOT t.hidden)"
    );
    let (sql, params) = keyset(&sql, ("t.created_at", "t.id"), vec![event_id.into(), with_hidden.into()], page);
    query(conn, &sql, &params, ticket_type_from_row)
}
