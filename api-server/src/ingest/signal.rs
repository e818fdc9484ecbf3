//! One batch of signals as posted, checked at the boundary: what can be
//! judged without the database (id, amount shape, `occurredAt` against the
//! acceptance window, repeats within the batch) is judged here; the rest
//! (counter, user, bounds) by the recording statement.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The most signals one batch may carry (413 over).
pub const MAX_SIGNALS_PER_BATCH: usize = 500;
/// The longest signal id, in characters.
pub const MAX_SIGNAL_ID_CHARS: usize = 128;

/// One signal as a game server posts it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignalInput {
    /// The sender's id of this signal: it counts once per counter, however
    /// often it is posted (1..128 characters).
    #[schema(example = "match-8812-kill-3")]
    pub id: String,
    /// The user the signal is about.
    #[schema(example = "7f1c7a3e-0a55-4a3b-9a70-1d3ef0f5a9a1")]
    pub user_id: String,
    /// The Counter's name (same namespace as the client).
    #[schema(example = "kills")]
    pub counter: String,
    /// What to add to a Sum counter.
    pub delta: Option<i64>,
    /// A candidate maximum for a Max counter.
    pub value: Option<i64>,
    /// When it happened in the game (RFC 3339).
    pub occurred_at: DateTime<Utc>,
}

/// Stable codes of per-signal contract errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignalCode {
    /// Empty, longer than 128 characters, or with control characters.
    InvalidSignalId,
    /// Unknown counter, or one the client may not feed.
    CounterNotAllowed,
    /// No such user.
    UnknownUser,
    /// `delta`/`value` missing, both given, or outside the counter's bounds.
    AmountOutOfBounds,
    /// `value` on a Sum, `delta` on a Max, either on a DistinctDays counter.
    AmountKindMismatch,
    /// `occurredAt` further ahead than SIGNAL_FUTURE_SKEW_SECONDS.
    OccurredInFuture,
    /// `occurredAt` older than SIGNAL_ACCEPTANCE_WINDOW_SECONDS.
    OccurredTooLongAgo,
    /// The same id on the same counter earlier in the batch with other content.
    DuplicateSignalId,
}

impl SignalCode {
    /// The code as text, as the recording statement also writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalCode::InvalidSignalId => "INVALID_SIGNAL_ID",
            SignalCode::CounterNotAllowed => "COUNTER_NOT_ALLOWED",
            SignalCode::UnknownUser => "UNKNOWN_USER",
            SignalCode::AmountOutOfBounds => "AMOUNT_OUT_OF_BOUNDS",
            SignalCode::AmountKindMismatch => "AMOUNT_KIND_MISMATCH",
            SignalCode::OccurredInFuture => "OCCURRED_IN_FUTURE",
            SignalCode::OccurredTooLongAgo => "OCCURRED_TOO_LONG_AGO",
            SignalCode::DuplicateSignalId => "DUPLICATE_SIGNAL_ID",
        }
    }

    /// The code the statement wrote, back as a code.
    pub fn from_statement(text: &str) -> Option<Self> {
        [
            SignalCode::InvalidSignalId,
            SignalCode::CounterNotAllowed,
            SignalCode::UnknownUser,
            SignalCode::AmountOutOfBounds,
            SignalCode::AmountKindMismatch,
            SignalCode::OccurredInFuture,
            SignalCode::OccurredTooLongAgo,
            SignalCode::DuplicateSignalId,
        ]
        .into_iter()
        .find(|code| code.as_str() == text)
    }
}

/// One refused signal of a refused batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SignalRejection {
    /// Position of the signal in the posted batch, from 0.
    pub index: usize,
    /// The signal's id as posted.
    pub id: String,
    /// Why.
    pub code: SignalCode,
}

/// Which amount a signal carries, as the statement reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountKind {
    /// `delta` (Sum).
    Delta,
    /// `value` (Max).
    Value,
    /// Neither (DistinctDays).
    Nothing,
}

impl AmountKind {
    /// As the statement's `kinds` parameter spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AmountKind::Delta => "delta",
            AmountKind::Value => "value",
            AmountKind::Nothing => "none",
        }
    }
}

/// One distinct signal ready for the statement, with the boundary's verdict.
#[derive(Debug, Clone)]
pub struct CheckedSignal {
    /// Index in the posted batch.
    pub index: usize,
    /// The signal's id (empty when invalid: `error` says so).
    pub id: String,
    /// The user (nil when the posted id is no UUID: `error` says so).
    pub user_id: Uuid,
    /// Counter name.
    pub counter: String,
    /// Which amount was given.
    pub kind: AmountKind,
    /// The amount (0 when none).
    pub amount: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// A contract error found at the boundary.
    pub error: Option<SignalCode>,
}

/// The acceptance window around the server's clock.
#[derive(Debug, Clone, Copy)]
pub struct AcceptanceWindow {
    /// The server's clock.
    pub now: DateTime<Utc>,
    /// How far ahead `occurredAt` may be.
    pub future_skew: Duration,
    /// How far back.
    pub max_age: Duration,
}

/// The batch split into distinct signals for the statement and, per posted
/// index, which distinct signal it repeats (`None`: it is the first).
#[derive(Debug)]
pub struct CheckedBatch {
    /// Distinct signals, in posted order.
    pub distinct: Vec<CheckedSignal>,
    /// For each posted signal: the position in `distinct` it went to, and
    /// whether it repeated an earlier identical signal.
    pub placement: Vec<(usize, bool)>,
}

