//! What the OpenAPI document says besides its paths (which the route table
//! in `http/mod.rs` adds from the handlers' `#[utoipa::path]` annotations),
//! and `/openapi.json` with the Swagger UI page at `/docs`, served from the
//! binary (the `vendored` feature embeds its files; nothing is fetched).

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use super::{AppState, error};

/// The API description without its paths. A new route goes into its
/// resource's `router()`, never here.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "liveops API", description = "Sign up, log in, and claim event rewards."),
    // `Problem` is referenced by name from `error_responses`, which utoipa
    // cannot follow: it is registered here.
    components(schemas(error::Problem)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "accounts, sessions, profiles and roles"),
        (name = "events", description = "events and their rewards, as the operator projected them"),
        (name = "claims", description = "claiming rewards and claim history"),
        (name = "rewards", description = "reward listings for staff"),
        (name = "progress", description = "a user's progress towards rewards: requirements, tiers, claimability"),
        (name = "operations", description = "probes and metrics"),
        (name = "ingest", description = "game servers: client tokens and signals"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the handlers' `security(...)` refers to.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // Game servers' tokens from POST /oauth/token (not user tokens).
        components.add_security_scheme(
            "client_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `/openapi.json` serving `document`, and `/docs`.
pub fn router(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}
