//! The pages and their assets, compiled into the component: no CDN, no build step.

#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every asset, by the name it is served under.
const ASSETS: &[(&str, &str)] = &[
    ("index.html", include_str!("../assets/index.html")),
    ("door.html", include_str!("../assets/door.html")),
    ("app.css", include_str!("../assets/app.css")),
    ("app.js", include_str!("../assets/app.js")),
    ("session.js", include_str!("../assets/session.js")),
    ("history.js", include_str!("../assets/history.js")),
    ("traffic.js", include_str!("../assets/traffic.js")),
    ("builds.js", include_str!("../assets/builds.js")),
    ("passes.js", include_str!("../assets/passes.js")),
    ("room.js", include_str!("../assets/room.js")),
    ("door.js", include_str!("../assets/door.js")),
    ("ticket-check.js", include_str!("../assets/ticket-check.js")),
    ("icon.svg", include_str!("../assets/icon.svg")),
];

/// What an asset's name says it is.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "image/svg+xml",
    }
}

/// Looks an asset up by its exact name: nothing outside the list can be served.
pub fn find(name: &str) -> Option<Asset> {
    let (name, body) = ASSETS.iter().find(|(listed, _)| *listed == name)?;
    Some(Asset { content_type: content_type(name), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_names_are_assets() {
        assert_eq!(find("app.js").map(|a| a.content_type), Some("text/javascript; charset=utf-8"));
        assert_eq!(find("door.html").map(|a| a.content_type), Some("text/html; charset=utf-8"));
        assert_eq!(find("icon.svg").map(|a| a.content_type), Some("image/svg+xml"));
        for name in ["../Cargo.toml", "app.js/..", "", "APP.JS", "%2e%2e/secret"] {
            assert!(find(name).is_none(), "{name}");
        }
    }

    #[test]
    fn the_pages_load_nothing_from_elsewhere() {
        for (name, body) in ASSETS {
            // SVG's namespace is a name, not an address anything is loaded from.
            let body = body.replace("http://www.w3.org/2000/svg", "");
            assert!(!body.contains("http://") && !body.contains("https://"), "{name} names an address elsewhere");
        }
    }
}
