//! What Spin itself does around a guest, held on `eventos` and on both real
//! Spins through the probe guest (host/tests/fixtures/probe.toml): routes,
//! headers, variables, and every PostgreSQL type across `spin:postgres`. The
//! node is not asked: it serves only the application's own SpinApps.
// runtimes: eventos spin

#[path = "../support/mod.rs"]
mod support;

mod pg_types;
mod routes_and_variables;
