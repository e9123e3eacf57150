//! Which addresses lie inside the network: what a request to a host that only a
//! wildcard of `allowed_outbound_hosts` admits may not reach, whatever its name
//! resolves to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// On the public internet, by the rule Spin's `block_networks = ["private"]`
/// applies (IANA's special-purpose registries, as `ip_network` reads them): not
/// loopback, private, link-local (the cloud metadata service at 169.254.169.254
/// included), unique-local, shared, unspecified, documentation, benchmarking or
/// reserved; nor multicast. An IPv4 address written as IPv6 is judged as itself.
pub fn is_public(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().or_else(|| compatible_v4(v6)).map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    !ip.is_multicast() && ip_network::IpNetwork::from(ip).is_global()
}

/// `::a.b.c.d`, the deprecated IPv4-compatible form (not `::` nor `::1`).
fn compatible_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let [a, b, c, d, e, f, g, h] = v6.segments();
    ([a, b, c, d, e, f] == [0; 6] && (g != 0 || h > 1)).then(|| Ipv4Addr::from((u32::from(g) << 16) | u32::from(h)))
}

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
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn loopback_private_link_local_unique_local_and_unspecified_addresses_are_inside() {
        for inside in [
            "0.0.0.0",
            "127.0.0.1",
            "127.0.0.2",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::169.254.169.254",
            "ff02::1",
        ] {
            assert!(!is_public(ip(inside)), "{inside}");
        }
        for outside in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"] {
            assert!(is_public(ip(outside)), "{outside}");
        }
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
