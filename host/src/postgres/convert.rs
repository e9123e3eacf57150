//! Values between the guest's `spin:postgres` types and the wire.
//!
//! Parameters are encoded for the type the server inferred for each placeholder
//! (so a guest's string binds to a `uuid` column, an int32 to an `int8`); result
//! columns map to the closest `db-value`.

use std::error::Error as _;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::capabilities::spin::postgres4_0_0::postgres::{
    Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};

type Param = Box<dyn ToSql + Sync + Send>;

/// Encoded parameters, ready to hand to tokio-postgres.
pub struct Params(Vec<Param>);

impl Params {
    pub fn as_refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
    }
}

pub fn encode_params(values: Vec<ParameterValue>, types: &[Type]) -> Result<Params, Error> {
    if values.len() != types.len() {
        return Err(Error::BadParameter(format!(
            "the statement takes {} parameters but {} were given",
            types.len(),
            values.len()
        )));
    }
    values
        .into_iter()
        .zip(types)
        .enumerate()
        .map(|(i, (value, ty))| {
            encode(value, ty).map_err(|why| Error::BadParameter(format!("parameter ${}: {why}", i + 1)))
        })
        .collect::<Result<_, _>>()
        .map(Params)
}

fn encode(value: ParameterValue, ty: &Type) -> Result<Param, String> {
    use ParameterValue as P;
    let mismatch = |what: &str| format!("a {what} cannot be sent as {ty}");
    Ok(match value {
        P::DbNull => Box::new(Null),
        P::Boolean(b) => Box::new(b),
        P::Int8(n) => integer(i64::from(n), ty)?,
        P::Int16(n) => integer(i64::from(n), ty)?,
        P::Int32(n) => integer(i64::from(n), ty)?,
        P::Int64(n) => integer(n, ty)?,
        P::Floating32(f) if *ty == Type::FLOAT8 => Box::new(f64::from(f)),
        P::Floating32(f) => Box::new(f),
        P::Floating64(f) if *ty == Type::FLOAT4 => Box::new(f as f32),
        P::Floating64(f) => Box::new(f),
        P::Str(s) | P::Uuid(s) if *ty == Type::UUID => {
            Box::new(uuid::Uuid::try_parse(&s).map_err(|_| format!("`{s}` is not a UUID"))?)
        }
        P::Str(s) | P::Uuid(s) if *ty == Type::JSON || *ty == Type::JSONB => {
            Box::new(serde_json::from_str::<serde_json::Value>(&s).map_err(|e| format!("not JSON: {e}"))?)
        }
        P::Str(s) | P::Uuid(s) => Box::new(s),
        P::Binary(b) => Box::new(b),
        P::Jsonb(bytes) => {
            Box::new(serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| format!("not JSON: {e}"))?)
        }
        P::Date((y, m, d)) => Box::new(NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or("not a valid date")?),
        P::Time((h, min, s, ns)) => {
            Box::new(NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns).ok_or("not a valid time")?)
        }
        P::Datetime((y, mo, d, h, mi, s, ns)) => {
            let at = NaiveDate::from_ymd_opt(y, mo.into(), d.into())
                .and_then(|date| date.and_hms_nano_opt(h.into(), mi.into(), s.into(), ns))
                .ok_or("not a valid date-time")?;
            timestamp(at, ty)
        }
        P::Timestamp(secs) => {
            timestamp(DateTime::<Utc>::from_timestamp(secs, 0).ok_or("timestamp out of range")?.naive_utc(), ty)
        }
        P::ArrayInt32(v) => Box::new(v),
        P::ArrayInt64(v) => Box::new(v),
        P::ArrayStr(v) => Box::new(v),
        P::Decimal(_) => {
            return Err(mismatch("decimal (not supported by this host; cast text in SQL)"));
        }
        P::RangeInt32(_) | P::RangeInt64(_) | P::RangeDecimal(_) => return Err(mismatch("range")),
        P::ArrayDecimal(_) => return Err(mismatch("decimal array")),
        P::Interval(_) => return Err(mismatch("interval")),
    })
}

/// Widens or narrows an integer to the column's width, refusing what does not fit.
fn integer(n: i64, ty: &Type) -> Result<Param, String> {
    let out_of_range = || format!("{n} does not fit {ty}");
    Ok(match *ty {
        Type::INT2 => Box::new(i16::try_from(n).map_err(|_| out_of_range())?),
        Type::INT4 => Box::new(i32::try_from(n).map_err(|_| out_of_range())?),
        Type::FLOAT8 => Box::new(n as f64),
        Type::CHAR => Box::new(i8::try_from(n).map_err(|_| out_of_range())?),
        _ => Box::new(n),
    })
}

