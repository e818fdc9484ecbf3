//! The SSRF guard of webhook delivery: a receiver URL may not point into the
//! cluster or the host (loopback, private RFC 1918 and ULA ranges,
//! link-local (cloud metadata at 169.254.169.254), unspecified, multicast,
//! shared CGNAT space (often pod networks), or names like `*.svc` and
//! `*.cluster.local`) unless its endpoint sets `allow_private`.
//!
//! Names are checked before the request, and again inside the HTTP
//! client's resolver ([`GuardedResolver`]), whose answer is the one the
//! client connects to: a DNS answer that changes in between (rebinding)
//! cannot slip a private address through.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Suffixes of names that resolve inside a cluster or the host.
const INTERNAL_SUFFIXES: [&str; 5] = [".svc", ".cluster.local", ".localhost", ".internal", ".local"];

/// Why `ip` may not be a webhook target, if it may not.
pub fn forbidden_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private (RFC 1918)")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (RFC 6598)")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique local (ULA)")
    } else if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64: the IPv4 address it embeds decides.
        let [.., a, b, c, d] = ip.octets();
        forbidden_v4(Ipv4Addr::new(a, b, c, d))
    } else {
        None
    }
}

/// Why `host` (a URL's host name, not an address) names something inside
/// the cluster or the host: `localhost`, a cluster-internal suffix, or a
/// single label, which a pod's resolver completes with its search domains
/// (`api-server` becomes `api-server.<namespace>.svc.cluster.local`).
pub fn internal_name(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" {
        Some("localhost")
    } else if INTERNAL_SUFFIXES.iter().any(|suffix| host.ends_with(suffix)) {
        Some("a cluster-internal name")
    } else if !host.contains('.') {
        Some("a single-label name (completed by the cluster's search domains)")
    } else {
        None
    }
}

/// Resolves `host` and refuses it when any of its addresses is forbidden
/// (a name answering with one public and one private address is refused:
/// the client could pick either).
pub async fn resolve_allowed(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| format!("cannot resolve {host}: {error}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{host} has no address"));
    }
    for address in &addresses {
        if let Some(why) = forbidden_ip(address.ip()) {
            return Err(format!("{host} resolves to {} ({why})", address.ip()));
        }
    }
    Ok(addresses)
}

/// The HTTP client's resolver for endpoints without `allow_private`.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver;

impl GuardedResolver {
    /// As the `Arc` reqwest takes.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolve_allowed(&host, 0).await?;
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{forbidden_ip, internal_name};

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn internal_and_special_addresses_are_forbidden() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(forbidden_ip(ip(text)).is_some(), "{text} must be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for text in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert_eq!(forbidden_ip(ip(text)), None, "{text} must be allowed");
        }
    }

    #[test]
    fn cluster_names_and_single_labels_are_internal() {
        for host in [
            "localhost",
            "api.games.svc",
            "api.games.svc.cluster.local",
            "kubernetes.default.svc.",
            "metadata.google.internal",
            "api-server",
            "LOCALHOST",
        ] {
            assert!(internal_name(host).is_some(), "{host} must be internal");
        }
        assert_eq!(internal_name("hooks.example.com"), None);
    }
}
