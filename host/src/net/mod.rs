//! HTTP out of the host (for guests, the OTLP export and the registry) and the TLS it speaks.

pub mod address;
pub mod client;
pub mod tls;
