//! Spin's HTTP routing: exact routes beat wildcards, and the longest wildcard wins.

#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    /// As written in the manifest, e.g. `/api/users/...`.
    declared: String,
    /// The path without the `/...` wildcard, e.g. `/api/users`.
    base: String,
    wildcard: bool,
    component: usize,
}

/// Where a request goes, and the `spin-*` facts about the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub component: usize,
    pub declared: &'a str,
    pub base: &'a str,
    /// The rest of the path after `base`.
    pub path_info: String,
}

impl Router {
    /// `routes` are (declared route, component index) pairs.
    pub fn new(routes: impl IntoIterator<Item = (String, usize)>) -> Self {
        let routes = routes
            .into_iter()
            .map(|(declared, component)| {
                let (base, wildcard) = match declared.strip_suffix("/...") {
                    Some(base) => (base.to_owned(), true),
                    None => (declared.trim_end_matches('/').to_owned(), false),
                };
                Route { declared, base, wildcard, component }
            })
            .collect();
        Self { routes }
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let trimmed = path.trim_end_matches('/');
        let exact = self.routes.iter().find(|r| !r.wildcard && r.base == trimmed);
        let best = exact.or_else(|| {
            self.routes.iter().filter(|r| r.wildcard && is_under(path, &r.base)).max_by_key(|r| r.base.len())
        })?;
        Some(RouteMatch {
            component: best.component,
            declared: &best.declared,
            base: &best.base,
            path_info: path[best.base.len().min(path.len())..].to_owned(),
        })
    }
}

/// `/api/users` is under `/api/users` and `/api/users/x`, not `/api/usersx`.
fn is_under(path: &str, base: &str) -> bool {
    path.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || base.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new([
            ("/api/users/...".to_string(), 0),
            ("/api/events/...".to_string(), 1),
            ("/".to_string(), 2),
            ("/...".to_string(), 3),
        ])
    }

    #[test]
    fn a_wildcard_route_matches_its_prefix_and_below() {
        let router = router();
        assert_eq!(router.route("/api/users").map(|m| m.component), Some(0));
        let matched = router.route("/api/users/42").expect("matches");
        assert_eq!((matched.component, matched.path_info.as_str()), (0, "/42"));
    }

    #[test]
    fn a_prefix_match_respects_segment_boundaries() {
        assert_eq!(router().route("/api/usersx").map(|m| m.component), Some(3));
    }

    #[test]
    fn an_exact_route_beats_a_wildcard() {
        assert_eq!(router().route("/").map(|m| m.component), Some(2));
    }

    #[test]
    fn no_route_is_none() {
        let router = Router::new([("/api/users/...".to_string(), 0)]);
        assert!(router.route("/elsewhere").is_none());
    }
}
