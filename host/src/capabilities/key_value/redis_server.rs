//! A store on a Redis server, as Spin's `redis` store type serves it: the keys
//! are the server's own, so every label put on one server shares them.
//!
//! A store is a cache to the platform, and a cache must never slow a request:
//! each call has a budget, and a server that failed or did not answer in time
//! is left alone for a few seconds, its calls failing at once meanwhile. Spin
//! waits on the server as long as it takes.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, ErrorKind, FromRedisValue, RedisError};

/// How long one call may take, connecting included.
const CALL_BUDGET: Duration = Duration::from_millis(250);
/// How long a server that failed is left alone.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(5);

pub struct RedisStore {
    client: Client,
    /// Made on first use, inside the runtime it reconnects on.
    connection: OnceLock<ConnectionManager>,
    resting_until: Mutex<Option<Instant>>,
}

impl RedisStore {
    /// Checks the URL only: the server is first reached by a request.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        // The URL may hold a password: the error does not repeat it.
        let client = Client::open(url).context("not a Redis URL (redis://host:port, or rediss:// for TLS)")?;
        Ok(Self { client, connection: OnceLock::new(), resting_until: Mutex::new(None) })
    }

    /// Where the server is, for the start-up summary.
    pub fn address(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// Fails while the server is left alone; asks it nothing, so opening a store costs no round trip.
    pub fn check(&self) -> Result<(), String> {
        match self.is_resting() {
            true => {
                Err(format!("the Redis server at {} failed a moment ago; it is left alone for now", self.address()))
            }
            false => Ok(()),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.call(redis::cmd("GET").arg(key)).await
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.call(redis::cmd("SET").arg(key).arg(value)).await
    }

    pub async fn delete(&self, key: &str) -> Result<(), String> {
        self.call(redis::cmd("DEL").arg(key)).await
    }

    pub async fn exists(&self, key: &str) -> Result<bool, String> {
        self.call(redis::cmd("EXISTS").arg(key)).await
    }

    pub async fn keys(&self) -> Result<Vec<String>, String> {
        self.call(redis::cmd("KEYS").arg("*")).await
    }

    async fn call<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, String> {
        self.check()?;
        let answer = tokio::time::timeout(CALL_BUDGET, async { command.query_async(&mut self.manager()?).await });
        match answer.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if matches!(error.kind(), ErrorKind::Server(_)) => Err(error.to_string()),
            Ok(Err(error)) => {
                self.rest();
                Err(format!("the Redis server at {}: {error}", self.address()))
            }
            Err(_) => {
                self.rest();
                Err(format!("the Redis server at {} did not answer within {CALL_BUDGET:?}", self.address()))
            }
        }
    }

    fn manager(&self) -> Result<ConnectionManager, RedisError> {
        if let Some(manager) = self.connection.get() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_BUDGET))
            .set_response_timeout(Some(CALL_BUDGET))
            // One attempt per reconnection: a request never waits out a backoff.
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        Ok(self.connection.get_or_init(|| manager).clone())
    }

    fn is_resting(&self) -> bool {
        let until = *self.resting_until.lock().unwrap_or_else(PoisonError::into_inner);
        until.is_some_and(|until| Instant::now() < until)
    }

    fn rest(&self) {
        *self.resting_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + REST_AFTER_FAILURE);
    }
}
