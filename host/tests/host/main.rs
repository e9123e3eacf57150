//! What `eventos` does that Spin leaves to its own configuration: the host's
//! serving, limits, metrics, `--watch`, instantiation counts, and Spin's own
//! conformance suite with both real Spins beside it as references.
// runtimes: eventos

#[path = "../support/mod.rs"]
mod support;

mod bench_guard;
mod conformance;
mod limits;
mod metrics;
mod serving;
mod watch;
