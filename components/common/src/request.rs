//! The request as a handler sees it: already read, size-checked and decoded.

use serde::de::DeserializeOwned;

use crate::Problem;

#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent, without its `?`.
    pub query: String,
    /// The headers of `serve::READ_HEADERS` the request carried; names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub request_id: String,
}

impl ApiRequest {
    /// Path segments after the leading `/api/<domain>` prefix are the caller's to match.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The query string as a `T`: a struct that denies unknown fields, so that a
    /// typo in a filter cannot silently widen a list (a repeated name is refused too).
    /// Decoding is the WHATWG form decoding browsers use: lenient, like theirs.
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        serde_urlencoded::from_str(&self.query)
            .map_err(|e| Problem::malformed(format!("the query string is not valid for this request: {e}")))
    }

    /// The body as a strict JSON document of type `T` (unknown fields are refused by `T`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let content_type = self.header("content-type").unwrap_or("");
        if !is_json(content_type) {
            return Err(Problem::unsupported_media_type());
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Problem::malformed("the body is empty; send a JSON object"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| Problem::malformed(format!("the body is not valid for this request: {e}")))
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        email: Option<String>,
        name: Option<String>,
    }

    fn filter(query: &str) -> Result<Filter, Problem> {
        ApiRequest { query: query.into(), ..ApiRequest::default() }.query()
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let filter = filter("email=a%2Bb%40x.io&name=Ada+L").expect("known names");
        assert_eq!(filter, Filter { email: Some("a+b@x.io".into()), name: Some("Ada L".into()) });
    }

    #[test]
    fn an_unknown_query_parameter_is_refused() {
        assert_eq!(filter("emial=a@x.io").err().map(|p| p.status), Some(400));
    }

    #[test]
    fn a_repeated_query_parameter_is_refused() {
        assert_eq!(filter("name=a&name=b").err().map(|p| p.status), Some(400));
    }

    #[test]
    fn no_query_is_no_filter() {
        assert_eq!(filter(""), Ok(Filter { email: None, name: None }));
    }

    #[test]
    fn a_body_that_is_not_json_is_unsupported() {
        let req = ApiRequest {
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"{}".to_vec(),
            ..ApiRequest::default()
        };
        assert_eq!(req.json::<serde_json::Value>().err().map(|p| p.status), Some(415));
    }

    #[test]
    fn json_with_a_charset_is_accepted() {
        let req = ApiRequest {
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: b"{\"a\":1}".to_vec(),
            ..ApiRequest::default()
        };
        assert!(req.json::<serde_json::Value>().is_ok());
    }
}
