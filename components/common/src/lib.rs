//! What every Eventos component shares: the request pipeline (request id, body
//! limit, CORS, one log line), RFC 9457 problems, strict JSON bodies, pagination
//! and the health endpoint. Domain logic never lives here.

pub mod auth;
pub mod db;
pub mod fields;
pub mod health;
pub mod journal;
pub mod known_events;
pub mod outbound;
pub mod page;
pub mod peer;
pub mod problem;
pub mod recent;
pub mod request;
pub mod response;
pub mod router;
pub mod serve;
pub mod time;
pub mod trace;
pub mod verified_tokens;
pub mod webhook;

pub use problem::{FieldError, Problem};
pub use request::ApiRequest;
pub use response::ApiResponse;

/// What a route handler answers: a response, or the problem that explains why not.
pub type ApiResult = Result<ApiResponse, Problem>;
