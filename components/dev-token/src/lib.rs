//! Development bearer tokens, for a platform with no OpenID provider: one
//! Ed25519 key (its 32-byte seed kept under `target/`), the JWKS that makes
//! components trust it, and the tokens it signs. `eventos token` and the status
//! page's development sign-in both sign here, so their tokens are alike;
//! nothing deployed ever holds the key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The issuer development tokens name; no real provider uses it.
pub const ISSUER: &str = "http://127.0.0.1/eventos-development";
/// The audience the application's `auth_audience` names by default.
pub const AUDIENCE: &str = "eventos";

/// Who a token is for, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub subject: String,
    pub roles: Vec<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub ttl_seconds: u64,
}

/// Keycloak's shape: roles under `realm_access`, the client in `azp`.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    realm_access: RealmAccess<'a>,
}

#[derive(Serialize)]
struct RealmAccess<'a> {
    roles: &'a [String],
}

pub struct DevKey {
    key: SigningKey,
    kid: String,
}

impl DevKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let kid = hex::encode(&Sha256::digest(key.verifying_key().as_bytes())[..8]);
        Self { key, kid }
    }

    /// The key whose seed `text` spells in hex, if it does.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self::from_seed(bytes.try_into().ok()?))
    }

    /// The JWKS document of the key's public half.
    pub fn jwks(&self) -> String {
        let x = URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes());
        serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": x}]})
            .to_string()
    }

    /// A token for `request`, issued at `now` (seconds since the epoch).
    pub fn sign(&self, request: &TokenRequest, now: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            iss: ISSUER,
            sub: &request.subject,
            aud: AUDIENCE,
            azp: AUDIENCE,
            iat: now,
            exp: now + request.ttl_seconds,
            email: request.email.as_deref(),
            name: request.name.as_deref(),
            realm_access: RealmAccess { roles: &request.roles },
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let der = self.key.to_pkcs8_der().map_err(|_| jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey)?;
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};

    #[test]
    fn a_token_verifies_with_the_keys_own_jwks() {
        let key = DevKey::from_seed([9; 32]);
        let request = TokenRequest {
            subject: "ada".into(),
            roles: vec!["staff".into()],
            email: None,
            name: Some("Ada".into()),
            ttl_seconds: 60,
        };
        let now = 1_900_000_000;
        let token = key.sign(&request, now).expect("signed");
        let jwks: JwkSet = serde_json::from_str(&key.jwks()).expect("jwks");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_jwk(&jwks.keys[0]).expect("key"),
            &validation,
        )
        .expect("verified");
        assert_eq!(decoded.claims["realm_access"]["roles"][0], "staff");
        assert_eq!(decoded.header.kid, jwks.keys[0].common.key_id);
        assert!(DevKey::from_hex("not hex").is_none() && DevKey::from_hex(&"ab".repeat(31)).is_none());
    }
}
