//! A local webhook receiver for the tests: an axum server on port 0 that
//! answers each path from a script (status, optional `Retry-After`; the
//! last answer repeats) and records every request it gets.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use tokio::time::Instant;

/// One answer of the script.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub retry_after_seconds: Option<u64>,
}

impl Reply {
    pub const fn status(status: u16) -> Self {
        Self {
            status,
            retry_after_seconds: None,
        }
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    scripts: HashMap<String, Vec<Reply>>,
    received: HashMap<String, Vec<Received>>,
}

/// The running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Starts a receiver answering each path of `scripts` in turn; other
    /// paths get 200.
    pub async fn start(scripts: &[(&str, &[Reply])]) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            scripts: scripts
                .iter()
                .map(|(path, replies)| ((*path).to_owned(), replies.to_vec()))
                .collect(),
            received: HashMap::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let app = Router::new()
            .route("/{path}", post(answer))
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, inner }
    }

    /// `http://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.address)
    }

    /// Requests received on `path` so far.
    pub fn received(&self, path: &str) -> Vec<Received> {
        let inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.received.get(path).cloned().unwrap_or_default()
    }
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let received = inner.received.entry(path.clone()).or_default();
    received.push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    let nth = received.len() - 1;
    let script = inner.scripts.get(&path).cloned().unwrap_or_default();
    let reply = script
        .get(nth)
        .or(script.last())
        .copied()
        .unwrap_or(Reply::status(200));
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match reply.retry_after_seconds {
        Some(seconds) => (status, [("retry-after", seconds.to_string())]).into_response(),
        None => status.into_response(),
    }
}
