//! `allowed_outbound_hosts`: the only addresses a component may reach, read and
//! matched by Spin 3.6.3's rules (`crates/outbound-networking-config`): a scheme
//! or `*`; a host name, `*.` and a suffix, an IP network in CIDR notation, `self`
//! (relative requests) or `*`; a port, an end-exclusive range `a..b` or `*`, the
//! scheme's well-known port when left out.

use std::net::IpAddr;
use std::ops::Range;

use anyhow::{Context, Result, anyhow, bail};
use ipnet::IpNet;
use url::Host;

use crate::capabilities::chain::SUFFIX as CHAINING_SUFFIX;
use crate::net::address::Reach;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scheme: Option<String>,
    host: HostPattern,
    ports: Ports,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, kept as `.example.com`: any name ending so.
    AnySubdomain(String),
    /// `self`: requests with a relative URL, back to this application.
    ToSelf,
    Literal(Host),
    Network(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ports {
    Any,
    One(u16),
    /// End-exclusive, as Spin reads `a..b`.
    Range(Range<u16>),
}

/// The port a scheme uses when an address leaves it out.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowList {
    /// Parses entries whose `{{ }}` templates are already expanded; `*.spin.internal`
    /// stands for the application's own components, as in Spin.
    pub fn parse(entries: &[String], component_ids: &[&str]) -> Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed: write '*://*:*' to allow every address");
        }
        let mut parsed = Vec::new();
        for text in entries {
            let entry = Entry::parse(text).with_context(|| format!("allowed_outbound_hosts entry `{text}`"))?;
            match &entry.host {
                HostPattern::AnySubdomain(suffix) if suffix == CHAINING_SUFFIX => {
                    parsed.extend(component_ids.iter().map(|id| Entry {
                        host: HostPattern::Literal(Host::Domain(format!("{id}{CHAINING_SUFFIX}"))),
                        ..entry.clone()
                    }));
                }
                _ => parsed.push(entry),
            }
        }
        Ok(Self { entries: parsed })
    }

    /// Whether `url` may be reached; `scheme` is assumed when `url` has none (as in
    /// `host:port`). An address that cannot be read is not allowed.
    pub fn allows_url(&self, url: &str, scheme: &str) -> bool {
        let Some((scheme, host, port)) = parse_url(url, scheme) else {
            return false;
        };
        self.entries.iter().any(|entry| entry.allows(&scheme, &host, port))
    }

    /// Where `url` may be reached: anywhere when an entry that admits it names
    /// its host (a name, an address, a network), public addresses only when it
    /// is admitted by wildcards alone (`*`, `*.example.com`).
    pub fn reach_of(&self, url: &str, scheme: &str) -> Reach {
        let Some((scheme, host, port)) = parse_url(url, scheme) else {
            return Reach::PublicOnly;
        };
        let named = self.entries.iter().any(|entry| {
            entry.allows(&scheme, &host, port) && !matches!(entry.host, HostPattern::Any | HostPattern::AnySubdomain(_))
        });
        if named { Reach::Anywhere } else { Reach::PublicOnly }
    }

    /// Whether relative (`self`) requests with one of these schemes may be made.
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        self.entries.iter().any(|entry| {
            matches!(entry.host, HostPattern::Any | HostPattern::ToSelf)
                && schemes.iter().any(|s| entry.scheme.as_deref().is_none_or(|own| own == *s))
        })
    }

    /// Whether any entry could let a socket through (wasi:sockets addresses are
    /// checked as `tcp://` or `udp://`): when none can, every socket is refused
    /// without asking.
    pub fn reaches_sockets(&self) -> bool {
        self.entries.iter().any(|entry| entry.scheme.as_deref().is_none_or(|s| s == "tcp" || s == "udp"))
    }
}

