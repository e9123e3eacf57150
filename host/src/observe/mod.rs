//! What operators see of the host: its lines, traces, metrics and the figures they are made of.

pub mod logs;
pub mod metrics;
pub mod stats;
pub mod telemetry;
pub mod throttle;
