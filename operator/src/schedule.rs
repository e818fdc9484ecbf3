//! Phase from time: pure functions over an Event spec and an instant.
