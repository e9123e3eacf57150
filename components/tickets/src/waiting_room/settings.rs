//! The body of `PUT /api/tickets/events/{id}/waiting-room`, checked.

use chrono::NaiveDateTime;
use eventos_common::fields::{Fields, Invalid, WholeNumber, required_int};
use eventos_common::time::required_timestamp;
use serde::Deserialize;

pub const RATE_RANGE: std::ops::RangeInclusive<i64> = 1..=600_000;
pub const LIMIT_RANGE: std::ops::RangeInclusive<i64> = 1..=100;
pub const PASS_SECONDS_RANGE: std::ops::RangeInclusive<i64> = 60..=3600;
const DEFAULT_LIMIT: i32 = 4;
const DEFAULT_PASS_SECONDS: i32 = 600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomBody {
    on_sale_at: Option<String>,
    admissions_per_minute: Option<WholeNumber>,
    per_buyer_limit: Option<WholeNumber>,
    pass_seconds: Option<WholeNumber>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoomSettings {
    pub on_sale_at: NaiveDateTime,
    pub admissions_per_minute: i32,
    /// Tickets one admitted buyer may buy while the room is open.
    pub per_buyer_limit: i32,
    /// How long a pass holds from the moment its visitor is admitted.
    pub pass_seconds: i32,
}

impl RoomSettings {
    pub fn parse(body: RoomBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let on_sale_at = fields.take("on_sale_at", required_timestamp(body.on_sale_at).map(|at| at.naive_utc()));
        let rate = fields.take("admissions_per_minute", required_int(body.admissions_per_minute, RATE_RANGE));
        let limit = fields.take(
            "per_buyer_limit",
            body.per_buyer_limit.map_or(Ok(DEFAULT_LIMIT.into()), |n| required_int(Some(n), LIMIT_RANGE)),
        );
        let pass_seconds = fields.take(
            "pass_seconds",
            body.pass_seconds.map_or(Ok(DEFAULT_PASS_SECONDS.into()), |n| required_int(Some(n), PASS_SECONDS_RANGE)),
        );
        match (on_sale_at, rate, limit, pass_seconds) {
            (Some(on_sale_at), Some(rate), Some(limit), Some(pass_seconds)) => Ok(RoomSettings {
                on_sale_at,
                admissions_per_minute: rate as i32,
                per_buyer_limit: limit as i32,
                pass_seconds: pass_seconds as i32,
            }),
            _ => Err(fields.invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RoomSettings, Invalid> {
        RoomSettings::parse(serde_json::from_str(json).expect("a body"))
    }

    #[test]
    fn a_room_needs_its_on_sale_and_rate_and_defaults_the_rest() {
        let settings = parse(r#"{"on_sale_at": "2027-03-01T10:00:00Z", "admissions_per_minute": 600}"#).expect("valid");
        assert_eq!((settings.admissions_per_minute, settings.per_buyer_limit, settings.pass_seconds), (600, 4, 600));
    }

    #[test]
    fn every_invalid_field_is_named() {
        let refused =
            parse(r#"{"admissions_per_minute": 0, "per_buyer_limit": 101, "pass_seconds": 59}"#).expect_err("invalid");
        let named: Vec<&str> = refused.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["on_sale_at", "admissions_per_minute", "per_buyer_limit", "pass_seconds"]);
    }
}
