//! Writing an order: the draft a sale makes, and the statements that store it
//! with its tickets, its journal entry and the webhook deliveries it owes,
//! with or without taking its stock in the same statement.

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, Params, unique_violation_table};
use eventos_common::journal::OWED_DELIVERIES;
use spin_sdk::pg4::{Connection, PgError};
use uuid::Uuid;

use super::{text_array, uuid_array};
use crate::model::{Order, OrderStatus, Payment, PricedLine, SaleType, Ticket, TicketStatus};
use crate::rules::pricing::{self, Totals};

/// What an order is made of besides what each try to write it draws: a direct
/// order's and a confirmed checkout's differ only here.
#[derive(Debug, Clone)]
pub struct OrderSource {
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub voucher_code: Option<String>,
    pub checkout_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    pub fingerprint: Option<String>,
    /// Who made it: the buyer, an admin for them, or whoever confirmed the checkout.
    pub actor: Uuid,
}

/// An order exactly as it is about to be written, its id and codes drawn, so
/// that writing it need not read anything back.
#[derive(Debug, Clone)]
pub struct OrderDraft<'a> {
    pub source: &'a OrderSource,
    pub id: Uuid,
    /// One fresh code per ticket, line after line.
    pub codes: Vec<String>,
    /// The instance answering.
    pub processed_by: String,
    pub at: NaiveDateTime,
}

impl OrderSource {
    /// Tickets in all its lines.
    pub fn quantity(&self) -> i32 {
        self.lines.iter().map(|line| line.quantity).sum()
    }

    fn totals(&self) -> Totals {
        pricing::totals(&self.lines)
    }

    fn single_type(&self) -> Option<Uuid> {
        match self.lines.as_slice() {
            [line] => Some(line.ticket_type_id),
            _ => None,
        }
    }
}

impl OrderDraft<'_> {
    /// Each ticket's code, type and price.
    fn tickets(&self) -> impl Iterator<Item = (&String, &PricedLine)> {
        let per_ticket = self.source.lines.iter().flat_map(|line| (0..line.quantity).map(move |_| line));
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
                event_id: self.source.event_id,
                price_cents: line.unit_price_cents,
                status: TicketStatus::Valid,
                checked_in_at: None,
                checked_in_by: None,
                checked_in_gate: None,
                checked_in_scan: None,
            })
            .collect();
        tickets.sort_by(|a, b| a.code.cmp(&b.code));
        let totals = self.source.totals();
        let order = Order {
            id: self.id,
            event_id: self.source.event_id,
            ticket_type_id: self.source.single_type(),
            user_id: self.source.user_id,
            quantity: self.source.quantity(),
            total_cents: totals.total_cents,
            discount_cents: totals.discount_cents,
            amount_cents: 0,
            currency: self.source.currency.clone(),
            status: OrderStatus::Confirmed,
            payment: Payment::of_new_order(totals.amount_cents),
            payment_reference: None,
            refunded_cents: 0,
            refunds: Vec::new(),
            voucher_code: self.source.voucher_code.clone(),
            checkout_id: self.source.checkout_id,
            tickets: Vec::new(),
            processed_by: self.processed_by.clone(),
            created_at: self.at,
        };
        order.with_details(tickets, Vec::new())
    }

    /// The statement's pieces that write this order: each column of `orders`
    /// beside its value, then its tickets, its journal entry (`order.confirmed`)
    /// and the webhook deliveries it owes, after the CTE `o` that wrote the order.
    fn statement(&self) -> OrderStatement {
        let mut p = Params::default();
        let totals = self.source.totals();
        let (id, event_id, quantity) = (p.bind(self.id), p.bind(self.source.event_id), p.bind(self.source.quantity()));
        let checkout_id = format!("{}::uuid", p.bind(self.source.checkout_id));
        let at = format!("{}::timestamp AT TIME ZONE 'UTC'", p.bind(self.at));
        let columns = [
            ("id", id.clone()),
            ("event_id", event_id.clone()),
            ("ticket_type_id", format!("{}::uuid", p.bind(self.source.single_type()))),
            ("user_id", p.bind(self.source.user_id)),
            ("quantity", quantity.clone()),
            ("total_cents", p.bind(totals.total_cents)),
            ("discount_cents", p.bind(totals.discount_cents)),
            ("currency", p.bind(self.source.currency.clone())),
            ("payment", p.bind(Payment::of_new_order(totals.amount_cents).as_str().to_owned())),
            ("voucher_code", p.bind(self.source.voucher_code.clone())),
            ("checkout_id", checkout_id.clone()),
            ("processed_by", p.bind(self.processed_by.clone())),
            ("idempotency_key", p.bind(self.source.idempotency_key.clone())),
            ("request_fingerprint", p.bind(self.source.fingerprint.clone())),
            ("created_at", at.clone()),
            ("updated_at", at),
        ];
        let (codes, (types, prices)): (Vec<String>, (Vec<Uuid>, Vec<i64>)) =
            self.tickets().map(|(code, line)| (code.clone(), (line.ticket_type_id, line.unit_price_cents))).unzip();
        let (codes, types, prices) = (p.bind(text_array(codes)), p.bind(uuid_array(types)), p.bind(prices));
        let (amount, actor) = (p.bind(totals.amount_cents), p.bind(self.source.actor));
        let then = format!(
            "entry AS (
                 INSERT INTO journal (kind, subject, event_id, actor, data)
                 SELECT 'order.confirmed', o.id::text, {event_id}, {actor},
                        jsonb_build_object('quantity', {quantity}::int, 'amount_cents', {amount}::int8, 'checkout_id', {checkout_id})
                 FROM o
                 RETURNING id, seq, kind, subject, event_id
             ), owed AS (
                 {OWED_DELIVERIES}
             )
             INSERT INTO tickets (code, order_id, ticket_type_id, event_id, price_cents)
             SELECT ticket.code, {id}, ticket.type::uuid, {event_id}, ticket.price
             FROM o, unnest({codes}::text[], {types}::text[], {prices}::int8[]) AS ticket (code, type, price)"
        );
        OrderStatement {
            columns: columns.iter().map(|(column, _)| *column).collect::<Vec<_>>().join(", "),
            values: columns.map(|(_, value)| value).join(", "),
            then,
            params: p,
        }
    }
}

