//! All SQL of the ticketing domain.
//!
//! A ticket type's stock is split over bucket rows, each with a `CHECK` that it
//! never sells past its share: only buyers of the same bucket wait for each
//! other, and the database refuses to oversell whatever the concurrency.

/// The last migration this code needs; health answers 503 until the database has it.
pub const SCHEMA: &str = "0004";

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, column, query, query_a_row, unique_violation_table};
use eventos_common::page::{PageRequest, cursor_params};
use spin_sdk::pg4::{Connection, ParameterValue, PgError, Row};
use uuid::Uuid;

use crate::model::{
    NewOrder, NewTicketType, Order, OrderStatus, STOCK_BUCKETS, Ticket, TicketStatus, TicketType, bucket_count,
};

/// `sold` is the sum of the type's stock buckets. Stored instants are read in UTC
/// (see `eventos_common::db`).
const TYPE_COLUMNS: &str = "t.id, t.event_id, t.name, t.price_cents, t.currency, t.quantity, \
    (SELECT coalesce(sum(s.sold), 0)::int FROM ticket_stock s WHERE s.ticket_type_id = t.id) AS sold, \
    t.created_at AT TIME ZONE 'UTC' AS created_at";
const ORDER_COLUMNS: &str = "id, ticket_type_id, user_id, quantity, total_cents, currency, status, processed_by, \
                             request_fingerprint, created_at AT TIME ZONE 'UTC' AS created_at";
const TICKET_COLUMNS: &str = "code, order_id, ticket_type_id, event_id, status, checked_in_at AT TIME ZONE 'UTC' AS checked_in_at, \
     checked_in_by";

fn ticket_type_from_row(row: &Row<'_>) -> Result<TicketType, DbError> {
    let quantity: i32 = column(row, "quantity")?;
    let sold: i32 = column(row, "sold")?;
    Ok(TicketType {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        name: column(row, "name")?,
        price_cents: column(row, "price_cents")?,
        currency: column(row, "currency")?,
        quantity,
        sold,
        available: quantity - sold,
        created_at: column(row, "created_at")?,
    })
}

/// The `status` column, read as the status it names (the migrations' CHECKs allow no other).
fn status<S>(row: &Row<'_>, parse: fn(&str) -> Option<S>) -> Result<S, DbError> {
    let text: String = column(row, "status")?;
    parse(&text).ok_or_else(|| DbError::bug(format!("unknown status `{text}`")))
}

fn ticket_from_row(row: &Row<'_>) -> Result<Ticket, DbError> {
    Ok(Ticket {
        code: column(row, "code")?,
        order_id: column(row, "order_id")?,
        ticket_type_id: column(row, "ticket_type_id")?,
        event_id: column(row, "event_id")?,
        status: status(row, TicketStatus::parse)?,
        checked_in_at: column(row, "checked_in_at")?,
        checked_in_by: column(row, "checked_in_by")?,
    })
}

/// An order row with the fingerprint of the request that made it.
struct OrderRow {
    order: Order,
    fingerprint: Option<String>,
}

fn order_from_row(row: &Row<'_>) -> Result<OrderRow, DbError> {
    Ok(OrderRow {
        order: Order {
            id: column(row, "id")?,
            ticket_type_id: column(row, "ticket_type_id")?,
            user_id: column(row, "user_id")?,
            quantity: column(row, "quantity")?,
            total_cents: column(row, "total_cents")?,
            currency: column(row, "currency")?,
            status: status(row, OrderStatus::parse)?,
            tickets: Vec::new(),
            processed_by: column(row, "processed_by")?,
            created_at: column(row, "created_at")?,
        },
        fingerprint: column(row, "request_fingerprint")?,
    })
}

