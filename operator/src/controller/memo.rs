//! What this process last projected per object, so a reconcile that finds
//! the same generation (and, for Events, the same phase) skips the upsert
//! and only reads counters back (`reconcile::refresh`). Entries expire
//! after [`MEMO_TTL`], so every object still gets a full projection now
//! and then: a safety net against rows changed behind the operator's back.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

/// How long a projection is trusted without writing it again.
pub const MEMO_TTL: Duration = Duration::from_secs(600);

/// The generation and phase (as text, Events only) written last, and when.
type Entry = (i64, Option<&'static str>, Instant);

/// Shared memo; clones share it.
#[derive(Clone, Default)]
pub struct ProjectionMemo(Arc<Mutex<HashMap<String, Entry>>>);

impl ProjectionMemo {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True when `key` was projected at `generation` (and `phase`) within [`MEMO_TTL`].
    pub fn is_current(&self, key: &str, generation: i64, phase: Option<&'static str>) -> bool {
        self.lock()
            .get(key)
            .is_some_and(|(g, p, at)| *g == generation && *p == phase && at.elapsed() < MEMO_TTL)
    }

    /// Records that `key` was just projected at `generation` (and `phase`).
    pub fn projected(&self, key: String, generation: i64, phase: Option<&'static str>) {
        self.lock().insert(key, (generation, phase, Instant::now()));
    }

    /// Forgets `key` (deleted, or its projection failed or was refused).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }
}
