//! The first ADMIN: ADMIN_EMAIL + ADMIN_PASSWORD at start-up and the
//! `api-server create-admin` subcommand, both idempotent.

use std::process::Command;

use api_server::{
    admin_bootstrap::{AdminBootstrapError, AdminOutcome, ensure_admin},
    config::Secret,
};
use serde_json::Value;

use crate::support::{PASSWORD, spawn_app, spawn_app_with};

async fn admins(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar!("select count(*) as \"n!\" from users where role = 'ADMIN'")
        .fetch_one(db)
        .await
        .expect("count")
}

#[tokio::test]
async fn start_up_creates_the_admin_from_the_environment_who_can_log_in() {
    let app = spawn_app_with(|config| {
        config.admin_email = Some("Root@Example.com".into());
        config.admin_password = Some(Secret::new(PASSWORD));
    })
    .await;
    assert_eq!(admins(&app.db).await, 1);
    let tokens = app.login("root@example.com", PASSWORD).await;
    let me: Value = app
        .get_authed("/auth/me", &tokens.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"]["role"], "ADMIN");
}

#[tokio::test]
async fn ensure_admin_is_idempotent() {
    let app = spawn_app().await;
    let first = ensure_admin(&app.db, "root@example.com", PASSWORD)
        .await
        .expect("first");
    let second = ensure_admin(&app.db, "ROOT@example.com", "another password")
        .await
        .expect("second");
    let AdminOutcome::Created(id) = first else {
        panic!("expected a new admin, got {first:?}")
    };
    assert_eq!(second, AdminOutcome::AlreadyAdmin(id));
    assert_eq!(admins(&app.db).await, 1);
    // The second call did not touch the password.
    app.login("root@example.com", PASSWORD).await;
}

#[tokio::test]
async fn ensure_admin_refuses_to_promote_an_existing_non_admin_account() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let error = ensure_admin(&app.db, &email, PASSWORD)
        .await
        .expect_err("must refuse");
    assert!(
        matches!(error, AdminBootstrapError::EmailHeldByNonAdmin { .. }),
        "{error}"
    );
    assert_eq!(admins(&app.db).await, 0);
}

#[tokio::test]
async fn start_up_still_serves_when_admin_email_belongs_to_a_user() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let mut config = app.config.clone();
    config.admin_email = Some(email);
    config.admin_password = Some(Secret::new(PASSWORD));
    // Refusing to start would let whoever signed up with that email keep
    // every replica down.
    api_server::startup::build_state(config)
        .await
        .expect("start-up goes on");
    assert_eq!(admins(&app.db).await, 0, "and nobody was promoted");
}

#[tokio::test]
async fn ensure_admin_applies_the_email_and_password_rules() {
    let app = spawn_app().await;
    assert!(matches!(
        ensure_admin(&app.db, "nope", PASSWORD).await,
        Err(AdminBootstrapError::InvalidEmail(_))
    ));
    assert!(matches!(
        ensure_admin(&app.db, "root@example.com", "short").await,
        Err(AdminBootstrapError::InvalidPassword(_))
    ));
}

#[tokio::test]
async fn the_create_admin_subcommand_is_idempotent() {
    let app = spawn_app().await;
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_api-server"))
            .args([
                "create-admin",
                "--email",
                "ops@example.com",
                "--password",
                PASSWORD,
            ])
            .env("DATABASE_URL", app.config.database_url.expose())
            .env_remove("JWT_SECRET")
            .env_remove("ADMIN_EMAIL")
            .env_remove("ADMIN_PASSWORD")
            .output()
            .expect("run api-server create-admin")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("created ADMIN ops@example.com"));
    let second = run();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("already exists"));
    assert_eq!(admins(&app.db).await, 1);
}

#[tokio::test]
async fn the_server_refuses_to_start_without_a_strong_jwt_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_api-server"))
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JWT_SECRET", "too-short")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env_remove("ADMIN_EMAIL")
        .env_remove("ADMIN_PASSWORD")
        .output()
        .expect("run api-server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWT_SECRET is 9 bytes long"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the secret itself is never printed: {stderr}"
    );
}

#[tokio::test]
async fn create_admin_fails_loudly_when_the_email_belongs_to_a_user() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let output = Command::new(env!("CARGO_BIN_EXE_api-server"))
        .args(["create-admin", "--email", &email, "--password", PASSWORD])
        .env("DATABASE_URL", app.config.database_url.expose())
        .env_remove("ADMIN_EMAIL")
        .env_remove("ADMIN_PASSWORD")
        .output()
        .expect("run api-server create-admin");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already has an account with role USER"),
        "{stderr}"
    );
    assert_eq!(admins(&app.db).await, 0);
}