/// Creates the type and its stock buckets in one statement.
pub fn insert_ticket_type(conn: &Connection, new: &NewTicketType) -> Result<TicketType, DbError> {
    let sql = "WITH t AS (
             INSERT INTO ticket_types (event_id, name, price_cents, currency, quantity)
             VALUES ($1, $2, $3, $4, $5) RETURNING *
         ), buckets AS (
             INSERT INTO ticket_stock (ticket_type_id, bucket, quantity)
             SELECT t.id, b, t.quantity / $6 + CASE WHEN b < t.quantity % $6 THEN 1 ELSE 0 END
             FROM t, generate_series(0, $6 - 1) AS b
         )
         SELECT t.id, t.event_id, t.name, t.price_cents, t.currency, t.quantity, 0 AS sold,
                t.created_at AT TIME ZONE 'UTC' AS created_at
         FROM t";
    let params = [
        new.event_id.into(),
        new.name.clone().into(),
        new.price_cents.into(),
        new.currency.clone().into(),
        new.quantity.into(),
        bucket_count(new.quantity).into(),
    ];
    query_a_row(conn, sql, &params, ticket_type_from_row)
}

pub fn find_ticket_type(conn: &Connection, id: Uuid) -> Result<Option<TicketType>, DbError> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM ticket_types t WHERE t.id = $1");
    Ok(query(conn, &sql, &[id.into()], ticket_type_from_row)?.into_iter().next())
}

/// Ordered by `created_at, id`.
pub fn list_ticket_types(
    conn: &Connection,
    event_id: Option<Uuid>,
    page: &PageRequest,
) -> Result<Vec<TicketType>, DbError> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM ticket_types t
         WHERE ($1::uuid IS NULL OR t.event_id = $1)
           AND ($2::timestamp IS NULL OR (t.created_at, t.id) > ($2::timestamp AT TIME ZONE 'UTC', $3::uuid))
         ORDER BY t.created_at, t.id
         LIMIT $4"
    );
    let [after_at, after_id] = cursor_params(page.after);
    query(conn, &sql, &[event_id.into(), after_at, after_id, page.fetch_limit().into()], ticket_type_from_row)
}

/// `UPDATE` taking `$quantity` from a bucket with room that no other sale holds,
/// trying buckets from `$first` on (so that concurrent buyers spread): it never
/// waits, and updates no row when every bucket with room is busy. The arguments
/// are the statement's parameter numbers.
fn take_from_free_bucket(ticket_type: usize, quantity: usize, first: usize) -> String {
    format!(
        "UPDATE ticket_stock SET sold = sold + ${quantity}
         WHERE (ticket_type_id, bucket) = (
             SELECT ticket_type_id, bucket FROM ticket_stock
             WHERE ticket_type_id = ${ticket_type} AND sold + ${quantity} <= quantity
             ORDER BY (bucket - ${first}::int + {STOCK_BUCKETS}) % {STOCK_BUCKETS}
             LIMIT 1 FOR UPDATE SKIP LOCKED)"
    )
}

/// Takes `quantity` from the stock, all or nothing; `false` when not enough is left.
///
/// Three tries, each holding no bucket when it starts (rolling back to a savepoint
/// releases any bucket PostgreSQL locked and then found full), so that no two
/// sales can wait for each other in a cycle:
/// 1. a bucket with room that no other sale holds, from `first_bucket` on: never waits;
/// 2. bucket `first_bucket` itself, waiting for whoever holds it: buyers queue on
///    eight rows instead of one;
/// 3. all buckets, locked in bucket order: sold-out only when the whole type is short.
pub fn take_stock(conn: &Connection, ticket_type_id: Uuid, quantity: i32, first_bucket: i32) -> Result<bool, DbError> {
    let params = [ticket_type_id.into(), quantity.into(), first_bucket.into()];
    conn.execute("SAVEPOINT take_stock", &[]).map_err(DbError::from)?;
    let free_bucket = take_from_free_bucket(1, 2, 3);
    let chosen_bucket = "UPDATE ticket_stock SET sold = sold + $2 WHERE ticket_type_id = $1 AND bucket = $3::int AND sold + $2 <= quantity";
    for attempt in [free_bucket.as_str(), chosen_bucket] {
        if conn.execute(attempt, &params).map_err(DbError::from)? == 1 {
            return Ok(true);
        }
        conn.execute("ROLLBACK TO SAVEPOINT take_stock", &[]).map_err(DbError::from)?;
    }
    let buckets = lock_buckets(conn, ticket_type_id)?;
    let free: i64 = buckets.iter().map(|b| i64::from(b.quantity - b.sold)).sum();
    if free < i64::from(quantity) {
        return Ok(false);
    }
    let mut left = quantity;
    for stock in buckets {
        let take = left.min(stock.quantity - stock.sold);
        if take > 0 {
            add_sold(conn, ticket_type_id, stock.bucket, take)?;
            left -= take;
        }
    }
    Ok(true)
}

