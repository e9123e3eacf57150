//! Guest parameters, bound exactly as Spin 3.6.3 binds them: each value as its own
//! Rust type, with no coercion to the type the server inferred. A guest whose
//! `Int32` meets a `bigint` placeholder, or whose `Datetime` meets a `timestamptz`,
//! fails here as it fails on Spin (`crates/factor-outbound-pg/src/types.rs`).

use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use postgres_range::{BoundSide, BoundSided, BoundType, Normalizable, Range, RangeBound};
use rust_decimal::Decimal;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::capabilities::bindings::spin::postgres4_0_0::postgres::{Interval, ParameterValue, RangeBoundKind};

pub type Param = Box<dyn ToSql + Sync + Send>;

/// A range of the WIT: each bound, when present, with its kind.
pub type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

/// Every parameter of a statement, or the first that cannot be converted.
pub fn bind_all(values: &[ParameterValue]) -> Result<Vec<Param>> {
    values.iter().map(bind).collect()
}

pub fn bind(value: &ParameterValue) -> Result<Param> {
    use ParameterValue as P;
    Ok(match value {
        P::Boolean(v) => Box::new(*v),
        P::Int8(v) => Box::new(*v),
        P::Int16(v) => Box::new(*v),
        P::Int32(v) => Box::new(*v),
        P::Int64(v) => Box::new(*v),
        P::Floating32(v) => Box::new(*v),
        P::Floating64(v) => Box::new(*v),
        P::Str(v) => Box::new(v.clone()),
        P::Binary(v) => Box::new(v.clone()),
        P::Date(v) => Box::new(date(*v)?),
        P::Time(v) => Box::new(time(*v)?),
        P::Datetime(v) => Box::new(datetime(*v)?),
        P::Timestamp(v) => Box::new(timestamp(*v)?),
        P::Uuid(v) => Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?),
        P::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        P::Decimal(v) => Box::new(decimal(v)?),
        P::RangeInt32(v) => Box::new(range(*v)?),
        P::RangeInt64(v) => Box::new(range(*v)?),
        P::RangeDecimal((lower, upper)) => {
            let bound = |(value, kind): &(String, RangeBoundKind)| decimal(value).map(|d| (RangeDecimal(d), *kind));
            Box::new(range((lower.as_ref().map(bound).transpose()?, upper.as_ref().map(bound).transpose()?))?)
        }
        P::ArrayInt32(v) => Box::new(v.clone()),
        P::ArrayInt64(v) => Box::new(v.clone()),
        P::ArrayDecimal(v) => Box::new(
            v.iter().map(|item| item.as_deref().map(decimal).transpose()).collect::<Result<Vec<Option<Decimal>>>>()?,
        ),
        P::ArrayStr(v) => Box::new(v.clone()),
        P::Interval(v) => Box::new(IntervalParam(*v)),
        P::DbNull => Box::new(Null),
    })
}

fn date((y, m, d): (i32, u8, u8)) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))
}

fn time((h, min, s, ns): (u8, u8, u8, u32)) -> Result<NaiveTime> {
    NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))
}

fn datetime((y, mon, d, h, min, s, ns): (i32, u8, u8, u8, u8, u8, u32)) -> Result<NaiveDateTime> {
    Ok(NaiveDateTime::new(date((y, mon, d))?, time((h, min, s, ns))?))
}

/// Seconds since the epoch, bound as a `timestamptz`.
fn timestamp(seconds: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| anyhow!("invalid epoch timestamp {seconds}"))
}

fn decimal(text: &str) -> Result<Decimal> {
    Decimal::from_str_exact(text).with_context(|| format!("invalid decimal {text}"))
}

fn range<T: Normalizable + PartialOrd + Bounded>(value: WitRange<T>) -> Result<Range<T>> {
    let (lower, upper) = value;
    Ok(Range::new(lower.map(bound).transpose()?, upper.map(bound).transpose()?))
}

/// An integer bound that normalises past the type's maximum (an inclusive upper or
/// exclusive lower bound at it) is the guest's bad parameter, where the range
/// crate would panic.
fn bound<S: BoundSided, T: Normalizable + PartialOrd + Bounded>(
    (value, kind): (T, RangeBoundKind),
) -> Result<RangeBound<S, T>> {
    let kind = match kind {
        RangeBoundKind::Inclusive => BoundType::Inclusive,
        RangeBoundKind::Exclusive => BoundType::Exclusive,
    };
    let increments = matches!(
        (S::side(), kind),
        (BoundSide::Upper, BoundType::Inclusive) | (BoundSide::Lower, BoundType::Exclusive)
    );
    if increments && value.is_max() {
        bail!("a range bound at the type's maximum cannot be normalised");
    }
    Ok(RangeBound::new(value, kind))
}

/// Whether a range bound sits at its type's maximum.
trait Bounded {
    fn is_max(&self) -> bool;
}

impl Bounded for i32 {
    fn is_max(&self) -> bool {
        *self == i32::MAX
    }
}

impl Bounded for i64 {
    fn is_max(&self) -> bool {
        *self == i64::MAX
    }
}

impl Bounded for RangeDecimal {
    fn is_max(&self) -> bool {
        false
    }
}

/// A decimal as a range bound: continuous, so never normalised.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RangeDecimal(pub Decimal);

