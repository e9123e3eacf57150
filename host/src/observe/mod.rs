//! What operators see of the host: traces, metrics and the figures they are made of.

pub mod metrics;
pub mod stats;
pub mod telemetry;
