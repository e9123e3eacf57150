//! Who is calling: an OpenID Connect bearer token, verified by this component
//! itself with the keys of the Spin variable `auth_jwks` (a JWKS document; no
//! fetch per request), issued by `auth_issuer` for `auth_audience`.
//!
//! Only RS256, ES256 and EdDSA are accepted, the key is the one the token's
//! `kid` names and must be published for verifying signatures with the token's
//! algorithm, and `exp`/`nbf` get at most 30 s of leeway. A refusal never says
//! which check failed.

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use spin_sdk::variables;
use uuid::Uuid;

use crate::{ApiRequest, Problem, verified_tokens};

/// Clock skew tolerated between the issuer and this component.
const LEEWAY_SECONDS: u64 = 30;
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];
/// The namespace of users' ids: one name-based id per (issuer, subject).
const USER_NAMESPACE: Uuid = Uuid::from_u128(0x6576_656e_746f_7300_8000_0000_7573_6572);

/// What a platform role lets its holder do (Keycloak's `realm_access.roles`);
/// any valid token is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Organizer,
    Moderator,
    Staff,
    Admin,
}

impl Role {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "organizer" => Some(Role::Organizer),
            "moderator" => Some(Role::Moderator),
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    fn needed_for(self) -> &'static str {
        match self {
            Role::Organizer => "this needs the organizer role",
            Role::Moderator => "this needs the moderator role",
            Role::Staff => "this needs the staff role",
            Role::Admin => "this needs the admin role",
        }
    }
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    /// The platform's id for this person: fixed by the issuer and subject.
    pub user_id: Uuid,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Vec<Role>,
}

impl Caller {
    /// Holds `role`; an admin holds every role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.is_admin()
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// The caller holds `role`, or is told which role this takes.
    pub fn require(&self, role: Role) -> Result<(), Forbidden> {
        if self.has(role) { Ok(()) } else { Err(Forbidden(role.needed_for())) }
    }

    /// The caller is `user_id` or an admin: members act for themselves only.
    pub fn may_act_for(&self, user_id: Uuid) -> bool {
        self.user_id == user_id || self.is_admin()
    }

    /// The user a list is narrowed to: whoever `named` says (or nobody) for a
    /// caller who `sees_all`; otherwise the caller, who may name only themself.
    pub fn list_scope(&self, named: Option<Uuid>, sees_all: bool) -> Result<Option<Uuid>, Forbidden> {
        match named {
            _ if sees_all => Ok(named),
            Some(user_id) if user_id != self.user_id => Err(Forbidden("members list only their own")),
            _ => Ok(Some(self.user_id)),
        }
    }

    /// The user a request acts for: the caller unless `named` is somebody else,
    /// which only an admin may name.
    pub fn acting_for(&self, named: Option<Uuid>) -> Result<Uuid, Forbidden> {
        match named {
            Some(user_id) if !self.may_act_for(user_id) => Err(Forbidden("members act for themselves only")),
            Some(user_id) => Ok(user_id),
            None => Ok(self.user_id),
        }
    }
}

/// The user id a token's issuer and subject stand for.
pub fn user_id(issuer: &str, subject: &str) -> Uuid {
    Uuid::new_v5(&USER_NAMESPACE, format!("{issuer}\n{subject}").as_bytes())
}

/// Why a request is not authenticated; the caller learns no more than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// No `Authorization: Bearer` header.
    NoToken,
    /// A token that is malformed, expired, or not verifiable with our keys.
    InvalidToken,
}

