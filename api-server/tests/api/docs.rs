//! /openapi.json and the /docs page, both served from the binary; the
//! document and the router come from one route list, and these tests hold
//! them to each other.

use serde_json::Value;

use crate::support::{TestApp, spawn_app};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn openapi_document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Every `(method, path template, operation)` of the document.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                found.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn openapi_json_describes_every_endpoint() {
    let app = spawn_app().await;
    let document = openapi_document(&app).await;
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/auth/signup",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/auth/profile",
        "/auth/invite-code",
        "/auth/users/{userId}/role",
        "/healthz",
        "/readyz",
        "/events",
        "/events/{eventId}",
        "/claims/{rewardId}/claim",
        "/claims/me",
        "/claims",
        "/claims/user/{userId}",
        "/claims/filter",
        "/rewards",
        "/rewards/event/{eventId}",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(
        document["paths"].get("/metrics").is_none(),
        "/metrics is served on its own listener, not by the API"
    );
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    assert!(document["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    fn check(document: &Value, node: &Value) {
        match node {
            Value::Object(fields) => {
                if let Some(reference) = fields.get("$ref").and_then(Value::as_str) {
                    let pointer = reference.strip_prefix('#').expect("a local reference");
                    assert!(
                        document.pointer(pointer).is_some(),
                        "{reference} does not resolve"
                    );
                }
                fields.values().for_each(|value| check(document, value));
            }
            Value::Array(items) => items.iter().for_each(|value| check(document, value)),
            _ => {}
        }
    }
    let app = spawn_app().await;
    let document = openapi_document(&app).await;
    check(&document, &document);
}

#[tokio::test]
async fn every_error_answer_is_documented_as_problem_json() {
    let app = spawn_app().await;
    let document = openapi_document(&app).await;
    for (method, path, operation) in operations(&document) {
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            if status.as_str() < "400" {
                continue;
            }
            let content = response["content"].as_object().expect("error content");
            // RFC 6749 section 5.2 prescribes the token endpoint's error body.
            if path == "/oauth/token" && matches!(status.as_str(), "400" | "401") {
                assert_eq!(
                    content["application/json"]["schema"]["$ref"], "#/components/schemas/OAuthError",
                    "{method} {path} {status}"
                );
                continue;
            }
            assert_eq!(
                content.keys().collect::<Vec<_>>(),
                ["application/problem+json"],
                "{method} {path} {status}"
            );
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                "{method} {path} {status}"
            );
        }
        if operation.get("security").is_some() {
            assert!(responses.contains_key("401"), "{method} {path} lacks its 401");
        }
        // Everything but the process probes reads the database.
        if path != "/healthz" {
            assert!(responses.contains_key("503"), "{method} {path} lacks its 503");
        }
    }
}

/// The path with every `{parameter}` replaced by the nil UUID.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str("00000000-0000-0000-0000-000000000000");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let app = spawn_app().await;
    let document = openapi_document(&app).await;
    let documented = operations(&document);
    let mut paths: Vec<&String> = documented.iter().map(|(_, path, _)| path).collect();
    paths.dedup();
    for path in paths {
        for method in METHODS {
            let is_documented = documented.iter().any(|(m, p, _)| m == method && p == path);
            let request = app.client.request(
                method.to_uppercase().parse().expect("method"),
                app.url(&concrete(path)),
            );
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            let unrouted = status == 405 || body["detail"] == "no route matches this path";
            assert_eq!(
                !unrouted, is_documented,
                "{method} {path}: answered {status} {body}, documented: {is_documented}"
            );
        }
    }
}

#[tokio::test]
async fn the_docs_page_is_served_without_any_outside_fetch() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/docs/")).send().await.expect("sent");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    let script = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .expect("sent");
    assert_eq!(script.status(), 200);
    assert!(
        script.bytes().await.expect("bytes").len() > 100_000,
        "the bundle is embedded, not linked"
    );
}