/// Gives `quantity` back, from the buckets that sold the most first.
pub fn return_stock(conn: &Connection, ticket_type_id: Uuid, quantity: i32) -> Result<(), DbError> {
    let mut buckets = lock_buckets(conn, ticket_type_id)?;
    buckets.sort_by_key(|b| std::cmp::Reverse(b.sold));
    let mut left = quantity;
    for stock in buckets {
        let give = left.min(stock.sold);
        if give > 0 {
            add_sold(conn, ticket_type_id, stock.bucket, -give)?;
            left -= give;
        }
    }
    if left > 0 {
        return Err(DbError::bug(format!("{left} ticket(s) could not be returned to stock")));
    }
    Ok(())
}

struct Bucket {
    bucket: i32,
    quantity: i32,
    sold: i32,
}

/// Every bucket of the type, locked in bucket order (one order for everyone: no deadlocks).
fn lock_buckets(conn: &Connection, ticket_type_id: Uuid) -> Result<Vec<Bucket>, DbError> {
    query(
        conn,
        "SELECT bucket::int AS bucket, quantity, sold FROM ticket_stock WHERE ticket_type_id = $1 ORDER BY bucket FOR UPDATE",
        &[ticket_type_id.into()],
        |row| {
            Ok(Bucket {
                bucket: column(row, "bucket")?,
                quantity: column(row, "quantity")?,
                sold: column(row, "sold")?,
            })
        },
    )
}

