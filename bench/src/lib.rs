//! Benchmarks live in `src/bin/`; each prints its figures and a baseline ratio.
