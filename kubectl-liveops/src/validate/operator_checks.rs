//! The operator's own view of a file: its manifests-mode parser
//! (`operator::source::manifests::parse_file`) and the spec checks it
//! reconciles with (`liveops_domain::crd::validation`), called as they are,
//! never re-implemented. A new kind adds its arm to [`spec_problems`].

use std::path::Path;

use liveops_domain::crd::challenge_validation::{counter_spec_problems, ingest_client_spec_problems};
use liveops_domain::crd::validation::{
    SpecProblem, event_spec_problems, reward_spec_problems, webhook_endpoint_spec_problems,
};
use operator::source::manifests::{DocumentProblem, Manifest, parse_file};

use super::FieldProblem;

/// What the operator makes of each document of one file.
#[derive(Debug)]
pub struct OperatorView {
    /// (document number, problem) from parsing.
    parse: Vec<(usize, FieldProblem)>,
    /// (document number, problem) from the spec checks of parsed manifests.
    spec: Vec<(usize, FieldProblem)>,
}

impl OperatorView {
    /// Parses `text` as the operator's manifests mode does.
    pub fn of_file(file: &Path, text: &str) -> Self {
        let contents = parse_file(file, text);
        let parse = contents
            .problems
            .into_iter()
            .map(numbered_parse_problem)
            .collect();
        let spec = contents
            .manifests
            .iter()
            .flat_map(|(origin, manifest)| {
                spec_problems(manifest)
                    .into_iter()
                    .map(move |problem| (origin.document, (problem.field, problem.message)))
            })
            .collect();
        Self { parse, spec }
    }

    /// The operator's problems with document `number`. Its parse errors
    /// (serde's wording of a mistyped or unknown field) are left out when
    /// the schema check already reported the document (`structural`).
    pub fn problems_of(&self, number: usize, structural: bool) -> Vec<FieldProblem> {
        let parse = self.parse.iter().filter(|_| !structural);
        parse
            .chain(&self.spec)
            .filter(|(document, _)| *document == number)
            .map(|(_, problem)| problem.clone())
            .collect()
    }
}

fn numbered_parse_problem(problem: DocumentProblem) -> (usize, FieldProblem) {
    (problem.origin.document, (problem.field, problem.message))
}

/// The checks the operator reconciles a manifest with.
fn spec_problems(manifest: &Manifest) -> Vec<SpecProblem> {
    match manifest {
        Manifest::Event(event) => event_spec_problems(&event.spec),
        Manifest::Reward(reward) => reward_spec_problems(&reward.spec),
        Manifest::WebhookEndpoint(endpoint) => webhook_endpoint_spec_problems(&endpoint.spec),
        Manifest::Counter(counter) => counter_spec_problems(&counter.spec),
        Manifest::IngestClient(client) => ingest_client_spec_problems(&client.spec),
        // The operator reads a Secret only for the endpoint naming it; a
        // missing key is that endpoint's status, not a document problem.
        Manifest::Secret(_) => Vec::new(),
    }
}
