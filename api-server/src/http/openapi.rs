//! `/openapi.json`, generated from the handlers' `#[utoipa::path]`
//! annotations, and the Swagger UI docs page at `/docs`, served from the
//! binary (the `vendored` feature embeds its files; nothing is fetched).

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    AppState, claim_history, claims, error, events, health, metrics, profile, rewards, roles, session, signup,
};

/// The API description. A new handler is listed under `paths`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "liveops API", description = "Sign up, log in, and claim event rewards."),
    paths(
        signup::sign_up,
        session::log_in,
        session::refresh_session,
        session::log_out,
        profile::get_me,
        profile::update_profile,
        profile::get_invite_code,
        roles::change_user_role,
        events::list_events,
        events::get_event,
        claims::claim_reward,
        claim_history::list_my_claims,
        claim_history::list_all_claims,
        claim_history::list_user_claims,
        claim_history::filter_claims,
        rewards::list_rewards,
        rewards::list_event_rewards,
        health::check_liveness,
        health::check_readiness,
        metrics::render_metrics,
    ),
    components(schemas(error::Problem, crate::role::Role)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "accounts, sessions, profiles and roles"),
        (name = "events", description = "events and their rewards, as the operator projected them"),
        (name = "claims", description = "claiming rewards and claim history"),
        (name = "rewards", description = "reward listings for staff"),
        (name = "operations", description = "probes and metrics"),
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
    }
}

/// `/openapi.json` and `/docs`.
pub fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
