//! A pool per address, shared by all requests, and the connections one guest holds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Status};
use futures_util::TryStreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, SimpleQueryMessage};

use super::columns::row_set;
use super::errors::{error_text, query_failed};
use super::params::{Param, bind_all};
use crate::capabilities::spin::postgres4_0_0::postgres::{Error, ParameterValue, QueryError, RowSet};
use crate::limits::Limits;
use crate::telemetry::Trace;

/// Undoes whatever a guest left on its session: settings (SET or set_config),
/// cursors, LISTEN, advisory locks, temporary tables.
macro_rules! reset_session {
    () => {
        "RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP"
    };
}
/// Run on every connection a guest used, before another request may have it, in
/// one round trip: the reset, after a first column that says whether a
/// transaction block was left open (inside one, the block began before this
/// statement did).
const PROBE_AND_RESET: &str = concat!("SELECT now() <> statement_timestamp(); ", reset_session!());
/// For a connection left in a transaction block (open or failed), where the reset
/// above would be rolled back with it.
const ROLLBACK_AND_RESET: &str = concat!("ROLLBACK; ", reset_session!());

/// What a database's figures are labelled with: its name, never its address.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DatabaseLabels {
    pub database: String,
}

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
    pub fn new(limits: &Limits) -> Self {
        Self {
            pools: Mutex::new(HashMap::new()),
            max_size: limits.pg_pool_size,
            connect_timeout: limits.pg_connect_timeout,
            query_timeout: limits.pg_query_timeout,
            statement_errors: Family::default(),
        }
    }

    /// Each pool's database and status, by database name.
    pub fn statuses(&self) -> Vec<(String, Status)> {
        let pools = self.pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut statuses: Vec<_> = pools.values().map(|named| (named.database.clone(), named.pool.status())).collect();
        statuses.sort_by(|a, b| a.0.cmp(&b.0));
        statuses
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
                        let tls = crate::tls::postgres().map_err(|e| format!("cannot set up TLS: {e}"))?;
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

/// A connection a guest opened; it goes back to its pool when the guest drops it
/// or the request ends, reset first if the guest ran anything on it.
pub struct GuestConnection {
    client: Option<Object>,
    /// Counts this database's failed statements.
    failures: Counter,
    /// The guest ran a statement: the session may hold what it left.
    used: bool,
    query_timeout: Duration,
    /// The database's name, for the spans of its statements.
    database: String,
    /// The request's span, when spans are exported: each statement gets one under it.
    trace: Option<Trace>,
}

impl GuestConnection {
    pub fn new(
        (client, failures): (Object, Counter),
        query_timeout: Duration,
        database: String,
        trace: Option<Trace>,
    ) -> Self {
        Self { client: Some(client), failures, used: false, query_timeout, database, trace }
    }

    pub async fn query(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        let span = self.statement_span(sql);
        let outcome = self.run_query(sql, params).await;
        self.finish(span, outcome.is_err());
        outcome
    }

    pub async fn execute(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        let span = self.statement_span(sql);
        let outcome = self.run_execute(sql, params).await;
        self.finish(span, outcome.is_err());
        outcome
    }

    fn statement_span(&self, sql: &str) -> Option<Trace> {
        self.trace.as_ref().map(|trace| trace.statement(&self.database, sql))
    }

    /// Counts a statement that failed, and ends its span.
    fn finish(&self, span: Option<Trace>, failed: bool) {
        if failed {
            self.failures.inc();
        }
        if let Some(span) = span {
            span.end(failed);
        }
    }

    /// As on Spin: parameters that cannot be converted are a bad parameter, a
    /// statement refused before it runs is the server's structured error, and one
    /// that fails while its rows stream back (a constraint, a deadlock) is text.
    async fn run_query(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        self.used = true;
        let client = self.client.as_ref().ok_or_else(closed)?;
        let values = bind_all(&params).map_err(|e| Error::BadParameter(format!("{e:?}")))?;
        let run = async {
            let statement = client.prepare_cached(sql).await.map_err(|e| query_failed(&e))?;
            let stream = client
                .query_raw(&statement, values.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)))
                .await
                .map_err(|e| query_failed(&e))?;
            let as_text = |e: anyhow::Error| Error::QueryFailed(QueryError::Text(format!("{e:?}")));
            let rows: Vec<Row> = stream.try_collect().await.map_err(|e| as_text(e.into()))?;
            row_set(&rows).map_err(as_text)
        };
        match tokio::time::timeout(self.query_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Parameters that cannot be converted are a failed value conversion, as on Spin.
    async fn run_execute(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        self.used = true;
        let client = self.client.as_ref().ok_or_else(closed)?;
        let values = bind_all(&params).map_err(|e| Error::ValueConversionFailed(format!("{e:?}")))?;
        let run = async {
            let statement = client.prepare_cached(sql).await.map_err(|e| query_failed(&e))?;
            client.execute(&statement, &as_refs(&values)).await.map_err(|e| query_failed(&e))
        };
        match tokio::time::timeout(self.query_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out()),
        }
    }

    /// A statement that timed out leaves the connection in an unknown state: it is
    /// detached from the pool, and the guest sees the failure as a lost connection.
    fn timed_out(&mut self) -> Error {
        if let Some(client) = self.client.take() {
            let _ = Object::take(client);
        }
        let why = format!("the database did not answer within {:?}", self.query_timeout);
        Error::QueryFailed(QueryError::Text(why))
    }
}

fn as_refs(values: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}

fn closed() -> Error {
    Error::ConnectionFailed("the connection is closed".into())
}

impl Drop for GuestConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if !self.used {
            return;
        }
        // Resetting needs a round trip; do it off the request path. If it fails the
        // connection is detached from the pool rather than handed to someone else.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if reset(&client).await.is_err() {
                    let _ = Object::take(client);
                }
            });
        } else {
            let _ = Object::take(client);
        }
    }
}

/// Leaves the session as a new connection's: one round trip unless the guest
/// left a transaction block open or failed, then two more.
async fn reset(client: &Object) -> Result<(), tokio_postgres::Error> {
    if let Ok(answers) = client.simple_query(PROBE_AND_RESET).await {
        let in_block = answers.iter().find_map(|answer| match answer {
            SimpleQueryMessage::Row(row) => row.get(0).map(|value| value == "t"),
            _ => None,
        });
        if in_block == Some(false) {
            return Ok(());
        }
    }
    client.batch_execute(ROLLBACK_AND_RESET).await
}

/// The connections of one request, addressed by the guest's resource handles.
#[derive(Default)]
pub struct GuestConnections {
    slots: Vec<Option<GuestConnection>>,
}

impl GuestConnections {
    pub fn insert(&mut self, connection: GuestConnection) -> u32 {
        let index = match self.slots.iter().position(Option::is_none) {
            Some(free) => {
                self.slots[free] = Some(connection);
                free
            }
            None => {
                self.slots.push(Some(connection));
                self.slots.len() - 1
            }
        };
        index as u32
    }

    pub fn get_mut(&mut self, rep: u32) -> wasmtime::Result<&mut GuestConnection> {
        self.slots
            .get_mut(rep as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| wasmtime::format_err!("unknown postgres connection handle {rep}"))
    }

    pub fn remove(&mut self, rep: u32) {
        if let Some(slot) = self.slots.get_mut(rep as usize) {
            slot.take();
        }
    }
}
