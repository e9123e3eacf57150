//! `allowed_outbound_hosts`: the only addresses a component may reach.

use anyhow::{Result, anyhow, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scheme: Pattern,
    host: HostPattern,
    ports: Ports,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.spin.internal`: any name ending in `.spin.internal`.
    Suffix(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ports {
    Any,
    /// Inclusive.
    Range(u16, u16),
}

/// The port a scheme uses when an address leaves it out.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "http" => Some(80),
        "https" => Some(443),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        _ => None,
    }
}

impl AllowList {
    /// Parses entries whose `{{ }}` templates are already expanded.
    pub fn parse(entries: &[String]) -> Result<Self> {
        let entries = entries
            .iter()
            .map(|entry| Entry::parse(entry).map_err(|e| anyhow!("allowed_outbound_hosts entry `{entry}`: {e}")))
            .collect::<Result<_>>()?;
        Ok(Self { entries })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.entries.iter().any(|entry| entry.matches(scheme, &host, port))
    }
}

impl Entry {
    fn parse(text: &str) -> Result<Self> {
        let (scheme, rest) = text.split_once("://").ok_or_else(|| anyhow!("write it as scheme://host[:port]"))?;
        if rest.contains('/') {
            bail!("an address has no path");
        }
        let (host, port) = split_host_port(rest);
        let scheme = match scheme {
            "*" => Pattern::Any,
            "" => bail!("the scheme is empty"),
            other => Pattern::Exact(other.to_ascii_lowercase()),
        };
        let host = match host {
            "*" => HostPattern::Any,
            "" => bail!("the host is empty"),
            h if h.starts_with("*.") => HostPattern::Suffix(h[1..].to_ascii_lowercase()),
            h if h.contains('*') => bail!("`*` may only stand alone or as the first label"),
            h => HostPattern::Exact(h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()),
        };
        let ports = match port {
            Some("*") => Ports::Any,
            Some(range) if range.contains("..") => {
                let (low, high) = range.split_once("..").unwrap_or_default();
                Ports::Range(parse_port(low)?, parse_port(high)?)
            }
            Some(port) => {
                let port = parse_port(port)?;
                Ports::Range(port, port)
            }
            None => match &scheme {
                Pattern::Exact(s) => {
                    let port = default_port(s).ok_or_else(|| anyhow!("scheme `{s}` has no default port; add one"))?;
                    Ports::Range(port, port)
                }
                Pattern::Any => bail!("with scheme `*` the port must be given"),
            },
        };
        Ok(Self { scheme, host, ports })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = match &self.scheme {
            Pattern::Any => true,
            Pattern::Exact(s) => s == scheme,
        };
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(suffix) => host.ends_with(suffix.as_str()) && host.len() > suffix.len(),
            HostPattern::Exact(h) => h == host,
        };
        let port_ok = match self.ports {
            Ports::Any => true,
            Ports::Range(low, high) => (low..=high).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

/// Splits `host:port`, leaving a bracketed IPv6 address whole.
fn split_host_port(text: &str) -> (&str, Option<&str>) {
    if let Some(end) = text.find(']') {
        let (host, rest) = text.split_at(end + 1);
        return (host, rest.strip_prefix(':'));
    }
    match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    }
}

fn parse_port(text: &str) -> Result<u16> {
    text.parse().map_err(|_| anyhow!("`{text}` is not a port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn a_postgres_entry_allows_only_its_host_and_port() {
        let allow = list(&["postgres://127.0.0.1:5432"]);
        assert!(allow.allows("postgres", "127.0.0.1", 5432));
        assert!(!allow.allows("postgres", "127.0.0.1", 5433));
        assert!(!allow.allows("postgres", "10.0.0.1", 5432));
        assert!(!allow.allows("http", "127.0.0.1", 5432));
    }

    #[test]
    fn the_default_port_applies_when_omitted() {
        let allow = list(&["postgres://db.internal"]);
        assert!(allow.allows("postgres", "db.internal", 5432));
        assert!(!allow.allows("postgres", "db.internal", 6432));
    }

    #[test]
    fn a_wildcard_first_label_matches_subdomains_only() {
        let allow = list(&["http://*.spin.internal"]);
        assert!(allow.allows("http", "events.spin.internal", 80));
        assert!(!allow.allows("http", "spin.internal", 80));
        assert!(!allow.allows("http", "evil.com", 80));
    }

    #[test]
    fn port_ranges_and_wildcards_work() {
        let allow = list(&["http://localhost:3000..3010", "*://any.host:*"]);
        assert!(allow.allows("http", "localhost", 3005));
        assert!(!allow.allows("http", "localhost", 3011));
        assert!(allow.allows("https", "any.host", 1));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        assert!(!list(&[]).allows("http", "localhost", 80));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in ["localhost", "http://", "http://a/b", "http://a:x", "*://a", "foo://a", "http://ev*il.com"] {
            assert!(AllowList::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
