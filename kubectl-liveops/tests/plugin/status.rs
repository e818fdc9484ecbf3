//! `status` from the database (what the operator's manifests mode projected)
//! and from a cluster (the operator's controllers against the fake API).

use std::{sync::Arc, time::Duration};

use api_server::claim::{ClaimOutcome, ClaimRequest, claim_reward};
use liveops_testkit::TestDb;
use operator::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};
use serde_json::Value;

use super::catalogue::{Projection, eventually, fixture, plugin, reward_id, stdout, user};
use kubectl_liveops::status::{EventStatusLine, RewardStock, Scope, cluster};

fn line_of<'a>(report: &'a str, start: &str) -> &'a str {
    report
        .lines()
        .find(|line| line.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in\n{report}"))
}

#[tokio::test]
async fn status_from_the_database_shows_phases_countdowns_and_stock() {
    let db = TestDb::new().await;
    let projection = Projection::start(&db.pool).await;
    let user_id = user(&db.pool, "stock@example.com", "stock").await;
    let gold = reward_id(&db.pool, "open-doors-gold").await;
    let request = ClaimRequest {
        user_id,
        reward_id: gold,
        key: None,
        key_ttl: Duration::from_secs(60),
    };
    let answer = claim_reward(&db.pool, request).await.expect("claim");
    assert!(matches!(answer.outcome, ClaimOutcome::Granted(_)), "{answer:?}");

    let output = plugin(&["status", "-n", "games", "--database-url", &db.url]).await;
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    let open = line_of(&report, "games/open-doors ");
    assert!(open.contains("Active") && open.contains("ends in "), "{open}");
    let future = line_of(&report, "games/future-fair ");
    assert!(
        future.contains("Scheduled") && future.contains("starts in "),
        "{future}"
    );
    let old = line_of(&report, "games/old-sale ");
    assert!(
        old.contains("Ended") && old.contains("ended ") && old.ends_with(" ago"),
        "{old}"
    );
    assert!(report.contains("  reward open-doors-gold: 1 claimed / 2 quantity / 1 remaining\n"));
    assert!(report.contains("  reward open-doors-badge: 0 claimed / unlimited\n"));

    let output = plugin(&["status", "-A", "-o", "json", "--database-url", &db.url]).await;
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let events = json["events"].as_array().expect("events");
    assert_eq!(events.len(), 4);
    let open = events
        .iter()
        .find(|e| e["name"] == "open-doors")
        .expect("open-doors");
    let gold = open["rewards"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "open-doors-gold"));
    let gold = gold.expect("gold listed");
    assert_eq!(
        (gold["claimed"].as_i64(), gold["remaining"].as_i64()),
        (Some(1), Some(1))
    );

    let elsewhere = plugin(&["status", "-n", "elsewhere", "--database-url", &db.url]).await;
    assert_eq!(stdout(&elsewhere), "No events found.\n");
    projection.stop().await;
}

/// Puts every document of the catalogue into the fake API.
fn fake_api_with_catalogue() -> FakeApi {
    let api = FakeApi::default();
    for (file, plural) in [
        ("catalogue/events.yaml", "events"),
        ("catalogue/rewards.yaml", "rewards"),
    ] {
        let text = std::fs::read_to_string(fixture(file)).expect("catalogue readable");
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        for document in documents {
            api.put(plural, document);
        }
    }
    api
}

#[tokio::test]
async fn status_from_the_cluster_reads_the_status_the_operator_wrote() {
    let db = TestDb::new().await;
    let api = fake_api_with_catalogue();
    let ctx = Arc::new(Context::new(
        api.client("games"),
        db.pool.clone(),
        Metrics::new(),
        "plugin-test".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(operator::source::cluster::run_controllers(
        ctx,
        Some("games".to_owned()),
        stop,
    ));
    eventually("every event and reward has a status", || async {
        api.count_where("events", |e| e["status"]["phase"].is_string()) == 4
            && api.count_where("rewards", |r| r["status"]["claimed"].is_i64()) == 5
    })
    .await;

    let lines = cluster::read(&api.client("games"), &Scope::Namespace(None))
        .await
        .expect("list from the fake API");
    let phases: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l.name.as_str(), l.phase.as_str()))
        .collect();
    assert_eq!(
        phases,
        [
            ("old-sale", "Ended"),
            ("open-doors", "Active"),
            ("streak-week", "Active"),
            ("future-fair", "Scheduled"),
        ]
    );
    let open: &EventStatusLine = lines.iter().find(|l| l.name == "open-doors").expect("listed");
    let stock = |name: &str| open.rewards.iter().find(|r| r.name == name).cloned();
    assert_eq!(
        stock("open-doors-gold"),
        Some(RewardStock {
            name: "open-doors-gold".to_owned(),
            claimed: 0,
            quantity: Some(2),
            remaining: Some(2),
        })
    );
    assert_eq!(stock("open-doors-badge").map(|s| s.remaining), Some(None));
    trigger.fire();
    controllers.await.expect("controllers stop");
}
