//! A TCP proxy in front of a server (PostgreSQL, a broker) that a test can
//! cut and restore, so "the server went away" is what a stopped server
//! gives: open connections broken, new ones refused. Not a mock.

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
pub struct TcpProxy {
    /// Where clients connect.
    pub address: SocketAddr,
    upstream: String,
    up: Arc<watch::Sender<bool>>,
    listening: Mutex<Option<JoinHandle<()>>>,
}

impl TcpProxy {
    /// Starts a proxy to `upstream` (`host:port`).
    pub async fn in_front_of(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let up = Arc::new(watch::channel(true).0);
        let task = tokio::spawn(accept_loop(listener, upstream.to_owned(), Arc::clone(&up)));
        Self {
            address,
            upstream: upstream.to_owned(),
            up,
            listening: Mutex::new(Some(task)),
        }
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

impl Drop for TcpProxy {
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
