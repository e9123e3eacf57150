//! A store in this process's memory: what `default` is unless a runtime config
//! says otherwise, and what a `spin` store without a `path` is. A restart
//! empties it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Keys and their values, in key order.
#[derive(Default)]
pub struct MemoryStore(Mutex<BTreeMap<String, Vec<u8>>>);

impl MemoryStore {
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.map().get(key).cloned()
    }

    pub fn set(&self, key: String, value: Vec<u8>) {
        self.map().insert(key, value);
    }

    pub fn delete(&self, key: &str) {
        self.map().remove(key);
    }

    pub fn exists(&self, key: &str) -> bool {
        self.map().contains_key(key)
    }

    pub fn keys(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }

    /// The map; a guest that trapped while another held it left nothing half-written.
    fn map(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
