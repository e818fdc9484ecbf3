//! `spawn_app()`: the real router on a random port against a fresh database,
//! plus helpers that sign users up, log them in and give them roles.
#![allow(dead_code)]

use std::net::SocketAddr;

use api_server::{
    config::{Config, LogFormat, Secret},
    http::AppState,
    role::Role,
    startup,
};
use liveops_testkit::{
    TestDb,
    smtp::{ReceivedMail, SmtpServer},
};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::oneshot};
use uuid::Uuid;

/// A password that satisfies the rules.
pub const PASSWORD: &str = "correct horse battery";

/// A running server and what tests need to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT` of the `/metrics` listener.
    pub metrics_address: String,
    /// A client without a cookie store (cookies are sent by hand).
    pub client: reqwest::Client,
    /// The test's own database.
    pub db: PgPool,
    /// The configuration the server runs with.
    pub config: Config,
    /// The secret the server signs access tokens with.
    pub jwt_secret: String,
    stop: Option<oneshot::Sender<()>>,
    metrics_stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for stop in [self.stop.take(), self.metrics_stop.take()].into_iter().flatten() {
            let _ = stop.send(());
        }
    }
}

/// Tokens returned by login.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The JWT.
    pub access: String,
    /// The opaque refresh token.
    pub refresh: String,
}

/// Test configuration: a random 48-byte secret, rate limits off.
pub fn test_config(database_url: &str) -> Config {
    let jwt_secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    Config {
        database_url: Secret::new(database_url),
        jwt_secret: Some(Secret::new(jwt_secret)),
        jwt_key_id: "primary".into(),
        jwt_previous_secret: None,
        jwt_previous_key_id: "previous".into(),
        jwt_issuer: "liveops-api-server".into(),
        jwt_audience: "liveops".into(),
        access_token_ttl_seconds: 900,
        refresh_token_ttl_seconds: 3600,
        refresh_reuse_grace_seconds: 0,
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_email: None,
        admin_password: None,
        rate_limit_login_per_minute: 0,
        rate_limit_signup_per_minute: 0,
        rate_limit_claims_per_minute: 0,
        idempotency_key_ttl_seconds: 24 * 60 * 60,
        request_timeout_seconds: 30,
        trust_forwarded_for: false,
        trusted_proxies: Default::default(),
        rate_limit_mail_per_minute: 0,
        smtp_url: None,
        mail_from: "liveops tests <no-reply@example.com>".into(),
        public_url: "http://127.0.0.1:8080".parse().expect("PUBLIC_URL"),
        max_body_bytes: 64 * 1024,
        database_max_connections: 5,
        log_format: LogFormat::Text,
        ingest: Default::default(),
    }
}

/// Logs through the test harness's capture, warnings and up unless RUST_LOG says otherwise.
fn init_test_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose configuration `adjust` may change first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    init_test_logging();
    let database = TestDb::new().await;
    let mut config = test_config(&database.url);
    adjust(&mut config);
    let jwt_secret = config
        .jwt_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    let state: AppState = startup::build_state(config.clone()).await.expect("server state");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let metrics_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let metrics_address = format!("http://{}", metrics_listener.local_addr().expect("local address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let (metrics_stop, metrics_stopped) = oneshot::channel::<()>();
    tokio::spawn(startup::serve_metrics(metrics_listener, state.clone(), async {
        let _ = metrics_stopped.await;
    }));
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        startup::serve(listener, state, shutdown)
            .await
            .expect("server runs");
    });
    TestApp {
        address,
        metrics_address,
        metrics_stop: Some(metrics_stop),
        client: reqwest::Client::builder().build().expect("http client"),
        db: database.pool,
        config,
        jwt_secret,
        stop: Some(stop),
    }
}

/// A server that sends its mail to a test SMTP server, and that server.
pub async fn spawn_app_with_smtp(adjust: impl FnOnce(&mut Config)) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|config| {
        config.smtp_url = Some(Secret::new(url));
        adjust(config);
    })
    .await;
    (app, smtp)
}

/// How long a test waits for a mail: delivery is asynchronous, but quick.
pub const MAIL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

impl TestApp {
    /// The token of the link to `path` in `mail` (`{PUBLIC_URL}{path}?token=`).
    pub fn token_in(&self, mail: &ReceivedMail, path: &str) -> String {
        let base = self.config.public_url.as_str().trim_end_matches('/');
        mail.link_token(&format!("{base}{path}?token="))
            .unwrap_or_else(|| panic!("no {path} link in the mail: {}", mail.decoded()))
    }

    /// POST `path` with a JSON body, as if from `address` (the server must
    /// trust X-Forwarded-For).
    pub async fn post_json_from(&self, address: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("x-forwarded-for", address)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POST /auth/signup with a fixed valid birth date.
    pub async fn signup(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/auth/signup",
            &json!({"email": email, "password": password, "birthDate": "1995-01-01"}),
        )
        .await
    }

    /// POST /auth/login.
    pub async fn login_response(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json("/auth/login", &json!({"email": email, "password": password}))
            .await
    }

    /// Logs in and returns both tokens; panics unless the login succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let response = self.login_response(email, password).await;
        assert_eq!(response.status(), 200, "login of {email} failed");
        let body: Value = response.json().await.expect("login body");
        Tokens {
            access: body["accessToken"].as_str().expect("accessToken").to_owned(),
            refresh: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
        }
    }

    /// Signs up a fresh user and returns its id and email.
    pub async fn new_user(&self) -> (Uuid, String) {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let response = self.signup(&email, PASSWORD).await;
        assert_eq!(response.status(), 201, "signup of {email} failed");
        let body: Value = response.json().await.expect("signup body");
        let id = body["id"].as_str().and_then(|id| id.parse().ok()).expect("id");
        (id, email)
    }

    /// A fresh user with `role` (set directly in the database) and an access
    /// token that carries it.
    pub async fn user_with_role(&self, role: Role) -> (Uuid, String) {
        let (id, email) = self.new_user().await;
        sqlx::query("update users set role = $1 where id = $2")
            .bind(role)
            .bind(id)
            .execute(&self.db)
            .await
            .expect("set role");
        let tokens = self.login(&email, PASSWORD).await;
        (id, tokens.access)
    }

    /// POST `path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// GET `path` with a bearer token.
    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// PATCH `path` with a bearer token and a JSON body.
    pub async fn patch_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// POST `path` with a bearer token and a JSON body.
    pub async fn post_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}
