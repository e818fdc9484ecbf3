//! An in-memory Kubernetes API server for running the real controllers in
//! tests and in the operator bench (feature `fake-api`): list and watch of
//! the liveops kinds and of Secrets, get of one Secret, finalizer JSON
//! patches, status applies, and events.k8s.io Events, for one namespace.
//!
//! Only what the controllers use is implemented; anything else answers 404
//! so that an unexpected call shows up as a failed reconcile.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    sync::{Arc, Mutex},
};

use axum::body::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use kube::{Client, client::Body};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const GROUP_PATH: &str = "/apis/liveops.dev/v1alpha1/namespaces/";
const EVENTS_PATH: &str = "/apis/events.k8s.io/v1/namespaces/";
const LEASES_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/";
const CORE_PATH: &str = "/api/v1/namespaces/";

mod lease;
mod list;
mod serve;

type ResponseBody = BoxBody<Bytes, Infallible>;

#[derive(Default)]
struct State {
    /// Objects by (plural, name), in the one namespace.
    objects: BTreeMap<(String, String), Value>,
    resource_version: u64,
    /// Open watches: plural and where to send their lines.
    watchers: Vec<(String, mpsc::UnboundedSender<Bytes>)>,
    /// Bodies of the events.k8s.io Events created.
    recorded: Vec<Value>,
    /// The leader-election Lease (`Null` until created).
    lease: Value,
}

/// The fake server's state; clones share it.
#[derive(Clone, Default)]
pub struct FakeApi(Arc<Mutex<State>>);

