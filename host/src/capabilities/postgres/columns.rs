//! Result rows, decoded exactly as Spin 3.6.3 decodes them: a `timestamptz` is
//! read as a naive date-time (so reading one fails, as on Spin), `json`, `name`
//! and `"char"` are `unsupported` raw bytes, and a result with no rows has no
//! columns (`crates/factor-outbound-pg/src/types.rs` and `client.rs`).

use anyhow::{Result, bail};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use postgres_range::Range;
use rust_decimal::Decimal;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};

use super::params::{RangeDecimal, WitRange};
use crate::capabilities::bindings::spin::postgres4_0_0::postgres::{
    Column, DbDataType, DbValue, Interval, RangeBoundKind, RowSet,
};

/// What Spin lets one query return to a guest, counted as Spin counts it.
pub const MAX_RESULT_BYTES: usize = 128 << 20;

pub fn row_set(rows: &[Row]) -> Result<RowSet> {
    let columns = rows.first().map(|row| row.columns().iter().map(column).collect()).unwrap_or_default();
    let mut bytes = std::mem::size_of::<RowSet>();
    let mut decoded = Vec::with_capacity(rows.len());
    for row in rows {
        let values = (0..row.len()).map(|i| value(row, i)).collect::<Result<Vec<_>>>()?;
        bytes += values.iter().map(memory_size).sum::<usize>();
        if bytes > MAX_RESULT_BYTES {
            bail!("query result exceeds limit of {MAX_RESULT_BYTES} bytes");
        }
        decoded.push(values);
    }
    Ok(RowSet { columns, rows: decoded })
}

fn column(column: &tokio_postgres::Column) -> Column {
    Column { name: column.name().to_owned(), data_type: data_type(column.type_()) }
}

pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        ref other => DbDataType::Other(other.name().to_owned()),
    }
}

