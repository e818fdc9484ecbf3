//! Kubernetes Events (events.k8s.io/v1) without a cache: each one is
//! created and forgotten.
//!
//! kube's `Recorder` keeps every Event it published for six minutes, to fold
//! repeats into a series, and sweeps that cache on every publish. At 40,000
//! objects (a phase Event per Event, a sync Event per Reward, all at start-up
//! or at one shared boundary) that is 100 MB held and a quadratic sweep
//! (issue 15). The operator's Events rarely repeat within minutes (a phase
//! happens once; see `controller::event`), so series are not worth it.

use k8s_openapi::{
    api::core::v1::ObjectReference,
    api::events::v1::Event as K8sEvent,
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::Timestamp,
};
use kube::{
    Api, Client,
    api::PostParams,
    runtime::events::{Event, EventType, Reporter},
};

/// Creates Events as `reporter`.
#[derive(Clone)]
pub struct EventRecorder {
    client: Client,
    reporter: Reporter,
}

impl EventRecorder {
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self { client, reporter }
    }

    /// Creates one Event about `regarding`.
    pub async fn publish(&self, event: &Event, regarding: &ObjectReference) -> kube::Result<()> {
        let now = Timestamp::now();
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let controller = &self.reporter.controller;
        let object = K8sEvent {
            action: Some(event.action.clone()),
            reason: Some(event.reason.clone()),
            note: event.note.clone(),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            related: event.secondary.clone(),
            metadata: ObjectMeta {
                namespace: Some(namespace.clone()),
                // Unique per object and instant, as kube's recorder names them.
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_ref().unwrap_or(controller),
                    now.as_nanosecond()
                )),
                ..ObjectMeta::default()
            },
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            type_: Some(
                match event.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            ..K8sEvent::default()
        };
        Api::<K8sEvent>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &object)
            .await?;
        Ok(())
    }
}
