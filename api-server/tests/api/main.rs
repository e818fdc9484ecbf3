//! API integration tests: one binary, one module per resource. Each test
//! gets its own database and its own server on 127.0.0.1:0.

mod account_activity;
mod admin_bootstrap;
mod bad_input;
mod claims;
mod claims_fixtures;
mod claims_history;
mod claims_races;
mod db_proxy;
mod docs;
mod email_verification;
mod events;
mod health;
mod login;
mod login_limits;
mod oauth_token;
mod outage;
mod password_recovery;
mod process;
mod profile;
mod progress;
mod races;
mod rate_limits;
mod refresh;
mod rewards;
mod roles;
mod signals;
mod signals_fixtures;
mod signals_rejections;
mod signup;
mod support;
mod tokens;
