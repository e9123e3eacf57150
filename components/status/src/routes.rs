//! The status routes: the page, its assets, the overview, and its own health.

use eventos_common::health::health;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};

use crate::assets;
use crate::overview::overview;
use crate::sign_in;
use crate::traffic::traffic;

/// Assets change with every release; a short cache keeps the page fresh.
const ASSET_CACHE: &str = "public, max-age=300";
/// The page may load only what this component serves, and talk only to this
/// origin and to the OpenID provider it signs in with.
fn content_security_policy() -> String {
    let provider = sign_in::Options::from_variables().provider.and_then(|p| origin(&p.issuer).map(str::to_owned));
    let connect = provider.map_or("'self'".to_owned(), |origin| format!("'self' {origin}"));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src {connect}; frame-ancestors 'none'"
    )
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    Some(&url[..scheme.len() + 3 + authority.len()])
}

pub fn route(req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", []) => asset("index.html"),
        ("GET", ["static", name]) => asset(name),
        (_, [] | ["static", _]) => Err(Problem::method_not_allowed("GET")),
        ("GET", ["api", "status"]) => Ok(ApiResponse::ok(&overview()).with_header("cache-control", "no-store")),
        ("GET", ["api", "status", "health"]) => Ok(health("status", env!("CARGO_PKG_VERSION"), None)),
        ("GET", ["api", "status", "traffic"]) => traffic(),
        (_, ["api", "status"] | ["api", "status", "health" | "traffic"]) => Err(Problem::method_not_allowed("GET")),
        ("GET", ["api", "status", "sign-in"]) => sign_in::options(),
        (_, ["api", "status", "sign-in"]) => Err(Problem::method_not_allowed("GET")),
        ("POST", ["api", "status", "sign-in", "development"]) => sign_in::development(req),
        (_, ["api", "status", "sign-in", "development"]) => Err(Problem::method_not_allowed("POST")),
        _ => Err(Problem::no_route(&req.path)),
    }
}

fn asset(name: &str) -> ApiResult {
    let asset = assets::find(name).ok_or_else(|| Problem::no_route(&format!("/static/{name}")))?;
    Ok(ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), asset.content_type.into()),
            ("cache-control".into(), ASSET_CACHE.into()),
            ("x-content-type-options".into(), "nosniff".into()),
            ("content-security-policy".into(), content_security_policy()),
        ],
        body: asset.body.as_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn an_origin_is_scheme_and_authority() {
        assert_eq!(origin("https://id.eventos.local/realms/eventos"), Some("https://id.eventos.local"));
        assert_eq!(origin("http://127.0.0.1:9000"), Some("http://127.0.0.1:9000"));
        assert_eq!(origin("id.eventos.local"), None);
    }
}
