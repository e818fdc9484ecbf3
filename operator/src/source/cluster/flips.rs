//! The Events whose rows the phase timer just flipped, as a stream of
//! references for the Event controller: their statuses follow a boundary
//! as soon as the rows moved, instead of each Event's requeue racing the
//! timer for the CPU and the database at the same instant.

use futures::{Stream, StreamExt, stream};
use kube::runtime::reflector::ObjectRef;
use liveops_domain::crd::Event;
use tokio::sync::mpsc;

use crate::projection::FlippedEvent;

/// References to every Event in the batches `flipped` receives.
pub fn flipped_events(
    flipped: mpsc::UnboundedReceiver<Vec<FlippedEvent>>,
) -> impl Stream<Item = ObjectRef<Event>> + Send {
    stream::unfold(flipped, |mut flipped| async move {
        let batch = flipped.recv().await?;
        let refs: Vec<ObjectRef<Event>> = batch
            .iter()
            .map(|event| ObjectRef::new(&event.name).within(&event.namespace))
            .collect();
        Some((stream::iter(refs), flipped))
    })
    .flatten()
}
