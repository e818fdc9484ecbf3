//! The operator's error enum.
