//! What the Prometheus listener and the OTLP export share: what each instrument
//! is, the sources their gauges read, and the buckets of their histograms.

use std::sync::Arc;

use deadpool_postgres::Status as PoolStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::exponential_buckets;

/// What each instrument is, said once for both exports.
pub mod describe {
    pub const REQUESTS: &str = "Requests answered, per component, route and status class";
    pub const REQUEST_DURATION: &str = "Time to a request's response head, per component and route";
    pub const INSTANTIATION_DURATION: &str = "Time to instantiate a component for one request";
    pub const INSTANCES_IN_USE: &str = "Component instances running now";
    pub const INSTANCES_MAX: &str = "The cap on instances serving clients at once";
    pub const POOL_CONNECTIONS: &str = "Open connections, per database";
    pub const POOL_IDLE: &str = "Connections waiting in the pool, per database";
    pub const POOL_WAITING: &str = "Requests waiting for a connection, per database";
    pub const STATEMENT_ERRORS: &str = "Statements that failed, per database";
}

/// From 0.1 ms to about 3.3 s, doubling: a request's and an instantiation's spread.
pub fn seconds_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0001, 2.0, 16)
}

/// What a database's figures are labelled with: its name, never its address.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DatabaseLabels {
    pub database: String,
}

/// What the instance gauges read: whoever admits requests to guests.
pub trait InstanceSource: Send + Sync {
    /// Instances running now, and the cap on clients' instances.
    fn instances(&self) -> (usize, usize);
}

/// What the pool gauges read: whoever keeps the Postgres pools.
pub trait PoolSource: Send + Sync {
    /// Each pool's database and status, by database name.
    fn statuses(&self) -> Vec<(String, PoolStatus)>;
    /// The counter of failed statements the pools count into, per database.
    fn statement_errors(&self) -> &Family<DatabaseLabels, Counter>;
}

/// Where the gauges read what is true now: the instances and the pools.
#[derive(Clone)]
pub struct Sources {
    pub instances: Arc<dyn InstanceSource>,
    pub pools: Arc<dyn PoolSource>,
}

/// One database pool, now.
pub struct PoolReading {
    pub database: String,
    pub status: PoolStatus,
    pub statement_errors: u64,
}

impl Sources {
    /// Instances running now, and the cap on clients' instances.
    pub fn instances(&self) -> (usize, usize) {
        self.instances.instances()
    }

    pub fn pools(&self) -> Vec<PoolReading> {
        let errors = self.pools.statement_errors();
        (self.pools.statuses().into_iter())
            .map(|(database, status)| {
                let statement_errors = errors.get_or_create(&DatabaseLabels { database: database.clone() }).get();
                PoolReading { database, status, statement_errors }
            })
            .collect()
    }
}