impl Normalizable for RangeDecimal {
    fn normalize<S: BoundSided>(bound: RangeBound<S, Self>) -> RangeBound<S, Self> {
        bound
    }
}

impl ToSql for RangeDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for RangeDecimal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Decimal::from_sql(ty, raw).map(RangeDecimal)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

/// An `interval` on the wire: microseconds, days, months.
#[derive(Debug)]
struct IntervalParam(Interval);

impl ToSql for IntervalParam {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

/// SQL NULL for a placeholder of any type, as Spin sends `db-null`.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParameterValue as P;

    /// Whether tokio-postgres would send `value` for a placeholder of type `ty`.
    fn binds_to(value: ParameterValue, ty: &Type) -> bool {
        let param = bind(&value).expect("converts");
        param.to_sql_checked(ty, &mut BytesMut::new()).is_ok()
    }

    /// Spin's table: each value binds to exactly the types its own Rust type accepts.
    #[test]
    fn each_value_binds_only_to_its_own_type() {
        let dt = (2026, 5, 1, 18, 0, 0, 0);
        let table: Vec<(ParameterValue, &[Type], &[Type])> = vec![
            (P::Boolean(true), &[Type::BOOL], &[Type::INT4, Type::TEXT]),
            (P::Int8(1), &[Type::CHAR], &[Type::INT2, Type::INT4, Type::INT8]),
            (P::Int16(1), &[Type::INT2], &[Type::INT4, Type::INT8]),
            (P::Int32(1), &[Type::INT4], &[Type::INT2, Type::INT8, Type::FLOAT8, Type::NUMERIC]),
            (P::Int64(1), &[Type::INT8], &[Type::INT4, Type::INT2, Type::NUMERIC]),
            (P::Floating32(1.5), &[Type::FLOAT4], &[Type::FLOAT8]),
            (P::Floating64(1.5), &[Type::FLOAT8], &[Type::FLOAT4, Type::NUMERIC]),
            (P::Str("x".into()), &[Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME], &[Type::UUID, Type::JSONB]),
            (P::Binary(vec![1]), &[Type::BYTEA], &[Type::TEXT]),
            (P::Date((2026, 5, 1)), &[Type::DATE], &[Type::TIMESTAMP]),
            (P::Time((18, 0, 0, 0)), &[Type::TIME], &[Type::TIMETZ]),
            (P::Datetime(dt), &[Type::TIMESTAMP], &[Type::TIMESTAMPTZ, Type::DATE]),
            (P::Timestamp(0), &[Type::TIMESTAMPTZ], &[Type::TIMESTAMP, Type::INT8]),
            (P::Uuid("0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d".into()), &[Type::UUID], &[Type::TEXT]),
            (P::Jsonb(b"{}".to_vec()), &[Type::JSONB, Type::JSON], &[Type::TEXT]),
            (P::Decimal("1.5".into()), &[Type::NUMERIC], &[Type::FLOAT8, Type::TEXT]),
            (P::RangeInt32((None, None)), &[Type::INT4_RANGE], &[Type::INT8_RANGE]),
            (P::RangeInt64((None, None)), &[Type::INT8_RANGE], &[Type::INT4_RANGE]),
            (P::RangeDecimal((None, None)), &[Type::NUM_RANGE], &[Type::INT8_RANGE]),
            (P::ArrayInt32(vec![Some(1)]), &[Type::INT4_ARRAY], &[Type::INT8_ARRAY]),
            (P::ArrayInt64(vec![None]), &[Type::INT8_ARRAY], &[Type::INT4_ARRAY]),
            (P::ArrayDecimal(vec![Some("2".into())]), &[Type::NUMERIC_ARRAY], &[Type::TEXT_ARRAY]),
            (P::ArrayStr(vec![Some("a".into())]), &[Type::TEXT_ARRAY, Type::VARCHAR_ARRAY], &[Type::UUID_ARRAY]),
            (P::Interval(Interval { micros: 1, days: 2, months: 3 }), &[Type::INTERVAL], &[Type::TIME]),
            (P::DbNull, &[Type::INT4, Type::UUID, Type::TIMESTAMPTZ], &[]),
        ];
        for (value, accepted, refused) in table {
            for ty in accepted {
                assert!(binds_to(value.clone(), ty), "{value:?} must bind to {ty}");
            }
            for ty in refused {
                assert!(!binds_to(value.clone(), ty), "{value:?} must not bind to {ty}");
            }
        }
    }

    #[test]
    fn values_that_are_not_what_they_claim_are_refused() {
        for bad in [
            P::Uuid("nope".into()),
            P::Jsonb(b"{".to_vec()),
            P::Decimal("1.2.3".into()),
            P::Date((2026, 2, 30)),
            P::Time((24, 0, 0, 0)),
            P::Datetime((2026, 2, 30, 0, 0, 0, 0)),
            P::Timestamp(i64::MAX),
            P::ArrayDecimal(vec![Some("x".into())]),
            P::RangeInt32((None, Some((i32::MAX, RangeBoundKind::Inclusive)))),
        ] {
            assert!(bind(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_timestamp_is_seconds_since_the_epoch() {
        assert_eq!(timestamp(86_400).expect("valid").to_rfc3339(), "1970-01-02T00:00:00+00:00");
    }
}
