//! Orders: writing a sale, reading orders back with their tickets and refunds,
//! cancelling tickets and moving the payment.

use eventos_common::db::{DbError, column, query};
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, ParameterValue, Row};
use uuid::Uuid;

use super::tickets::tickets_of;
use super::{joined, named, text_array, uuid_array};
use crate::model::{Order, OrderStatus, Payment, Refund};

const ORDER_COLUMNS: &str = "id, event_id, ticket_type_id, user_id, quantity, total_cents, discount_cents, currency, \
    status, payment, payment_reference, voucher_code, checkout_id, processed_by, request_fingerprint, \
    created_at AT TIME ZONE 'UTC' AS created_at";

/// An order row with the fingerprint of the request that made it.
struct OrderRow {
    order: Order,
    fingerprint: Option<String>,
}

fn order_from_row(row: &Row<'_>) -> Result<OrderRow, DbError> {
    Ok(OrderRow {
        order: Order {
            id: column(row, "id")?,
            event_id: column(row, "event_id")?,
            ticket_type_id: column(row, "ticket_type_id")?,
            user_id: column(row, "user_id")?,
            quantity: column(row, "quantity")?,
            total_cents: column(row, "total_cents")?,
            discount_cents: column(row, "discount_cents")?,
            amount_cents: 0,
            currency: column(row, "currency")?,
            status: named(row, "status", OrderStatus::parse)?,
            payment: named(row, "payment", Payment::parse)?,
            payment_reference: column(row, "payment_reference")?,
            refunded_cents: 0,
            refunds: Vec::new(),
            voucher_code: column(row, "voucher_code")?,
            checkout_id: column(row, "checkout_id")?,
            tickets: Vec::new(),
            processed_by: column(row, "processed_by")?,
            created_at: column(row, "created_at")?,
        },
        fingerprint: column(row, "request_fingerprint")?,
    })
}

fn refund_from_row(row: &Row<'_>) -> Result<(Uuid, Refund), DbError> {
    let refund = Refund {
        amount_cents: column(row, "amount_cents")?,
        tickets: joined(row, "tickets")?,
        refunded_by: column(row, "refunded_by")?,
        created_at: column(row, "created_at")?,
    };
    Ok((column(row, "order_id")?, refund))
}

/// The orders of `rows` with their tickets and refunds, read in two more statements.
fn with_details(conn: &Connection, rows: Vec<Order>, lock: bool) -> Result<Vec<Order>, DbError> {
    let ids: Vec<Uuid> = rows.iter().map(|order| order.id).collect();
    let tickets = tickets_of(conn, &ids, lock)?;
    let sql = "SELECT order_id, amount_cents, array_to_string(tickets, ',') AS tickets, refunded_by,
                      created_at AT TIME ZONE 'UTC' AS created_at
               FROM refunds WHERE order_id = ANY($1::text[]::uuid[]) ORDER BY created_at, id";
    let refunds = query(conn, sql, &[uuid_array(ids)], refund_from_row)?;
    Ok(rows
        .into_iter()
        .map(|order| {
            let id = order.id;
            let own = tickets.iter().filter(|t| t.order_id == id).cloned().collect();
            let refunded = refunds.iter().filter(|(of, _)| *of == id).map(|(_, r)| r.clone()).collect();
            order.with_details(own, refunded)
        })
        .collect())
}

fn find_order_where(
    conn: &Connection,
    condition: &str,
    param: ParameterValue,
) -> Result<Option<(Order, Option<String>)>, DbError> {
    let lock = condition.ends_with("FOR UPDATE");
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {condition}");
    let Some(row) = query(conn, &sql, &[param], order_from_row)?.into_iter().next() else {
        return Ok(None);
    };
    let order = with_details(conn, vec![row.order], lock)?.pop();
    Ok(order.map(|order| (order, row.fingerprint)))
}

pub fn find_order(conn: &Connection, id: Uuid) -> Result<Option<Order>, DbError> {
    Ok(find_order_where(conn, "id = $1", id.into())?.map(|(order, _)| order))
}

/// The order an idempotency key produced, with the fingerprint of its request.
pub fn find_order_by_key(conn: &Connection, key: &str) -> Result<Option<(Order, Option<String>)>, DbError> {
    find_order_where(conn, "idempotency_key = $1", key.to_owned().into())
}

/// Locks the order and its tickets until the transaction ends.
pub fn lock_order(conn: &Connection, id: Uuid) -> Result<Option<Order>, DbError> {
    Ok(find_order_where(conn, "id = $1 FOR UPDATE", id.into())?.map(|(order, _)| order))
}

/// The filters of `GET /api/tickets/orders`.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub event_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// Orders by `created_at, id`, each with its tickets and refunds.
pub fn list_orders(conn: &Connection, filter: &OrderFilter, page: &PageRequest) -> Result<Vec<Order>, DbError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR event_id = $2)"
    );
    let (sql, params) = keyset(&sql, ("created_at", "id"), vec![filter.user_id.into(), filter.event_id.into()], page);
    let rows = query(conn, &sql, &params, order_from_row)?.into_iter().map(|row| row.order).collect();
    with_details(conn, rows, false)
}

/// Voids the tickets of `codes` of the order, and the order with its last ticket;
/// each voided ticket joins its event's revocation list under the next number.
pub fn void_tickets(conn: &Connection, order_id: Uuid, codes: &[String]) -> Result<(), DbError> {
    conn.execute(
        "WITH voided AS (
             UPDATE tickets SET status = 'void' WHERE order_id = $1 AND code = ANY($2::text[]) AND status <> 'void'
             RETURNING event_id, code),
         counted AS (SELECT event_id, count(*) AS voids FROM voided GROUP BY event_id),
         counter AS (
             INSERT INTO revocation_counters AS c (event_id, version) SELECT event_id, voids FROM counted
             ON CONFLICT (event_id) DO UPDATE SET version = c.version + EXCLUDED.version
             RETURNING event_id, version)
         INSERT INTO ticket_revocations (event_id, version, code)
         SELECT v.event_id, counter.version - counted.voids + row_number() OVER (PARTITION BY v.event_id ORDER BY v.code), v.code
         FROM voided v JOIN counted USING (event_id) JOIN counter USING (event_id)",
        &[order_id.into(), text_array(codes.iter().cloned())],
    )
    .map_err(DbError::from)?;
    conn.execute(
        "UPDATE orders SET status = 'cancelled', updated_at = clock_timestamp()
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM tickets WHERE order_id = $1 AND status <> 'void')",
        &[order_id.into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

pub fn insert_refund(conn: &Connection, order_id: Uuid, refund: &Refund) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO refunds (order_id, amount_cents, tickets, refunded_by, created_at)
         VALUES ($1, $2, $3::text[], $4, $5::timestamp AT TIME ZONE 'UTC')",
        &[
            order_id.into(),
            refund.amount_cents.into(),
            text_array(refund.tickets.iter().cloned()),
            refund.refunded_by.into(),
            refund.created_at.into(),
        ],
    )
    .map_err(DbError::from)?;
    Ok(())
}

pub fn set_payment(
    conn: &Connection,
    order_id: Uuid,
    payment: Payment,
    reference: Option<&str>,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE orders SET payment = $2, payment_reference = coalesce($3, payment_reference),
                           updated_at = clock_timestamp()
         WHERE id = $1",
        &[order_id.into(), payment.as_str().to_owned().into(), reference.map(str::to_owned).into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}
