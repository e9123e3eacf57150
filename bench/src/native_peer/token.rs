//! The bearer-token check the components make (`eventos_common::auth`), with
//! verified tokens remembered as they remember them: until the earlier of the
//! token's `exp` and a minute (`verified_token_seconds`' default), here in the
//! process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventos_common::auth::{Caller, Verifier};

/// How long a verified token is taken at its word.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// Tokens remembered at most; past it, the memory starts again.
const MOST_REMEMBERED: usize = 10_000;

pub struct Tokens {
    verifier: Verifier,
    verified: Mutex<HashMap<String, (Caller, SystemTime)>>,
}

impl Tokens {
    /// With the platform's variables, as `eventos migrate --print-env` prints them.
    pub fn from_env() -> Self {
        let variable = |name: &str| std::env::var(format!("SPIN_VARIABLE_{name}")).unwrap_or_default();
        let audience = Some(variable("AUTH_AUDIENCE")).filter(|a| !a.is_empty()).unwrap_or_else(|| "eventos".into());
        let verifier = Verifier::new(&variable("AUTH_JWKS"), &variable("AUTH_ISSUER"), &audience);
        Self { verifier, verified: Mutex::default() }
    }

    /// The caller an `Authorization` header names, if its token is valid.
    pub fn caller(&self, authorization: Option<&str>) -> Option<Caller> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        let now = SystemTime::now();
        let mut verified = self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((caller, _)) = verified.get(token).filter(|(_, until)| now < *until) {
            return Some(caller.clone());
        }
        let (caller, exp) = self.verifier.verify_until(token).ok()?;
        let expires = UNIX_EPOCH + Duration::from_secs(u64::try_from(exp).unwrap_or(0));
        if verified.len() >= MOST_REMEMBERED {
            verified.clear();
        }
        verified.insert(token.to_owned(), (caller.clone(), expires.min(now + REMEMBERED_FOR)));
        Some(caller)
    }
}
