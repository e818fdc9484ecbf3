//! What this process last projected per object, so a reconcile that finds
//! the same generation skips the upsert and only reads counters back
//! (`reconcile::refresh`). An Event's phase is not part of it: once this
//! process projected the row, the row is in the phase timer's queue, and
//! the timer moves its phase at each boundary (so the reconciles that
//! follow a boundary only refresh the status). Entries expire
//! after [`MEMO_TTL`], so every object still gets a full projection now
//! and then: a safety net against rows changed behind the operator's back.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use kube::Resource;

use super::object_key;
use crate::{error::Result, reconcile::SAFETY_RESYNC};

/// How long a projection is trusted without writing it again: one
/// safety-net period.
pub const MEMO_TTL: Duration = SAFETY_RESYNC;

/// The generation written last, and when.
type Entry = (i64, Instant);

/// Shared memo; clones share it.
#[derive(Clone, Default)]
pub struct ProjectionMemo(Arc<Mutex<HashMap<String, Entry>>>);

impl ProjectionMemo {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The outcome of `refresh` when this process projected `object` at its
    /// generation within [`MEMO_TTL`] and the refresh still finds its row;
    /// otherwise of `full`, remembered when its spec took effect
    /// (`took_effect`). Futures are lazy: the one not taken never runs.
    pub async fn project<K, O>(
        &self,
        object: &K,
        refresh: impl Future<Output = Result<Option<O>>>,
        full: impl Future<Output = Result<O>>,
        took_effect: fn(&O) -> bool,
    ) -> Result<O>
    where
        K: Resource<DynamicType = ()>,
    {
        let key = object_key(object);
        let generation = object.meta().generation.unwrap_or(1);
        if self.is_current(&key, generation)
            && let Some(outcome) = refresh.await?
        {
            return Ok(outcome);
        }
        let outcome = full.await?;
        if took_effect(&outcome) {
            self.projected(key, generation);
        } else {
            self.forget(&key);
        }
        Ok(outcome)
    }

    /// True when `key` was projected at `generation` within [`MEMO_TTL`].
    fn is_current(&self, key: &str, generation: i64) -> bool {
        self.lock()
            .get(key)
            .is_some_and(|(g, at)| *g == generation && at.elapsed() < MEMO_TTL)
    }

    /// Records that `key` was just projected at `generation`.
    fn projected(&self, key: String, generation: i64) {
        self.lock().insert(key, (generation, Instant::now()));
    }

    /// Forgets `key` (deleted, or its projection failed or was refused).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }
}