impl Entry {
    fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            bail!("write it as <scheme>://<host>[:<port>], with `*` wildcards allowed for each");
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((_, path)) if !path.is_empty() => bail!("an address has no path"),
            Some((port, _)) => port,
            None => rest,
        };
        let ports = Ports::parse(port, scheme).with_context(|| format!("invalid port `{port}`"))?;
        let scheme = match scheme {
            "*" => None,
            s if s.starts_with('{') => bail!("scheme lists are not supported"),
            s if !s.is_empty() && s.chars().all(char::is_alphabetic) => Some(s.to_owned()),
            s => bail!("invalid scheme `{s}`: only letters are allowed"),
        };
        let host = HostPattern::parse(host).with_context(|| format!("invalid host `{host}`"))?;
        Ok(Self { scheme, host, ports })
    }

    fn allows(&self, scheme: &str, host: &Host, port: Option<u16>) -> bool {
        self.scheme.as_deref().is_none_or(|own| own == scheme)
            && self.host.allows(host)
            && self.ports.allows(port, Some(scheme))
    }
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self> {
        let host = host.trim();
        match host {
            "*" => return Ok(Self::Any),
            "self" | "self.alt" => return Ok(Self::ToSelf),
            h if h.starts_with('{') => bail!("host lists are not supported"),
            _ => {}
        }
        if let Some(network) = network(host) {
            return Ok(Self::Network(network));
        }
        let host = host.trim_end_matches('/');
        if host.contains('/') {
            bail!("an address has no path");
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("`*` may only stand alone or as the first label");
            }
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        if host.contains('*') {
            bail!("`*` may only stand alone or as the first label");
        }
        Ok(Self::Literal(Host::parse(host)?))
    }

    fn allows(&self, host: &Host) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Self::Literal(literal), host) => literal == host,
            (Self::Network(network), Host::Ipv4(ip)) => network.contains(&IpAddr::V4(*ip)),
            (Self::Network(network), Host::Ipv6(ip)) => network.contains(&IpAddr::V6(*ip)),
            _ => false,
        }
    }
}

/// `10.0.0.0/8`, or a bare IP address as a one-address network; host bits are
/// dropped (`127.0.0.1/24` is `127.0.0.0/24`), as Spin reads them.
fn network(text: &str) -> Option<IpNet> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    text.parse::<IpNet>().ok().map(|network| network.trunc())
}

impl Ports {
    fn parse(port: &str, scheme: &str) -> Result<Self> {
        match port {
            "" => well_known_port(scheme)
                .map(Self::One)
                .ok_or_else(|| anyhow!("no port was given and scheme `{scheme}` has no well-known port")),
            "*" => Ok(Self::Any),
            p if p.starts_with('{') => bail!("port lists are not supported"),
            p => match p.split_once("..") {
                Some((start, end)) => Ok(Self::Range(start.parse()?..end.parse()?)),
                None => Ok(Self::One(p.parse()?)),
            },
        }
    }

    /// `port` is the address's, or the scheme's well-known one when it has none.
    fn allows(&self, port: Option<u16>, scheme: Option<&str>) -> bool {
        let Some(port) = port.or_else(|| scheme.and_then(well_known_port)) else {
            return matches!(self, Self::Any);
        };
        match self {
            Self::Any => true,
            Self::One(own) => *own == port,
            Self::Range(range) => range.contains(&port),
        }
    }
}

/// The scheme, host and port of an address, as Spin reads one: a URL, or (when
/// that has no host) the address behind `<scheme>://`. User information is ignored.
fn parse_url(address: &str, scheme: &str) -> Option<(String, Host, Option<u16>)> {
    let without_userinfo = strip_userinfo(address);
    let parsed = match url::Url::parse(&without_userinfo) {
        Ok(url) if url.has_host() => url,
        _ => url::Url::parse(&format!("{scheme}://{without_userinfo}")).ok()?,
    };
    let host = Host::parse(parsed.host_str()?).ok()?;
    Some((parsed.scheme().to_owned(), host, parsed.port()))
}

