//! Which addresses lie inside the network: what a request to a host that only a
//! wildcard of `allowed_outbound_hosts` admits may not reach, whatever its name
//! resolves to.

use std::net::SocketAddr;

pub use eventos_address::is_public;

/// Where a connection may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Wherever the name resolves to: the host was named (or is the host's own peer).
    Anywhere,
    /// Only public addresses: the host was admitted by a wildcard.
    PublicOnly,
}

/// The addresses to connect to, of those `resolved`; `None` when every one was
/// inside the network and `reach` keeps to public ones.
pub fn reachable(resolved: Vec<SocketAddr>, reach: Reach) -> Option<Vec<SocketAddr>> {
    match reach {
        Reach::Anywhere => Some(resolved),
        Reach::PublicOnly => {
            let public: Vec<SocketAddr> = resolved.iter().copied().filter(|a| is_public(a.ip())).collect();
            (!public.is_empty() || resolved.is_empty()).then_some(public)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_wildcard_host_reaches_only_its_public_addresses() {
        let at = |text: &str| SocketAddr::new(ip(text), 443);
        let mixed = vec![at("127.0.0.1"), at("93.184.216.34")];
        assert_eq!(reachable(mixed.clone(), Reach::PublicOnly), Some(vec![at("93.184.216.34")]));
        assert_eq!(reachable(vec![at("169.254.169.254"), at("::1")], Reach::PublicOnly), None);
        assert_eq!(reachable(mixed.clone(), Reach::Anywhere), Some(mixed));
    }
}