impl FakeApi {
    /// A client whose every request this fake answers.
    pub fn client(&self, namespace: &str) -> Client {
        let fake = self.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let fake = fake.clone();
            async move { Ok::<_, Infallible>(fake.answer(request).await) }
        });
        Client::new(service, namespace)
    }

    /// Creates or replaces an object (as `kubectl apply` would) and tells the watchers.
    pub fn put(&self, plural: &str, mut object: Value) {
        let mut state = self.lock();
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let key = (plural.to_owned(), name);
        let existing = state.objects.get(&key);
        let kind = if existing.is_some() { "MODIFIED" } else { "ADDED" };
        if object["metadata"]["uid"].is_null() {
            object["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        }
        // As an API server does: a new spec bumps the generation.
        let generation = match existing {
            Some(old) if old["spec"] == object["spec"] => old["metadata"]["generation"].clone(),
            Some(old) => json!(old["metadata"]["generation"].as_i64().unwrap_or(0) + 1),
            None => json!(1),
        };
        object["metadata"]["generation"] = generation;
        state.store(key, object, kind);
    }

    /// Removes an object at once (one without finalizers, e.g. a Secret).
    pub fn remove(&self, plural: &str, name: &str) {
        let mut state = self.lock();
        if let Some(object) = state.objects.remove(&(plural.to_owned(), name.to_owned())) {
            state.broadcast(plural, "DELETED", &object);
        }
    }

    /// Starts deleting an object: sets `deletionTimestamp`, or removes it
    /// at once when no finalizer holds it.
    pub fn delete(&self, plural: &str, name: &str) {
        let mut state = self.lock();
        let key = (plural.to_owned(), name.to_owned());
        let Some(mut object) = state.objects.get(&key).cloned() else {
            return;
        };
        object["metadata"]["deletionTimestamp"] = json!("2030-01-01T00:00:00Z");
        state.store(key, object, "MODIFIED");
    }

    /// The object, if it exists.
    pub fn get(&self, plural: &str, name: &str) -> Option<Value> {
        self.lock()
            .objects
            .get(&(plural.to_owned(), name.to_owned()))
            .cloned()
    }

    /// How many objects of `plural` satisfy `check`.
    pub fn count_where(&self, plural: &str, check: impl Fn(&Value) -> bool) -> usize {
        self.lock()
            .objects
            .iter()
            .filter(|((p, _), object)| p == plural && check(object))
            .count()
    }

    /// Reasons of the events.k8s.io Events recorded about `name`.
    pub fn recorded_reasons(&self, name: &str) -> Vec<String> {
        self.lock()
            .recorded
            .iter()
            .filter(|event| event["regarding"]["name"] == name)
            .filter_map(|event| event["reason"].as_str().map(ToOwned::to_owned))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn answer<B: http_body::Body>(&self, request: Request<B>) -> Response<ResponseBody> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let apply = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/apply-patch"));
        let bytes = request
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);

        if path.starts_with(LEASES_PATH) {
            return self.lease(&method, &path, apply, body);
        }
        if let Some(rest) = path.strip_prefix(EVENTS_PATH) {
            let _namespace = rest.split('/').next();
            if method == Method::POST {
                self.lock().recorded.push(body.clone());
            }
            return json_response(StatusCode::CREATED, &body);
        }
        let Some(rest) = path
            .strip_prefix(GROUP_PATH)
            .or_else(|| path.strip_prefix(CORE_PATH))
        else {
            return not_found(&path);
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match (method, segments.as_slice()) {
            (Method::GET, [_, plural, name]) => match self.get(plural, name) {
                Some(object) => json_response(StatusCode::OK, &object),
                None => not_found(name),
            },
            (Method::GET, [_, plural]) if query.contains("watch=true") => self.watch(plural, &query),
            (Method::GET, [_, plural]) => self.list(plural, &query),
            (Method::PATCH, [_, plural, name]) => self.patch_finalizers(plural, name, &body),
            (Method::PATCH, [_, plural, name, "status"]) => self.apply_status(plural, name, &body),
            _ => not_found(&path),
        }
    }

    fn watch(&self, plural: &str, query: &str) -> Response<ResponseBody> {
        let (sender, receiver) = mpsc::unbounded_channel::<Bytes>();
        let since: u64 = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("resourceVersion="))
            .and_then(|version| version.parse().ok())
            .unwrap_or(0);
        let mut state = self.lock();
        // Replay what changed since the list, as a real watch from a resourceVersion does.
        for ((watched, _), object) in &state.objects {
            let version: u64 = object["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if watched == plural && version > since {
                let _ = sender.send(watch_line("MODIFIED", object));
            }
        }
        state.watchers.push((plural.to_owned(), sender));
        drop(state);
        let lines = futures::stream::unfold(receiver, |mut receiver| async move {
            let line = receiver.recv().await?;
            Some((Ok::<_, Infallible>(Frame::data(line)), receiver))
        });
        Response::builder()
            .status(StatusCode::OK)
            .body(BodyExt::boxed(StreamBody::new(lines)))
            .unwrap_or_else(|_| Response::new(empty()))
    }

    fn patch_finalizers(&self, plural: &str, name: &str, patch: &Value) -> Response<ResponseBody> {
        let mut state = self.lock();
        let key = (plural.to_owned(), name.to_owned());
        let Some(mut object) = state.objects.get(&key).cloned() else {
            return not_found(name);
        };
        let mut finalizers: Vec<Value> = object["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for operation in patch.as_array().cloned().unwrap_or_default() {
            let path = operation["path"].as_str().unwrap_or_default();
            match operation["op"].as_str() {
                Some("add") if path == "/metadata/finalizers" => {
                    finalizers = operation["value"].as_array().cloned().unwrap_or_default();
                }
                Some("add") if path == "/metadata/finalizers/-" => {
                    finalizers.push(operation["value"].clone())
                }
                Some("remove") => {
                    let index = path.rsplit('/').next().and_then(|i| i.parse::<usize>().ok());
                    if let Some(index) = index.filter(|i| *i < finalizers.len()) {
                        finalizers.remove(index);
                    }
                }
                _ => {}
            }
        }
        object["metadata"]["finalizers"] = json!(finalizers);
        if finalizers.is_empty() && !object["metadata"]["deletionTimestamp"].is_null() {
            state.objects.remove(&key);
            state.broadcast(plural, "DELETED", &object);
            return json_response(StatusCode::OK, &object);
        }
        let stored = state.store(key, object, "MODIFIED");
        json_response(StatusCode::OK, &stored)
    }

    fn apply_status(&self, plural: &str, name: &str, patch: &Value) -> Response<ResponseBody> {
        let mut state = self.lock();
        let key = (plural.to_owned(), name.to_owned());
        let Some(mut object) = state.objects.get(&key).cloned() else {
            return not_found(name);
        };
        object["status"] = patch["status"].clone();
        let stored = state.store(key, object, "MODIFIED");
        json_response(StatusCode::OK, &stored)
    }
}

impl State {
    /// Stores `object` with a new resourceVersion and tells the watchers.
    fn store(&mut self, key: (String, String), mut object: Value, kind: &str) -> Value {
        self.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.broadcast(&key.0, kind, &object);
        self.objects.insert(key, object.clone());
        object
    }

    fn broadcast(&mut self, plural: &str, kind: &str, object: &Value) {
        let line = watch_line(kind, object);
        self.watchers
            .retain(|(watched, sender)| watched != plural || sender.send(line.clone()).is_ok());
    }
}

/// One line of a watch stream.
fn watch_line(kind: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn empty() -> ResponseBody {
    BodyExt::boxed(Full::new(Bytes::new()))
}

fn json_response(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    let bytes = Bytes::from(body.to_string());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(Full::new(bytes)))
        .unwrap_or_else(|_| Response::new(empty()))
}

fn not_found(what: &str) -> Response<ResponseBody> {
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "reason": "NotFound", "code": 404, "message": format!("{what} not found")});
    json_response(StatusCode::NOT_FOUND, &status)
}
