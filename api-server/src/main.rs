//! Entry point of the `api-server` binary.
fn main() {}
