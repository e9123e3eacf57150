//! A pool per address, shared by all requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Status};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use super::errors::error_text;
use crate::observe::metrics::instruments::{DatabaseLabels, PoolSource};

/// One database's pool, under the name metrics know it by.
struct NamedPool {
    /// The database's name: never the address, which may hold a password.
    database: String,
    pool: Pool,
}

pub struct Pools {
    pools: Mutex<HashMap<String, NamedPool>>,
    max_size: usize,
    connect_timeout: Duration,
    pub query_timeout: Duration,
    /// Statements that failed, per database (`eventos_pg_statement_errors_total`).
    pub statement_errors: Family<DatabaseLabels, Counter>,
}

impl Pools {
    /// Pools of at most `max_size` connections per database, each opened within
    /// `connect_timeout`, each statement given `query_timeout`.
    pub fn new(max_size: usize, connect_timeout: Duration, query_timeout: Duration) -> Self {
        Self {
            pools: Mutex::new(HashMap::new()),
            max_size,
            connect_timeout,
            query_timeout,
            statement_errors: Family::default(),
        }
    }

    /// A pooled client for `address`, creating its pool on first use, with the
    /// count its failed statements go to.
    pub async fn get(&self, address: &str, mut config: tokio_postgres::Config) -> Result<(Object, Counter), String> {
        let (pool, database) = {
            let mut pools = self.pools.lock().map_err(|_| "the pool registry is poisoned".to_string())?;
            match pools.get(address) {
                Some(named) => (named.pool.clone(), named.database.clone()),
                None => {
                    let database = config.get_dbname().unwrap_or("postgres").to_owned();
                    config.connect_timeout(self.connect_timeout);
                    let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
                    // As Spin: TLS, verified, unless the address says `sslmode=disable`.
                    let manager = if config.get_ssl_mode() == SslMode::Disable {
                        Manager::from_config(config, NoTls, recycling)
                    } else {
                        let tls = crate::net::tls::postgres().map_err(|e| format!("cannot set up TLS: {e}"))?;
                        Manager::from_config(config, tls, recycling)
                    };
                    let pool = Pool::builder(manager)
                        .max_size(self.max_size)
                        .wait_timeout(Some(self.connect_timeout))
                        .create_timeout(Some(self.connect_timeout))
                        .runtime(Runtime::Tokio1)
                        .build()
                        .map_err(|e| format!("cannot create a connection pool: {e}"))?;
                    pools.insert(address.to_owned(), NamedPool { database: database.clone(), pool: pool.clone() });
                    (pool, database)
                }
            }
        };
        let failures = self.statement_errors.get_or_create(&DatabaseLabels { database }).clone();
        Ok((pool.get().await.map_err(|e| describe_pool_error(&e))?, failures))
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
        PoolError::Timeout(_) => "timed out waiting for a database connection".into(),
        PoolError::Backend(e) => format!("cannot connect to the database: {}", error_text(e)),
        PoolError::Closed => "the connection pool is closed".into(),
        PoolError::NoRuntimeSpecified => "the connection pool has no runtime".into(),
        PoolError::PostCreateHook(_) => "a connection hook failed".into(),
    }
}
