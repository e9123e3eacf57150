//! The headers Spin 3.6.3 gives a guest about its request (`crates/trigger-http`'s
//! `headers.rs`): how it was routed, its full URL and who sent it.

use std::net::SocketAddr;

use hyper::Request;
use hyper::header::{HOST, HeaderName, HeaderValue};

use crate::app::router::RouteMatch;

const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");

/// Where a chained request comes from, as Spin says it.
pub const CHAINED_CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// Sets Spin's headers on a request about to reach its guest. They replace any a
/// client sent under the same names (Spin would keep those beside its own).
pub fn set_spin_headers<B>(request: &mut Request<B>, matched: &RouteMatch, client: SocketAddr) {
    let host = request.headers().get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let full_url = format!("http://{host}{path_and_query}");
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            request.headers_mut().insert(name, value);
        }
    };
    set(PATH_INFO, &matched.path_info);
    set(FULL_URL, &full_url);
    set(MATCHED_ROUTE, &matched.based_route);
    set(BASE_PATH, "/");
    set(RAW_COMPONENT_ROUTE, &matched.raw_route);
    set(COMPONENT_ROUTE, matched.component_route());
    set(CLIENT_ADDR, &client.to_string());
    for (name, value) in &matched.captures {
        let name = format!("spin-path-match-{}", name.to_ascii_lowercase().replace('_', "-"));
        if let Ok(name) = HeaderName::try_from(name) {
            set(name, value);
        }
    }
}