fn add_sold(conn: &Connection, ticket_type_id: Uuid, bucket: i32, delta: i32) -> Result<(), DbError> {
    conn.execute(
        "UPDATE ticket_stock SET sold = sold + $3 WHERE ticket_type_id = $1 AND bucket = $2::int",
        &[ticket_type_id.into(), bucket.into(), delta.into()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// What inserting an order can run into besides success.
pub enum InsertOrder {
    /// The order as stored, with its tickets: no need to read it back.
    Inserted(Order),
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

/// One attempt at a sale: what is written, whichever way it is written.
pub struct Sale<'a> {
    pub order: &'a NewOrder,
    pub ticket_type: &'a TicketType,
    /// The instance answering, stored as the order's `processed_by`.
    pub processed_by: &'a str,
    /// One fresh code per ticket.
    pub codes: Vec<String>,
    /// Where the search for a bucket with room starts.
    pub first_bucket: i32,
    /// The new order's id and time, chosen here so that the sale's writes need not
    /// return rows (see `sell_from_free_bucket`).
    pub order_id: Uuid,
    pub at: NaiveDateTime,
}

impl Sale<'_> {
    /// The order exactly as the sale writes it.
    pub fn order(&self) -> Order {
        let Sale { order: new, ticket_type, processed_by, .. } = *self;
        let mut codes = self.codes.clone();
        codes.sort();
        Order {
            id: self.order_id,
            ticket_type_id: ticket_type.id,
            user_id: new.user_id,
            quantity: new.quantity,
            total_cents: ticket_type.price_cents * i64::from(new.quantity),
            currency: ticket_type.currency.clone(),
            status: OrderStatus::Confirmed,
            tickets: codes
                .into_iter()
                .map(|code| Ticket {
                    code,
                    order_id: self.order_id,
                    ticket_type_id: ticket_type.id,
                    event_id: ticket_type.event_id,
                    status: TicketStatus::Valid,
                    checked_in_at: None,
                    checked_in_by: None,
                })
                .collect(),
            processed_by: processed_by.to_owned(),
            created_at: self.at,
        }
    }
}

/// The columns of a new order, `$1`..`$10`.
const ORDER_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, \
    $10::timestamp AT TIME ZONE 'UTC', $10::timestamp AT TIME ZONE 'UTC'";
const ORDER_INSERT_COLUMNS: &str = "id, ticket_type_id, user_id, quantity, total_cents, currency, processed_by, \
    idempotency_key, request_fingerprint, created_at, updated_at";

/// The values of `ORDER_VALUES`.
fn order_params(sale: &Sale) -> [ParameterValue; 10] {
    let Sale { order: new, ticket_type, processed_by, .. } = *sale;
    [
        sale.order_id.into(),
        new.ticket_type_id.into(),
        new.user_id.into(),
        new.quantity.into(),
        (ticket_type.price_cents * i64::from(new.quantity)).into(),
        ticket_type.currency.clone().into(),
        processed_by.to_owned().into(),
        new.idempotency_key.clone().into(),
        new.idempotency_key.as_ref().map(|_| new.fingerprint()).into(),
        sale.at.into(),
    ]
}

fn codes_param(codes: &[String]) -> ParameterValue {
    ParameterValue::ArrayStr(codes.iter().cloned().map(Some).collect())
}

/// The whole sale in one autocommitted statement, when a bucket with room is free
/// right now: take the stock, write the order and its tickets. One round trip,
/// and the bucket stays locked only while the database itself runs the statement.
/// `None` when no bucket with room was free: nothing was written.
///
/// The sale's writes are `execute`d, not queried: Spin reports a constraint that
/// fails while a query's rows stream back as text without its SQLSTATE, and the
/// taken key and taken code are told apart by theirs.
pub fn sell_from_free_bucket(conn: &Connection, sale: &Sale) -> Result<Option<InsertOrder>, DbError> {
    let sql = format!(
        "WITH stock AS (
             {}
             RETURNING ticket_type_id
         ), o AS (
             INSERT INTO orders ({ORDER_INSERT_COLUMNS})
             SELECT {ORDER_VALUES} FROM stock
             RETURNING id, ticket_type_id
         )
         INSERT INTO tickets (code, order_id, ticket_type_id, event_id)
         SELECT code, o.id, o.ticket_type_id, $12 FROM o, unnest($13::text[]) AS code",
        take_from_free_bucket(2, 4, 11)
    );
    let mut params = order_params(sale).to_vec();
    params.extend([sale.first_bucket.into(), sale.ticket_type.event_id.into(), codes_param(&sale.codes)]);
    match conn.execute(&sql, &params) {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(InsertOrder::Inserted(sale.order()))),
        Err(e) => unique_violation(&e).map(Some).ok_or_else(|| e.into()),
    }
}

/// The order and its tickets, without stock: the caller takes it in the same transaction.
pub fn insert_order(conn: &Connection, sale: &Sale) -> Result<InsertOrder, DbError> {
    let order = format!("INSERT INTO orders ({ORDER_INSERT_COLUMNS}) VALUES ({ORDER_VALUES})");
    let tickets = "INSERT INTO tickets (code, order_id, ticket_type_id, event_id)
         SELECT code, $2, $3, $4 FROM unnest($1::text[]) AS code";
    let ticket_type = sale.ticket_type;
    let ticket_params =
        [codes_param(&sale.codes), sale.order_id.into(), ticket_type.id.into(), ticket_type.event_id.into()];
    for (sql, params) in [(order.as_str(), order_params(sale).to_vec()), (tickets, ticket_params.to_vec())] {
        if let Err(e) = conn.execute(sql, &params) {
            return unique_violation(&e).ok_or_else(|| e.into());
        }
    }
    Ok(InsertOrder::Inserted(sale.order()))
}

fn tickets_of(conn: &Connection, order_id: Uuid) -> Result<Vec<Ticket>, DbError> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = $1 ORDER BY code");
    query(conn, &sql, &[order_id.into()], ticket_from_row)
}

