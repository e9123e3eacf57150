//! The status routes: the page, its assets, the overview, and its own health.

use eventos_common::health::health;
use eventos_common::router::{Route, dispatch};
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
    dispatch(&[ROUTES], req)
}

const ROUTES: &[Route] = &[
    Route::get("/", |_, _| asset("index.html")),
    // The door: staff check tickets in at a gate, online or not.
    Route::get("/door", |_, _| asset("door.html")),
    Route::get("/static/{}", |_, p| asset(p[0])),
    Route::get("/api/status", |_, _| Ok(ApiResponse::ok(&overview()).with_header("cache-control", "no-store"))),
    Route::get("/api/status/health", |_, _| Ok(health("status", env!("CARGO_PKG_VERSION"), None))),
    Route::get("/api/status/traffic", |_, _| traffic()),
    Route::get("/api/status/sign-in", |_, _| sign_in::options()),
    Route::post("/api/status/sign-in/development", |req, _| sign_in::development(req)),
];

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