fn timestamp(at: NaiveDateTime, ty: &Type) -> Param {
    if *ty == Type::TIMESTAMPTZ { Box::new(at.and_utc()) } else { Box::new(at) }
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The raw bytes of a column this host has no mapping for.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

pub fn row_set(columns: &[tokio_postgres::Column], rows: &[Row]) -> Result<RowSet, Error> {
    let columns =
        columns.iter().map(|c| Column { name: c.name().to_owned(), data_type: data_type(c.type_()) }).collect();
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| decode(row, i)).collect::<Result<Vec<_>, _>>())
        .collect::<Result<_, _>>()?;
    Ok(RowSet { columns, rows })
}

fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => DbDataType::ArrayStr,
        ref other => DbDataType::Other(other.name().to_owned()),
    }
}

fn decode(row: &Row, i: usize) -> Result<DbValue, Error> {
    let ty = row.columns()[i].type_().clone();
    let failed = |e: tokio_postgres::Error| {
        Error::ValueConversionFailed(format!("column {}: {}", row.columns()[i].name(), error_text(&e)))
    };
    macro_rules! get {
        ($t:ty, $wrap:expr) => {
            row.try_get::<_, Option<$t>>(i).map_err(failed)?.map($wrap)
        };
    }
    let value = match ty {
        Type::BOOL => get!(bool, DbValue::Boolean),
        Type::CHAR => get!(i8, DbValue::Int8),
        Type::INT2 => get!(i16, DbValue::Int16),
        Type::INT4 => get!(i32, DbValue::Int32),
        Type::INT8 => get!(i64, DbValue::Int64),
        Type::FLOAT4 => get!(f32, DbValue::Floating32),
        Type::FLOAT8 => get!(f64, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get!(String, DbValue::Str),
        Type::BYTEA => get!(Vec<u8>, DbValue::Binary),
        Type::DATE => get!(NaiveDate, |d: NaiveDate| {
            use chrono::Datelike;
            DbValue::Date((d.year(), d.month() as u8, d.day() as u8))
        }),
        Type::TIME => get!(NaiveTime, |t: NaiveTime| {
            use chrono::Timelike;
            DbValue::Time((t.hour() as u8, t.minute() as u8, t.second() as u8, t.nanosecond()))
        }),
        Type::TIMESTAMP => get!(NaiveDateTime, datetime),
        Type::TIMESTAMPTZ => get!(DateTime<Utc>, |at: DateTime<Utc>| datetime(at.naive_utc())),
        Type::UUID => get!(uuid::Uuid, |u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        Type::JSON | Type::JSONB => get!(serde_json::Value, |v: serde_json::Value| {
            DbValue::Jsonb(serde_json::to_vec(&v).unwrap_or_default())
        }),
        Type::INT4_ARRAY => get!(Vec<Option<i32>>, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get!(Vec<Option<i64>>, DbValue::ArrayInt64),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => get!(Vec<Option<String>>, DbValue::ArrayStr),
        _ => get!(Raw, |raw: Raw| DbValue::Unsupported(raw.0)),
    };
    Ok(value.unwrap_or(DbValue::DbNull))
}

fn datetime(at: NaiveDateTime) -> DbValue {
    use chrono::{Datelike, Timelike};
    DbValue::Datetime((
        at.year(),
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
        at.nanosecond(),
    ))
}

/// A database error with its SQLSTATE and fields, or the text of anything else.
pub fn to_wit_error(error: &tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => {
            let mut extras = Vec::new();
            let mut push = |key: &str, value: Option<&str>| {
                if let Some(value) = value {
                    extras.push((key.to_owned(), value.to_owned()));
                }
            };
            push("constraint", db.constraint());
            push("table", db.table());
            push("column", db.column());
            push("schema", db.schema());
            push("hint", db.hint());
            Error::QueryFailed(QueryError::DbError(DbError {
                as_text: db.to_string(),
                severity: db.severity().to_owned(),
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
                extras,
            }))
        }
        None => Error::QueryFailed(QueryError::Text(error_text(error))),
    }
}

/// tokio-postgres prints only "db error" for server errors; the cause is one level down.
pub fn error_text(error: &tokio_postgres::Error) -> String {
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_is_narrowed_only_when_it_fits() {
        assert!(integer(7, &Type::INT4).is_ok());
        assert!(integer(i64::MAX, &Type::INT4).is_err());
        assert!(integer(40_000, &Type::INT2).is_err());
    }

    #[test]
    fn a_string_bound_to_a_uuid_must_be_one() {
        assert!(encode(ParameterValue::Str("nope".into()), &Type::UUID).is_err());
        assert!(encode(ParameterValue::Str("0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d".into()), &Type::UUID).is_ok());
    }

    #[test]
    fn the_parameter_count_must_match() {
        let err = encode_params(vec![ParameterValue::Int32(1)], &[]).err();
        assert!(matches!(err, Some(Error::BadParameter(_))));
    }

    #[test]
    fn an_impossible_date_is_refused() {
        assert!(encode(ParameterValue::Datetime((2026, 2, 30, 0, 0, 0, 0)), &Type::TIMESTAMPTZ).is_err());
    }
}
