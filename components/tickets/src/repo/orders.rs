//! Orders: writing a sale, reading orders back with their tickets and refunds,
//! cancelling tickets and moving the payment.

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, column, query, unique_violation_table};
use eventos_common::journal::OWED_DELIVERIES;
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, ParameterValue, PgError, Row};
use uuid::Uuid;

use super::tickets::tickets_of;
use super::{joined, named, text_array, uuid_array};
use crate::model::{Order, OrderStatus, Payment, PricedLine, Refund, Ticket, TicketStatus};

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

/// An order exactly as it is about to be written, ids and codes drawn, so that
/// writing it need not read anything back.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    /// One fresh code per ticket, line after line.
    pub codes: Vec<String>,
    pub voucher_code: Option<String>,
    pub checkout_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub fingerprint: Option<String>,
    /// The instance answering.
    pub processed_by: String,
    /// Who placed it: the buyer, or the admin who named them.
    pub actor: Uuid,
    pub at: NaiveDateTime,
}

impl OrderDraft {
    fn quantity(&self) -> i32 {
        self.lines.iter().map(|line| line.quantity).sum()
    }

    fn total_cents(&self) -> i64 {
        self.lines.iter().map(|line| line.list_price_cents * i64::from(line.quantity)).sum()
    }

    fn amount_cents(&self) -> i64 {
        self.lines.iter().map(|line| line.unit_price_cents * i64::from(line.quantity)).sum()
    }

    fn single_type(&self) -> Option<Uuid> {
        match self.lines.as_slice() {
            [line] => Some(line.ticket_type_id),
            _ => None,
        }
    }

    /// Each ticket's code, type and price.
    fn tickets(&self) -> impl Iterator<Item = (&String, &PricedLine)> {
        let per_ticket = self.lines.iter().flat_map(|line| (0..line.quantity).map(move |_| line));
        self.codes.iter().zip(per_ticket)
    }

    /// The order exactly as it is written.
    pub fn order(&self) -> Order {
        let mut tickets: Vec<Ticket> = self
            .tickets()
            .map(|(code, line)| Ticket {
                code: code.clone(),
                order_id: self.id,
                ticket_type_id: line.ticket_type_id,
                event_id: self.event_id,
                price_cents: line.unit_price_cents,
                status: TicketStatus::Valid,
                checked_in_at: None,
                checked_in_by: None,
            })
            .collect();
        tickets.sort_by(|a, b| a.code.cmp(&b.code));
        let order = Order {
            id: self.id,
            event_id: self.event_id,
            ticket_type_id: self.single_type(),
            user_id: self.user_id,
            quantity: self.quantity(),
            total_cents: self.total_cents(),
            discount_cents: self.total_cents() - self.amount_cents(),
            amount_cents: 0,
            currency: self.currency.clone(),
            status: OrderStatus::Confirmed,
            payment: Payment::of_new_order(self.amount_cents()),
            payment_reference: None,
            refunded_cents: 0,
            refunds: Vec::new(),
            voucher_code: self.voucher_code.clone(),
            checkout_id: self.checkout_id,
            tickets: Vec::new(),
            processed_by: self.processed_by.clone(),
            created_at: self.at,
        };
        order.with_details(tickets, Vec::new())
    }

    /// `$1`..`$19`: the order's columns, its tickets' codes, types and prices, and its actor.
    fn params(&self) -> Vec<ParameterValue> {
        let (codes, (types, prices)): (Vec<String>, (Vec<Uuid>, Vec<i64>)) =
            self.tickets().map(|(code, line)| (code.clone(), (line.ticket_type_id, line.unit_price_cents))).unzip();
        vec![
            self.id.into(),
            self.event_id.into(),
            self.single_type().into(),
            self.user_id.into(),
            self.quantity().into(),
            self.total_cents().into(),
            (self.total_cents() - self.amount_cents()).into(),
            self.currency.clone().into(),
            Payment::of_new_order(self.amount_cents()).as_str().to_owned().into(),
            self.voucher_code.clone().into(),
            self.checkout_id.into(),
            self.processed_by.clone().into(),
            self.idempotency_key.clone().into(),
            self.fingerprint.clone().into(),
            self.at.into(),
            text_array(codes),
            uuid_array(types),
            prices.into(),
            self.actor.into(),
        ]
    }
}

const ORDER_INSERT_COLUMNS: &str = "id, event_id, ticket_type_id, user_id, quantity, total_cents, discount_cents, \
    currency, payment, voucher_code, checkout_id, processed_by, idempotency_key, request_fingerprint, \
    created_at, updated_at";