fn find_order_where(
    conn: &Connection,
    condition: &str,
    param: ParameterValue,
) -> Result<Option<(Order, Option<String>)>, DbError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {condition}");
    let Some(row) = query(conn, &sql, &[param], order_from_row)?.into_iter().next() else {
        return Ok(None);
    };
    let mut order = row.order;
    order.tickets = tickets_of(conn, order.id)?;
    Ok(Some((order, row.fingerprint)))
}

/// The filters of `GET /api/tickets/orders`.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub event_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// Orders by `created_at, id`, each with its tickets (read in one more statement).
pub fn list_orders(conn: &Connection, filter: &OrderFilter, page: &PageRequest) -> Result<Vec<Order>, DbError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE ($1::uuid IS NULL OR user_id = $1)
           AND ($2::uuid IS NULL OR ticket_type_id IN (SELECT id FROM ticket_types WHERE event_id = $2))
           AND ($3::timestamp IS NULL OR (created_at, id) > ($3::timestamp AT TIME ZONE 'UTC', $4::uuid))
         ORDER BY created_at, id
         LIMIT $5"
    );
    let [after_at, after_id] = cursor_params(page.after);
    let params = [filter.user_id.into(), filter.event_id.into(), after_at, after_id, page.fetch_limit().into()];
    let mut orders: Vec<Order> = query(conn, &sql, &params, order_from_row)?.into_iter().map(|row| row.order).collect();
    let ids: Vec<Option<String>> = orders.iter().map(|order| Some(order.id.to_string())).collect();
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = ANY($1::text[]::uuid[]) ORDER BY code");
    for ticket in query(conn, &sql, &[ids.into()], ticket_from_row)? {
        if let Some(order) = orders.iter_mut().find(|order| order.id == ticket.order_id) {
            order.tickets.push(ticket);
        }
    }
    Ok(orders)
}

/// How many of an event's tickets are issued (not void) and checked in.
pub fn check_in_counts(conn: &Connection, event_id: Uuid) -> Result<(i64, i64), DbError> {
    let sql = "SELECT count(*) FILTER (WHERE status <> 'void') AS issued,
                      count(*) FILTER (WHERE status = 'checked_in') AS checked_in
               FROM tickets WHERE event_id = $1";
    query_a_row(conn, sql, &[event_id.into()], |row| Ok((column(row, "issued")?, column(row, "checked_in")?)))
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
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE");
    let Some(row) = query(conn, &sql, &[id.into()], order_from_row)?.into_iter().next() else {
        return Ok(None);
    };
    let mut order = row.order;
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE order_id = $1 ORDER BY code FOR UPDATE");
    order.tickets = query(conn, &sql, &[id.into()], ticket_from_row)?;
    Ok(Some(order))
}

pub fn cancel_order(conn: &Connection, id: Uuid) -> Result<(), DbError> {
    conn.execute("UPDATE orders SET status = 'cancelled', updated_at = clock_timestamp() WHERE id = $1", &[id.into()])
        .map_err(DbError::from)?;
    conn.execute("UPDATE tickets SET status = 'void' WHERE order_id = $1", &[id.into()]).map_err(DbError::from)?;
    Ok(())
}

pub fn find_ticket(conn: &Connection, code: &str) -> Result<Option<Ticket>, DbError> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE code = $1");
    Ok(query(conn, &sql, &[code.to_owned().into()], ticket_from_row)?.into_iter().next())
}

/// Checks a valid ticket in; `None` when it was not valid (already in, void, or unknown).
pub fn check_in(conn: &Connection, code: &str, scanned_by: Uuid) -> Result<Option<Ticket>, DbError> {
    let sql = format!(
        "UPDATE tickets SET status = 'checked_in', checked_in_at = clock_timestamp(), checked_in_by = $2
         WHERE code = $1 AND status = 'valid' RETURNING {TICKET_COLUMNS}"
    );
    Ok(query(conn, &sql, &[code.to_owned().into(), scanned_by.into()], ticket_from_row)?.into_iter().next())
}

eventos_common::schema_is_newest_migration!(SCHEMA);