/// One column of one row; a type the column cannot be read as is an error.
fn value(row: &Row, i: usize) -> Result<DbValue> {
    fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize, wrap: impl Fn(T) -> DbValue) -> Result<DbValue> {
        Ok(row.try_get::<_, Option<T>>(i)?.map_or(DbValue::DbNull, wrap))
    }
    match *row.columns()[i].type_() {
        Type::BOOL => get(row, i, DbValue::Boolean),
        Type::BYTEA => get(row, i, DbValue::Binary),
        Type::FLOAT4 => get(row, i, DbValue::Floating32),
        Type::FLOAT8 => get(row, i, DbValue::Floating64),
        Type::INT2 => get(row, i, DbValue::Int16),
        Type::INT4 => get(row, i, DbValue::Int32),
        Type::INT8 => get(row, i, DbValue::Int64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, DbValue::Str),
        // Spin reads both as `NaiveDateTime`, which tokio-postgres refuses for `timestamptz`.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, i, |at: NaiveDateTime| DbValue::Datetime(datetime(at))),
        Type::DATE => get(row, i, |d: NaiveDate| DbValue::Date((d.year(), d.month() as u8, d.day() as u8))),
        Type::TIME => get(row, i, |t: NaiveTime| DbValue::Time(time(t))),
        Type::UUID => get(row, i, |u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        Type::JSONB => get(row, i, |v: serde_json::Value| DbValue::Jsonb(v.to_string().into_bytes())),
        Type::NUMERIC => get(row, i, |d: Decimal| DbValue::Decimal(d.to_string())),
        Type::INT4_RANGE => get(row, i, |r: Range<i32>| DbValue::RangeInt32(range(&r, |v| *v))),
        Type::INT8_RANGE => get(row, i, |r: Range<i64>| DbValue::RangeInt64(range(&r, |v| *v))),
        Type::NUM_RANGE => get(row, i, |r: Range<RangeDecimal>| DbValue::RangeDecimal(range(&r, |v| v.0.to_string()))),
        Type::INT4_ARRAY => get(row, i, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get(row, i, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<Decimal>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => get(row, i, DbValue::ArrayStr),
        Type::INTERVAL => get(row, i, |v: IntervalColumn| DbValue::Interval(v.0)),
        _ => get(row, i, |raw: RawColumn| DbValue::Unsupported(raw.0)),
    }
}

fn datetime(at: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (h, min, s, ns) = time(at.time());
    (at.year(), at.month() as u8, at.day() as u8, h, min, s, ns)
}

fn time(t: NaiveTime) -> (u8, u8, u8, u32) {
    (t.hour() as u8, t.minute() as u8, t.second() as u8, t.nanosecond())
}

fn range<T, W>(value: &Range<T>, convert: impl Fn(&T) -> W) -> WitRange<W>
where
    T: postgres_range::Normalizable + PartialOrd,
{
    let kind = |kind| match kind {
        postgres_range::BoundType::Inclusive => RangeBoundKind::Inclusive,
        postgres_range::BoundType::Exclusive => RangeBoundKind::Exclusive,
    };
    (
        value.lower().map(|b| (convert(&b.value), kind(b.type_))),
        value.upper().map(|b| (convert(&b.value), kind(b.type_))),
    )
}

/// How much of the result limit a value uses, as Spin counts it.
fn memory_size(value: &DbValue) -> usize {
    let base = std::mem::size_of::<DbValue>();
    let strings = |items: &[Option<String>]| {
        items.iter().map(|s| std::mem::size_of::<Option<String>>() + s.as_ref().map_or(0, String::len)).sum::<usize>()
    };
    base + match value {
        DbValue::ArrayInt32(v) => v.len() * std::mem::size_of::<Option<i32>>(),
        DbValue::ArrayInt64(v) => v.len() * std::mem::size_of::<Option<i64>>(),
        DbValue::ArrayDecimal(v) | DbValue::ArrayStr(v) => strings(v),
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => s.len(),
        DbValue::Jsonb(b) | DbValue::Binary(b) | DbValue::Unsupported(b) => b.len(),
        _ => 0,
    }
}

/// An `interval` column: microseconds, days, months on the wire.
struct IntervalColumn(Interval);

impl<'a> FromSql<'a> for IntervalColumn {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let (micros, rest) = raw.split_at_checked(8).ok_or("unexpected binary format for Postgres INTERVAL")?;
        let (days, months) = rest.split_at_checked(4).ok_or("unexpected binary format for Postgres INTERVAL")?;
        let (Ok(micros), Ok(days), Ok(months)) = (micros.try_into(), days.try_into(), months.try_into()) else {
            return Err("unexpected binary format for Postgres INTERVAL".into());
        };
        Ok(Self(Interval {
            micros: i64::from_be_bytes(micros),
            days: i32::from_be_bytes(days),
            months: i32::from_be_bytes(months),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// The raw bytes of a column Spin has no mapping for.
struct RawColumn(Vec<u8>);

impl<'a> FromSql<'a> for RawColumn {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_as_on_spin() {
        let table = [
            (Type::TIMESTAMPTZ, DbDataType::Datetime),
            (Type::TIMESTAMP, DbDataType::Datetime),
            (Type::JSONB, DbDataType::Jsonb),
            (Type::JSON, DbDataType::Other("json".into())),
            (Type::NAME, DbDataType::Other("name".into())),
            (Type::CHAR, DbDataType::Other("char".into())),
            (Type::NUMERIC, DbDataType::Decimal),
            (Type::BPCHAR_ARRAY, DbDataType::ArrayStr),
            (Type::UUID_ARRAY, DbDataType::Other("_uuid".into())),
            (Type::INTERVAL, DbDataType::Interval),
        ];
        for (ty, expected) in table {
            assert_eq!(format!("{:?}", data_type(&ty)), format!("{expected:?}"), "{ty}");
        }
    }

    #[test]
    fn an_interval_column_needs_sixteen_bytes() {
        let mut raw = 5i64.to_be_bytes().to_vec();
        raw.extend(2i32.to_be_bytes());
        raw.extend(1i32.to_be_bytes());
        let read = IntervalColumn::from_sql(&Type::INTERVAL, &raw).expect("valid").0;
        assert_eq!((read.micros, read.days, read.months), (5, 2, 1));
        assert!(IntervalColumn::from_sql(&Type::INTERVAL, &raw[..12]).is_err());
    }
}
