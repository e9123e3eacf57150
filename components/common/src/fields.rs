//! Field-by-field validation that reports every invalid field at once.

use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::{FieldError, Problem};

/// Collects field errors while a body is parsed into domain values.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps the value, or records why the field is invalid.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.errors.push(FieldError::new(field, message))).ok()
    }

    /// A field of a partial update that may be changed but never cleared: left out
    /// is `None`, null is an error, a value is parsed like the create field.
    pub fn take_patch<S, T>(
        &mut self,
        field: &str,
        value: Patch<S>,
        parse: impl Fn(Option<S>) -> Result<T, String>,
    ) -> Option<T> {
        match value {
            Patch::Absent => None,
            Patch::Null => self.take(field, Err("cannot be null".into())),
            Patch::Value(v) => self.take(field, parse(Some(v))),
        }
    }

    /// Records an error that involves a field whose own value was fine (e.g. `ends_at`).
    pub fn reject(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every invalid field, to be answered with one 422.
    pub fn invalid(self) -> Invalid {
        Invalid(self.errors)
    }
}

/// Input that named invalid values, each field with why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn field(field: &str, message: &str) -> Self {
        Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<Invalid> for Problem {
    fn from(Invalid(errors): Invalid) -> Self {
        Problem::invalid(errors)
    }
}

/// A field of a partial update: left out, set to null, or given a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Patch::Null, Patch::Value))
    }
}

/// A required text: trimmed, not empty, at most `max` characters.
pub fn required_text(value: Option<String>, max: usize) -> Result<String, String> {
    let value = value.ok_or("is required")?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    bounded(trimmed, max).map(str::to_owned)
}

/// An optional text: trimmed, empty means absent, at most `max` characters.
pub fn optional_text(value: Option<String>, max: usize) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(trimmed) => bounded(trimmed, max).map(|t| Some(t.to_owned())),
    }
}

fn bounded(text: &str, max: usize) -> Result<&str, String> {
    // PostgreSQL text cannot hold NUL; everything else is stored as sent.
    if text.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(text)
}

/// A required UUID given as a string.
pub fn required_uuid(value: Option<String>) -> Result<Uuid, String> {
    let value = value.ok_or("is required")?;
    parse_uuid(value.trim()).ok_or_else(|| "must be a UUID".into())
}

/// An optional UUID given as a string.
pub fn optional_uuid(value: Option<String>) -> Result<Option<Uuid>, String> {
    value.map(|value| required_uuid(Some(value))).transpose()
}

/// An optional UUID query parameter: absent, or a 400 naming it when malformed.
pub fn query_uuid(name: &str, value: Option<&str>) -> Result<Option<Uuid>, crate::Problem> {
    value.map(|v| parse_uuid(v).ok_or_else(|| crate::Problem::malformed(format!("{name} must be a UUID")))).transpose()
}

/// Accepts only the hyphenated form, the one this API writes.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

/// An integer as JSON Schema counts them: `8` and `8.0` alike (a number with no
/// fractional part), of any size, so a body valid by `openapi.yaml` is never
/// refused for its spelling; one outside a field's range is that field's 422.
/// Anything else, `8.5` or a string, is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber(pub i128);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeNumber;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(n.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<WholeNumber, E> {
                // Beyond i128 the conversion saturates: still out of every field's range.
                if n.is_finite() && n.fract() == 0.0 {
                    Ok(WholeNumber(n as i128))
                } else {
                    Err(E::invalid_type(serde::de::Unexpected::Float(n), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A required integer within `range`.
pub fn required_int(value: Option<WholeNumber>, range: std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    let WholeNumber(value) = value.ok_or("is required")?;
    i64::try_from(value)
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| format!("must be between {} and {}", range.start(), range.end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_may_be_written_with_a_zero_fraction() {
        let read = |text: &str| serde_json::from_str::<WholeNumber>(text).map(|n| n.0).ok();
        assert_eq!(read("8"), Some(8));
        assert_eq!(read("8.0"), Some(8));
        assert_eq!(read("-3e2"), Some(-300));
        assert_eq!(read("9223372036854775808"), Some(1 << 63));
        for not_whole in ["8.5", "\"8\"", "true", "null"] {
            assert_eq!(read(not_whole), None, "{not_whole}");
        }
    }

    #[test]
    fn an_integer_beyond_the_range_is_out_of_range_however_large() {
        let out_of_range = Err("must be between 0 and 9223372036854775807".to_string());
        for huge in ["9223372036854775808", "1.8279923780805366e+25", "1e300"] {
            let value = serde_json::from_str::<WholeNumber>(huge).ok();
            assert_eq!(required_int(value, 0..=i64::MAX), out_of_range, "{huge}");
        }
    }

    #[test]
    fn text_is_trimmed() {
        assert_eq!(required_text(Some("  Ada ".into()), 10), Ok("Ada".into()));
    }

    #[test]
    fn blank_required_text_is_rejected() {
        assert!(required_text(Some("   ".into()), 10).is_err());
        assert!(required_text(None, 10).is_err());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(required_text(Some("é".repeat(10)), 10).is_ok());
        assert!(required_text(Some("é".repeat(11)), 10).is_err());
    }

    #[test]
    fn nul_characters_are_rejected() {
        assert!(required_text(Some("a\0b".into()), 10).is_err());
        assert!(optional_text(Some("\0".into()), 10).is_err());
    }

    #[test]
    fn blank_optional_text_is_absent() {
        assert_eq!(optional_text(Some(" ".into()), 5), Ok(None));
    }

    #[test]
    fn only_hyphenated_uuids_are_accepted() {
        assert!(parse_uuid("0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d").is_some());
        assert!(parse_uuid("0b6a3b4e8f7e4a8e9d554f3c2a1b0c9d").is_none());
        assert!(parse_uuid("not-a-uuid").is_none());
    }

    #[test]
    fn integers_outside_the_range_are_rejected() {
        assert!(required_int(Some(WholeNumber(0)), 1..=10).is_err());
        assert_eq!(required_int(Some(WholeNumber(10)), 1..=10), Ok(10));
    }

    #[test]
    fn fields_collect_every_error() {
        let mut fields = Fields::default();
        let a: Option<String> = fields.take("a", required_text(None, 5));
        let b: Option<i64> = fields.take("b", required_int(Some(WholeNumber(99)), 1..=5));
        assert!(a.is_none() && b.is_none());
        assert_eq!(fields.invalid().0.len(), 2);
    }

    #[test]
    fn patch_tells_null_from_absent() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            venue: Patch<String>,
        }
        let absent: Body = serde_json::from_str("{}").expect("json");
        let null: Body = serde_json::from_str(r#"{"venue":null}"#).expect("json");
        assert_eq!(absent.venue, Patch::Absent);
        assert_eq!(null.venue, Patch::Null);
    }
}
