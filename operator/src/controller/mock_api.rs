//! A scripted Kubernetes API server for the controller tests.
//!
//! The kube client talks to a `tower-test` mock service; an
//! [`ApiServerVerifier`] plays one [`Scenario`]: it checks each request's
//! method and path in order, records its JSON body for the test to
//! inspect, and answers as the API server would. After the last step it
//! hangs up, so an unexpected extra request fails the reconcile.

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::{Client, client::Body};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tower_test::mock::{self, Handle};
use uuid::Uuid;

use super::{Clock, Context};
use crate::metrics::Metrics;

/// What a request looked like.
#[derive(Debug)]
pub struct Recorded {
    pub body: Value,
    /// For a finalizer removal: whether the row was already soft-deleted
    /// when the request arrived.
    pub row_deleted_before: Option<bool>,
}

/// One request the controller must make, and how the server answers it.
pub enum Step {
    /// JSON patch adding the finalizer to `path`; answers with `object`.
    AddFinalizer { path: String, object: Value },
    /// Server-side apply on `path`/status; answers with `object` and the patched status.
    ApplyStatus { path: String, object: Value },
    /// POST of an events.k8s.io Event in `namespace`; echoes it back.
    PublishEvent { namespace: String },
    /// JSON patch removing the finalizer from `path`; the row `id` in
    /// `table` must already be soft-deleted.
    RemoveFinalizer {
        path: String,
        object: Value,
        db: PgPool,
        table: &'static str,
        id: Uuid,
    },
    /// Any request to `path` (status subresource included) answered with an
    /// error `Status` of `code`.
    Fail { method: Method, path: String, code: u16 },
}

/// A whole conversation with the API server.
pub enum Scenario {
    /// The controller must not call the API at all.
    RadioSilence,
    /// These requests, in this order.
    Steps(Vec<Step>),
}

/// The server side of the mock client.
pub struct ApiServerVerifier(Handle<Request<Body>, Response<Body>>);

/// A context whose client talks to a verifier, with a fixed clock.
pub fn context(db: PgPool, clock: Clock) -> (Arc<Context>, ApiServerVerifier) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "testns");
    let ctx = Context {
        clock,
        ..Context::new(client, db, Metrics::new(), "operator-test-0".to_owned())
    };
    (Arc::new(ctx), ApiServerVerifier(handle))
}

impl ApiServerVerifier {
    /// Plays `scenario` in the background; the handle yields what was sent.
    pub fn run(self, scenario: Scenario) -> JoinHandle<Vec<Recorded>> {
        tokio::spawn(async move {
            let mut handle = self.0;
            let mut recorded = Vec::new();
            let steps = match scenario {
                Scenario::RadioSilence => Vec::new(),
                Scenario::Steps(steps) => steps,
            };
            for step in steps {
                let (request, send) = handle
                    .next_request()
                    .await
                    .expect("the controller made no further request");
                let method = request.method().clone();
                let path = request.uri().path().to_owned();
                let query = request.uri().query().unwrap_or_default().to_owned();
                let bytes = request
                    .into_body()
                    .collect()
                    .await
                    .expect("request body")
                    .to_bytes();
                let body: Value = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).expect("JSON body")
                };
                let mut row_deleted_before = None;
                let (status, answer) = match step {
                    Step::AddFinalizer {
                        path: expected,
                        object,
                    } => {
                        assert_eq!((&method, path.as_str()), (&Method::PATCH, expected.as_str()));
                        (StatusCode::OK, with_finalizer(object))
                    }
                    Step::ApplyStatus {
                        path: expected,
                        mut object,
                    } => {
                        assert_eq!(
                            (&method, path.as_str()),
                            (&Method::PATCH, format!("{expected}/status").as_str())
                        );
                        assert!(
                            query.contains("fieldManager=liveops-operator"),
                            "field manager in {query}"
                        );
                        assert!(query.contains("force=true"), "force in {query}");
                        object["status"] = body["status"].clone();
                        (StatusCode::OK, object)
                    }
                    Step::PublishEvent { namespace } => {
                        let expected = format!("/apis/events.k8s.io/v1/namespaces/{namespace}/events");
                        assert_eq!((&method, path.as_str()), (&Method::POST, expected.as_str()));
                        (StatusCode::CREATED, body.clone())
                    }
                    Step::RemoveFinalizer {
                        path: expected,
                        mut object,
                        db,
                        table,
                        id,
                    } => {
                        assert_eq!((&method, path.as_str()), (&Method::PATCH, expected.as_str()));
                        row_deleted_before = Some(is_soft_deleted(&db, table, id).await);
                        object["metadata"]["finalizers"] = json!([]);
                        (StatusCode::OK, object)
                    }
                    Step::Fail {
                        method: expected_method,
                        path: expected,
                        code,
                    } => {
                        assert_eq!((&method, path.as_str()), (&expected_method, expected.as_str()));
                        (
                            StatusCode::from_u16(code).expect("status code"),
                            failure_status(code),
                        )
                    }
                };
                let response = Response::builder()
                    .status(status)
                    .body(Body::from(
                        serde_json::to_vec(&answer).expect("serialise the answer"),
                    ))
                    .expect("response");
                send.send_response(response);
                recorded.push(Recorded {
                    body,
                    row_deleted_before,
                });
            }
            recorded
        })
    }
}

fn with_finalizer(mut object: Value) -> Value {
    object["metadata"]["finalizers"] = json!([super::FINALIZER]);
    object
}

/// The `Status` body the API server sends with an error.
fn failure_status(code: u16) -> Value {
    let reason = if code == 409 { "Conflict" } else { "InternalError" };
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("mock API server answered {code}"),
        "reason": reason,
        "code": code,
    })
}

async fn is_soft_deleted(db: &PgPool, table: &'static str, id: Uuid) -> bool {
    let deleted = match table {
        "events" => {
            sqlx::query_scalar!("select deleted_at is not null from events where id = $1", id)
                .fetch_optional(db)
                .await
        }
        _ => {
            sqlx::query_scalar!("select deleted_at is not null from rewards where id = $1", id)
                .fetch_optional(db)
                .await
        }
    };
    deleted.expect("query the row").flatten().unwrap_or(false)
}

/// Awaits the verifier, failing the test when it did not finish within a second.
pub async fn finished(verifier: JoinHandle<Vec<Recorded>>) -> Vec<Recorded> {
    tokio::time::timeout(std::time::Duration::from_secs(1), verifier)
        .await
        .expect("the scenario finished within a second")
        .expect("the scenario's assertions held")
}
