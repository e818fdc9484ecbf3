//! Renders the CRD YAML that crds/ holds.
