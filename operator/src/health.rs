//! The /healthz, /readyz and /metrics listener.