/// Checks what the boundary can, keeping every signal so that the answer
/// lists every error at once.
pub fn check_batch(signals: &[SignalInput], window: AcceptanceWindow) -> CheckedBatch {
    let mut distinct: Vec<CheckedSignal> = Vec::with_capacity(signals.len());
    let mut placement = Vec::with_capacity(signals.len());
    let mut first_seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, signal) in signals.iter().enumerate() {
        if let Some(&earlier) = first_seen.get(&(signal.counter.as_str(), signal.id.as_str())) {
            if signals[distinct[earlier].index] == *signal {
                placement.push((earlier, true));
                continue;
            }
            let mut repeated = check_signal(index, signal, window);
            repeated.error = Some(SignalCode::DuplicateSignalId);
            placement.push((distinct.len(), false));
            distinct.push(repeated);
            continue;
        }
        first_seen.insert((signal.counter.as_str(), signal.id.as_str()), distinct.len());
        placement.push((distinct.len(), false));
        distinct.push(check_signal(index, signal, window));
    }
    CheckedBatch { distinct, placement }
}

fn check_signal(index: usize, signal: &SignalInput, window: AcceptanceWindow) -> CheckedSignal {
    let id_ok = !signal.id.is_empty()
        && signal.id.chars().count() <= MAX_SIGNAL_ID_CHARS
        && !signal.id.chars().any(char::is_control);
    let user_id = Uuid::parse_str(&signal.user_id).ok();
    // NUL cannot reach PostgreSQL text; such a name names no counter anyway.
    let counter_ok = !signal.counter.contains('\0');
    let (kind, amount, amount_ok) = match (signal.delta, signal.value) {
        (Some(delta), None) => (AmountKind::Delta, delta, true),
        (None, Some(value)) => (AmountKind::Value, value, true),
        (None, None) => (AmountKind::Nothing, 0, true),
        (Some(_), Some(_)) => (AmountKind::Nothing, 0, false),
    };
    let error = if !id_ok {
        Some(SignalCode::InvalidSignalId)
    } else if !counter_ok {
        Some(SignalCode::CounterNotAllowed)
    } else if user_id.is_none() {
        Some(SignalCode::UnknownUser)
    } else if !amount_ok {
        Some(SignalCode::AmountOutOfBounds)
    } else if signal.occurred_at > window.now + window.future_skew {
        Some(SignalCode::OccurredInFuture)
    } else if signal.occurred_at < window.now - window.max_age {
        Some(SignalCode::OccurredTooLongAgo)
    } else {
        None
    };
    let usable = error.is_none();
    CheckedSignal {
        index,
        id: if usable { signal.id.clone() } else { String::new() },
        user_id: user_id.unwrap_or_default(),
        counter: if usable {
            signal.counter.clone()
        } else {
            String::new()
        },
        kind,
        amount,
        occurred_at: signal.occurred_at,
        error,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::{AcceptanceWindow, SignalCode, SignalInput, check_batch};

    fn window() -> AcceptanceWindow {
        AcceptanceWindow {
            now: Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
            future_skew: Duration::seconds(300),
            max_age: Duration::seconds(604_800),
        }
    }

    fn signal(id: &str, delta: i64) -> SignalInput {
        SignalInput {
            id: id.to_owned(),
            user_id: uuid::Uuid::new_v4().to_string(),
            counter: "kills".to_owned(),
            delta: Some(delta),
            value: None,
            occurred_at: window().now,
        }
    }

    fn codes(signals: &[SignalInput]) -> Vec<Option<SignalCode>> {
        check_batch(signals, window())
            .distinct
            .iter()
            .map(|s| s.error)
            .collect()
    }

    #[test]
    fn occurred_at_is_judged_against_skew_and_window_edges() {
        let mut edge_future = signal("a", 1);
        edge_future.occurred_at = window().now + Duration::seconds(300);
        let mut past_future = signal("b", 1);
        past_future.occurred_at = window().now + Duration::seconds(301);
        let mut edge_old = signal("c", 1);
        edge_old.occurred_at = window().now - Duration::seconds(604_800);
        let mut too_old = signal("d", 1);
        too_old.occurred_at = window().now - Duration::seconds(604_801);
        assert_eq!(
            codes(&[edge_future, past_future, edge_old, too_old]),
            [
                None,
                Some(SignalCode::OccurredInFuture),
                None,
                Some(SignalCode::OccurredTooLongAgo)
            ]
        );
    }

    #[test]
    fn identical_repeats_collapse_and_differing_repeats_are_refused() {
        let first = signal("a", 1);
        let batch = check_batch(&[first.clone(), first.clone(), signal("a", 2)], window());
        assert_eq!(batch.distinct.len(), 2);
        assert_eq!(batch.placement, [(0, false), (0, true), (1, false)]);
        assert_eq!(batch.distinct[1].error, Some(SignalCode::DuplicateSignalId));
    }

    #[test]
    fn bad_ids_users_and_amount_shapes_are_refused() {
        let mut both = signal("both", 1);
        both.value = Some(1);
        let mut no_user = signal("nouser", 1);
        no_user.user_id = "not-a-uuid".to_owned();
        assert_eq!(
            codes(&[signal("", 1), signal(&"x".repeat(129), 1), both, no_user]),
            [
                Some(SignalCode::InvalidSignalId),
                Some(SignalCode::InvalidSignalId),
                Some(SignalCode::AmountOutOfBounds),
                Some(SignalCode::UnknownUser)
            ]
        );
    }
}
