//! All SQL of the ticketing domain, one file per table family.
//!
//! A ticket type's stock is split over bucket rows, each with a `CHECK` that it
//! never sells past its share: only buyers of the same bucket wait for each
//! other, and the database refuses to oversell whatever the concurrency.
//!
//! Rows are locked in one order everywhere, so no two transactions wait for each
//! other in a cycle: checkouts or orders (by id) first, then an event's
//! revocation counter, then vouchers, then stock buckets (by ticket type, then
//! bucket).

/// The last migration this code needs; health answers 503 until the database has it.
pub const SCHEMA: &str = "0013";

pub mod checkouts;
pub mod duplicate_scans;
pub mod event_facts;
pub mod order_insert;
pub mod orders;
pub mod revocations;
pub mod rooms;
pub mod signing_keys;
pub mod stock;
pub mod tickets;
pub mod types;
pub mod vouchers;

use eventos_common::db::{DbError, column};
use spin_sdk::pg4::{ParameterValue, Row};
use uuid::Uuid;

/// A text column holding one of a fixed set of names (the migrations' CHECKs allow no other).
fn named<S>(row: &Row<'_>, name: &str, parse: fn(&str) -> Option<S>) -> Result<S, DbError> {
    let text: String = column(row, name)?;
    parse(&text).ok_or_else(|| DbError::bug(format!("unknown {name} `{text}`")))
}

/// A `bytea` column of exactly 32 bytes: a key, a seed, a secret.
fn bytes32(row: &Row<'_>, name: &str) -> Result<[u8; 32], DbError> {
    let bytes: Vec<u8> = column(row, name)?;
    bytes.try_into().map_err(|_| DbError::bug(format!("{name} is not 32 bytes")))
}

fn text_array(items: impl IntoIterator<Item = String>) -> ParameterValue {
    ParameterValue::ArrayStr(items.into_iter().map(Some).collect())
}

fn uuid_array(ids: impl IntoIterator<Item = Uuid>) -> ParameterValue {
    text_array(ids.into_iter().map(|id| id.to_string()))
}

/// A list column selected as `array_to_string(column, ',')`: plain text reads
/// the same on every runtime.
fn joined(row: &Row<'_>, name: &str) -> Result<Vec<String>, DbError> {
    let text: String = column(row, name)?;
    Ok(text.split(',').filter(|item| !item.is_empty()).map(str::to_owned).collect())
}

eventos_common::schema_is_newest_migration!(SCHEMA);
