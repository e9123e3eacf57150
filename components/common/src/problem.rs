//! RFC 9457 problem documents: the one shape every error takes on the wire.

use serde::Serialize;
use serde_json::{Map, Value};

const TYPE_BASE: &str = "https://eventos.dev/problems/";

/// One invalid input field, reported inside a validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// An error answer: the caller's fault (4xx, with a stable `slug`) or ours (5xx).
/// One pointer wide, so that passing it up through `?` costs nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem(Box<ProblemDocument>);

#[derive(Debug, Clone, PartialEq)]
pub struct ProblemDocument {
    pub status: u16,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem document (e.g. `checked_in_at`).
    pub extensions: Map<String, Value>,
    /// The `Allow` header of a 405.
    pub allow: Option<String>,
    /// The `WWW-Authenticate` header of a 401.
    pub challenge: Option<&'static str>,
    /// Why it happened, for the log line only; never sent to the caller.
    pub cause: Option<String>,
}

impl std::ops::Deref for Problem {
    type Target = ProblemDocument;

    fn deref(&self) -> &ProblemDocument {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDocument {
        &mut self.0
    }
}

impl Problem {
    pub fn new(status: u16, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDocument {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
            allow: None,
            challenge: None,
            cause: None,
        }))
    }

    /// The fields at fault, listed in the document's `errors`.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(400, "malformed-request", "Malformed request", detail)
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Self::new(422, "validation-failed", "Invalid input", detail).with_errors(errors)
    }

    pub fn invalid_field(field: &str, message: &str) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not-found", "Not found", format!("no {what} with that id"))
    }

    pub fn no_route(path: &str) -> Self {
        Self::new(404, "not-found", "Not found", format!("no route for {path}"))
    }

    pub fn method_not_allowed(allow: impl Into<String>) -> Self {
        let allow = allow.into();
        let mut problem =
            Self::new(405, "method-not-allowed", "Method not allowed", format!("this resource allows {allow}"));
        problem.allow = Some(allow);
        problem
    }

    pub fn conflict(slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(409, slug, title, detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "payload-too-large", "Payload too large", format!("the body is larger than {limit} bytes"))
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(415, "unsupported-media-type", "Unsupported media type", "send the body as application/json")
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "service-unavailable", "Service unavailable", detail)
    }

    /// Our fault: the cause goes to the log, never to the caller.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self::new(500, "internal-error", "Internal error", "an unexpected error occurred").because(cause)
    }

    pub fn because(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn type_uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.slug)
    }

    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("type".into(), self.type_uri().into());
        doc.insert("title".into(), self.title.into());
        doc.insert("status".into(), self.status.into());
        doc.insert("detail".into(), self.detail.clone().into());
        if !self.errors.is_empty() {
            doc.insert("errors".into(), serde_json::to_value(&self.errors).unwrap_or_default());
        }
        for (key, value) in &self.extensions {
            doc.insert(key.clone(), value.clone());
        }
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_every_field() {
        let problem = Problem::invalid(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("name", "is required"),
        ]);
        let doc = problem.to_json();
        assert_eq!(doc["status"], 422);
        assert_eq!(doc["type"], "https://eventos.dev/problems/validation-failed");
        assert_eq!(doc["errors"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn extensions_become_members_of_the_document() {
        let doc = Problem::conflict("already-checked-in", "Already checked in", "x")
            .with("checked_in_at", "2026-05-01T18:00:00Z")
            .to_json();
        assert_eq!(doc["checked_in_at"], "2026-05-01T18:00:00Z");
        assert!(doc.get("errors").is_none());
    }
}
