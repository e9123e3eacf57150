//! Routing by a table: each route a method, a path pattern and a handler. The
//! first pattern in the table that matches a path owns it (so literal paths go
//! before parameters), and a method none of that pattern's routes takes is a
//! 405 whose `Allow` the table itself gives: no handler keeps that list.

use crate::{ApiRequest, ApiResult, Problem};

/// A handler gets the request and what the pattern's `{}` segments captured, in order.
pub type Handler = fn(&ApiRequest, &[&str]) -> ApiResult;

pub struct Route {
    method: &'static str,
    /// Segments separated by `/`, `{}` for one that is a parameter.
    path: &'static str,
    handler: Handler,
}

impl Route {
    pub const fn get(path: &'static str, handler: Handler) -> Self {
        Self { method: "GET", path, handler }
    }

    pub const fn post(path: &'static str, handler: Handler) -> Self {
        Self { method: "POST", path, handler }
    }

    pub const fn put(path: &'static str, handler: Handler) -> Self {
        Self { method: "PUT", path, handler }
    }

    pub const fn patch(path: &'static str, handler: Handler) -> Self {
        Self { method: "PATCH", path, handler }
    }

    pub const fn delete(path: &'static str, handler: Handler) -> Self {
        Self { method: "DELETE", path, handler }
    }
}

/// Runs the handler of the route `req` takes, looking through `tables` in
/// order (a domain's own, then shared ones such as its webhooks): a 404 when no
/// pattern matches its path, a 405 with `Allow` when the pattern that does has
/// no route for its method.
pub fn dispatch(tables: &[&[Route]], req: &ApiRequest) -> ApiResult {
    let segments = req.segments();
    let routes = || tables.iter().flat_map(|table| table.iter());
    let Some((pattern, params)) = routes().find_map(|r| captures(r.path, &segments).map(|p| (r.path, p))) else {
        return Err(Problem::no_route(&req.path));
    };
    let owners = || routes().filter(move |r| r.path == pattern);
    match owners().find(|r| r.method == req.method) {
        Some(route) => (route.handler)(req, &params),
        None => {
            let mut allowed: Vec<&str> = owners().map(|r| r.method).collect();
            allowed.sort_by_key(|method| METHOD_ORDER.iter().position(|m| m == method));
            Err(Problem::method_not_allowed(allowed.join(", ")))
        }
    }
}

/// The order `Allow` lists methods in, whatever order the table gives them.
const METHOD_ORDER: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

/// What `pattern`'s parameters capture of `segments`, when it matches them.
fn captures<'a>(pattern: &str, segments: &[&'a str]) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut captured = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        match *part {
            "{}" => captured.push(*segment),
            literal if literal == *segment => {}
            _ => return None,
        }
    }
    Some(captured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiResponse;

    const ROUTES: &[Route] = &[
        Route::get("/api/things/health", |_, _| Ok(ApiResponse::no_content())),
        Route::post("/api/things", |_, _| Ok(ApiResponse::ok(&"made"))),
        Route::get("/api/things", |_, _| Ok(ApiResponse::ok(&"list"))),
        Route::get("/api/things/{}", |_, p| Ok(ApiResponse::ok(&p[0]))),
        Route::delete("/api/things/{}", |_, p| Ok(ApiResponse::ok(&p[0]))),
        Route::post("/api/things/{}/cancel", |_, p| Ok(ApiResponse::ok(&p[0]))),
    ];

    fn ask(method: &str, path: &str) -> ApiResult {
        dispatch(&[ROUTES], &ApiRequest { method: method.into(), path: path.into(), ..ApiRequest::default() })
    }

    #[test]
    fn a_route_gets_what_its_parameters_captured() {
        assert_eq!(ask("DELETE", "/api/things/abc").expect("deleted").body, b"\"abc\"");
        assert_eq!(ask("POST", "/api/things/x/cancel").expect("cancelled").body, b"\"x\"");
        assert_eq!(ask("POST", "/api/things/").expect("made").body, b"\"made\"");
    }

    #[test]
    fn a_literal_path_is_owned_by_its_routes_before_any_parameter() {
        let refused = ask("DELETE", "/api/things/health").expect_err("health is GET only");
        assert_eq!((refused.status, refused.allow.as_deref()), (405, Some("GET")));
    }

    #[test]
    fn a_method_no_route_of_the_path_takes_is_a_405_listing_those_that_do() {
        let refused = ask("PATCH", "/api/things").expect_err("405");
        assert_eq!((refused.status, refused.allow.as_deref()), (405, Some("GET, POST")));
        assert_eq!(ask("PUT", "/api/things/1").expect_err("405").allow.as_deref(), Some("GET, DELETE"));
    }

    #[test]
    fn a_path_no_pattern_matches_is_a_404() {
        for path in ["/api/things/1/cancel/now", "/api/other", "/"] {
            assert_eq!(ask("GET", path).expect_err("404").status, 404, "{path}");
        }
    }
}
