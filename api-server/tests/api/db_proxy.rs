//! A TCP proxy between the API server and PostgreSQL that a test can cut
//! and restore, so "the database went away" is what a stopped server
//! gives: open connections broken, new ones refused.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// The proxy; dropping it stops it.
pub struct DbProxy {
    /// Where clients connect.
    pub address: SocketAddr,
    upstream: String,
    up: Arc<watch::Sender<bool>>,
    listening: Mutex<Option<JoinHandle<()>>>,
}

impl DbProxy {
    /// Starts a proxy to the server of `database_url`.
    pub async fn in_front_of(database_url: &str) -> Self {
        let url = url::Url::parse(database_url).expect("database URL");
        let host = url.host_str().expect("a TCP database URL");
        let upstream = format!("{host}:{}", url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let up = Arc::new(watch::channel(true).0);
        let task = tokio::spawn(accept_loop(listener, upstream.clone(), Arc::clone(&up)));
        Self {
            address,
            upstream,
            up,
            listening: Mutex::new(Some(task)),
        }
    }

    /// `database_url` pointed at the proxy instead of the server.
    pub fn redirect(&self, database_url: &str) -> String {
        let mut url = url::Url::parse(database_url).expect("database URL");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(self.address.port())).expect("port");
        url.to_string()
    }

    /// Breaks every open connection and stops listening (connection refused).
    pub fn cut(&self) {
        self.up.send_replace(false);
        if let Some(task) = self.listening.lock().expect("lock").take() {
            task.abort();
        }
    }

    /// Listens and passes traffic again, on the same address.
    pub async fn restore(&self) {
        self.up.send_replace(true);
        let listener = TcpListener::bind(self.address)
            .await
            .expect("bind the proxy again");
        let task = tokio::spawn(accept_loop(listener, self.upstream.clone(), Arc::clone(&self.up)));
        *self.listening.lock().expect("lock") = Some(task);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, upstream: String, up: Arc<watch::Sender<bool>>) {
    while let Ok((mut client, _)) = listener.accept().await {
        let upstream = upstream.clone();
        let mut state = up.subscribe();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = state.wait_for(|up| !*up) => {}
            }
        });
    }
}
