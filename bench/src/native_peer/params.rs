//! A statement's parameters, as the components bind them (spin-sdk's
//! `ParameterValue`), as tokio-postgres values: each as its own Rust type, the
//! way the host binds them. Only the kinds the peer's statements use.

use chrono::NaiveDate;
use spin_sdk::pg4::ParameterValue;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

pub type Param = Box<dyn ToSql + Sync + Send>;

pub fn bind_all(values: &[ParameterValue]) -> Result<Vec<Param>, String> {
    values.iter().map(bind).collect()
}

fn bind(value: &ParameterValue) -> Result<Param, String> {
    use ParameterValue as P;
    Ok(match value {
        P::Boolean(v) => Box::new(*v),
        P::Int32(v) => Box::new(*v),
        P::Int64(v) => Box::new(*v),
        P::Str(v) => Box::new(v.clone()),
        P::Uuid(v) => Box::new(uuid::Uuid::parse_str(v).map_err(|e| e.to_string())?),
        P::Datetime((year, month, day, hour, minute, second, nanosecond)) => Box::new(
            NaiveDate::from_ymd_opt(*year, (*month).into(), (*day).into())
                .and_then(|date| date.and_hms_nano_opt((*hour).into(), (*minute).into(), (*second).into(), *nanosecond))
                .ok_or("not a date and time")?,
        ),
        P::ArrayInt64(v) => Box::new(v.clone()),
        P::ArrayStr(v) => Box::new(v.clone()),
        P::DbNull => Box::new(Null),
        other => return Err(format!("a parameter the native peer does not bind: {other:?}")),
    })
}

/// SQL NULL, whatever the placeholder's type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

pub fn as_refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}
