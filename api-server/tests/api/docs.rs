//! /openapi.json and the /docs page, both served from the binary.

use serde_json::Value;

use crate::support::spawn_app;

#[tokio::test]
async fn openapi_json_describes_every_endpoint() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("json");
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
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    assert!(document["components"]["schemas"]["Problem"].is_object());
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
