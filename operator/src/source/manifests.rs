//! The manifests-directory source: `operator --manifests DIR`, no cluster needed.
