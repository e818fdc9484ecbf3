//! How often one user may claim an event's reward (`claimPolicy.frequency`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Claim period: one successful claim per user per period (times the
/// reward's `perUserLimit`). Periods are counted in the event's time zone.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, sqlx::Type,
)]
#[sqlx(type_name = "claim_frequency")]
pub enum ClaimFrequency {
    /// Once for the whole event.
    #[default]
    Once,
    /// Once per local calendar day.
    Daily,
    /// Once per ISO week (Monday to Sunday, local time).
    Weekly,
}
