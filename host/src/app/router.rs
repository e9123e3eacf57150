//! Spin's HTTP routing (`crates/routes` of Spin 3.6.3), on the same `routefinder`
//! crate: exact segments beat `:name` captures, which beat a trailing `/...`
//! wildcard, and the longest match wins. A route declared twice goes to its last
//! declaration.

use anyhow::{Result, anyhow};

/// Paths Spin answers itself, before any route.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

#[derive(Debug)]
pub struct Router {
    finder: routefinder::Router<usize>,
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    /// As written in the manifest, e.g. `/api/users/...`.
    raw: String,
    /// Normalised: no trailing `/` (so `/` is empty), e.g. `/api/users/...`.
    based: String,
    component: usize,
}

/// Where a request goes, and the `spin-*` facts about the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: usize,
    /// `spin-matched-route`.
    pub based_route: String,
    /// `spin-raw-component-route`.
    pub raw_route: String,
    /// `spin-path-info`: what the trailing wildcard matched, with its slashes.
    pub path_info: String,
    /// `spin-path-match-<name>`, one per `:name` segment.
    pub captures: Vec<(String, String)>,
}

impl RouteMatch {
    /// A chained request to `component`: Spin treats it as matching `/...`.
    pub fn chained(component: usize, path: &str) -> Self {
        Self {
            component,
            based_route: "/...".into(),
            raw_route: "/...".into(),
            path_info: path.to_owned(),
            captures: Vec::new(),
        }
    }

    /// `spin-component-route`: the raw route without its wildcard.
    pub fn component_route(&self) -> &str {
        self.raw_route.strip_suffix("/...").unwrap_or(&self.raw_route)
    }
}

impl Router {
    /// `routes` are (declared route, component index) pairs, in manifest order.
    pub fn new(routes: impl IntoIterator<Item = (String, usize)>) -> Result<Self> {
        let mut unique: Vec<Route> = Vec::new();
        for (raw, component) in routes {
            let based = based_route(&raw);
            match unique.iter_mut().find(|route| route.raw == raw) {
                Some(earlier) => earlier.component = component,
                None => unique.push(Route { raw, based, component }),
            }
        }
        let mut finder = routefinder::Router::new();
        for (index, route) in unique.iter().enumerate() {
            let spec = match route.based.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => route.based.clone(),
            };
            finder.add(spec.as_str(), index).map_err(|e| anyhow!("route `{}`: {e}", route.raw))?;
        }
        Ok(Self { finder, routes: unique })
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let best = self.finder.best_match(path)?;
        let route = &self.routes[*best.handler()];
        let captures = best.captures();
        let path_info = captures
            .wildcard()
            .map(|rest| match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".into(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            })
            .unwrap_or_default();
        Some(RouteMatch {
            component: route.component,
            based_route: route.based.clone(),
            raw_route: route.raw.clone(),
            path_info,
            captures: captures.iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect(),
        })
    }
}

/// `/` becomes empty and a trailing `/` goes, as Spin bases routes on `/`.
fn based_route(raw: &str) -> String {
    let absolute = if raw.starts_with('/') { raw.to_owned() } else { format!("/{raw}") };
    absolute.strip_suffix('/').map(str::to_owned).unwrap_or(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, usize)]) -> Router {
        Router::new(routes.iter().map(|(route, component)| (route.to_string(), *component))).expect("valid")
    }

    #[test]
    fn a_wildcard_route_matches_its_prefix_and_below() {
        let router = router(&[("/api/users/...", 0), ("/...", 3)]);
        let whole = router.route("/api/users").expect("matches");
        assert_eq!((whole.component, whole.path_info.as_str()), (0, ""));
        let below = router.route("/api/users/42/").expect("matches");
        assert_eq!((below.component, below.path_info.as_str(), below.component_route()), (0, "/42/", "/api/users"));
        assert_eq!(router.route("/api/usersx").map(|m| m.component), Some(3));
    }

    #[test]
    fn an_exact_route_beats_a_wildcard_and_slash_routes_are_based_on_nothing() {
        let matched = router(&[("/", 2), ("/...", 3)]).route("/").expect("matches");
        assert_eq!((matched.component, matched.based_route.as_str(), matched.raw_route.as_str()), (2, "", "/"));
    }

    #[test]
    fn named_segments_are_captured() {
        let matched = router(&[("/base/:segment/:end/...", 0)]).route("/base/path/end/rest").expect("matches");
        assert_eq!(matched.captures, [("segment".into(), "path".into()), ("end".into(), "end".into())]);
        assert_eq!(matched.path_info, "/rest");
        assert_eq!(matched.based_route, "/base/:segment/:end/...");
    }

    #[test]
    fn the_last_declaration_of_a_route_wins() {
        assert_eq!(router(&[("/a", 0), ("/a", 1)]).route("/a").map(|m| m.component), Some(1));
    }

    #[test]
    fn no_route_is_none() {
        assert!(router(&[("/api/users/...", 0)]).route("/elsewhere").is_none());
    }

    #[test]
    fn a_chained_request_matches_everything_under_its_component() {
        let chained = RouteMatch::chained(4, "/api/x");
        assert_eq!((chained.path_info.as_str(), chained.component_route()), ("/api/x", ""));
    }
}
