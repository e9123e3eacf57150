//! `/probe/pg-types`: how the host binds every kind of parameter to every common
//! column type, and decodes every common column type, one line each, so that
//! two runtimes can be compared line by line.

use spin_sdk::pg4::{Connection, DbValue, Interval, ParameterValue as P, PgError, QueryError, RangeBoundKind as K};

const TYPES: &[&str] = &[
    "bool",
    "\"char\"",
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "text",
    "varchar",
    "name",
    "bytea",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "uuid",
    "json",
    "jsonb",
    "int4range",
    "int8range",
    "numrange",
    "int4[]",
    "int8[]",
    "numeric[]",
    "text[]",
    "interval",
];

const COLUMNS: &[&str] = &[
    "true",
    "'a'::\"char\"",
    "1::int2",
    "1::int4",
    "1::int8",
    "1.5::float4",
    "1.5::float8",
    "1.50::numeric",
    "'a'::text",
    "'a'::varchar",
    "'a'::bpchar",
    "'a'::name",
    "'\\x01ff'::bytea",
    "'2026-05-01'::date",
    "'18:00:01.5'::time",
    "'2026-05-01 18:00:00.25'::timestamp",
    "'2026-05-01 18:00:00+02'::timestamptz",
    "'0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d'::uuid",
    "'{\"a\": 1}'::json",
    "'{\"a\": 1}'::jsonb",
    "'[1,5)'::int4range",
    "'(,9]'::int8range",
    "'[1.5,2.5]'::numrange",
    "'{1,NULL}'::int4[]",
    "'{1}'::int8[]",
    "'{1.5}'::numeric[]",
    "'{a,NULL}'::text[]",
    "'1 day 2 hours'::interval",
    "NULL::int4",
    "'(1,2)'::point",
];

fn values() -> Vec<P> {
    vec![
        P::Boolean(true),
        P::Int8(1),
        P::Int16(1),
        P::Int32(1),
        P::Int64(1),
        P::Floating32(1.5),
        P::Floating64(1.5),
        P::Str("1".into()),
        P::Binary(vec![1]),
        P::Date((2026, 5, 1)),
        P::Time((18, 0, 0, 0)),
        P::Datetime((2026, 5, 1, 18, 0, 0, 0)),
        P::Timestamp(0),
        P::Uuid("0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d".into()),
        P::Jsonb(b"{}".to_vec()),
        P::Decimal("1.5".into()),
        P::RangeInt32((Some((1, K::Inclusive)), Some((5, K::Exclusive)))),
        P::RangeInt64((None, Some((9, K::Inclusive)))),
        P::RangeDecimal((Some(("1.5".into(), K::Inclusive)), None)),
        P::ArrayInt32(vec![Some(1), None]),
        P::ArrayInt64(vec![Some(1)]),
        P::ArrayDecimal(vec![Some("1.5".into())]),
        P::ArrayStr(vec![Some("a".into()), None]),
        P::Interval(Interval { micros: 1, days: 2, months: 3 }),
        P::DbNull,
        P::Uuid("not-a-uuid".into()),
        P::Datetime((2026, 2, 30, 0, 0, 0, 0)),
    ]
}

pub fn report(address: &str) -> Result<String, PgError> {
    let conn = Connection::open(address)?;
    let mut lines = Vec::new();
    for value in values() {
        for ty in TYPES {
            let outcome = conn.query(&format!("SELECT $1::{ty} IS NULL AS n"), std::slice::from_ref(&value));
            lines.push(format!("bind {value:?} as {ty}: {}", label(outcome.map(|_| ()))));
        }
    }
    for column in COLUMNS {
        let line = match conn.query(&format!("SELECT {column} AS v"), &[]) {
            Ok(rows) => {
                let value: Option<&DbValue> = rows.rows.first().and_then(|row| row.first());
                format!("{:?} {value:?}", rows.columns.first().map(|c| &c.data_type))
            }
            Err(e) => label(Err(e)),
        };
        lines.push(format!("read {column}: {line}"));
    }
    Ok(lines.join("\n"))
}

/// The kind of failure, without texts that name one runtime's internals.
fn label(outcome: Result<(), PgError>) -> String {
    match outcome {
        Ok(()) => "ok".into(),
        Err(PgError::QueryFailed(QueryError::DbError(db))) => format!("query-failed db-error {}", db.code),
        Err(PgError::QueryFailed(QueryError::Text(_))) => "query-failed text".into(),
        Err(PgError::BadParameter(_)) => "bad-parameter".into(),
        Err(PgError::ValueConversionFailed(_)) => "value-conversion-failed".into(),
        Err(PgError::ConnectionFailed(_)) => "connection-failed".into(),
        Err(PgError::Other(_)) => "other".into(),
    }
}
