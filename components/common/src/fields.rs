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

    /// The 422 listing every invalid field.
    pub fn problem(self) -> Problem {
        Problem::invalid(self.errors)
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

/// Accepts only the hyphenated form, the one this API writes.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

/// A required integer within `range`.
pub fn required_int(value: Option<i64>, range: std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    let value = value.ok_or("is required")?;
    if !range.contains(&value) {
        return Err(format!("must be between {} and {}", range.start(), range.end()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(required_int(Some(0), 1..=10).is_err());
        assert_eq!(required_int(Some(10), 1..=10), Ok(10));
    }

    #[test]
    fn fields_collect_every_error() {
        let mut fields = Fields::default();
        let a: Option<String> = fields.take("a", required_text(None, 5));
        let b: Option<i64> = fields.take("b", required_int(Some(99), 1..=5));
        assert!(a.is_none() && b.is_none());
        assert_eq!(fields.problem().errors.len(), 2);
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
