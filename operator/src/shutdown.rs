//! One shutdown signal (SIGTERM or ctrl-c) shared by every task of the process.

use tokio::sync::watch;

/// Fires the shutdown.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// Waits for the shutdown; cheap to clone into every task.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// A connected trigger and signal.
pub fn channel() -> (Trigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Shutdown(receiver))
}

impl Trigger {
    /// Tells every [`Shutdown`] to stop.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Completes once the trigger fired (or was dropped).
    pub async fn wait(mut self) {
        // An error means the trigger is gone, which also means: stop.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    /// Whether the shutdown has begun.
    #[cfg(test)]
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

/// Completes on SIGTERM (how Kubernetes stops a pod) or ctrl-c.
pub async fn signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminate => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::channel;

    #[tokio::test]
    async fn every_clone_sees_the_trigger() {
        let (trigger, shutdown) = channel();
        let waiter = tokio::spawn(shutdown.clone().wait());
        assert!(!shutdown.is_stopping());
        trigger.fire();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter finishes")
            .expect("no panic");
        assert!(shutdown.is_stopping());
    }
}
