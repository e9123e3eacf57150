//! Tokens this application has verified lately, remembered in Spin's `default`
//! key-value store: every request gets a fresh instance, so the store is the only
//! memory a caller's next request can find, and looking a token up costs a
//! SHA-256 and a read where verifying its signature costs about a fifth of an
//! order's CPU.
//!
//! - An entry's key is the SHA-256 of the verification settings (the JWKS, the
//!   issuer, the audience) and the token: a key removed from the JWKS, or a new
//!   issuer or audience, changes every key, so nothing verified under the old
//!   settings is found again.
//! - An entry is used until the earlier of the token's `exp` and the variable
//!   `verified_token_seconds` (60 by default, at most [`CAP_SECONDS`]; 0 checks
//!   every request) after it was verified: a token keeps the claims it was
//!   verified with for at most that long, and an expired token is refused as before.
//! - Entries are filed as `recent` files every fact: in windows, swept as they
//!   age, and a missing or failing store is a miss, never a refusal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use spin_sdk::variables;

pub use crate::recent::CAP_SECONDS;
use crate::recent::{self, Recent};

const PREFIX: &str = "verified-token/";

/// The digest naming a token's entries under these settings.
pub fn digest(settings: &[&str], token: &str) -> String {
    let mut digest = Sha256::new();
    for part in settings.iter().chain([&token]) {
        // Each part's length first: ("ab", "c") and ("a", "bc") differ.
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// How long a verified token is reused: the variable `verified_token_seconds`,
/// within 0 (never) and [`CAP_SECONDS`]; unset or unreadable, the cap.
pub fn reuse_seconds() -> i64 {
    let setting = variables::get("verified_token_seconds").ok();
    reuse_seconds_from(setting.as_deref())
}

fn reuse_seconds_from(setting: Option<&str>) -> i64 {
    recent::seconds_setting(setting, CAP_SECONDS)
}

/// Until when a token verified at `now` that expires at `exp` may be reused for `seconds`.
pub fn reusable_until(now: i64, exp: i64, seconds: i64) -> i64 {
    exp.min(now + seconds.min(CAP_SECONDS))
}

/// One token's entries under one set of settings: the store opened and the
/// digest taken once, for the lookup and, on a miss, the write after it.
pub struct Remembered {
    entries: Recent,
    digest: String,
}

impl Remembered {
    pub fn of(settings: &[&str], token: &str) -> Self {
        Self { entries: Recent::open(PREFIX), digest: digest(settings, token) }
    }

    /// What the token was verified as, if it was verified lately.
    pub fn recall<T: DeserializeOwned>(&self, now: i64) -> Option<T> {
        self.entries.recall(&self.digest, now)
    }

    /// Remembers that the token verified as `verified`, until `until` (see [`reusable_until`]).
    pub fn remember<T: Serialize>(&self, verified: &T, now: i64, until: i64) {
        self.entries.remember(&self.digest, verified, now, until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: [&str; 3] = ["{\"keys\":[]}", "https://issuer", "eventos"];

    #[test]
    fn a_changed_setting_or_token_is_another_entry() {
        let key = digest(&SETTINGS, "token");
        assert_eq!(key, digest(&SETTINGS, "token"));
        assert_ne!(key, digest(&SETTINGS, "token2"));
        assert_ne!(key, digest(&["{\"keys\":[1]}", "https://issuer", "eventos"], "token"));
        // Lengths keep parts apart: moving a character between two parts is another key.
        assert_ne!(digest(&["ab", "c"], "t"), digest(&["a", "bc"], "t"));
    }

    #[test]
    fn a_token_is_reused_until_its_expiry_or_the_cap_whichever_is_first() {
        assert_eq!(reusable_until(1_000, 1_010, 60), 1_010);
        assert_eq!(reusable_until(1_000, 99_999, 60), 1_000 + CAP_SECONDS);
        assert_eq!(reusable_until(1_000, 99_999, 10), 1_010);
        assert_eq!(reusable_until(1_000, 99_999, 3_600), 1_000 + CAP_SECONDS, "never past the cap");
    }

    #[test]
    fn the_setting_is_read_within_zero_and_the_cap() {
        assert_eq!(reuse_seconds_from(Some("0")), 0);
        assert_eq!(reuse_seconds_from(Some(" 15 ")), 15);
        assert_eq!(reuse_seconds_from(Some("3600")), CAP_SECONDS);
        assert_eq!(reuse_seconds_from(Some("-5")), 0);
        assert_eq!(reuse_seconds_from(Some("soon")), CAP_SECONDS);
        assert_eq!(reuse_seconds_from(None), CAP_SECONDS);
    }
}
