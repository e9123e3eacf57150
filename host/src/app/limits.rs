//! The host's resource limits, named once, each overridable from the environment.

use std::time::Duration;

use crate::capabilities::postgres::pool::PoolLimits;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock budget of one request inside a guest (`EVENTOS_REQUEST_TIMEOUT_MS`).
    pub request_timeout: Duration,
    /// Instances alive at once, across components (`EVENTOS_MAX_INSTANCES`); the
    /// pooling allocator reserves a slot for each.
    pub max_instances: u32,
    /// Instances alive at once for chained calls, a reserve apart from the
    /// clients' (`EVENTOS_MAX_CHAINED_INSTANCES`, as many by default; see `admission.rs` beside this file).
    pub max_chained_instances: u32,
    /// How long a request waits for a free instance slot before a 503 (`EVENTOS_INSTANCE_WAIT_MS`).
    pub instance_wait: Duration,
    /// Linear memory one instance may grow to (`EVENTOS_MAX_MEMORY_MB`).
    pub max_memory_bytes: usize,
    /// Linear memory a pooled slot keeps resident between requests and resets
    /// with memset (`EVENTOS_KEEP_RESIDENT_KB`): costs RSS, saves page faults.
    pub keep_resident_bytes: usize,
    /// Time a client has to send its request headers (`EVENTOS_HEADER_TIMEOUT_MS`).
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers) a client may send (`EVENTOS_MAX_HEADER_KB`).
    pub max_header_bytes: usize,
    /// Largest request body the host forwards to a guest (`EVENTOS_MAX_BODY_KB`);
    /// components apply their own, smaller limits.
    pub max_body_bytes: usize,
    /// PostgreSQL's pools: `EVENTOS_PG_POOL_SIZE` connections per address, at
    /// most `EVENTOS_PG_MAX_DATABASES` addresses, opened within
    /// `EVENTOS_PG_CONNECT_TIMEOUT_MS`; a request waits `EVENTOS_PG_POOL_WAIT_MS`
    /// for a connection of a full pool, then the guest gets an error at once (a
    /// 503, not a request queued behind an exhausted pool); a connection idle for
    /// `EVENTOS_PG_IDLE_TIMEOUT_MS` is closed; a statement past
    /// `EVENTOS_PG_QUERY_TIMEOUT_MS` fails and its connection is dropped (a
    /// database that stopped answering is an outage, not a request stuck to its deadline).
    pub pg: PoolLimits,
}

impl Limits {
    pub fn from_env() -> Self {
        let max_instances = env_number("EVENTOS_MAX_INSTANCES", 256) as u32;
        Self {
            request_timeout: Duration::from_millis(env_number("EVENTOS_REQUEST_TIMEOUT_MS", 30_000)),
            max_instances,
            max_chained_instances: env_number("EVENTOS_MAX_CHAINED_INSTANCES", max_instances.into()) as u32,
            instance_wait: Duration::from_millis(env_number("EVENTOS_INSTANCE_WAIT_MS", 1_000)),
            max_memory_bytes: env_number("EVENTOS_MAX_MEMORY_MB", 64) as usize * 1024 * 1024,
            keep_resident_bytes: env_number("EVENTOS_KEEP_RESIDENT_KB", 1024) as usize * 1024,
            max_header_bytes: env_number("EVENTOS_MAX_HEADER_KB", 64) as usize * 1024,
            header_read_timeout: Duration::from_millis(env_number("EVENTOS_HEADER_TIMEOUT_MS", 10_000)),
            max_body_bytes: env_number("EVENTOS_MAX_BODY_KB", 1024) as usize * 1024,
            pg: PoolLimits {
                pool_size: env_number("EVENTOS_PG_POOL_SIZE", 16) as usize,
                max_databases: env_number("EVENTOS_PG_MAX_DATABASES", 16) as usize,
                connect_timeout: Duration::from_millis(env_number("EVENTOS_PG_CONNECT_TIMEOUT_MS", 5_000)),
                pool_wait: Duration::from_millis(env_number("EVENTOS_PG_POOL_WAIT_MS", 1_000)),
                idle_timeout: Duration::from_millis(env_number("EVENTOS_PG_IDLE_TIMEOUT_MS", 30_000)),
                query_timeout: Duration::from_millis(env_number("EVENTOS_PG_QUERY_TIMEOUT_MS", 10_000)),
            },
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            tracing::warn!("ignoring {name}={text:?}: not a whole number; using {default}");
            default
        }),
        Err(_) => default,
    }
}
