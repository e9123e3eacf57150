//! Users as the domain sees them: only valid values get past `parse`.

use chrono::NaiveDateTime;
use eventos_common::auth::Caller;
use eventos_common::fields::{Fields, Invalid, Patch, required_text};
use eventos_common::time::rfc3339;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_NAME_CHARS: usize = 200;
/// RFC 5321's limit on a forward path.
pub const MAX_EMAIL_CHARS: usize = 254;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// `POST /api/users` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    email: Option<String>,
    name: Option<String>,
}

/// `PATCH /api/users/{id}` as sent; null is the same as leaving a field out
/// because neither field may be cleared.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    #[serde(default)]
    email: Patch<String>,
    #[serde(default)]
    name: Patch<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
}

impl NewUser {
    pub fn parse(body: CreateUserBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let email = fields.take("email", parse_email(body.email));
        let name = fields.take("name", required_text(body.name, MAX_NAME_CHARS));
        match (email, name) {
            (Some(email), Some(name)) => Ok(Self { email, name }),
            _ => Err(fields.invalid()),
        }
    }
}

impl NewUser {
    /// The user a token describes, on its first use: its `email`, and its
    /// `name` (else its subject).
    pub fn from_token(caller: &Caller) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let email = fields.take("email", parse_email(caller.email.clone()));
        let name = caller.name.clone().unwrap_or_else(|| caller.subject.clone());
        let name = fields.take("name", required_text(Some(name), MAX_NAME_CHARS));
        match (email, name) {
            (Some(email), Some(name)) => Ok(Self { email, name }),
            _ => Err(fields.invalid()),
        }
    }
}

impl UserChanges {
    pub fn parse(body: UpdateUserBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let email = fields.take_patch("email", body.email, parse_email);
        let name = fields.take_patch("name", body.name, |v| required_text(v, MAX_NAME_CHARS));
        if !fields.is_clean() {
            return Err(fields.invalid());
        }
        Ok(Self { email, name })
    }
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain,
/// no spaces or control characters. Delivery is the only real proof of an address.
pub fn parse_email(value: Option<String>) -> Result<String, String> {
    let email = required_text(value, MAX_EMAIL_CHARS)?.to_lowercase();
    let invalid = || "must be an email address such as ada@example.com".to_string();
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let labels_ok =
        domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    let well_formed = !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && labels_ok
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed { Ok(email) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: &str) -> Result<NewUser, Invalid> {
        NewUser::parse(serde_json::from_str(json).expect("well-formed body"))
    }

    #[test]
    fn an_email_is_stored_lower_cased_and_trimmed() {
        let user = create(r#"{"email":"  Ada@Example.COM ","name":"Ada"}"#).expect("valid");
        assert_eq!(user.email, "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert!(parse_email(Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_of_more_than_200_characters_is_rejected() {
        let Invalid(errors) =
            create(&format!(r#"{{"email":"a@b.io","name":"{}"}}"#, "x".repeat(201))).expect_err("too long");
        assert_eq!(errors[0].field, "name");
    }

    #[test]
    fn every_missing_field_is_reported() {
        let Invalid(errors) = create("{}").expect_err("empty");
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<CreateUserBody>(r#"{"email":"a@b.io","name":"A","admin":true}"#).is_err());
    }

    #[test]
    fn a_patch_may_not_null_the_name() {
        let body: UpdateUserBody = serde_json::from_str(r#"{"name":null}"#).expect("json");
        assert!(UserChanges::parse(body).is_err());
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let body: UpdateUserBody = serde_json::from_str("{}").expect("json");
        assert_eq!(UserChanges::parse(body), Ok(UserChanges::default()));
    }
}
