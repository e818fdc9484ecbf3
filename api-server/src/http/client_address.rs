//! The client's address, for per-address rate limits: the socket peer, or,
//! with `TRUST_FORWARDED_FOR`, the rightmost `X-Forwarded-For` entry that is
//! not one of the `TRUSTED_PROXIES`.
//!
//! Every proxy appends the address it was connected from, so entries are
//! trustworthy from the right up to the first one a trusted proxy did not
//! write; everything left of it came from the client and can say anything.
//! All header lines count, in order, as one list (RFC 9110 section 5.3).

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv6Addr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

use super::AppState;

/// Where the request came from; `None` when the server was not started with
/// connection info (a router driven directly in a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// Rate-limit bucket name for `action` from this address. An IPv6
    /// client is bucketed by its /64, the smallest block a subscriber is
    /// handed: one machine can pick any of its 2^64 addresses.
    pub fn bucket(&self, action: &str) -> String {
        match self.0.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(ip)) => format!("{action}:ip:{ip}"),
            Some(IpAddr::V6(ip)) => {
                let network = u128::from(ip) & !(u128::MAX >> 64);
                format!("{action}:ip:{}/64", Ipv6Addr::from(network))
            }
            None => format!("{action}:ip:unknown"),
        }
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        if state.config.trust_forwarded_for
            && let Some(ip) = forwarded_client(&parts.headers, &state.config.trusted_proxies.0)
        {
            return Ok(Self(Some(ip)));
        }
        Ok(Self(peer))
    }
}

/// The rightmost `X-Forwarded-For` entry not in `trusted`; when every entry
/// is trusted, the leftmost (the farthest hop known). Walking stops at an
/// entry that is not an address: only a client writes such a thing, so the
/// hop right of it is the last one known to be true.
pub fn forwarded_client(headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let mut farthest_trusted = None;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            return farthest_trusted;
        };
        if !trusted.iter().any(|network| network.contains(&ip)) {
            return Some(ip);
        }
        farthest_trusted = Some(ip);
    }
    farthest_trusted
}

/// An address as proxies write it: bare, or IPv6 in brackets, either with
/// a port (`[2001:db8::1]:443`, `192.0.2.1:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<SocketAddr>()
        .ok()
        .map(|socket| socket.ip().to_canonical())
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};
    use ipnet::IpNet;

    use super::{ClientAddress, forwarded_client};

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", HeaderValue::from_str(line).expect("header"));
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().expect("cidr")).collect()
    }

    #[test]
    fn without_trusted_proxies_the_rightmost_entry_is_the_client() {
        let found = forwarded_client(&headers(&["1.1.1.1, 203.0.113.7"]), &[]);
        assert_eq!(found, Some("203.0.113.7".parse().expect("ip")));
    }

    #[test]
    fn trusted_proxies_are_skipped_across_every_header_line() {
        // The client forged 1.1.1.1; the edge proxy appended the real client
        // on the first line, an inner proxy wrote a second line.
        let map = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.5"]);
        let found = forwarded_client(&map, &nets(&["10.0.0.0/8"]));
        assert_eq!(found, Some("203.0.113.7".parse().expect("ip")));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        let map = headers(&["not-an-ip, 10.0.0.5"]);
        assert_eq!(
            forwarded_client(&map, &nets(&["10.0.0.0/8"])),
            Some("10.0.0.5".parse().expect("ip"))
        );
        assert_eq!(forwarded_client(&headers(&["garbage"]), &[]), None);
        assert_eq!(forwarded_client(&HeaderMap::new(), &[]), None);
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let map = headers(&["[2001:db8::1]:443, 192.0.2.1:80"]);
        assert_eq!(
            forwarded_client(&map, &nets(&["192.0.2.0/24"])),
            Some("2001:db8::1".parse().expect("ip"))
        );
        let mapped = headers(&["::ffff:198.51.100.4"]);
        assert_eq!(
            forwarded_client(&mapped, &[]),
            Some("198.51.100.4".parse().expect("ip"))
        );
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_slash_64() {
        let one = ClientAddress(Some("2001:db8:1:2:aaaa::1".parse().expect("ip")));
        let same = ClientAddress(Some("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip")));
        let other = ClientAddress(Some("2001:db8:1:3::1".parse().expect("ip")));
        assert_eq!(one.bucket("login"), "login:ip:2001:db8:1:2::/64");
        assert_eq!(one.bucket("login"), same.bucket("login"));
        assert_ne!(one.bucket("login"), other.bucket("login"));
        let v4 = ClientAddress(Some("192.0.2.9".parse().expect("ip")));
        assert_eq!(v4.bucket("login"), "login:ip:192.0.2.9");
    }
}
