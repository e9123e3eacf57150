//! Where a webhook may be delivered: a URL every parser reads alike, on a host
//! the operator lets the component reach (`webhook_hosts`), at an address on the
//! public internet unless the operator named that very host.
//!
//! Loopback, private, link-local (cloud metadata at 169.254.169.254 included),
//! unique-local, shared and unspecified addresses reach into the platform's own
//! network: a receiver there is refused at registration when its URL names such
//! an address (in any spelling a resolver accepts: `0`, `127.1`, `0x7f000001`) or
//! a `localhost` name. A name is resolved only when a delivery is sent, where the
//! runtime's address check applies (see "Audit log and webhooks" in `docs/tour.md`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A receiver's URL, taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    pub url: String,
    pub scheme: String,
    pub host: Host,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

const MALFORMED: &str = "must be an http(s) URL with a host, an optional port, and no credentials";

impl Receiver {
    /// An `http(s)://host[:port][/path]` URL without credentials, its host a
    /// name, an IPv4 address or a bracketed IPv6 one.
    pub fn parse(url: &str) -> Result<Self, String> {
        let refused = || MALFORMED.to_string();
        // What JSON Schema's `\s` counts as blank: Unicode's white space and the BOM.
        if url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}') {
            return Err(refused());
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(refused)?;
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return Err(refused()),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let (address, after) = bracketed.split_once(']').ok_or_else(refused)?;
                let ip: Ipv6Addr = address.parse().map_err(|_| refused())?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or_else(refused)?),
                };
                (Host::Ip(IpAddr::V6(ip)), port)
            }
            None => {
                let (name, port) = match authority.split_once(':') {
                    Some((name, port)) => (name, Some(port)),
                    None => (authority, None),
                };
                let well_formed = !name.is_empty()
                    && name.len() <= 253
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
                if !well_formed {
                    return Err(refused());
                }
                (host_of(name)?, port)
            }
        };
        let port = match port {
            None => default_port,
            Some(digits) if (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(refused)?
            }
            Some(_) => return Err(refused()),
        };
        Ok(Receiver { url: url.to_owned(), scheme: scheme.to_owned(), host, port })
    }

    /// Whether the operator's `webhook_hosts` lets the component reach it, and
    /// its address is public unless that allowance names this very host.
    pub fn check_reachable(&self, webhook_hosts: &str) -> Result<(), String> {
        let allowed = AllowedHost::parse(webhook_hosts)
            .ok_or_else(|| format!("the platform delivers to no receiver (webhook_hosts is `{webhook_hosts}`)"))?;
        if !allowed.admits(self) {
            return Err(format!("must be a URL the platform may deliver to: {webhook_hosts}"));
        }
        if allowed.names_a_host() {
            return Ok(());
        }
        match &self.host {
            Host::Ip(ip) if !is_public(*ip) => {
                Err(format!("{ip} is not a public address: the platform does not deliver inside its own network"))
            }
            Host::Name(name) if is_localhost(name) => {
                Err(format!("{name} is this machine: the platform does not deliver inside its own network"))
            }
            _ => Ok(()),
        }
    }
}

/// A name, or an IPv4 address in any form `inet_aton` reads (what a resolver
/// makes of `0`, `127.1` or `2130706433`); a name that only looks numeric is refused.
fn host_of(name: &str) -> Result<Host, String> {
    let last_label = name.trim_end_matches('.').rsplit('.').next().unwrap_or_default();
    let numeric = last_label.bytes().all(|b| b.is_ascii_digit())
        || (last_label.len() > 2 && last_label[..2].eq_ignore_ascii_case("0x"));
    if !numeric {
        return Ok(Host::Name(name.to_ascii_lowercase()));
    }
    parse_inet_aton(name.trim_end_matches('.'))
        .map(|ip| Host::Ip(IpAddr::V4(ip)))
        .ok_or_else(|| format!("{name} is neither a host name nor an IPv4 address"))
}

/// IPv4 as `inet_aton` reads it: one to four parts, each decimal, octal (a
/// leading `0`) or hexadecimal (`0x`), the last filling the bytes left.
fn parse_inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = text.split('.').map(parse_part).collect::<Option<_>>()?;
    let (last, leading) = parts.split_last()?;
    if leading.len() > 3 || leading.iter().any(|&p| p > 255) {
        return None;
    }
    let room = 8 * (4 - leading.len() as u32);
    if room < 32 && *last >= 1 << room {
        return None;
    }
    let high = leading.iter().enumerate().fold(0u32, |address, (i, &p)| address | p << (24 - 8 * i as u32));
    Some(Ipv4Addr::from(high | last))
}

fn parse_part(part: &str) -> Option<u32> {
    let (digits, radix) = match part.as_bytes() {
        [b'0', b'x' | b'X', ..] => (&part[2..], 16),
        [b'0', _, ..] => (&part[1..], 8),
        _ => (part, 10),
    };
    if digits.is_empty() && radix == 16 {
        return Some(0);
    }
    u32::from_str_radix(digits, radix).ok().filter(|_| !digits.is_empty())
}

fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost")
}

pub use eventos_address::is_public;

/// One entry of `allowed_outbound_hosts` as Spin writes it: `scheme://host[:port]`,
/// where the scheme may be `*`, the host `*`, `*.domain`, a name, an address or
/// a CIDR network, and the port `*`, a number or an end-exclusive range `a..b`
/// (the scheme's own when left out).
#[derive(Debug, PartialEq)]
struct AllowedHost {
    scheme: String,
    host: String,
    port: String,
}

