//! Leader election with a Lease, so only one replica reconciles.
//!
//! Off by default (`LEADER_ELECTION=false`); the chart turns it on when it
//! runs more than one replica. Every replica serves its probes; only the
//! holder of the Lease runs the controllers. A replica that loses the Lease
//! stops its controllers at once and waits to win it again; on shutdown the
//! holder releases the Lease so a standby takes over without waiting for it
//! to expire.

use std::future::Future;

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;

use crate::error::{Error, Result};

/// How long a Lease stays valid after its last renewal, in seconds.
const LEASE_DURATION_SECONDS: u64 = 15;
/// How long before expiry the holder renews, in seconds.
const LEASE_GRACE_SECONDS: u64 = 5;

/// Which Lease to hold, and as whom.
#[derive(Clone, Debug)]
pub struct Election {
    pub lease_name: String,
    pub namespace: String,
    pub identity: String,
}

/// Runs `lead()` while this replica holds the Lease, until `shutdown`
/// completes or `lead()` returns by itself (it watches `shutdown` too).
///
/// `lead` is called again each time leadership is regained.
pub async fn run_while_leader<L, F>(
    client: Client,
    election: Election,
    shutdown: impl Future<Output = ()>,
    mut lead: L,
) -> Result<()>
where
    L: FnMut() -> F,
    F: Future<Output = ()>,
{
    let manager = LeaseManagerBuilder::new(client, &election.lease_name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(LEASE_DURATION_SECONDS)
        .with_grace(LEASE_GRACE_SECONDS)
        .with_field_manager(format!("liveops-operator-{}", election.identity))
        .build()
        .await
        .map_err(lease_error)?;
    let (mut is_leader, lease_task) = manager.watch().await;
    tracing::info!(lease = %election.lease_name, namespace = %election.namespace, identity = %election.identity, "waiting for leadership");

    tokio::pin!(shutdown);
    let outcome = loop {
        tokio::select! {
            () = &mut shutdown => break Ok(()),
            changed = wait_for(&mut is_leader, true) => if let Err(error) = changed { break Err(error) },
        }
        tracing::info!(identity = %election.identity, "became leader: starting controllers");
        let leading = lead();
        tokio::pin!(leading);
        tokio::select! {
            // `lead` watches `shutdown` itself and returns after a graceful stop.
            () = &mut leading => break Ok(()),
            changed = wait_for(&mut is_leader, false) => {
                if let Err(error) = changed { break Err(error) }
                tracing::warn!(identity = %election.identity, "lost leadership: controllers stopped");
            }
        }
    };

    // Dropping the receiver makes the lease task release the Lease and end.
    drop(is_leader);
    match lease_task.await {
        Ok(Ok(_)) => tracing::info!("lease released"),
        Ok(Err(error)) => tracing::warn!(error = %error, "releasing the lease failed"),
        Err(error) => tracing::warn!(error = %error, "lease task panicked"),
    }
    outcome
}

/// Waits until the leadership flag equals `wanted`.
async fn wait_for(is_leader: &mut watch::Receiver<bool>, wanted: bool) -> Result<()> {
    is_leader
        .wait_for(|leader| *leader == wanted)
        .await
        .map(|_| ())
        .map_err(|_| Error::LeaderElection("the lease manager stopped".to_owned()))
}

fn lease_error(error: LeaseManagerError) -> Error {
    Error::LeaderElection(error.to_string())
}

#[cfg(test)]
mod tests;
