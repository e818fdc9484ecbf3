//! Where Event and Reward objects come from: a cluster or a manifests directory.
pub mod cluster;
pub mod manifests;
