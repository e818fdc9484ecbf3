//! Prometheus metrics: reconciles, failures, durations, phases.
