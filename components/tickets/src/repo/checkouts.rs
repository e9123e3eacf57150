//! Checkouts and the stock their lines hold.

use eventos_common::db::{DbError, column, query, query_a_row};
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use super::{joined, named, uuid_array};
use crate::checkout::{Checkout, CheckoutStatus};
use crate::model::PricedLine;

/// An open checkout past its `expires_at` reads as expired, given back or not.
const CHECKOUT_COLUMNS: &str = "c.id, c.event_id, c.user_id, c.currency, c.order_id, \
    CASE WHEN c.status = 'open' AND c.expires_at <= clock_timestamp() THEN 'expired' ELSE c.status END AS status, \
    c.expires_at AT TIME ZONE 'UTC' AS expires_at, c.created_at AT TIME ZONE 'UTC' AS created_at, \
    (SELECT v.code FROM vouchers v WHERE v.id = c.voucher_id) AS voucher_code";

fn checkout_from_row(row: &Row<'_>) -> Result<Checkout, DbError> {
    Ok(Checkout {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        user_id: column(row, "user_id")?,
        status: named(row, "status", CheckoutStatus::parse)?,
        expires_at: column(row, "expires_at")?,
        lines: Vec::new(),
        currency: column(row, "currency")?,
        total_cents: 0,
        discount_cents: 0,
        amount_cents: 0,
        voucher_code: column(row, "voucher_code")?,
        order_id: column(row, "order_id")?,
        created_at: column(row, "created_at")?,
    })
}

fn line_from_row(row: &Row<'_>) -> Result<PricedLine, DbError> {
    Ok(PricedLine {
        ticket_type_id: column(row, "ticket_type_id")?,
        quantity: column(row, "quantity")?,
        list_price_cents: column(row, "list_price_cents")?,
        unit_price_cents: column(row, "unit_price_cents")?,
    })
}

/// A new checkout, before it is written.
pub struct CheckoutDraft<'a> {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub voucher_id: Option<Uuid>,
    pub currency: &'a str,
    pub hold_seconds: i64,
    pub lines: &'a [PricedLine],
}

/// Writes the checkout and its lines (held) in one statement; it expires
/// `hold_seconds` after now by the database's clock, the one expiry is judged by.
pub fn insert_checkout(conn: &Connection, draft: &CheckoutDraft) -> Result<(), DbError> {
    let lines = draft.lines;
    let types = uuid_array(lines.iter().map(|l| l.ticket_type_id));
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let list: Vec<i64> = lines.iter().map(|l| l.list_price_cents).collect();
    let unit: Vec<i64> = lines.iter().map(|l| l.unit_price_cents).collect();
    conn.execute(
        "WITH c AS (
             INSERT INTO checkouts (id, event_id, user_id, voucher_id, currency, expires_at)
             VALUES ($1, $2, $3, $4::uuid, $5, clock_timestamp() + make_interval(secs => $6::int8))
             RETURNING id
         )
         INSERT INTO checkout_lines (checkout_id, ticket_type_id, quantity, list_price_cents, unit_price_cents)
         SELECT c.id, line.type::uuid, line.quantity, line.list, line.unit
         FROM c, unnest($7::text[], $8::int4[], $9::int8[], $10::int8[]) AS line (type, quantity, list, unit)",
        &[
            draft.id.into(),
            draft.event_id.into(),
            draft.user_id.into(),
            draft.voucher_id.into(),
            draft.currency.to_owned().into(),
            draft.hold_seconds.into(),
            types,
            quantities.into(),
            list.into(),
            unit.into(),
        ],
    )
    .map_err(DbError::from)?;
    Ok(())
}

pub fn find_checkout(conn: &Connection, id: Uuid) -> Result<Option<Checkout>, DbError> {
    let sql = format!("SELECT {CHECKOUT_COLUMNS} FROM checkouts c WHERE c.id = $1");
    let Some(checkout) = query(conn, &sql, &[id.into()], checkout_from_row)?.into_iter().next() else {
        return Ok(None);
    };
    let sql = "SELECT ticket_type_id, quantity, list_price_cents, unit_price_cents
               FROM checkout_lines WHERE checkout_id = $1 ORDER BY ticket_type_id";
    let lines = query(conn, sql, &[id.into()], line_from_row)?;
    Ok(Some(checkout.with_lines(lines)))
}

