//! A database URL routed through [`TcpProxy`], so a test can stop "the
//! database" the way a stopped server does (broken and refused connections).

pub use liveops_testkit::tcp_proxy::TcpProxy;

/// A proxy to the server of `database_url` (host and port).
pub async fn proxy_in_front_of(database_url: &str) -> TcpProxy {
    let url = url::Url::parse(database_url).expect("database URL");
    let host = url.host_str().expect("a TCP database URL");
    TcpProxy::in_front_of(&format!("{host}:{}", url.port().unwrap_or(5432))).await
}

/// `database_url` pointed at `proxy` instead of the server.
pub fn through(proxy: &TcpProxy, database_url: &str) -> String {
    let mut url = url::Url::parse(database_url).expect("database URL");
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.address.port())).expect("port");
    url.to_string()
}
