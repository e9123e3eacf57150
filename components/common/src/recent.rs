//! Facts remembered for a short while in Spin's `default` key-value store:
//! every request gets a fresh instance, so the store is the only memory a
//! caller's next request can find.
//!
//! - Each kind of fact has its prefix; a fact's entry says until when (Unix
//!   seconds) it holds, at most [`CAP_SECONDS`] after it was written.
//! - Entries are filed under the window of [`CAP_SECONDS`] they were written in;
//!   the first write in a new window removes the windows before the previous one,
//!   so the store holds about two windows of facts, whatever the traffic.
//! - The store is a cache: a store that is missing or failing is a miss, never a
//!   refusal.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use spin_sdk::key_value::Store;

/// How long a fact is remembered, at most.
pub const CAP_SECONDS: i64 = 60;

/// A setting in seconds (a Spin variable's text): within 0 and [`CAP_SECONDS`];
/// unset or unreadable, `default`.
pub fn seconds_setting(setting: Option<&str>, default: i64) -> i64 {
    setting.and_then(|text| text.trim().parse::<i64>().ok()).map_or(default, |s| s.clamp(0, CAP_SECONDS))
}

/// Unix seconds now, the clock every fact's `until` is read against.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One kind of fact, remembered for as many seconds as a Spin variable says:
/// none when it says 0.
pub struct ForSeconds {
    recent: Recent,
    seconds: i64,
}

impl ForSeconds {
    /// The store for `prefix`, unless the variable `variable` (unset: `default`) is 0.
    pub fn open(prefix: &'static str, variable: &str, default: i64) -> Option<Self> {
        let seconds = seconds_setting(spin_sdk::variables::get(variable).ok().as_deref(), default);
        (seconds > 0).then(|| Self { recent: Recent::open(prefix), seconds })
    }

    /// The fact called `name`, if it was remembered lately.
    pub fn recall<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.recent.recall(name, now())
    }

    /// Remembers `fact` as `name` for the setting's seconds from now.
    pub fn remember<T: Serialize>(&self, name: &str, fact: &T) {
        let now = now();
        self.recent.remember(name, fact, now, now + self.seconds);
    }
}

/// A fact and until when it holds.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    until: i64,
    fact: T,
}

/// An entry's name: its kind's prefix, its window, then the fact's name.
pub fn entry_key(prefix: &str, window: i64, name: &str) -> String {
    format!("{prefix}{window}/{name}")
}

/// The window `at` (Unix seconds) falls in.
pub fn window(at: i64) -> i64 {
    at.div_euclid(CAP_SECONDS)
}

/// Whether `key` names an entry of `prefix` of a window before `keep_from`, or the mark of one.
pub fn is_stale(prefix: &str, key: &str, keep_from: i64) -> bool {
    let Some(rest) = key.strip_prefix(prefix) else { return false };
    let window = rest.split('/').next().and_then(|w| w.parse::<i64>().ok());
    window.is_some_and(|w| w < keep_from)
}

/// One kind of fact, in the store opened once per request.
pub struct Recent {
    store: Option<Store>,
    prefix: &'static str,
}

impl Recent {
    pub fn open(prefix: &'static str) -> Self {
        Self { store: Store::open_default().ok(), prefix }
    }

    /// The fact called `name`, if it was remembered lately and still holds at `now`.
    pub fn recall<T: DeserializeOwned>(&self, name: &str, now: i64) -> Option<T> {
        let store = self.store.as_ref()?;
        // An entry written in the previous window may still hold.
        [window(now), window(now) - 1].into_iter().find_map(|w| {
            let bytes = store.get(&entry_key(self.prefix, w, name)).ok()??;
            let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
            (now < entry.until).then_some(entry.fact)
        })
    }

    /// Remembers `fact` as `name` until `until`, or [`CAP_SECONDS`] from `now` if sooner.
    pub fn remember<T: Serialize>(&self, name: &str, fact: &T, now: i64, until: i64) {
        let Some(store) = &self.store else { return };
        let until = until.min(now + CAP_SECONDS);
        let Ok(value) = serde_json::to_vec(&Entry { until, fact }) else { return };
        let current = window(now);
        let _ = store.set(&entry_key(self.prefix, current, name), &value);
        self.sweep_on_first_write(store, current);
    }

    /// Forgets the fact called `name`, wherever it was filed lately.
    pub fn forget(&self, name: &str, now: i64) {
        let Some(store) = &self.store else { return };
        for w in [window(now), window(now) - 1] {
            let _ = store.delete(&entry_key(self.prefix, w, name));
        }
    }

    /// On the first write of window `current`, deletes what two windows ago and before wrote.
    fn sweep_on_first_write(&self, store: &Store, current: i64) {
        let mark = format!("{}{current}", self.prefix);
        if store.exists(&mark).unwrap_or(true) {
            return;
        }
        let _ = store.set(&mark, b"");
        for key in store.get_keys().unwrap_or_default() {
            if is_stale(self.prefix, &key, current - 1) {
                let _ = store.delete(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "fact/";

    #[test]
    fn windows_before_the_previous_are_stale_and_nothing_else_is() {
        let now = 10 * CAP_SECONDS + 5;
        let keep_from = window(now) - 1;
        assert!(is_stale(PREFIX, &entry_key(PREFIX, window(now) - 2, "x"), keep_from));
        assert!(is_stale(PREFIX, &format!("{PREFIX}{}", window(now) - 2), keep_from));
        assert!(!is_stale(PREFIX, &entry_key(PREFIX, window(now) - 1, "x"), keep_from));
        assert!(!is_stale(PREFIX, &entry_key(PREFIX, window(now), "x"), keep_from));
        assert!(!is_stale(PREFIX, "someone-else/1/x", keep_from));
        assert!(!is_stale(PREFIX, &format!("{PREFIX}not-a-window/x"), keep_from));
    }

    #[test]
    fn a_name_is_filed_under_its_window() {
        assert_eq!(entry_key(PREFIX, 7, "x"), "fact/7/x");
        assert_ne!(entry_key(PREFIX, 7, "x"), entry_key(PREFIX, 8, "x"));
        assert_eq!(window(CAP_SECONDS - 1), 0);
        assert_eq!(window(CAP_SECONDS), 1);
        assert_eq!(window(-1), -1);
    }
}
