//! Mock API server for controller tests.
