//! The application's key-value stores, by label: `default` in this process's
//! memory, as Spin has one, and the ones a runtime config file's
//! `[key_value_store.<label>]` tables define or redefine, as Spin reads them:
//! `type = "spin"` (here in memory; a `path`, Spin's SQLite file, is refused)
//! and `type = "redis"` with a `url`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::memory::MemoryStore;
use super::redis_server::RedisStore;
use crate::capabilities::bindings::fermyon::spin2_0_0::key_value::Error;

/// The store every application has, as on Spin.
pub const DEFAULT_STORE: &str = "default";

pub enum Store {
    Memory(MemoryStore),
    Redis(Box<RedisStore>),
}

pub struct Stores {
    by_label: HashMap<String, Arc<Store>>,
}

/// What a guest asks of a store; a server's failure is `other`, with its reason, as on Spin.
impl Store {
    /// Whether the store may be opened: not while its server is left alone after failing.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Redis(redis) => redis.check().map_err(Error::Other),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Store::Memory(memory) => Ok(memory.get(key)),
            Store::Redis(redis) => redis.get(key).await.map_err(Error::Other),
        }
    }

    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        match self {
            Store::Memory(memory) => {
                memory.set(key, value);
                Ok(())
            }
            Store::Redis(redis) => redis.set(&key, &value).await.map_err(Error::Other),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        match self {
            Store::Memory(memory) => {
                memory.delete(key);
                Ok(())
            }
            Store::Redis(redis) => redis.delete(key).await.map_err(Error::Other),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        match self {
            Store::Memory(memory) => Ok(memory.exists(key)),
            Store::Redis(redis) => redis.exists(key).await.map_err(Error::Other),
        }
    }

    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        match self {
            Store::Memory(memory) => Ok(memory.keys()),
            Store::Redis(redis) => redis.keys().await.map_err(Error::Other),
        }
    }
}

/// One `[key_value_store.<label>]` table.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum StoreConfig {
    Spin { path: Option<PathBuf> },
    Redis { url: String },
}

impl Stores {
    /// `default`, in memory.
    pub fn in_memory() -> Self {
        Self { by_label: HashMap::from([(DEFAULT_STORE.to_owned(), Arc::new(Store::Memory(MemoryStore::default())))]) }
    }

    /// `default` in memory, then each table of `[key_value_store]`, which may redefine it.
    pub fn configured(tables: Option<toml::Table>) -> Result<Self> {
        let mut stores = Self::in_memory();
        for (label, table) in tables.unwrap_or_default() {
            let store = store(table).with_context(|| format!("[key_value_store.{label}]"))?;
            stores.by_label.insert(label, Arc::new(store));
        }
        Ok(stores)
    }

    pub fn is_defined(&self, label: &str) -> bool {
        self.by_label.contains_key(label)
    }

    pub fn get(&self, label: &str) -> Option<Arc<Store>> {
        self.by_label.get(label).cloned()
    }

    /// One line per store, by label, as Spin lists them when it starts.
    pub fn summary(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .by_label
            .iter()
            .map(|(label, store)| match store.as_ref() {
                Store::Memory(_) => format!("{label}: in memory"),
                Store::Redis(redis) => format!("{label}: Redis at {}", redis.address()),
            })
            .collect();
        lines.sort();
        lines
    }
}

fn store(table: toml::Value) -> Result<Store> {
    match table.try_into().context("a store has a `type`: \"spin\" or \"redis\"")? {
        StoreConfig::Spin { path: None } => Ok(Store::Memory(MemoryStore::default())),
        StoreConfig::Spin { path: Some(path) } => anyhow::bail!(
            "`path = {path:?}` asks for a SQLite file, which this host does not keep: \
             leave `path` out for a store in memory, or use `type = \"redis\"`"
        ),
        StoreConfig::Redis { url } => Ok(Store::Redis(Box::new(RedisStore::new(&url)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(text: &str) -> Result<Stores> {
        let mut file: toml::Table = text.parse().expect("TOML");
        Stores::configured(file.remove("key_value_store").map(|t| t.try_into().expect("a table")))
    }

    fn error(text: &str) -> String {
        format!("{:#}", configured(text).err().expect("refused"))
    }

    #[test]
    fn default_is_in_memory_and_a_runtime_config_may_put_it_and_others_on_redis() {
        assert_eq!(configured("").expect("no config").summary(), ["default: in memory"]);
        let stores = configured(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6390\"\n\
             [key_value_store.scratch]\ntype = \"spin\"\n",
        )
        .expect("parses");
        assert_eq!(stores.summary(), ["default: Redis at 127.0.0.1:6390", "scratch: in memory"]);
        assert!(stores.is_defined("scratch") && !stores.is_defined("other"));
    }

    #[test]
    fn what_this_host_cannot_serve_is_refused_by_name() {
        assert!(error("[key_value_store.a]\ntype = \"azure_cosmos\"\n").contains("[key_value_store.a]"));
        assert!(error("[key_value_store.a]\ntype = \"azure_cosmos\"\n").contains("azure_cosmos"));
        assert!(error("[key_value_store.a]\nurl = \"redis://x\"\n").contains("type"));
        assert!(error("[key_value_store.a]\ntype = \"spin\"\npath = \"kv.db\"\n").contains("SQLite"));
        assert!(error("[key_value_store.a]\ntype = \"redis\"\n").contains("url"));
        assert!(error("[key_value_store.a]\ntype = \"redis\"\nurl = \"redis://x\"\nuser = \"me\"\n").contains("user"));
        let secret = error("[key_value_store.a]\ntype = \"redis\"\nurl = \"http://me:s3cret@x\"\n");
        assert!(secret.contains("not a Redis URL") && !secret.contains("s3cret"), "{secret}");
    }
}
