//! Which addresses lie inside the network: a webhook receiver there is refused
//! at registration (the components), and a host only a wildcard lets a guest
//! reach is never connected to there (`eventos`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// On the public internet, by the rule Spin's `block_networks = ["private"]`
/// applies (IANA's special-purpose registries, as `ip_network` reads them): not
/// loopback, private, link-local (the cloud metadata service at 169.254.169.254
/// included), unique-local, shared, unspecified, documentation, benchmarking or
/// reserved; nor multicast. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`,
/// `::a.b.c.d`) is judged as itself.
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
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::169.254.169.254",
        ] {
            assert!(!is_public(ip(inside)), "{inside}");
        }
    }

    #[test]
    fn addresses_on_the_internet_are_public() {
        for outside in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"] {
            assert!(is_public(ip(outside)), "{outside}");
        }
    }
}
