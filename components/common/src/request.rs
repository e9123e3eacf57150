//! The request as a handler sees it: already read, size-checked and decoded.

use serde::de::DeserializeOwned;

use crate::Problem;

#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// Decoded `?name=value` pairs in the order they came.
    pub query: Vec<(String, String)>,
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

    /// The query parameters, refusing names the route does not know and repeated names:
    /// a typo in a filter must not silently widen a list.
    pub fn query_params(&self, known: &[&str]) -> Result<Query<'_>, Problem> {
        for (index, (name, _)) in self.query.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                return Err(Problem::malformed(format!("unknown query parameter `{name}`")));
            }
            if self.query[..index].iter().any(|(seen, _)| seen == name) {
                return Err(Problem::malformed(format!("query parameter `{name}` is repeated")));
            }
        }
        Ok(Query(&self.query))
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

/// Known query parameters, each at most once.
pub struct Query<'a>(&'a [(String, String)]);

impl Query<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Splits and percent-decodes a query string (`+` is a space, as in forms).
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, Problem> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, Problem> {
    let bad = || Problem::malformed("the query string is not valid percent-encoded UTF-8");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> ApiRequest {
        ApiRequest { query: parse_query(query).expect("valid query"), ..ApiRequest::default() }
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let req = request("email=a%2Bb%40x.io&name=Ada+L");
        let query = req.query_params(&["email", "name"]).expect("known names");
        assert_eq!(query.get("email"), Some("a+b@x.io"));
        assert_eq!(query.get("name"), Some("Ada L"));
    }

    #[test]
    fn an_unknown_query_parameter_is_refused() {
        let err = request("staus=published").query_params(&["status"]).err();
        assert_eq!(err.map(|p| p.status), Some(400));
    }

    #[test]
    fn a_repeated_query_parameter_is_refused() {
        assert!(request("limit=1&limit=2").query_params(&["limit"]).is_err());
    }

    #[test]
    fn broken_percent_encoding_is_refused() {
        assert!(parse_query("a=%zz").is_err());
        assert!(parse_query("a=%ff").is_err());
        assert!(parse_query("a=%4").is_err());
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
