//! Writing an order: the draft a sale makes, and the statements that store it
//! with its tickets, its journal entry and the webhook deliveries it owes,
//! with or without taking its stock in the same statement.

use chrono::NaiveDateTime;
use eventos_common::db::{DbError, unique_violation_table};
use eventos_common::journal::OWED_DELIVERIES;
use spin_sdk::pg4::{Connection, ParameterValue, PgError};
use uuid::Uuid;

use super::{text_array, uuid_array};
use crate::model::{Order, OrderStatus, Payment, PricedLine, Ticket, TicketStatus};

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
