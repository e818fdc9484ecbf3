//! A user's progress towards an event's rewards (DESIGN.md, "Challenges":
//! `GET /events/{id}/progress`, `GET /progress/me`). Whether a reward is
//! claimable, and why not, is [`explain_claim`]'s verdict: the read half of
//! the claim statement with the same flags, the same precedence and the
//! same requirement walk (`liveops_requirement_holds`, migration 0040), so
//! progress and claim never disagree (races aside: a counter fed between
//! the two reads).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::claim::{ClaimExplanation, explain_claim};

/// One event's progress for one user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventProgress {
    /// Event id.
    pub event_id: Uuid,
    /// Kubernetes namespace of the Event.
    pub namespace: String,
    /// Object name of the Event.
    pub name: String,
    /// Name to show.
    pub display_name: String,
    /// Phase as the operator last wrote it.
    pub phase: String,
    /// The next instant the event's phase can change (announce, start, end,
    /// end of the claim grace window); null when none is ahead.
    pub next_transition_at: Option<DateTime<Utc>>,
    /// The event's rewards, by name.
    pub rewards: Vec<RewardProgress>,
}

/// One reward's progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardProgress {
    /// Reward id: what POST /claims/{rewardId}/claim takes.
    pub reward_id: Uuid,
    /// Object name of the Reward.
    pub name: String,
    /// Name to show.
    pub display_name: String,
    /// A claim right now would be granted.
    pub claimable: bool,
    /// The claim's refusal code when not claimable (e.g.
    /// `REQUIREMENTS_NOT_MET`, `ALREADY_CLAIMED`); null when claimable.
    pub reason: Option<String>,
    /// The claim period the limits and `Period` counters count in (`once`,
    /// a local date or an ISO week); null for an Invalid event.
    pub period_key: Option<String>,
    /// When that period ends (the next local reset); null for `once`.
    pub period_ends_at: Option<DateTime<Utc>>,
    /// Each leaf of `spec.requires`, in document order; empty when none.
    pub requirements: Vec<RequirementProgress>,
}

/// One requirement leaf: how far the user is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequirementProgress {
    /// Where the leaf sits in `requires`, e.g. `anyOf[1].allOf[0]`.
    pub path: String,
    /// `counter` or `claimed`.
    pub kind: String,
    /// The Counter's name (`counter`) or the Reward's name (`claimed`).
    pub name: String,
    /// `Event` or `Period` for a counter; null for `claimed`.
    pub window: Option<String>,
    /// The counter's value (0 when never fed), or 1 when the reward is claimed.
    pub current: i64,
    /// `atLeast`, or 1 for `claimed`.
    pub target: i64,
    /// `current >= target`.
    pub met: bool,
}

/// Progress over some events, read at `server_time`.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The database's `now()`.
    pub server_time: DateTime<Utc>,
    /// The events, soonest start first.
    pub events: Vec<EventProgress>,
}

/// Progress of `user_id` in one event (`Some` events has one entry; none
/// when the event is unknown, deleted or not announced yet) or, with
/// `event_id` `None`, in every event open for claims now.
pub async fn user_progress(db: &PgPool, user_id: Uuid, event_id: Option<Uuid>) -> sqlx::Result<Progress> {
    let rows = sqlx::query_file!("src/challenge/sql/progress_events.sql", event_id)
        .fetch_all(db)
        .await?;
    let server_time = match rows.first() {
        Some(row) => row.server_time,
        None => {
            sqlx::query_scalar!(r#"select now() as "now!""#)
                .fetch_one(db)
                .await?
        }
    };
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let period = Period {
            key: row.period_key,
            ends_at: row.period_ends_at,
        };
        events.push(EventProgress {
            rewards: rewards_progress(db, user_id, row.id, &period).await?,
            event_id: row.id,
            namespace: row.namespace,
            name: row.name,
            display_name: row.display_name,
            phase: row.phase,
            next_transition_at: row.next_transition_at,
        });
    }
    Ok(Progress { server_time, events })
}

/// The event's claim period as the events query read it.
struct Period {
    key: Option<String>,
    ends_at: Option<DateTime<Utc>>,
}

/// Each live reward of the event, judged as a claim would be.
async fn rewards_progress(
    db: &PgPool,
    user_id: Uuid,
    event_id: Uuid,
    period: &Period,
) -> sqlx::Result<Vec<RewardProgress>> {
    let rewards = sqlx::query!(
        "select id, name, display_name from rewards
         where event_id = $1 and deleted_at is null
         order by name",
        event_id,
    )
    .fetch_all(db)
    .await?;
    let mut progress = Vec::with_capacity(rewards.len());
    for reward in rewards {
        let explanation = explain_claim(db, user_id, reward.id).await?;
        let requirements = requirement_leaves(db, user_id, &explanation).await?;
        let period_key = explanation
            .facts
            .as_ref()
            .map(|facts| facts.period_key.clone())
            .or_else(|| period.key.clone());
        progress.push(RewardProgress {
            reward_id: reward.id,
            name: reward.name,
            display_name: reward.display_name,
            claimable: explanation.refusal.is_none(),
            reason: explanation.refusal.map(|refusal| refusal.code().to_owned()),
            period_key,
            period_ends_at: period.ends_at,
            requirements,
        });
    }
    Ok(progress)
}

/// The leaves of the reward's `requires` with the user's values, in the
/// period the explanation was judged in.
async fn requirement_leaves(
    db: &PgPool,
    user_id: Uuid,
    explanation: &ClaimExplanation,
) -> sqlx::Result<Vec<RequirementProgress>> {
    let Some(facts) = &explanation.facts else {
        return Ok(Vec::new());
    };
    let Some(requires) = &facts.requires else {
        return Ok(Vec::new());
    };
    let leaves = sqlx::query_file!(
        "src/challenge/sql/requirement_leaves.sql",
        requires,
        facts.reward_namespace,
        user_id,
        facts.period_key,
    )
    .fetch_all(db)
    .await?;
    Ok(leaves
        .into_iter()
        .map(|leaf| RequirementProgress {
            met: leaf.current >= leaf.target,
            path: leaf.path,
            kind: leaf.kind,
            name: leaf.name,
            window: leaf.counter_window,
            current: leaf.current,
            target: leaf.target,
        })
        .collect())
}
