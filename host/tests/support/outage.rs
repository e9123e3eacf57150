//! What the drills do to a platform from outside: how long they last, and a
//! database turning connections away as a server at its limit does.

use std::time::Duration;

use super::{Platform, admin_query};

/// A drill's length: `EVENTOS_DRILL_SECONDS`, else `default` seconds.
pub fn drill_length(default: u64) -> Duration {
    Duration::from_secs(std::env::var("EVENTOS_DRILL_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default))
}

/// The roles of the platform's `domains` may open `limit` connections each (-1:
/// any); lowering it also ends the connections they have, so that their pools
/// must open new ones, and the server turns those away.
pub fn limit_connections(app: &Platform, domains: &[&str], limit: i32) {
    for domain in domains {
        let role = format!("{}_{domain}", app.prefix);
        admin_query("postgres", &format!("ALTER ROLE {role} CONNECTION LIMIT {limit}")).expect("alter role");
        if limit >= 0 {
            let sql = format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}'");
            admin_query("postgres", &sql).expect("end the role's connections");
        }
    }
}
