//! The liveops API server: signup, login, sessions, profiles, roles, claims
//! and listings over PostgreSQL (DESIGN.md, "REST API").
#![forbid(unsafe_code)]

pub mod access_token;
pub mod account;
pub mod admin_bootstrap;
pub mod challenge;
pub mod claim;
pub mod config;
pub mod http;
pub mod ingest;
pub mod invite_code;
pub mod jwt_codec;
pub mod profile_fields;
pub mod rate_limit;
pub mod role;
pub mod startup;
pub mod telemetry;

pub use http::error::{Error, Result};
