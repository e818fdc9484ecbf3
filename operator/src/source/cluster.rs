//! The in-cluster source: watches Events and Rewards through the Kubernetes API.
