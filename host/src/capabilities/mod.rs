//! What a guest can call, one folder per capability as Spin has one factor per
//! capability: Postgres, outbound HTTP, variables, key-value stores, chained
//! calls, and the interfaces present only to refuse. Each keeps its own share of a request's state.

pub mod allow;
pub mod bindings;
pub mod chain;
pub mod key_value;
pub mod outbound_http;
pub mod postgres;
pub mod refused;
pub mod variables;
