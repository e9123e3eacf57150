//! The development identity provider of a local platform: an Ed25519 signing
//! key kept under `target/` (made once, reused across restarts), the variables
//! that make components trust it, and the tokens `eventos token` signs with it.
//! A real deployment trusts its OpenID provider's keys instead.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use eventos_dev_token::DevKey;
pub use eventos_dev_token::TokenRequest;
use eventos_dev_token::{AUDIENCE, ISSUER};

/// Where the key's 32-byte seed lives, hex, under the manifest's folder.
const KEY_FILE: &str = "target/eventos-dev-key";

/// The key of the application in `dir` (made on first use), and its seed in hex.
fn load_or_create(dir: &Path) -> Result<(DevKey, String)> {
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        let mut seed = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut random| random.read_exact(&mut seed))
            .context("cannot read /dev/urandom for a development key")?;
        create_private(&path, &hex::encode(seed))?;
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let key = DevKey::from_hex(&text).with_context(|| format!("{} does not hold a 32-byte hex key", path.display()))?;
    Ok((key, text.trim().to_owned()))
}

/// The variables of the application in `dir` that make its components trust
/// the development key, and its status page offer a sign-in signed with it.
pub fn variables(dir: &Path) -> Result<[(String, String); 4]> {
    let (key, seed) = load_or_create(dir)?;
    Ok([
        ("auth_jwks".into(), key.jwks()),
        ("auth_issuer".into(), ISSUER.into()),
        ("auth_audience".into(), AUDIENCE.into()),
        ("auth_dev_key".into(), seed),
    ])
}

/// A token for `request`, signed now with the development key of the application in `dir`.
pub fn token(dir: &Path, request: &TokenRequest) -> Result<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    Ok(load_or_create(dir)?.0.sign(request, now)?)
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
