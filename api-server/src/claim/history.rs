//! The claim history behind GET /claims, /claims/me, /claims/user/{id} and
//! /claims/filter: one keyset-paginated query, newest first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::cursor::Cursor;

/// `claims.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "claim_status", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ClaimStatus {
    /// The reward was granted.
    Success,
    /// The attempt was refused; `reason` says why.
    Failed,
}

/// Which claims to list; every field narrows the list when set.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Claims of this user.
    pub user_id: Option<Uuid>,
    /// Claims with this status.
    pub status: Option<ClaimStatus>,
    /// Claims on this event.
    pub event_id: Option<Uuid>,
    /// Claims on this reward.
    pub reward_id: Option<Uuid>,
    /// Claims made at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Claims made before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// The reward a claim refers to, as listings show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedReward {
    /// Reward id.
    pub id: Uuid,
    /// Object name of the Reward, or null when no such reward exists.
    pub name: Option<String>,
    /// Display name, or null when no such reward exists.
    pub display_name: Option<String>,
}

/// One claim attempt in a listing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRecord {
    /// Claim id.
    pub id: Uuid,
    /// Claiming user.
    pub user_id: Uuid,
    /// The reward claimed.
    pub reward: ClaimedReward,
    /// The reward's event (null for attempts on unknown rewards).
    pub event_id: Option<Uuid>,
    /// `success` or `failed`.
    pub status: ClaimStatus,
    /// Refusal code when failed (e.g. `SOLD_OUT`).
    pub reason: Option<String>,
    /// `once`, a local date (Daily) or an ISO week (Weekly).
    pub period_key: String,
    /// Event generation whose rules decided the claim.
    pub event_generation: Option<i64>,
    /// When the attempt was made (database clock); for a refusal, the first
    /// of its identical attempts in that hour.
    pub created_at: DateTime<Utc>,
    /// How many identical attempts this row stands for: 1 for a grant;
    /// identical refusals (same user, reward and reason) within one hour
    /// share one row.
    pub attempts: i32,
    /// The latest of those attempts.
    pub last_attempt_at: DateTime<Utc>,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct ClaimPage {
    /// At most `limit` claims, newest first.
    pub claims: Vec<ClaimRecord>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<Cursor>,
}

/// Lists claims matching `filter`, newest first, strictly after `after`.
pub async fn list_claims(
    db: &PgPool,
    filter: &ClaimFilter,
    after: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<ClaimPage> {
    // Every filter is optional in one prepared statement, so after a few
    // runs PostgreSQL may settle on a generic plan that cannot see which
    // filters are null: it then walks the newest-first index for a user
    // whose claims are all old (255 ms over 1 M claims, against 0.3 ms
    // planned for the values; bench/README.md, "Claims: issue 14").
    // `set local` keeps the setting to this transaction.
    let mut tx = db.begin().await?;
    sqlx::query("set local plan_cache_mode = force_custom_plan")
        .execute(&mut *tx)
        .await?;
    // One row more than asked tells whether another page exists.
    let mut rows = sqlx::query_file!(
        "src/claim/sql/list_claims.sql",
        filter.user_id,
        filter.status as Option<ClaimStatus>,
        filter.event_id,
        filter.reward_id,
        filter.from,
        filter.to,
        after.map(|cursor| cursor.created_at),
        after.map(|cursor| cursor.id),
        limit + 1,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let claims: Vec<ClaimRecord> = rows
        .into_iter()
        .map(|row| ClaimRecord {
            id: row.id,
            user_id: row.user_id,
            reward: ClaimedReward {
                id: row.reward_id,
                name: row.reward_name,
                display_name: row.reward_display_name,
            },
            event_id: row.event_id,
            status: row.status,
            reason: row.reason,
            period_key: row.period_key,
            event_generation: row.event_generation,
            created_at: row.created_at,
            attempts: row.attempts,
            last_attempt_at: row.last_attempt_at,
        })
        .collect();
    let next_cursor = if has_more {
        claims.last().map(|last| Cursor {
            created_at: last.created_at,
            id: last.id,
        })
    } else {
        None
    };
    Ok(ClaimPage { claims, next_cursor })
}