fn strip_userinfo(address: &str) -> std::borrow::Cow<'_, str> {
    let authority_start = address.find("://").map_or(0, |i| i + 3);
    let path_start = address[authority_start..].find('/').map_or(address.len(), |i| i + authority_start);
    match address[authority_start..path_start].rfind('@') {
        Some(at) => format!("{}{}", &address[..authority_start], &address[authority_start + at + 1..]).into(),
        None => address.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        AllowList::parse(&entries, &["users", "events"]).expect("valid")
    }

    #[test]
    fn a_postgres_entry_allows_only_its_host_and_port() {
        let allow = list(&["postgres://127.0.0.1:5432"]);
        assert!(allow.allows_url("127.0.0.1:5432", "postgres"));
        assert!(allow.allows_url("127.0.0.1", "postgres"), "the well-known port");
        assert!(!allow.allows_url("127.0.0.1:5433", "postgres"));
        assert!(!allow.allows_url("10.0.0.1:5432", "postgres"));
        assert!(!allow.allows_url("http://127.0.0.1:5432", "postgres"));
    }

    #[test]
    fn the_well_known_port_applies_when_omitted() {
        let allow = list(&["postgres://db.internal", "mqtt://broker"]);
        assert!(allow.allows_url("db.internal:5432", "postgres"));
        assert!(!allow.allows_url("db.internal:6432", "postgres"));
        assert!(allow.allows_url("mqtt://broker:1883?client_id=x", "mqtt"));
    }

    #[test]
    fn a_wildcard_first_label_matches_subdomains_only() {
        let allow = list(&["http://*.example.com"]);
        assert!(allow.allows_url("http://api.example.com", "https"));
        assert!(!allow.allows_url("http://example.com", "https"));
        assert!(!allow.allows_url("http://evil.com", "https"));
    }

    #[test]
    fn chaining_wildcards_stand_for_the_applications_components() {
        let allow = list(&["http://*.spin.internal"]);
        assert!(allow.allows_url("http://events.spin.internal/api", "https"));
        assert!(!allow.allows_url("http://ghost.spin.internal/api", "https"));
    }

    #[test]
    fn port_ranges_end_before_their_last_port() {
        let allow = list(&["http://localhost:3000..3010", "*://any.host:*"]);
        assert!(allow.allows_url("http://localhost:3000", "https"));
        assert!(allow.allows_url("http://localhost:3009", "https"));
        assert!(!allow.allows_url("http://localhost:3010", "https"));
        assert!(allow.allows_url("https://any.host:1", "https"));
    }

    #[test]
    fn networks_match_the_addresses_inside_them() {
        let allow = list(&["*://127.0.0.0/24:7000", "*://10.1.2.3/8:*"]);
        assert!(allow.reaches_sockets());
        assert!(allow.allows_url("127.0.0.1:7000", "tcp"));
        assert!(!allow.allows_url("127.0.1.1:7000", "tcp"));
        assert!(!allow.allows_url("127.0.0.1:7001", "tcp"));
        assert!(allow.allows_url("10.200.0.1:1", "udp"), "host bits are dropped");
        assert!(!list(&["postgres://127.0.0.1:5432"]).reaches_sockets());
        assert!(!allow.allows_url("http://localhost:7000", "https"), "a network matches no name");
    }

    #[test]
    fn self_allows_relative_requests_only() {
        let allow = list(&["http://self"]);
        assert!(allow.allows_relative(&["http", "https"]));
        assert!(!allow.allows_url("http://self", "https"));
        assert!(!list(&["http://localhost"]).allows_relative(&["http", "https"]));
        assert!(list(&["*://*:*"]).allows_relative(&["http"]));
    }

    #[test]
    fn user_information_is_not_part_of_the_address() {
        let allow = list(&["mqtt://localhost:1883"]);
        assert!(allow.allows_url("mqtt://user:p@ss@localhost:1883", "mqtt"));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        assert!(!list(&[]).allows_url("http://localhost", "https"));
        assert!(!list(&[]).allows_relative(&["http"]));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in
            ["localhost", "http://", "http://a/b", "http://a:x", "*://a", "foo://a", "http://ev*il.com", "h1://a:1"]
        {
            assert!(AllowList::parse(&[bad.to_string()], &[]).is_err(), "{bad}");
        }
        assert!(AllowList::parse(&["insecure:allow-all".to_string()], &[]).is_err());
    }
}
