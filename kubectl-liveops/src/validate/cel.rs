//! The CRDs' CEL rules (`x-kubernetes-validations`), evaluated with kube's
//! `cel` feature as the domain crate's CEL tests do (`domain/src/crd/cel_tests.rs`),
//! on the document as written (schema defaults applied first, as an API
//! server does).

use kube::core::cel::{ErrorKind, Validator};
use serde_json::Value;

use super::FieldProblem;

/// Every rule `object` breaks, with the field it is attached to. With
/// `mistyped` (the schema check found problems), only rules that evaluated
/// to false are kept: a rule over a mistyped field fails to evaluate, which
/// says nothing the schema check did not.
pub fn problems(schema: &Value, object: &Value, mistyped: bool) -> Vec<FieldProblem> {
    match Validator::new().validate(schema, object, None) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .filter(|error| !mistyped || error.kind == ErrorKind::ValidationFailure)
            .map(|error| {
                let field = if error.field_path.is_empty() {
                    "-".to_owned()
                } else {
                    error.field_path
                };
                (field, error.message)
            })
            .collect(),
    }
}