/// Marks an open checkout that has not expired as confirmed into `order_id`;
/// `false` when it was not open or has expired (then nothing changed). A
/// confirmation and an expiry of the same checkout queue on its row: one wins.
pub fn mark_confirmed(conn: &Connection, id: Uuid, order_id: Uuid) -> Result<bool, DbError> {
    let updated = conn
        .execute(
            "UPDATE checkouts SET status = 'confirmed', order_id = $2
             WHERE id = $1 AND status = 'open' AND expires_at > clock_timestamp()",
            &[id.into(), order_id.into()],
        )
        .map_err(DbError::from)?;
    Ok(updated == 1)
}

/// What a checkout that ends without an order gives back.
#[derive(Debug, Default)]
pub struct Released {
    pub stock: Vec<(Uuid, i32)>,
    pub voucher_uses: Vec<(Uuid, i32)>,
}

/// Ends the open checkouts the statement `$select` picks (locking them in id
/// order), as `status`; their lines stop holding stock.
fn end_checkouts(conn: &Connection, select: &str, param: Uuid, status: &str) -> Result<Released, DbError> {
    let ended = query(conn, select, &[param.into()], |row| {
        Ok((column::<Uuid>(row, "id")?, column::<Option<Uuid>>(row, "voucher_id")?))
    })?;
    if ended.is_empty() {
        return Ok(Released::default());
    }
    let ids = uuid_array(ended.iter().map(|(id, _)| *id));
    conn.execute(
        "UPDATE checkouts SET status = $2 WHERE id = ANY($1::text[]::uuid[])",
        &[ids.clone(), status.to_owned().into()],
    )
    .map_err(DbError::from)?;
    Ok(Released {
        stock: release_lines(conn, ids)?,
        voucher_uses: super::stock::tally(ended.iter().filter_map(|(_, v)| *v)),
    })
}

/// The held lines of the checkouts `ids` stop holding; what they held, per
/// ticket type. One row whatever was held (an aggregate), as a data-modifying
/// `WITH` must be run as written (see `eventos_common::db::query_a_row`).
fn release_lines(conn: &Connection, ids: ParameterValue) -> Result<Vec<(Uuid, i32)>, DbError> {
    let released: Vec<String> = query_a_row(
        conn,
        "WITH released AS (
             UPDATE checkout_lines SET held = false
             WHERE checkout_id = ANY($1::text[]::uuid[]) AND held
             RETURNING ticket_type_id, quantity
         )
         SELECT coalesce(string_agg(ticket_type_id::text || ':' || quantity, ','), '') AS released
         FROM (SELECT ticket_type_id, sum(quantity) AS quantity FROM released GROUP BY ticket_type_id) AS per_type",
        &[ids],
        |row| joined(row, "released"),
    )?;
    released
        .iter()
        .map(|pair| {
            let parsed = pair.split_once(':').and_then(|(id, n)| Some((id.parse().ok()?, n.parse().ok()?)));
            parsed.ok_or_else(|| DbError::bug(format!("a released line reads `{pair}`")))
        })
        .collect()
}

/// Ends the event's open checkouts whose hold ran out.
pub fn expire_due(conn: &Connection, event_id: Uuid) -> Result<Released, DbError> {
    let select = "SELECT id, voucher_id FROM checkouts
                  WHERE event_id = $1 AND status = 'open' AND expires_at <= clock_timestamp()
                  ORDER BY id FOR UPDATE";
    end_checkouts(conn, select, event_id, "expired")
}

/// Cancels the checkout if it is open (expired or not).
pub fn cancel_checkout(conn: &Connection, id: Uuid) -> Result<Released, DbError> {
    let select = "SELECT id, voucher_id FROM checkouts WHERE id = $1 AND status = 'open' FOR UPDATE";
    end_checkouts(conn, select, id, "cancelled")
}

/// A confirmed checkout's lines stop holding: their stock is sold now.
pub fn lines_sold(conn: &Connection, id: Uuid) -> Result<(), DbError> {
    release_lines(conn, uuid_array([id])).map(|_| ())
}
