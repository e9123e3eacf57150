//! What `eventos` does that Spin leaves to its own configuration: the host's
//! serving, limits, metrics, `--watch`, key-value stores on Redis,
//! instantiation counts, and Spin's own conformance suite with both real Spins
//! beside it as references.
// runtimes: eventos

#[path = "../support/mod.rs"]
mod support;

mod bench_guard;
mod conformance;
mod key_value_on_redis;
mod limits;
mod metrics;
mod serving;
mod stock_buckets;
mod watch;
