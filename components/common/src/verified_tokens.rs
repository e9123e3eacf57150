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
//! - Entries are filed under the window of [`CAP_SECONDS`] they were written in;
//!   the first write in a new window removes the windows before the previous one,
//!   so the store holds the tokens of about two windows, whatever the traffic.
//! - The store is a cache: a store that is missing or failing is a miss, never a
//!   refusal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spin_sdk::key_value::Store;
use spin_sdk::variables;

/// How long a verified token's claims are reused, at most.
pub const CAP_SECONDS: i64 = 60;
const PREFIX: &str = "verified-token/";

/// What a token was verified as (the caller) and until when (Unix seconds) it may be reused.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    until: i64,
    verified: T,
}

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

/// An entry's name: its window, then its digest.
pub fn entry_key(window: i64, digest: &str) -> String {
    format!("{PREFIX}{window}/{digest}")
}

/// The window `at` (Unix seconds) falls in.
pub fn window(at: i64) -> i64 {
    at.div_euclid(CAP_SECONDS)
}

/// How long a verified token is reused: the variable `verified_token_seconds`,
/// within 0 (never) and [`CAP_SECONDS`]; unset or unreadable, the cap.
pub fn reuse_seconds() -> i64 {
    let setting = variables::get("verified_token_seconds").ok();
    reuse_seconds_from(setting.as_deref())
}

fn reuse_seconds_from(setting: Option<&str>) -> i64 {
    setting.and_then(|text| text.trim().parse::<i64>().ok()).map_or(CAP_SECONDS, |s| s.clamp(0, CAP_SECONDS))
}

/// Until when a token verified at `now` that expires at `exp` may be reused for `seconds`.
pub fn reusable_until(now: i64, exp: i64, seconds: i64) -> i64 {
    exp.min(now + seconds.min(CAP_SECONDS))
}

/// Whether `key` names an entry of a window before `keep_from`, or the mark of one.
pub fn is_stale(key: &str, keep_from: i64) -> bool {
    let Some(rest) = key.strip_prefix(PREFIX) else { return false };
    let window = rest.split('/').next().and_then(|w| w.parse::<i64>().ok());
    window.is_some_and(|w| w < keep_from)
}

/// One token's entries under one set of settings: the store opened and the
/// digest taken once, for the lookup and, on a miss, the write after it.
pub struct Remembered {
    store: Option<Store>,
    digest: String,
}

impl Remembered {
    pub fn of(settings: &[&str], token: &str) -> Self {
        Self { store: Store::open_default().ok(), digest: digest(settings, token) }
    }

    /// What the token was verified as, if it was verified lately.
    pub fn recall<T: DeserializeOwned>(&self, now: i64) -> Option<T> {
        let store = self.store.as_ref()?;
        // An entry written in the previous window may still be good.
        [window(now), window(now) - 1].into_iter().find_map(|w| {
            let bytes = store.get(&entry_key(w, &self.digest)).ok()??;
            let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
            (now < entry.until).then_some(entry.verified)
        })
    }

    /// Remembers that the token verified as `verified`, until `until` (see [`reusable_until`]).
    pub fn remember<T: Serialize>(&self, verified: &T, now: i64, until: i64) {
        let Some(store) = &self.store else { return };
        let Ok(value) = serde_json::to_vec(&Entry { until, verified }) else { return };
        let current = window(now);
        let _ = store.set(&entry_key(current, &self.digest), &value);
        sweep_on_first_write(store, current);
    }
}

/// On the first write of window `current`, deletes what two windows ago and before wrote.
fn sweep_on_first_write(store: &Store, current: i64) {
    let mark = format!("{PREFIX}{current}");
    if store.exists(&mark).unwrap_or(true) {
        return;
    }
    let _ = store.set(&mark, b"");
    for key in store.get_keys().unwrap_or_default() {
        if is_stale(&key, current - 1) {
            let _ = store.delete(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: [&str; 3] = ["{\"keys\":[]}", "https://issuer", "eventos"];

    #[test]
    fn a_changed_setting_or_token_is_another_entry() {
        let key = entry_key(7, &digest(&SETTINGS, "token"));
        assert_eq!(key, entry_key(7, &digest(&SETTINGS, "token")));
        assert_ne!(key, entry_key(7, &digest(&SETTINGS, "token2")));
        assert_ne!(key, entry_key(7, &digest(&["{\"keys\":[1]}", "https://issuer", "eventos"], "token")));
        assert_ne!(key, entry_key(8, &digest(&SETTINGS, "token")));
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

    #[test]
    fn windows_before_the_previous_are_stale_and_nothing_else_is() {
        let now = 10 * CAP_SECONDS + 5;
        let keep_from = window(now) - 1;
        assert!(is_stale(&entry_key(window(now) - 2, &digest(&SETTINGS, "t")), keep_from));
        assert!(is_stale(&format!("{PREFIX}{}", window(now) - 2), keep_from));
        assert!(!is_stale(&entry_key(window(now) - 1, &digest(&SETTINGS, "t")), keep_from));
        assert!(!is_stale(&entry_key(window(now), &digest(&SETTINGS, "t")), keep_from));
        assert!(!is_stale("someone-else/1/x", keep_from));
        assert!(!is_stale(&format!("{PREFIX}not-a-window/x"), keep_from));
    }
}
