//! Command-line flags and environment of the operator binary.
