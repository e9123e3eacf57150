//! Vouchers and their redemptions.

use eventos_common::db::{DbError, column, is_unique_violation, query};
use eventos_common::page::{PageRequest, keyset};
use spin_sdk::pg4::{Connection, Row};
use uuid::Uuid;

use super::{joined, uuid_array};
use crate::voucher::{NewVoucher, Voucher};

/// `used` counts live holds and orders: a use an expired checkout still holds,
/// not yet given back, is free for the next buyer and is not counted.
const VOUCHER_COLUMNS: &str = "id, event_id, code, percent_off, amount_off_cents, \
    array_to_string(unlocks, ',') AS unlocks, max_uses, \
    used - (SELECT count(*) FROM checkouts c WHERE c.voucher_id = vouchers.id AND c.status = 'open' \
            AND c.expires_at <= clock_timestamp())::int AS used, \
    valid_from AT TIME ZONE 'UTC' AS valid_from, valid_until AT TIME ZONE 'UTC' AS valid_until, created_by, \
    created_at AT TIME ZONE 'UTC' AS created_at";

fn voucher_from_row(row: &Row<'_>) -> Result<Voucher, DbError> {
    let unlocks = joined(row, "unlocks")?
        .iter()
        .map(|id| id.parse().map_err(|_| DbError::bug(format!("unlocks holds `{id}`"))))
        .collect::<Result<_, _>>()?;
    Ok(Voucher {
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        code: column(row, "code")?,
        percent_off: column(row, "percent_off")?,
        amount_off_cents: column(row, "amount_off_cents")?,
        unlocks,
        max_uses: column(row, "max_uses")?,
        used: column(row, "used")?,
        valid_from: column(row, "valid_from")?,
        valid_until: column(row, "valid_until")?,
        created_by: column(row, "created_by")?,
        created_at: column(row, "created_at")?,
    })
}

/// `None` when the event already has a voucher of that code.
pub fn insert_voucher(conn: &Connection, new: &NewVoucher, created_by: Uuid) -> Result<Option<Voucher>, DbError> {
    let id = Uuid::new_v4();
    let inserted = conn.execute(
        "INSERT INTO vouchers (id, event_id, code, percent_off, amount_off_cents, unlocks, max_uses,
                               valid_from, valid_until, created_by)
         VALUES ($1, $2, $3, $4::int, $5::int8, $6::text[]::uuid[], $7,
                 $8::timestamp AT TIME ZONE 'UTC', $9::timestamp AT TIME ZONE 'UTC', $10)",
        &[
            id.into(),
            new.event_id.into(),
            new.code.clone().into(),
            new.percent_off.into(),
            new.amount_off_cents.into(),
            uuid_array(new.unlocks.iter().copied()),
            new.max_uses.into(),
            new.valid_from.into(),
            new.valid_until.into(),
            created_by.into(),
        ],
    );
    match inserted {
        Ok(_) => find_voucher(conn, id),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn find_voucher(conn: &Connection, id: Uuid) -> Result<Option<Voucher>, DbError> {
    let sql = format!("SELECT {VOUCHER_COLUMNS} FROM vouchers WHERE id = $1");
    Ok(query(conn, &sql, &[id.into()], voucher_from_row)?.into_iter().next())
}

pub fn find_voucher_by_code(conn: &Connection, event_id: Uuid, code: &str) -> Result<Option<Voucher>, DbError> {
    let sql = format!("SELECT {VOUCHER_COLUMNS} FROM vouchers WHERE event_id = $1 AND code = $2");
    Ok(query(conn, &sql, &[event_id.into(), code.to_owned().into()], voucher_from_row)?.into_iter().next())
}

/// An event's vouchers (every event's for `None`), by `created_at, id`.
pub fn list_vouchers(conn: &Connection, event_id: Option<Uuid>, page: &PageRequest) -> Result<Vec<Voucher>, DbError> {
    let sql = format!(
        "SELECT {VOUCHER_COLUMNS} FROM vouchers
         WHERE ($1::uuid IS NULL OR event_id = $1)"
    );
    let (sql, params) = keyset(&sql, ("created_at", "id"), vec![event_id.into()], page);
    query(conn, &sql, &params, voucher_from_row)
}

/// Takes one use of the voucher if one is left and it is valid now; `false` otherwise.
/// Concurrent redeemers queue on the voucher's row, and the last use goes to one.
pub fn redeem(conn: &Connection, id: Uuid) -> Result<bool, DbError> {
    let updated = conn
        .execute(
            "UPDATE vouchers SET used = used + 1
             WHERE id = $1 AND used < max_uses
               AND (valid_from IS NULL OR valid_from <= clock_timestamp())
               AND (valid_until IS NULL OR clock_timestamp() < valid_until)",
            &[id.into()],
        )
        .map_err(DbError::from)?;
    Ok(updated == 1)
}

/// Gives back `uses` of each voucher, in voucher id order.
pub fn give_back(conn: &Connection, mut uses: Vec<(Uuid, i32)>) -> Result<(), DbError> {
    uses.sort();
    for (id, count) in uses {
        conn.execute("UPDATE vouchers SET used = used - $2 WHERE id = $1", &[id.into(), count.into()])
            .map_err(DbError::from)?;
    }
    Ok(())
}