const ORDER_VALUES: &str = "$1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11::uuid, $12, $13, $14, \
    $15::timestamp AT TIME ZONE 'UTC', $15::timestamp AT TIME ZONE 'UTC'";
/// The tickets of the order `$1` of event `$2`, from `$16`..`$18`, with the
/// order's journal entry (`order.confirmed` by `$19`) and the webhook
/// deliveries it owes, after the CTE `o` that wrote the order.
fn tickets_and_entry() -> String {
    format!(
        "entry AS (
             INSERT INTO journal (kind, subject, event_id, actor, data)
             SELECT 'order.confirmed', o.id::text, $2, $19,
                    jsonb_build_object('quantity', $5::int, 'amount_cents', $6::int8 - $7::int8, 'checkout_id', $11::uuid)
             FROM o
             RETURNING id, seq, kind, subject, event_id
         ), owed AS (
             {OWED_DELIVERIES}
         )
         INSERT INTO tickets (code, order_id, ticket_type_id, event_id, price_cents)
         SELECT ticket.code, $1, ticket.type::uuid, $2, ticket.price
         FROM o, unnest($16::text[], $17::text[], $18::int8[]) AS ticket (code, type, price)"
    )
}

/// What writing an order can run into besides success.
pub enum InsertOrder {
    /// Stored as drafted: the draft's `order()` is what was written.
    Inserted,
    /// Another request with the same idempotency key committed first.
    KeyTaken,
    /// A ticket code collided with an existing one (a 1 in 2^40 event); try again.
    CodeTaken,
}

/// A unique violation is a taken key or a taken code, told apart by its table.
fn unique_violation(error: &PgError) -> Option<InsertOrder> {
    match unique_violation_table(error)? {
        "orders" => Some(InsertOrder::KeyTaken),
        "tickets" => Some(InsertOrder::CodeTaken),
        _ => None,
    }
}

/// The whole sale of one line in one autocommitted statement, when a bucket with
/// room is free right now: take the stock, write the order and its tickets. One
/// round trip, and the bucket stays locked only while the database itself runs
/// the statement. `None` when no bucket with room was free: nothing was written.
///
/// The sale's writes are `execute`d, not queried: Spin reports a constraint that
/// fails while a query's rows stream back as text without its SQLSTATE, and the
/// taken key and taken code are told apart by theirs.
pub fn sell_from_free_bucket(
    conn: &Connection,
    draft: &OrderDraft,
    first_bucket: i32,
) -> Result<Option<InsertOrder>, DbError> {
    let [line] = draft.lines.as_slice() else {
        return Err(DbError::bug("a one-statement sale is of one ticket type"));
    };
    let sql = format!(
        "WITH stock AS (
             {}
             RETURNING ticket_type_id
         ), o AS (
             INSERT INTO orders ({ORDER_INSERT_COLUMNS})
             SELECT {ORDER_VALUES} FROM stock
             RETURNING id
         ), {}",
        super::stock::take_from_free_bucket(20, 21, 22),
        tickets_and_entry()
    );
    let mut params = draft.params();
    params.extend([line.ticket_type_id.into(), line.quantity.into(), first_bucket.into()]);
    match conn.execute(&sql, &params) {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(InsertOrder::Inserted)),
        Err(e) => unique_violation(&e).map(Some).ok_or_else(|| e.into()),
    }
}

/// The order and its tickets in one statement, without stock: the caller took
/// it, or takes it, in the same transaction.
pub fn insert_order(conn: &Connection, draft: &OrderDraft) -> Result<InsertOrder, DbError> {
    let sql = format!(
        "WITH o AS (INSERT INTO orders ({ORDER_INSERT_COLUMNS}) VALUES ({ORDER_VALUES}) RETURNING id), {}",
        tickets_and_entry()
    );
    match conn.execute(&sql, &draft.params()) {
        Ok(_) => Ok(InsertOrder::Inserted),
        Err(e) => unique_violation(&e).ok_or_else(|| e.into()),
    }
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

/// Voids the tickets of `codes` of the order, and the order with its last ticket.
pub fn void_tickets(conn: &Connection, order_id: Uuid, codes: &[String]) -> Result<(), DbError> {
    conn.execute(
        "UPDATE tickets SET status = 'void' WHERE order_id = $1 AND code = ANY($2::text[])",
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
