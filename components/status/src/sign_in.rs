//! How people sign in on the status page: with the platform's OpenID provider
//! (authorization code with PKCE, which the page runs itself), or, on a local
//! platform whose components trust the development key, by picking a name and
//! roles. Kubernetes never gives the status component that key.

use eventos_common::fields::{Fields, Invalid, required_text};
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};
use eventos_dev_token::{DevKey, ISSUER, TokenRequest};
use serde::{Deserialize, Serialize};
use spin_sdk::variables;

/// How long a development sign-in lasts.
const DEVELOPMENT_TTL_SECONDS: u64 = 8 * 3600;
const MAX_NAME_CHARS: usize = 100;
const ROLES: [&str; 4] = ["organizer", "moderator", "staff", "admin"];

/// What the page may offer, from the component's variables.
#[derive(Debug, Serialize, PartialEq)]
pub struct Options {
    /// The OpenID provider to sign in with, if one is configured.
    pub provider: Option<Provider>,
    /// Whether the development sign-in is offered.
    pub development: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Provider {
    pub issuer: String,
    pub client_id: String,
}

impl Options {
    /// A development key is honoured only while components trust its issuer;
    /// any other issuer is a real provider.
    pub fn from(issuer: &str, client_id: &str, dev_key: &str) -> Self {
        let development = !dev_key.is_empty() && issuer == ISSUER;
        let provider = (!issuer.is_empty() && issuer != ISSUER)
            .then(|| Provider { issuer: issuer.to_owned(), client_id: client_id.to_owned() });
        Self { provider, development }
    }

    pub fn from_variables() -> Self {
        let get = |name: &str| variables::get(name).unwrap_or_default();
        Self::from(&get("auth_issuer"), &get("auth_client_id"), &get("auth_dev_key"))
    }
}

// GET /api/status/sign-in
pub fn options() -> ApiResult {
    Ok(ApiResponse::ok(&Options::from_variables()).with_header("cache-control", "no-store"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentBody {
    name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Serialize)]
struct Granted {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

// POST /api/status/sign-in/development: a token for whoever the caller says
// they are; only where no real provider is configured.
pub fn development(req: &ApiRequest) -> ApiResult {
    let key = variables::get("auth_dev_key").unwrap_or_default();
    if !Options::from_variables().development {
        return Err(Problem::no_route(&req.path));
    }
    let key = DevKey::from_hex(&key).ok_or_else(|| Problem::internal("auth_dev_key is not a 32-byte hex seed"))?;
    let request = token_request(req.json::<DevelopmentBody>()?)?;
    let now = eventos_common::time::now().and_utc().timestamp() as u64;
    let access_token = key.sign(&request, now).map_err(|e| Problem::internal(format!("signing: {e}")))?;
    Ok(ApiResponse::ok(&Granted { access_token, token_type: "Bearer", expires_in: DEVELOPMENT_TTL_SECONDS })
        .with_header("cache-control", "no-store"))
}

/// The same name is the same person: the subject is the name, folded.
fn token_request(body: DevelopmentBody) -> Result<TokenRequest, Invalid> {
    let mut fields = Fields::default();
    let name = fields.take("name", required_text(body.name, MAX_NAME_CHARS));
    if let Some(unknown) = body.roles.iter().find(|role| !ROLES.contains(&role.as_str())) {
        fields.reject("roles", &format!("`{unknown}` is not one of organizer, moderator, staff, admin"));
    }
    match name {
        Some(name) if fields.is_clean() => {
            let subject = name.to_lowercase();
            let slug: String = subject.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let slug = slug.trim_matches('-');
            let email = format!("{}@dev.eventos.local", if slug.is_empty() { "person" } else { slug });
            Ok(TokenRequest {
                subject: format!("dev:{subject}"),
                roles: body.roles,
                email: Some(email),
                name: Some(name),
                ttl_seconds: DEVELOPMENT_TTL_SECONDS,
            })
        }
        _ => Err(fields.invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_sign_in_needs_the_key_and_the_development_issuer() {
        assert!(Options::from(ISSUER, "eventos-status", "ab").development);
        assert!(!Options::from(ISSUER, "eventos-status", "").development);
        let real = Options::from("https://id.example/realms/eventos", "eventos-status", "ab");
        assert!(!real.development);
        assert_eq!(real.provider.map(|p| p.issuer), Some("https://id.example/realms/eventos".to_owned()));
        assert_eq!(Options::from("", "eventos-status", ""), Options { provider: None, development: false });
    }

    #[test]
    fn a_name_and_known_roles_make_a_token_request() {
        let body = |json: &str| serde_json::from_str::<DevelopmentBody>(json).expect("json");
        let request = token_request(body(r#"{"name":" Ada Lovelace ","roles":["staff"]}"#)).expect("valid");
        assert_eq!(
            (request.subject.as_str(), request.email.as_deref(), request.roles.as_slice()),
            ("dev:ada lovelace", Some("ada-lovelace@dev.eventos.local"), ["staff".to_owned()].as_slice())
        );
        assert!(token_request(body(r#"{"name":"Ada","roles":["root"]}"#)).is_err());
        assert!(token_request(body(r#"{"name":"  "}"#)).is_err());
    }
}
