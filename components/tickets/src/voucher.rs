//! Vouchers: codes an organizer hands out that take money off an event's
//! tickets or unlock its hidden ticket types, each usable a set number of times
//! within a window.

use chrono::NaiveDateTime;
use eventos_common::fields::{Fields, Invalid, WholeNumber, required_int, required_uuid};
use eventos_common::time::{parse_rfc3339, rfc3339, rfc3339_opt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_USES_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;
const MAX_UNLOCKS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Voucher {
    pub id: Uuid,
    pub event_id: Uuid,
    pub code: String,
    pub percent_off: Option<i32>,
    pub amount_off_cents: Option<i64>,
    /// Hidden ticket types of the event it lets its holder buy.
    pub unlocks: Vec<Uuid>,
    pub max_uses: i32,
    /// Checkouts that hold or used it.
    pub used: i32,
    #[serde(serialize_with = "rfc3339_opt")]
    pub valid_from: Option<NaiveDateTime>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub valid_until: Option<NaiveDateTime>,
    pub created_by: Uuid,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

impl Voucher {
    /// Whether `at` falls in the window it may be used in.
    pub fn is_valid_at(&self, at: NaiveDateTime) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_until.is_none_or(|until| at < until)
    }
}

/// Codes are read as people type them: trimmed, in any case.
pub fn normalize_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    let well_formed =
        (3..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(code)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVoucherBody {
    event_id: Option<String>,
    code: Option<String>,
    percent_off: Option<WholeNumber>,
    amount_off_cents: Option<WholeNumber>,
    unlocks: Option<Vec<String>>,
    max_uses: Option<WholeNumber>,
    valid_from: Option<String>,
    valid_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewVoucher {
    pub event_id: Uuid,
    pub code: String,
    pub percent_off: Option<i32>,
    pub amount_off_cents: Option<i64>,
    pub unlocks: Vec<Uuid>,
    pub max_uses: i32,
    pub valid_from: Option<NaiveDateTime>,
    pub valid_until: Option<NaiveDateTime>,
}

impl NewVoucher {
    pub fn parse(body: CreateVoucherBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let event_id = fields.take("event_id", required_uuid(body.event_id));
        let code = fields.take("code", code(body.code));
        let percent_off = fields.take("percent_off", optional(body.percent_off, 1..=100).map(|p| p.map(|p| p as i32)));
        let amount_off_cents = fields.take("amount_off_cents", optional(body.amount_off_cents, 1..=i64::MAX));
        let unlocks = fields.take("unlocks", unlocks(body.unlocks));
        let max_uses = fields.take("max_uses", required_int(body.max_uses, MAX_USES_RANGE).map(|n| n as i32));
        let valid_from = fields.take("valid_from", optional_instant(body.valid_from));
        let valid_until = fields.take("valid_until", optional_instant(body.valid_until));
        if let (Some(Some(_)), Some(Some(_))) = (percent_off, amount_off_cents) {
            fields.reject("amount_off_cents", "give percent_off or amount_off_cents, not both");
        }
        if let (Some(None), Some(None), Some(unlocks)) = (percent_off, amount_off_cents, &unlocks)
            && unlocks.is_empty()
        {
            fields
                .reject("unlocks", "a voucher takes money off (percent_off, amount_off_cents) or unlocks ticket types");
        }
        if let (Some(Some(from)), Some(Some(until))) = (valid_from, valid_until)
            && from >= until
        {
            fields.reject("valid_until", "must be after valid_from");
        }
        match (event_id, code, percent_off, amount_off_cents, unlocks, max_uses, valid_from, valid_until) {
            (
                Some(event_id),
                Some(code),
                Some(percent_off),
                Some(amount_off_cents),
                Some(unlocks),
                Some(max_uses),
                Some(valid_from),
                Some(valid_until),
            ) if fields.is_clean() => {
                Ok(Self { event_id, code, percent_off, amount_off_cents, unlocks, max_uses, valid_from, valid_until })
            }
            _ => Err(fields.invalid()),
        }
    }
}

fn code(value: Option<String>) -> Result<String, String> {
    normalize_code(&value.ok_or("is required")?).ok_or_else(|| "must be 3 to 32 letters, digits, '-' or '_'".into())
}

fn optional(value: Option<WholeNumber>, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, String> {
    value.map(|value| required_int(Some(value), range)).transpose()
}

fn unlocks(value: Option<Vec<String>>) -> Result<Vec<Uuid>, String> {
    let ids = value.unwrap_or_default();
    if ids.len() > MAX_UNLOCKS {
        return Err(format!("may name at most {MAX_UNLOCKS} ticket types"));
    }
    let mut ids: Vec<Uuid> = ids
        .into_iter()
        .map(|id| required_uuid(Some(id)))
        .collect::<Result<_, _>>()
        .map_err(|_| "must be ticket type ids (UUIDs)".to_string())?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn optional_instant(value: Option<String>) -> Result<Option<NaiveDateTime>, String> {
    value
        .map(|text| {
            parse_rfc3339(&text)
                .map(|at| at.naive_utc())
                .ok_or_else(|| "must be an RFC 3339 timestamp such as 2026-05-01T18:00:00Z".to_string())
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_in_any_case() {
        assert_eq!(normalize_code(" early-bird_1 ").as_deref(), Some("EARLY-BIRD_1"));
        for bad in ["ab", "has space", "ümlaut", &"x".repeat(33)] {
            assert_eq!(normalize_code(bad), None, "{bad}");
        }
    }

    fn parse(json: &str) -> Result<NewVoucher, Vec<String>> {
        NewVoucher::parse(serde_json::from_str(json).expect("json"))
            .map_err(|invalid| invalid.0.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_voucher_discounts_or_unlocks_but_not_two_discounts() {
        let event = r#""event_id":"0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d","code":"vip","max_uses":5"#;
        assert!(parse(&format!("{{{event},\"percent_off\":10}}")).is_ok());
        assert!(parse(&format!("{{{event},\"unlocks\":[\"3d5c1a7e-2222-4d4d-9b9b-abcdefabcdef\"]}}")).is_ok());
        assert_eq!(parse(&format!("{{{event}}}")), Err(vec!["unlocks".into()]));
        assert_eq!(
            parse(&format!("{{{event},\"percent_off\":10,\"amount_off_cents\":5}}")),
            Err(vec!["amount_off_cents".into()])
        );
        assert_eq!(parse(&format!("{{{event},\"percent_off\":101}}")), Err(vec!["percent_off".into()]));
        let window = r#""valid_from":"2027-01-02T00:00:00Z","valid_until":"2027-01-01T00:00:00Z""#;
        assert_eq!(parse(&format!("{{{event},\"percent_off\":5,{window}}}")), Err(vec!["valid_until".into()]));
    }
}
