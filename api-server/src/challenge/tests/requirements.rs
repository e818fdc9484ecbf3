//! `Reward.spec.requires` judged by the claim statement, each case checked
//! through [`progress_then_claim`]: progress says claimable exactly when
//! the claim is granted, and its reason is the claim's refusal code.

use liveops_testkit::TestDb;
use serde_json::{Value, json};

use super::fixtures::{counter, progress_then_claim, reward_requiring, set_value, today_key};
use crate::claim::tests::fixtures::{EventRow, claims_of, user};

const UNMET: Option<&str> = Some("REQUIREMENTS_NOT_MET");

fn at_least(name: &str, target: i64) -> Value {
    json!({"counter": {"name": name, "atLeast": target}})
}

/// One case: counter values ('event' window) set before the claim, the
/// requirement, and the expected refusal code (None: granted).
struct Case {
    what: &'static str,
    values: &'static [(&'static str, i64)],
    requires: Value,
    expected: Option<&'static str>,
}

#[tokio::test]
async fn all_of_any_of_and_nested_groups_grant_exactly_when_met() {
    let nested =
        || json!({"allOf": [at_least("wins", 2), {"anyOf": [at_least("logins", 3), at_least("buys", 1)]}]});
    let cases = [
        Case {
            what: "allOf, one short",
            values: &[("wins", 5), ("logins", 2)],
            requires: json!({"allOf": [at_least("wins", 5), at_least("logins", 3)]}),
            expected: UNMET,
        },
        Case {
            what: "allOf, both met",
            values: &[("wins", 5), ("logins", 3)],
            requires: json!({"allOf": [at_least("wins", 5), at_least("logins", 3)]}),
            expected: None,
        },
        Case {
            what: "anyOf, one met",
            values: &[("wins", 0), ("logins", 9)],
            requires: json!({"anyOf": [at_least("wins", 1), at_least("logins", 3)]}),
            expected: None,
        },
        Case {
            what: "anyOf, none met",
            values: &[("wins", 0), ("logins", 2)],
            requires: json!({"anyOf": [at_least("wins", 1), at_least("logins", 3)]}),
            expected: UNMET,
        },
        Case {
            what: "nested, inner anyOf met by its second item",
            values: &[("wins", 2), ("buys", 1)],
            requires: nested(),
            expected: None,
        },
        Case {
            what: "nested, inner anyOf unmet",
            values: &[("wins", 2), ("logins", 2)],
            requires: nested(),
            expected: UNMET,
        },
        Case {
            what: "nested, outer leaf unmet",
            values: &[("wins", 1), ("logins", 3)],
            requires: nested(),
            expected: UNMET,
        },
        Case {
            what: "a counter that does not exist counts 0",
            values: &[],
            requires: json!({"allOf": [at_least("nowhere", 1)]}),
            expected: UNMET,
        },
        Case {
            what: "no requirement",
            values: &[],
            requires: Value::Null,
            expected: None,
        },
    ];
    let db = TestDb::new().await;
    for case in cases {
        // each case its own event, user and counters
        let event_id = EventRow::default().insert(&db.pool).await;
        let user_id = user(&db.pool).await;
        for name in ["wins", "logins", "buys"] {
            let counter_id = counter(&db.pool, event_id, &format!("{name}-{event_id}")).await;
            let value = case
                .values
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, v)| *v);
            set_value(&db.pool, counter_id, user_id, "event", value).await;
        }
        let requires = rename_counters(case.requires, &event_id.to_string());
        let reward_id = reward_requiring(&db.pool, event_id, &format!("r-{event_id}"), None, requires).await;
        let code = progress_then_claim(&db.pool, user_id, event_id, reward_id).await;
        assert_eq!(code, case.expected, "{}", case.what);
    }
}

/// Counter names are unique per namespace: suffix every counter leaf's name.
fn rename_counters(node: Value, suffix: &str) -> Value {
    match node {
        Value::Object(mut map) => {
            if let Some(Value::Object(leaf)) = map.get_mut("counter")
                && let Some(Value::String(name)) = leaf.get_mut("name")
            {
                *name = format!("{name}-{suffix}");
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, rename_counters(v, suffix)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| rename_counters(v, suffix)).collect()),
        other => other,
    }
}

