//! API integration tests: one binary, one module per resource. Each test
//! gets its own database and its own server on 127.0.0.1:0.

mod health;
mod support;
