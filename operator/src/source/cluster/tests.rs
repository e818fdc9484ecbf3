//! The cluster source's own logic: which Rewards an Event change wakes (and
//! which Event changes wake none), and
//! which Rewards a claim wakes.

use std::time::Duration;

use chrono::Utc;
use futures::{FutureExt, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Resource, runtime::reflector::ObjectRef};
use liveops_domain::crd::{ClaimPolicy, Event, EventRef, EventSpec, EventStatus, Reward, RewardSpec};
use liveops_testkit::TestDb;

use super::{
    claims::{CLAIMS_POLL, claimed_changes, event_ref, reward_ref},
    reward_index::RewardIndex,
};

fn event(namespace: &str, name: &str) -> Event {
    let spec = EventSpec {
        display_name: name.to_owned(),
        description: String::new(),
        starts_at: Utc::now() - chrono::Duration::hours(1),
        ends_at: Utc::now() + chrono::Duration::days(1),
        announce_at: None,
        claim_until: None,
        time_zone: "UTC".to_owned(),
        condition: None,
        claim_policy: ClaimPolicy::default(),
        suspend: false,
        max_claims: None,
    };
    let mut event = Event::new(name, spec);
    event.meta_mut().namespace = Some(namespace.to_owned());
    event
}

fn reward(namespace: &str, name: &str, event: &str) -> Reward {
    let spec = RewardSpec {
        event_ref: EventRef {
            name: event.to_owned(),
        },
        display_name: name.to_owned(),
        description: String::new(),
        quantity: Some(3),
        per_user_limit: 1,
        payload: None,
        requires: None,
    };
    let mut reward = Reward::new(name, spec);
    reward.meta_mut().namespace = Some(namespace.to_owned());
    reward
}

#[test]
fn an_event_wakes_the_rewards_that_refer_to_it_in_its_namespace() {
    let index = RewardIndex::default();
    for reward in [
        reward("a", "gems", "login"),
        reward("a", "coins", "invite"),
        reward("b", "gems", "login"),
        reward("a", "chest", "login"),
    ] {
        index.note_reward(&reward);
    }
    let woken = index.rewards_to_wake(&event("a", "login"));
    assert_eq!(
        woken,
        vec![
            ObjectRef::new("chest").within("a"),
            ObjectRef::new("gems").within("a")
        ]
    );
}

#[test]
fn status_only_updates_of_an_event_wake_no_reward_after_its_first_status() {
    let index = RewardIndex::default();
    index.note_reward(&reward("a", "gems", "login"));
    let mut login = event("a", "login");
    login.meta_mut().generation = Some(1);
    assert_eq!(index.rewards_to_wake(&login).len(), 1, "first sight");
    assert!(index.rewards_to_wake(&login).is_empty(), "nothing changed");
    // The first status: the Event's row exists from now on.
    login.status = Some(EventStatus {
        observed_generation: Some(1),
        ..EventStatus::default()
    });
    assert_eq!(index.rewards_to_wake(&login).len(), 1);
    // A phase flip or a claim count is status only.
    login.status.as_mut().expect("status").claims_total = Some(3);
    assert!(index.rewards_to_wake(&login).is_empty());
    // A new spec, or deletion, wakes them again.
    login.meta_mut().generation = Some(2);
    assert_eq!(index.rewards_to_wake(&login).len(), 1);
    login.meta_mut().deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
    assert_eq!(index.rewards_to_wake(&login).len(), 1);
}

#[tokio::test]
async fn a_claim_wakes_its_reward_and_event_within_the_poll_interval() {
    let db = TestDb::new().await;
    let now = Utc::now();
    for namespace in ["a", "b"] {
        crate::reconcile::reconcile_event(&db.pool, &event(namespace, "login"), now)
            .await
            .expect("event");
        for name in ["gems", "coins"] {
            let reward = reward(namespace, name, "login");
            crate::reconcile::reconcile_reward(&db.pool, &reward, now)
                .await
                .expect("reward");
        }
    }
    let rewards = claimed_changes::<Reward>(db.pool.clone(), Some("a".to_owned()), reward_ref).await;
    let events = claimed_changes::<Event>(db.pool.clone(), Some("a".to_owned()), event_ref).await;
    futures::pin_mut!(rewards, events);

    sqlx::query!("update rewards set claimed = claimed + 1 where name in ('gems', 'coins')")
        .execute(&db.pool)
        .await
        .expect("claims in both namespaces");

    let within = CLAIMS_POLL + Duration::from_secs(3);
    let first = tokio::time::timeout(within, rewards.next())
        .await
        .expect("woken within the poll interval");
    let second = rewards.next().now_or_never().flatten();
    let mut woken: Vec<_> = [first, second].into_iter().flatten().collect();
    woken.sort_by_key(|object| object.name.clone());
    assert_eq!(
        woken,
        vec![
            ObjectRef::new("coins").within("a"),
            ObjectRef::new("gems").within("a")
        ]
    );
    assert!(
        rewards.next().now_or_never().is_none(),
        "namespace b is not watched"
    );

    let event = tokio::time::timeout(within, events.next())
        .await
        .expect("event woken");
    assert_eq!(event, Some(ObjectRef::new("login").within("a")));
    assert!(
        events.next().now_or_never().is_none(),
        "two rewards of one event wake it once"
    );
}