impl From<Unauthenticated> for Problem {
    fn from(refusal: Unauthenticated) -> Self {
        let (detail, challenge) = match refusal {
            Unauthenticated::NoToken => ("this request needs a bearer token", "Bearer"),
            Unauthenticated::InvalidToken => ("the bearer token is not valid", r#"Bearer error="invalid_token""#),
        };
        let mut problem = Problem::new(401, "unauthenticated", "Unauthenticated", detail);
        problem.challenge = Some(challenge);
        problem
    }
}

/// An authenticated caller asking for what is not theirs to do: a 403 that
/// says what it would take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {0}")]
pub struct Forbidden(pub &'static str);

impl From<Forbidden> for Problem {
    fn from(Forbidden(detail): Forbidden) -> Self {
        Problem::new(403, "forbidden", "Forbidden", detail)
    }
}

#[derive(Deserialize)]
struct Claims {
    exp: f64,
    sub: String,
    iss: String,
    #[serde(default)]
    aud: Audience,
    azp: Option<String>,
    email: Option<String>,
    name: Option<String>,
    #[serde(default)]
    realm_access: RealmAccess,
}

#[derive(Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::None => false,
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

#[derive(Default, Deserialize)]
struct RealmAccess {
    #[serde(default)]
    roles: Vec<String>,
}

/// What a token is checked against: the component's auth variables.
pub struct Verifier {
    keys: JwkSet,
    issuer: String,
    audience: String,
}

impl Verifier {
    pub fn new(jwks: &str, issuer: &str, audience: &str) -> Self {
        // No keys (the variable unset or broken) verify nothing: every token is refused.
        let keys = serde_json::from_str(jwks).unwrap_or(JwkSet { keys: Vec::new() });
        Self { keys, issuer: issuer.to_owned(), audience: audience.to_owned() }
    }

    /// The key named `kid` that may verify an `alg` signature.
    fn key(&self, kid: &str, alg: Algorithm) -> Option<&Jwk> {
        self.keys.keys.iter().find(|jwk| jwk.common.key_id.as_deref() == Some(kid) && may_verify(jwk, alg))
    }

    pub fn verify(&self, token: &str) -> Result<Caller, Unauthenticated> {
        self.verify_until(token).map(|(caller, _)| caller)
    }

    /// The caller and the token's `exp` (Unix seconds).
    pub fn verify_until(&self, token: &str) -> Result<(Caller, i64), Unauthenticated> {
        let invalid = |_| Unauthenticated::InvalidToken;
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if !ALGORITHMS.contains(&header.alg) || self.issuer.is_empty() {
            return Err(Unauthenticated::InvalidToken);
        }
        let jwk =
            header.kid.as_deref().and_then(|kid| self.key(kid, header.alg)).ok_or(Unauthenticated::InvalidToken)?;
        let key = DecodingKey::from_jwk(jwk).map_err(invalid)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        // `aud` or `azp` may name us (Keycloak puts the client in `azp`): checked below.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(invalid)?.claims;
        if !claims.aud.contains(&self.audience) && claims.azp.as_deref() != Some(self.audience.as_str()) {
            return Err(Unauthenticated::InvalidToken);
        }
        let caller = Caller {
            user_id: user_id(&claims.iss, &claims.sub),
            roles: claims.realm_access.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            subject: claims.sub,
            email: claims.email,
            name: claims.name,
        };
        Ok((caller, claims.exp as i64))
    }
}

/// Whether `jwk` was published to verify `alg` signatures (RFC 7517 §4.2–4.4):
/// a key for encryption (Keycloak publishes an RSA-OAEP one), for other
/// operations, or for another algorithm verifies nothing.
fn may_verify(jwk: &Jwk, alg: Algorithm) -> bool {
    let common = &jwk.common;
    let for_signatures = common.public_key_use.as_ref().is_none_or(|usage| *usage == PublicKeyUse::Signature);
    let verifies = common.key_operations.as_ref().is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    // Both enums name an algorithm by its JOSE name (`RS256`, `EdDSA`).
    let same_algorithm = common.key_algorithm.is_none_or(|bound| bound.to_string() == format!("{alg:?}"));
    for_signatures && verifies && same_algorithm
}

/// The verified caller of `req`, from its `Authorization: Bearer` header only.
pub fn caller(req: &ApiRequest) -> Result<Caller, Unauthenticated> {
    let header = req.header("authorization").ok_or(Unauthenticated::NoToken)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or(Unauthenticated::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Unauthenticated::InvalidToken);
    }
    let token = token.trim();
    let get = |name: &str| variables::get(name).unwrap_or_default();
    let (jwks, issuer, audience) = (get("auth_jwks"), get("auth_issuer"), get("auth_audience"));
    let settings = [jwks.as_str(), issuer.as_str(), audience.as_str()];
    let now = chrono::Utc::now().timestamp();
    let reuse = verified_tokens::reuse_seconds();
    let remembered = (reuse > 0).then(|| verified_tokens::Remembered::of(&settings, token));
    if let Some(caller) = remembered.as_ref().and_then(|entries| entries.recall(now)) {
        return Ok(caller);
    }
    let (caller, exp) = Verifier::new(&jwks, &issuer, &audience).verify_until(token)?;
    if let Some(entries) = &remembered {
        entries.remember(&caller, now, verified_tokens::reusable_until(now, exp, reuse));
    }
    Ok(caller)
}

/// The caller of a request anyone may make, whose answer may depend on who
/// asks: `None` without a token; a token that is sent must be valid.
pub fn optional_caller(req: &ApiRequest) -> Result<Option<Caller>, Unauthenticated> {
    match caller(req) {
        Err(Unauthenticated::NoToken) => Ok(None),
        verified => verified.map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_is_fixed_by_issuer_and_subject() {
        assert_eq!(user_id("https://id.example", "ada"), user_id("https://id.example", "ada"));
        assert_ne!(user_id("https://id.example", "ada"), user_id("https://other.example", "ada"));
        assert_ne!(user_id("https://id.example", "ada"), user_id("https://id.example", "bob"));
    }

    #[test]
    fn without_keys_nothing_verifies() {
        let verifier = Verifier::new("", "https://id.example", "eventos");
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.";
        assert_eq!(verifier.verify(unsigned), Err(Unauthenticated::InvalidToken));
        assert_eq!(verifier.verify("garbage"), Err(Unauthenticated::InvalidToken));
    }

    fn caller(roles: &[Role]) -> Caller {
        Caller { user_id: user_id("i", "ada"), subject: "ada".into(), email: None, name: None, roles: roles.to_vec() }
    }

    #[test]
    fn an_admin_holds_every_role_and_acts_for_anyone() {
        let admin = caller(&[Role::Admin]);
        let somebody = user_id("i", "bob");
        assert!(admin.require(Role::Moderator).is_ok() && admin.require(Role::Staff).is_ok());
        assert_eq!(admin.acting_for(Some(somebody)), Ok(somebody));
    }

    #[test]
    fn a_member_acts_for_themself_only() {
        let member = caller(&[]);
        assert_eq!(member.acting_for(None), Ok(member.user_id));
        assert_eq!(member.acting_for(Some(member.user_id)), Ok(member.user_id));
        assert!(member.acting_for(Some(user_id("i", "bob"))).is_err());
        assert_eq!(member.require(Role::Organizer), Err(Forbidden("this needs the organizer role")));
        assert!(caller(&[Role::Staff]).require(Role::Moderator).is_err());
        assert_eq!(member.list_scope(None, false), Ok(Some(member.user_id)));
        assert!(member.list_scope(Some(user_id("i", "bob")), false).is_err());
        assert_eq!(member.list_scope(None, true), Ok(None));
    }

    fn jwk(extra: &str) -> Jwk {
        let text = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k"{extra}}}"#
        );
        serde_json::from_str(&text).expect("a JWK")
    }

    #[test]
    fn a_key_verifies_only_what_it_was_published_for() {
        assert!(may_verify(&jwk(""), Algorithm::EdDSA));
        assert!(may_verify(&jwk(r#","use":"sig","alg":"EdDSA","key_ops":["verify"]"#), Algorithm::EdDSA));
        assert!(!may_verify(&jwk(r#","use":"enc""#), Algorithm::EdDSA), "an encryption key");
        assert!(!may_verify(&jwk(r#","key_ops":["encrypt"]"#), Algorithm::EdDSA), "a key for other operations");
        assert!(!may_verify(&jwk(r#","alg":"ES256""#), Algorithm::EdDSA), "a key for another algorithm");
        assert!(!may_verify(&jwk(r#","alg":"RSA-OAEP""#), Algorithm::RS256), "Keycloak's encryption key");
    }

    #[test]
    fn a_kid_names_the_key_that_may_verify_the_token() {
        let keys = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","use":"enc"},
                               {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","use":"sig","alg":"EdDSA"}]}"#;
        let verifier = Verifier::new(keys, "https://id.example", "eventos");
        let found = verifier.key("k", Algorithm::EdDSA).expect("the signing key");
        assert_eq!(found.common.public_key_use, Some(PublicKeyUse::Signature));
        assert!(verifier.key("k", Algorithm::ES256).is_none());
    }

    #[test]
    fn a_refusal_challenges_the_caller() {
        let problem = Problem::from(Unauthenticated::InvalidToken);
        assert_eq!(problem.status, 401);
        assert_eq!(problem.challenge, Some(r#"Bearer error="invalid_token""#));
        assert_eq!(Problem::from(Unauthenticated::NoToken).challenge, Some("Bearer"));
    }
}
