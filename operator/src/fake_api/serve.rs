//! The fake API server over HTTP on a local socket, so that a client in
//! another process (the operator bench's operator) talks to it as to a
//! real API server, and the fake's objects stay out of that process.

use axum::{Router, body::Body};
use http::Request;
use tokio::net::TcpListener;

use super::FakeApi;

impl FakeApi {
    /// Answers every request arriving on `listener` until `shutdown`. Not a
    /// graceful shutdown: watch responses never end by themselves.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let fake = self.clone();
        let router = Router::new().fallback(move |request: Request<Body>| {
            let fake = fake.clone();
            async move { fake.answer(request).await }
        });
        tokio::select! {
            served = axum::serve(listener, router).into_future() => served,
            () = shutdown => Ok(()),
        }
    }
}