#[tokio::test]
async fn a_claimed_precondition_opens_once_the_other_reward_is_claimed() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let user_id = user(&db.pool).await;
    let silver = reward_requiring(&db.pool, event_id, "silver", None, Value::Null).await;
    let gold = reward_requiring(
        &db.pool,
        event_id,
        "gold",
        None,
        json!({"allOf": [{"claimed": {"reward": "silver"}}]}),
    )
    .await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, gold).await,
        UNMET
    );
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, silver).await,
        None
    );
    assert_eq!(progress_then_claim(&db.pool, user_id, event_id, gold).await, None);
    // the refusal is in the ledger like any other
    let ledger = claims_of(&db.pool, user_id).await;
    assert!(
        ledger.contains(&("failed".to_owned(), Some("REQUIREMENTS_NOT_MET".to_owned()))),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn three_tiers_on_one_counter_open_each_at_its_target() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let wins = counter(&db.pool, event_id, "wins").await;
    let tiers = [("bronze", 10), ("silver", 25), ("gold", 50)];
    let mut ids = Vec::new();
    for (name, target) in tiers {
        ids.push(
            reward_requiring(
                &db.pool,
                event_id,
                name,
                None,
                json!({"allOf": [at_least("wins", target)]}),
            )
            .await,
        );
    }
    // (counter value, which tiers a fresh user can claim at it)
    let steps: [(i64, [bool; 3]); 5] = [
        (9, [false, false, false]),
        (10, [true, false, false]),
        (24, [true, false, false]),
        (25, [true, true, false]),
        (50, [true, true, true]),
    ];
    for (value, claimable) in steps {
        let user_id = user(&db.pool).await;
        set_value(&db.pool, wins, user_id, "event", value).await;
        for (index, reward_id) in ids.iter().enumerate() {
            let code = progress_then_claim(&db.pool, user_id, event_id, *reward_id).await;
            let expected = if claimable[index] { None } else { UNMET };
            assert_eq!(code, expected, "{} at {value}", tiers[index].0);
        }
    }
}

#[tokio::test]
async fn a_period_window_reads_the_current_period_and_an_event_window_the_whole_event() {
    let db = TestDb::new().await;
    let event = EventRow {
        frequency: "Daily",
        ..EventRow::default()
    };
    let event_id = event.insert(&db.pool).await;
    let plays = counter(&db.pool, event_id, "plays").await;
    let daily = reward_requiring(
        &db.pool,
        event_id,
        "daily",
        None,
        json!({"allOf": [{"counter": {"name": "plays", "atLeast": 3, "window": "Period"}}]}),
    )
    .await;
    let season = reward_requiring(
        &db.pool,
        event_id,
        "season",
        None,
        json!({"allOf": [{"counter": {"name": "plays", "atLeast": 3, "window": "Event"}}]}),
    )
    .await;
    let user_id = user(&db.pool).await;
    // three plays yesterday, none today
    set_value(&db.pool, plays, user_id, "event", 3).await;
    set_value(&db.pool, plays, user_id, "1999-12-31", 3).await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, daily).await,
        UNMET
    );
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, season).await,
        None
    );
    set_value(&db.pool, plays, user_id, &today_key(&db.pool).await, 3).await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, daily).await,
        None
    );
}

#[tokio::test]
async fn limits_and_stock_refuse_before_requirements_and_requirements_before_the_condition() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let wins = counter(&db.pool, event_id, "wins").await;
    let user_id = user(&db.pool).await;
    let requires = json!({"allOf": [at_least("wins", 1)]});
    let sold_out = reward_requiring(&db.pool, event_id, "none-left", Some(0), requires.clone()).await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, sold_out).await,
        Some("SOLD_OUT")
    );

    let once = reward_requiring(&db.pool, event_id, "once", None, requires.clone()).await;
    set_value(&db.pool, wins, user_id, "event", 1).await;
    assert_eq!(progress_then_claim(&db.pool, user_id, event_id, once).await, None);
    set_value(&db.pool, wins, user_id, "event", 0).await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, once).await,
        Some("ALREADY_CLAIMED")
    );

    // an event whose condition (a complete profile) the user does not meet
    let guarded = EventRow {
        condition: json!({"profileComplete": {}}),
        ..EventRow::default()
    };
    let guarded_id = guarded.insert(&db.pool).await;
    let kills = counter(&db.pool, guarded_id, "kills").await;
    let reward_id = reward_requiring(
        &db.pool,
        guarded_id,
        "guarded",
        None,
        json!({"allOf": [at_least("kills", 2)]}),
    )
    .await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, guarded_id, reward_id).await,
        UNMET
    );
    set_value(&db.pool, kills, user_id, "event", 2).await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, guarded_id, reward_id).await,
        Some("CONDITION_NOT_MET")
    );
}

#[tokio::test]
async fn a_deleted_counter_counts_zero() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let wins = counter(&db.pool, event_id, "wins").await;
    let user_id = user(&db.pool).await;
    set_value(&db.pool, wins, user_id, "event", 5).await;
    sqlx::query!("update counters set deleted_at = now() where id = $1", wins)
        .execute(&db.pool)
        .await
        .expect("delete counter");
    let reward_id = reward_requiring(
        &db.pool,
        event_id,
        "r",
        None,
        json!({"allOf": [at_least("wins", 1)]}),
    )
    .await;
    assert_eq!(
        progress_then_claim(&db.pool, user_id, event_id, reward_id).await,
        UNMET
    );
}
