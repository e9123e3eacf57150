//! A pool per address, shared by all requests: bounded, emptied of the
//! connections nobody used for a while, and quick to say when it has none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Status, WeakPool};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use super::errors::error_text;
use crate::observe::metrics::instruments::{DatabaseLabels, PoolSource};
use crate::observe::throttle::Throttle;

/// How the pools are bounded (see `app::limits`, which reads them from the environment).
#[derive(Debug, Clone)]
pub struct PoolLimits {
    /// Connections per address.
    pub pool_size: usize,
    /// Addresses (databases) one process reaches: with `pool_size`, its total.
    pub max_databases: usize,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time a request waits for a connection of a full pool before it is turned away.
    pub pool_wait: Duration,
    /// A connection nobody used this long is closed.
    pub idle_timeout: Duration,
    /// Time one statement may take.
    pub query_timeout: Duration,
}

/// How often a database that turns requests away says so in the host's log.
const TURNED_AWAY_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// One database's pool, under the name metrics know it by.
struct NamedPool {
    /// The database's name: never the address, which may hold a password.
    database: String,
    pool: Pool,
    turned_away: Arc<Throttle>,
}

pub struct Pools {
    pools: Mutex<HashMap<String, NamedPool>>,
    limits: PoolLimits,
    pub query_timeout: Duration,
    /// Statements that failed, per database (`eventos_pg_statement_errors_total`).
    pub statement_errors: Family<DatabaseLabels, Counter>,
}

impl Pools {
    pub fn new(limits: PoolLimits) -> Self {
        Self {
            pools: Mutex::new(HashMap::new()),
            query_timeout: limits.query_timeout,
            limits,
            statement_errors: Family::default(),
        }
    }

    /// A pooled client for `address`, creating its pool on first use, with the
    /// count its failed statements go to. No connection free within the pool's
    /// short wait, or one the server refuses, is an error at once (the guest
    /// answers 503), logged once per interval for each database.
    pub async fn get(&self, address: &str, config: tokio_postgres::Config) -> Result<(Object, Counter), String> {
        let (pool, database, turned_away) = self.pool_for(address, config)?;
        let failures = self.statement_errors.get_or_create(&DatabaseLabels { database: database.clone() }).clone();
        match pool.get().await {
            Ok(client) => Ok((client, failures)),
            Err(error) => {
                let why = describe_pool_error(&error);
                if let Some(times) = turned_away.note() {
                    tracing::warn!(database, times, error = why.as_str(), "database connections turned requests away");
                }
                Err(why)
            }
        }
    }

    fn pool_for(
        &self,
        address: &str,
        mut config: tokio_postgres::Config,
    ) -> Result<(Pool, String, Arc<Throttle>), String> {
        let mut pools = self.pools.lock().map_err(|_| "the pool registry is poisoned".to_string())?;
        if let Some(named) = pools.get(address) {
            return Ok((named.pool.clone(), named.database.clone(), named.turned_away.clone()));
        }
        if pools.len() >= self.limits.max_databases {
            return Err(format!(
                "this process already reaches {} databases (EVENTOS_PG_MAX_DATABASES)",
                self.limits.max_databases
            ));
        }
        let database = config.get_dbname().unwrap_or("postgres").to_owned();
        config.connect_timeout(self.limits.connect_timeout);
        let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        // As Spin: TLS, verified, unless the address says `sslmode=disable`.
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, NoTls, recycling)
        } else {
            let tls = crate::net::tls::postgres().map_err(|e| format!("cannot set up TLS: {e}"))?;
            Manager::from_config(config, tls, recycling)
        };
        let pool = Pool::builder(manager)
            .max_size(self.limits.pool_size)
            .wait_timeout(Some(self.limits.pool_wait))
            .create_timeout(Some(self.limits.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot create a connection pool: {e}"))?;
        tokio::spawn(close_idle(pool.weak(), self.limits.idle_timeout));
        let turned_away = Arc::new(Throttle::new(TURNED_AWAY_LOG_INTERVAL));
        let named = NamedPool { database: database.clone(), pool: pool.clone(), turned_away: turned_away.clone() };
        pools.insert(address.to_owned(), named);
        Ok((pool, database, turned_away))
    }
}

/// Closes the pool's connections that nobody used for `idle`, for as long as
/// the pool lives: an idle process holds no connection its database could
/// give another.
async fn close_idle(pool: WeakPool, idle: Duration) {
    let mut ticks = tokio::time::interval((idle / 2).clamp(Duration::from_millis(100), Duration::from_secs(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        pool.retain(|_, metrics| metrics.last_used() < idle);
    }
}

impl PoolSource for Pools {
    fn statement_errors(&self) -> &Family<DatabaseLabels, Counter> {
        &self.statement_errors
    }

    fn statuses(&self) -> Vec<(String, Status)> {
        let pools = self.pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut statuses: Vec<_> = pools.values().map(|named| (named.database.clone(), named.pool.status())).collect();
        statuses.sort_by(|a, b| a.0.cmp(&b.0));
        statuses
    }
}

/// Never echoes the connection string: it may hold a password.
fn describe_pool_error(error: &deadpool_postgres::PoolError) -> String {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => {
            "no database connection came free in time: the pool is exhausted".into()
        }
        PoolError::Timeout(_) => "connecting to the database timed out".into(),
        PoolError::Backend(e) => format!("cannot connect to the database: {}", error_text(e)),
        PoolError::Closed => "the connection pool is closed".into(),
        PoolError::NoRuntimeSpecified => "the connection pool has no runtime".into(),
        PoolError::PostCreateHook(_) => "a connection hook failed".into(),
    }
}
