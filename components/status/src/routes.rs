//! The status routes: the page, its assets, the overview, and its own health.

use eventos_common::health::health;
use eventos_common::{ApiRequest, ApiResponse, ApiResult, Problem};

use crate::assets;
use crate::overview::overview;

/// Assets change with every release; a short cache keeps the page fresh.
const ASSET_CACHE: &str = "public, max-age=300";
/// The page may load only what this component serves, and talk only to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

pub fn route(req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", []) => asset("index.html"),
        ("GET", ["static", name]) => asset(name),
        (_, [] | ["static", _]) => Err(Problem::method_not_allowed("GET")),
        ("GET", ["api", "status"]) => Ok(ApiResponse::ok(&overview()).with_header("cache-control", "no-store")),
        ("GET", ["api", "status", "health"]) => Ok(health("status", env!("CARGO_PKG_VERSION"), None)),
        (_, ["api", "status"] | ["api", "status", "health"]) => Err(Problem::method_not_allowed("GET")),
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
            ("content-security-policy".into(), CONTENT_SECURITY_POLICY.into()),
        ],
        body: asset.body.as_bytes().to_vec(),
    })
}
