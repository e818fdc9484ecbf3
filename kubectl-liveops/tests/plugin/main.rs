//! `kubectl-liveops` end to end: `validate` on the fixtures and through
//! kubectl, `status` from a database the operator projected into and from
//! the fake API server, `explain-claim` against real claims. Real
//! PostgreSQL throughout (liveops-testkit).

mod catalogue;
mod explain_claim;
mod status;
mod validate;
