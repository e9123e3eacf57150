//! Taking stock from a ticket type's buckets and giving it back.

use eventos_common::db::{DbError, Params, column, query};
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::model::STOCK_BUCKETS;

/// `UPDATE` taking `quantity` from a bucket with room that no other sale holds,
/// trying buckets from `first` on (so that concurrent buyers spread): it never
/// waits, and updates no row when every bucket with room is busy. The arguments
/// are the placeholders the statement bound them to.
pub(super) fn take_from_free_bucket(ticket_type: &str, quantity: &str, first: &str) -> String {
    format!(
        "UPDATE ticket_stock SET sold = sold + {quantity}
         WHERE (ticket_type_id, bucket) = (
             SELECT ticket_type_id, bucket FROM ticket_stock
             WHERE ticket_type_id = {ticket_type} AND sold + {quantity} <= quantity
             ORDER BY (bucket - {first}::int + {STOCK_BUCKETS}) % {STOCK_BUCKETS}
             LIMIT 1 FOR UPDATE SKIP LOCKED)"
    )
}

/// An `UPDATE` taking `quantity` from the bucket `bucket` of `ticket_type` if it
/// has room, waiting for whoever holds it (all three are placeholders).
pub(crate) fn take_from_bucket(ticket_type: &str, quantity: &str, bucket: &str) -> String {
    format!(
        "UPDATE ticket_stock SET sold = sold + {quantity}
         WHERE ticket_type_id = {ticket_type} AND bucket = {bucket}::int AND sold + {quantity} <= quantity"
    )
}

/// Takes `quantity` from the stock, all or nothing; `false` when not enough is left.
///
/// Three tries, each holding no bucket of the type when it starts (rolling back to
/// a savepoint releases any bucket PostgreSQL locked and then found full), so that
/// no two sales can wait for each other in a cycle:
/// 1. a bucket with room that no other sale holds, from `first_bucket` on: never waits;
/// 2. bucket `first_bucket` itself, waiting for whoever holds it: buyers queue on
///    sixteen rows instead of one;
/// 3. all buckets, locked in bucket order: sold-out only when the whole type is short.
pub fn take_stock(conn: &Connection, ticket_type_id: Uuid, quantity: i32, first_bucket: i32) -> Result<bool, DbError> {
    let mut params = Params::default();
    let (ticket_type, wanted, first) = (params.bind(ticket_type_id), params.bind(quantity), params.bind(first_bucket));
    conn.execute("SAVEPOINT take_stock", &[]).map_err(DbError::from)?;
    let free_bucket = take_from_free_bucket(&ticket_type, &wanted, &first);
    let chosen_bucket = take_from_bucket(&ticket_type, &wanted, &first);
    for attempt in [&free_bucket, &chosen_bucket] {
        if conn.execute(attempt, params.values()).map_err(DbError::from)? == 1 {
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

/// Gives back what each `(ticket type, quantity)` took, in ticket type order.
pub fn return_stocks(conn: &Connection, mut returns: Vec<(Uuid, i32)>) -> Result<(), DbError> {
    returns.sort();
    for (ticket_type_id, quantity) in returns {
        return_stock(conn, ticket_type_id, quantity)?;
    }
    Ok(())
}

/// How many times each id occurs, in order of first occurrence: the stock per
/// ticket type of some tickets, the uses per voucher of some checkouts.
pub fn tally(ids: impl IntoIterator<Item = Uuid>) -> Vec<(Uuid, i32)> {
    let mut counts: Vec<(Uuid, i32)> = Vec::new();
    for id in ids {
        match counts.iter_mut().find(|(counted, _)| *counted == id) {
            Some((_, count)) => *count += 1,
            None => counts.push((id, 1)),
        }
    }
    counts
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
