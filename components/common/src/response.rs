//! Successful answers: JSON documents with the status the contract names.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    pub fn ok(value: &impl Serialize) -> Self {
        Self::json(200, value)
    }

    /// 201 with the `Location` of the new resource.
    pub fn created(location: String, value: &impl Serialize) -> Self {
        let mut response = Self::json(201, value);
        response.headers.push(("location".into(), location));
        response
    }

    pub fn no_content() -> Self {
        Self { status: 204, headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}
