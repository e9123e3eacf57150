//! The development identity provider of a local platform: an Ed25519 signing
//! key kept under `target/` (made once, reused across restarts), the variables
//! that make components trust it, and the tokens `eventos token` signs with it.
//! A real deployment trusts its OpenID provider's keys instead.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where the key's 32-byte seed lives, hex, under the manifest's folder.
const KEY_FILE: &str = "target/eventos-dev-key";
/// The issuer development tokens name; no real provider uses it.
pub const ISSUER: &str = "http://127.0.0.1/eventos-development";
/// The audience the application's `auth_audience` names by default.
pub const AUDIENCE: &str = "eventos";

pub struct DevKey {
    key: SigningKey,
    kid: String,
}

/// What `eventos token` puts in a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub subject: String,
    pub roles: Vec<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub ttl_seconds: u64,
}

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

impl DevKey {
    /// The key of the application in `dir`, made on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            let mut seed = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut random| random.read_exact(&mut seed))
                .context("cannot read /dev/urandom for a development key")?;
            create_private(&path, &hex::encode(seed))?;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let seed = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .with_context(|| format!("{} does not hold a 32-byte hex key", path.display()))?;
        let key = SigningKey::from_bytes(&seed);
        let kid = hex::encode(&Sha256::digest(key.verifying_key().as_bytes())[..8]);
        Ok(Self { key, kid })
    }

    /// The JWKS document of the key's public half.
    pub fn jwks(&self) -> String {
        let x = URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes());
        serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": x}]})
            .to_string()
    }

    /// `auth_jwks`, `auth_issuer` and `auth_audience` for the application's variables.
    pub fn variables(&self) -> [(String, String); 3] {
        [
            ("auth_jwks".into(), self.jwks()),
            ("auth_issuer".into(), ISSUER.into()),
            ("auth_audience".into(), AUDIENCE.into()),
        ]
    }

    pub fn token(&self, request: &TokenRequest) -> Result<String> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
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
        let der = self.key.to_pkcs8_der().context("encoding the development key")?;
        Ok(jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes()))?)
    }
}

/// Creates `path`, readable by its owner only (it signs anyone's identity), whole
/// or not at all: written aside, then linked into place unless another process
/// made it first, whose key then stands.
fn create_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().context("the key's folder")?;
    std::fs::create_dir_all(dir)?;
    let aside = dir.join(format!(".eventos-dev-key.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&aside)
        .with_context(|| format!("cannot create {}", aside.display()))?;
    file.write_all(text.as_bytes())?;
    let linked = std::fs::hard_link(&aside, path);
    std::fs::remove_file(&aside)?;
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e.into()),
        _ => Ok(()),
    }
}
