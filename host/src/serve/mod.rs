//! Serving: the HTTP listener, one request through its component, a guest's
//! call to another component, Spin's headers, and the metrics listener.

pub mod chained_call;
pub mod handler;
pub mod headers;
pub mod metrics_server;
pub mod server;
