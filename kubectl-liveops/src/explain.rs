//! `explain-claim USER REWARD`: why a user can or cannot claim a reward at
//! this instant, from the database. The verdict is the API server's own
//! (`api_server::claim::explain_claim`: the claim statement's flags and
//! precedence, the condition kinds' queries); this file only finds the user
//! and the reward and prints the answer.

use std::io::Write;

use api_server::claim::{ClaimExplanation, ClaimRefusal, ConditionCheck, explain::ClaimFacts, explain_claim};
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result, Verdict, cli::OutputFormat, countdown::countdown, status::database::connect};

/// The user a claim would be made by.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub nickname: Option<String>,
}

/// Explains the claim and prints it; exit 0 when it would be granted.
pub async fn run(
    database_url: &str,
    user: &str,
    reward: &str,
    output: OutputFormat,
    out: &mut impl Write,
) -> Result<Verdict> {
    let db = connect(database_url).await?;
    let user = find_user(&db, user).await?;
    let reward_id = find_reward(&db, reward).await?;
    // An unknown NAMESPACE/NAME is explained as the claim of an unknown id would be.
    let explanation = explain_claim(&db, user.id, reward_id.unwrap_or_else(Uuid::nil)).await?;
    let text = match output {
        OutputFormat::Text => render(&user, reward, &explanation),
        OutputFormat::Json => serde_json::to_string_pretty(&json_view(&user, &explanation))? + "\n",
    };
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })?;
    Ok(match explanation.refusal {
        None => Verdict::Clean,
        Some(_) => Verdict::Problems,
    })
}

/// By id, else by email (case-insensitive), else by nickname.
pub async fn find_user(db: &PgPool, wanted: &str) -> Result<User> {
    let id = Uuid::parse_str(wanted).ok();
    let found = sqlx::query_as!(
        User,
        "select id, email, nickname from users
         where id = $1 or lower(email) = lower($2) or nickname = $2
         order by id = $1 desc, lower(email) = lower($2) desc
         limit 2",
        id,
        wanted,
    )
    .fetch_all(db)
    .await?;
    match found.as_slice() {
        [] => Err(Error::Usage(format!(
            "no user with id, email or nickname {wanted:?}"
        ))),
        [first, second] if !is_exact(first, wanted, id) && !is_exact(second, wanted, id) => {
            Err(Error::Usage(format!(
                "several users have the nickname {wanted:?}; give an id or email"
            )))
        }
        [first, ..] => Ok(first.clone()),
    }
}

fn is_exact(user: &User, wanted: &str, id: Option<Uuid>) -> bool {
    Some(user.id) == id || user.email.eq_ignore_ascii_case(wanted)
}

/// By id, or by NAMESPACE/NAME (a live reward before a deleted one);
/// `None` when no reward has that name.
pub async fn find_reward(db: &PgPool, wanted: &str) -> Result<Option<Uuid>> {
    if let Ok(id) = Uuid::parse_str(wanted) {
        return Ok(Some(id));
    }
    let (namespace, name) = wanted.split_once('/').unwrap_or(("default", wanted));
    let id = sqlx::query_scalar!(
        "select id from rewards where namespace = $1 and name = $2
         order by deleted_at is not null, deleted_at desc limit 1",
        namespace,
        name,
    )
    .fetch_optional(db)
    .await?;
    Ok(id)
}

/// The verdict's code, or `GRANTED`.
pub fn verdict_code(refusal: Option<ClaimRefusal>) -> &'static str {
    refusal.map_or("GRANTED", ClaimRefusal::code)
}

