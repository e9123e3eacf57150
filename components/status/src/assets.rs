//! The page and its assets, compiled into the component: no CDN, no build step.

pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
}

const INDEX: Asset = Asset { content_type: "text/html; charset=utf-8", body: include_str!("../assets/index.html") };
const STYLE: Asset = Asset { content_type: "text/css; charset=utf-8", body: include_str!("../assets/app.css") };
const SCRIPT: Asset = Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/app.js") };
const HISTORY: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/history.js") };
const TRAFFIC: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/traffic.js") };
const BUILDS: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/builds.js") };
const SESSION: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/session.js") };
const DOOR: Asset = Asset { content_type: "text/html; charset=utf-8", body: include_str!("../assets/door.html") };
const DOOR_SCRIPT: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/door.js") };
const TICKET_CHECK: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/ticket-check.js") };
const PASSES: Asset =
    Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/passes.js") };
const ROOM: Asset = Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/room.js") };
const ICON: Asset = Asset { content_type: "image/svg+xml", body: include_str!("../assets/icon.svg") };

/// Looks an asset up by its exact name: nothing outside this list can be served.
pub fn find(name: &str) -> Option<&'static Asset> {
    match name {
        "index.html" => Some(&INDEX),
        "app.css" => Some(&STYLE),
        "app.js" => Some(&SCRIPT),
        "session.js" => Some(&SESSION),
        "history.js" => Some(&HISTORY),
        "traffic.js" => Some(&TRAFFIC),
        "builds.js" => Some(&BUILDS),
        "icon.svg" => Some(&ICON),
        "passes.js" => Some(&PASSES),
        "room.js" => Some(&ROOM),
        "door.html" => Some(&DOOR),
        "door.js" => Some(&DOOR_SCRIPT),
        "ticket-check.js" => Some(&TICKET_CHECK),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_names_are_assets() {
        assert!(find("app.js").is_some());
        for name in ["../Cargo.toml", "app.js/..", "", "APP.JS", "%2e%2e/secret"] {
            assert!(find(name).is_none(), "{name}");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for asset in [&INDEX, &STYLE, &SCRIPT, &PASSES, &ROOM, &DOOR, &DOOR_SCRIPT, &TICKET_CHECK] {
            assert!(!asset.body.contains("http://") && !asset.body.contains("https://"), "no external URLs");
        }
    }
}