impl AllowedHost {
    fn parse(entry: &str) -> Option<Self> {
        let (scheme, rest) = entry.trim().split_once("://")?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.strip_prefix('[') {
            Some(bracketed) => {
                let (host, after) = bracketed.split_once(']')?;
                (host.to_owned(), after.strip_prefix(':').unwrap_or_default().to_owned())
            }
            None => match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.to_owned()),
                None => (rest.to_owned(), String::new()),
            },
        };
        (!host.is_empty()).then(|| AllowedHost { scheme: scheme.to_owned(), host: host.to_ascii_lowercase(), port })
    }

    fn admits(&self, receiver: &Receiver) -> bool {
        (self.scheme == "*" || self.scheme == receiver.scheme)
            && self.admits_host(&receiver.host)
            && self.admits_port(receiver)
    }

    fn admits_host(&self, host: &Host) -> bool {
        if self.host == "*" {
            return true;
        }
        match host {
            Host::Name(name) => match self.host.strip_prefix("*.") {
                Some(domain) => name.ends_with(&format!(".{domain}")),
                None => *name == self.host,
            },
            Host::Ip(ip) => match self.host.split_once('/') {
                Some((network, bits)) => in_network(*ip, network, bits),
                None => self.host.parse::<IpAddr>().is_ok_and(|allowed| allowed == *ip),
            },
        }
    }

    fn admits_port(&self, receiver: &Receiver) -> bool {
        let port = receiver.port;
        match self.port.as_str() {
            "*" => true,
            "" => port == if receiver.scheme == "https" { 443 } else { 80 },
            range => match range.split_once("..") {
                Some((from, to)) => {
                    matches!((from.parse::<u16>(), to.parse::<u16>()), (Ok(f), Ok(t)) if (f..t).contains(&port))
                }
                None => range.parse::<u16>() == Ok(port),
            },
        }
    }

    /// Whether the entry names hosts rather than any host: the operator then
    /// chose where deliveries go, private addresses included.
    fn names_a_host(&self) -> bool {
        self.host != "*" && !self.host.starts_with("*.")
    }
}

fn in_network(ip: IpAddr, network: &str, bits: &str) -> bool {
    let Ok(bits) = bits.parse::<u32>() else { return false };
    match (ip, network.parse::<IpAddr>()) {
        (IpAddr::V4(ip), Ok(IpAddr::V4(net))) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), Ok(IpAddr::V6(net))) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_receiver_url_has_a_host_every_parser_reads_alike() {
        for good in ["https://hooks.example.com/eventos", "http://127.0.0.1:8080/x", "http://[::1]:9/", "https://a.b"] {
            assert!(Receiver::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "http://[",
            "http://[zz]/",
            "http://[::1]x/",
            "ftp://a.b",
            "https://user@a.b",
            "http://a.b:port/",
            "http://a.b:0/",
            "http://a.b:65536/",
            "http://:80/",
            "http://a b/",
            "http://a_b/",
            "http://1.2.3.4.5/",
            "http://999.1.1.1/",
        ] {
            assert!(Receiver::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numeric_hosts_are_read_as_a_resolver_reads_them() {
        let host = |url: &str| Receiver::parse(url).map(|r| r.host);
        assert_eq!(host("http://0/"), Ok(Host::Ip(ip("0.0.0.0"))));
        assert_eq!(host("http://127.1:9/"), Ok(Host::Ip(ip("127.0.0.1"))));
        assert_eq!(host("http://2130706433/"), Ok(Host::Ip(ip("127.0.0.1"))));
        assert_eq!(host("http://0x7f.0.0.1/"), Ok(Host::Ip(ip("127.0.0.1"))));
        assert_eq!(host("http://0177.0.0.1/"), Ok(Host::Ip(ip("127.0.0.1"))));
        assert_eq!(host("http://169.254.169.254./"), Ok(Host::Ip(ip("169.254.169.254"))));
        assert_eq!(host("https://Hooks.Example.com/"), Ok(Host::Name("hooks.example.com".into())));
        assert_eq!(host("https://1password.com/"), Ok(Host::Name("1password.com".into())));
    }

    fn check(url: &str, webhook_hosts: &str) -> Result<(), String> {
        Receiver::parse(url)?.check_reachable(webhook_hosts)
    }

    #[test]
    fn a_receiver_inside_the_network_is_refused_unless_the_operator_named_it() {
        for inside in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/hook",
            "https://127.0.0.1/hook",
            "https://0/hook",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
        ] {
            assert!(check(inside, "https://*:443").is_err(), "{inside}");
        }
        assert_eq!(check("https://hooks.example.com/x", "https://*:443"), Ok(()));
        assert_eq!(check("http://127.0.0.1:8080/x", "http://127.0.0.1:*"), Ok(()));
        assert_eq!(check("http://localhost:8080/x", "http://localhost:8080"), Ok(()));
        assert_eq!(check("http://10.1.2.3/x", "http://10.0.0.0/8"), Ok(()));
        assert!(check("http://127.0.0.2:8080/x", "http://127.0.0.1:*").is_err());
    }

    #[test]
    fn a_receiver_must_be_one_webhook_hosts_admits() {
        assert!(check("http://hooks.example.com/x", "https://*:443").is_err(), "the scheme");
        assert!(check("https://hooks.example.com:8443/x", "https://*:443").is_err(), "the port");
        assert_eq!(check("https://hooks.example.com/x", "https://*"), Ok(()));
        assert_eq!(check("https://a.hooks.example.com/x", "https://*.example.com"), Ok(()));
        assert!(check("https://example.org/x", "https://*.example.com").is_err());
        assert_eq!(check("http://127.0.0.1:8080/x", "http://127.0.0.1:8000..9000"), Ok(()));
        assert!(check("http://127.0.0.1:9000/x", "http://127.0.0.1:8000..9000").is_err(), "end-exclusive");
        assert!(check("https://hooks.example.com/x", "").is_err());
    }
}
