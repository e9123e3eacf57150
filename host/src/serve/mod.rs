//! Serving: the HTTP listener, one request through its component, Spin's headers, and the metrics listener.

pub mod handler;
pub mod headers;
pub mod metrics_server;
pub mod server;