fn render(user: &User, wanted_reward: &str, explanation: &ClaimExplanation) -> String {
    let nickname = user
        .nickname
        .as_deref()
        .map(|n| format!(", nickname {n}"))
        .unwrap_or_default();
    let mut lines = vec![format!("user:        {} ({}{nickname})", user.id, user.email)];
    match &explanation.facts {
        None => lines.push(format!("reward:      {wanted_reward}: not found")),
        Some(facts) => lines.extend(fact_lines(facts, explanation.condition)),
    }
    let verdict = match explanation.refusal {
        None => "GRANTED: the claim would succeed now".to_owned(),
        Some(refusal) => format!("REFUSED {}: {}", refusal.code(), refusal.message()),
    };
    lines.push(format!("verdict:     {verdict}"));
    lines.join("\n") + "\n"
}

fn fact_lines(facts: &ClaimFacts, condition: ConditionCheck) -> Vec<String> {
    let ok = |bad: bool| if bad { "REACHED" } else { "ok" };
    let deleted = if facts.reward_deleted { " (deleted)" } else { "" };
    let window = countdown(facts.checked_at, facts.starts_at, facts.ends_at);
    let event_state = match (facts.event_deleted, facts.suspended) {
        (true, _) => ", deleted",
        (false, true) => ", suspended",
        _ => "",
    };
    let per_event = match facts.max_rewards_per_user {
        Some(max) => format!(
            "{} of maxRewardsPerUser {max} distinct rewards taken: {}",
            facts.rewards_taken_by_user,
            ok(facts.event_limit_reached)
        ),
        None => format!(
            "{} distinct rewards taken, no maxRewardsPerUser",
            facts.rewards_taken_by_user
        ),
    };
    let stock = match facts.quantity {
        Some(quantity) => format!(
            "{} claimed / {quantity} quantity / {} remaining: {}",
            facts.claimed,
            (quantity - facts.claimed).max(0),
            if facts.stock_gone { "SOLD OUT" } else { "ok" }
        ),
        None => format!("{} claimed / unlimited", facts.claimed),
    };
    let cap = match facts.max_claims {
        Some(max) => format!(
            "{} of maxClaims {max}: {}",
            facts.claims_total,
            ok(facts.cap_reached)
        ),
        None => format!("{} claims, no maxClaims", facts.claims_total),
    };
    let mut lines = vec![
        format!(
            "reward:      {}/{} ({}){deleted}",
            facts.reward_namespace, facts.reward_name, facts.reward_id
        ),
        format!(
            "event:       {}/{}: phase {}{event_state}, window {} .. {} ({window}, zone {})",
            facts.event_namespace,
            facts.event_name,
            facts.phase,
            facts.starts_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            facts.ends_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            facts.time_zone
        ),
        format!(
            "period:      {} (frequency {})",
            facts.period_key, facts.claim_frequency
        ),
        format!(
            "per user:    {} of perUserLimit {} this period: {}",
            facts.claimed_by_user,
            facts.per_user_limit,
            ok(facts.reward_limit_reached)
        ),
        format!("per event:   {per_event}"),
        format!("stock:       {stock}"),
        format!("event cap:   {cap}"),
        format!("condition:   {}: {}", facts.condition, condition_text(condition)),
    ];
    // only for a reward with `spec.requires`, so other verdicts read as before
    if let Some(requires) = &facts.requires {
        let verdict = if facts.requirements_unmet {
            "NOT MET"
        } else {
            "met"
        };
        lines.push(format!("requires:    {requires}: {verdict}"));
    }
    lines
}

fn condition_text(condition: ConditionCheck) -> &'static str {
    match condition {
        ConditionCheck::None => "none",
        ConditionCheck::Met => "met",
        ConditionCheck::NotMet => "NOT MET",
        ConditionCheck::Invalid => "INVALID",
    }
}

fn json_view(user: &User, explanation: &ClaimExplanation) -> serde_json::Value {
    serde_json::json!({
        "user": user,
        "reward": explanation.facts,
        "condition": explanation.condition,
        "verdict": {
            "granted": explanation.refusal.is_none(),
            "code": verdict_code(explanation.refusal),
            "message": explanation.refusal.map(ClaimRefusal::message),
        },
        "checkedAt": explanation.facts.as_ref().map_or_else(Utc::now, |facts| facts.checked_at),
    })
}
