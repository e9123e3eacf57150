//! Timestamps on the wire: RFC 3339, always written in UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Parses RFC 3339 with any offset into UTC, keeping the microseconds Postgres stores.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(text.trim()).ok()?.with_timezone(&Utc);
    DateTime::from_timestamp_micros(parsed.timestamp_micros())
}

/// Now, in UTC, to the microsecond PostgreSQL keeps.
pub fn now() -> NaiveDateTime {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now).naive_utc()
}

/// `2026-05-01T18:00:00Z`, with a fraction only when there is one.
pub fn format_rfc3339(at: &NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A required timestamp field of a body.
pub fn required_timestamp(value: Option<String>) -> Result<DateTime<Utc>, String> {
    let value = value.ok_or("is required")?;
    parse_rfc3339(&value).ok_or_else(|| "must be an RFC 3339 timestamp such as 2026-05-01T18:00:00Z".into())
}

/// `#[serde(serialize_with = "rfc3339")]` for stored timestamps.
pub fn rfc3339<S: serde::Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_rfc3339(at))
}

/// `#[serde(serialize_with = "rfc3339_opt")]` for stored timestamps that may be null.
pub fn rfc3339_opt<S: serde::Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_normalised_to_utc() {
        let at = parse_rfc3339("2026-05-01T20:00:00+02:00").expect("valid");
        assert_eq!(format_rfc3339(&at.naive_utc()), "2026-05-01T18:00:00Z");
    }

    #[test]
    fn not_a_timestamp_is_rejected() {
        assert!(parse_rfc3339("2026-05-01").is_none());
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_none());
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn sub_microsecond_digits_are_dropped() {
        let at = parse_rfc3339("2026-05-01T18:00:00.1234567Z").expect("valid");
        assert_eq!(format_rfc3339(&at.naive_utc()), "2026-05-01T18:00:00.123456Z");
    }
}
