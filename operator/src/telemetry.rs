//! Tracing subscriber set-up: text or JSON logs.