/// An order's `INSERT INTO orders (columns)` with its `values`, what follows
/// it (`then`), and the parameters they name; a statement may bind more.
struct OrderStatement {
    columns: String,
    values: String,
    then: String,
    params: Params,
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
///
/// With `lately`, the type the order was priced on without reading it again,
/// nothing is written either unless the type still reads as it did
/// (`types::unchanged_since`).
pub fn sell_from_free_bucket(
    conn: &Connection,
    draft: &OrderDraft<'_>,
    first_bucket: i32,
    lately: Option<&SaleType>,
) -> Result<Option<InsertOrder>, DbError> {
    let (sql, params) = sell_from_free_bucket_statement(draft, first_bucket, lately)?;
    match conn.execute(&sql, params.values()) {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(InsertOrder::Inserted)),
        Err(e) => unique_violation(&e).map(Some).ok_or_else(|| e.into()),
    }
}

/// The statement of [`sell_from_free_bucket`], and its parameters.
pub fn sell_from_free_bucket_statement(
    draft: &OrderDraft<'_>,
    first_bucket: i32,
    lately: Option<&SaleType>,
) -> Result<(String, Params), DbError> {
    let [line] = draft.source.lines.as_slice() else {
        return Err(DbError::bug("a one-statement sale is of one ticket type"));
    };
    let OrderStatement { columns, values, then, mut params } = draft.statement();
    let mut take = super::stock::take_from_free_bucket(
        &params.bind(line.ticket_type_id),
        &params.bind(line.quantity),
        &params.bind(first_bucket),
    );
    if let Some(lately) = lately {
        take = format!("{take} AND {}", super::types::unchanged_since(&mut params, lately));
    }
    let sql = format!(
        "WITH stock AS (
             {take}
             RETURNING ticket_type_id
         ), o AS (
             INSERT INTO orders ({columns})
             SELECT {values} FROM stock
             RETURNING id
         ), {then}"
    );
    Ok((sql, params))
}

/// The order and its tickets in one statement, without stock: the caller took
/// it, or takes it, in the same transaction.
pub fn insert_order(conn: &Connection, draft: &OrderDraft<'_>) -> Result<InsertOrder, DbError> {
    let (sql, params) = insert_order_statement(draft);
    match conn.execute(&sql, params.values()) {
        Ok(_) => Ok(InsertOrder::Inserted),
        Err(e) => unique_violation(&e).ok_or_else(|| e.into()),
    }
}

/// The statement of [`insert_order`], and its parameters.
pub fn insert_order_statement(draft: &OrderDraft<'_>) -> (String, Params) {
    let OrderStatement { columns, values, then, params } = draft.statement();
    (format!("WITH o AS (INSERT INTO orders ({columns}) VALUES ({values}) RETURNING id), {then}"), params)
}
