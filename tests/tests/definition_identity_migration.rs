//! migrations/0022 on a database that already holds several incarnations
//! of one namespace/name (what uid-keyed rows left after re-creations):
//! they merge into one row per name, counters add up, every claim is kept
//! and re-pointed, and the claim indexes of 0021 still hold.

use chrono::{DateTime, Duration, TimeZone, Utc};
use liveops_testkit::{server_url, with_database};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

/// A fresh database migrated up to 0021, the schema before identity by name.
async fn database_at_0021() -> PgPool {
    let server = server_url();
    let name = format!("t_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server).await.expect("reach PostgreSQL");
    admin
        .execute(sqlx::AssertSqlSafe(format!(r#"create database "{name}""#)))
        .await
        .expect("create the database");
    let pool = PgPool::connect(&with_database(&server, &name))
        .await
        .expect("connect");
    liveops_domain::MIGRATOR
        .run_to(21, &pool)
        .await
        .expect("migrate to 0021");
    pool
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid") + Duration::minutes(minutes)
}

async fn user(db: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into users (email, password_hash, birth_date, invite_code)
         values ($1, 'x', '2000-01-01', $1) returning id",
    )
    .bind(email)
    .fetch_one(db)
    .await
    .expect("user")
}

async fn event(db: &PgPool, name: &str, created: i64, deleted: bool, claims_total: i32) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation,
                             claims_total, created_at, deleted_at)
         values ($1, 'default', $2, $2, '2026-01-01', '2027-01-01', 'Active', 1, $3, $4,
                 case when $5 then $4 + interval '1 minute' end)",
    )
    .bind(id)
    .bind(name)
    .bind(claims_total)
    .bind(at(created))
    .bind(deleted)
    .execute(db)
    .await
    .expect("event row");
    id
}

async fn reward(db: &PgPool, name: &str, event: Uuid, created: i64, deleted: bool, claimed: i32) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, claimed, generation,
                              created_at, deleted_at)
         values ($1, $2, 'default', $3, $3, $4, 1, $5, case when $6 then $5 + interval '1 minute' end)",
    )
    .bind(id)
    .bind(event)
    .bind(name)
    .bind(claimed)
    .bind(at(created))
    .bind(deleted)
    .execute(db)
    .await
    .expect("reward row");
    id
}

/// A successful claim; returns its id.
async fn grant(db: &PgPool, user: Uuid, reward: Uuid, event: Uuid, rank: i32, minute: i64) -> Uuid {
    sqlx::query_scalar(
        "insert into claims (user_id, reward_id, event_id, status, slot, reward_rank, created_at)
         values ($1, $2, $3, 'success', 1, $4, $5) returning id",
    )
    .bind(user)
    .bind(reward)
    .bind(event)
    .bind(rank)
    .bind(at(minute))
    .fetch_one(db)
    .await
    .expect("grant")
}

/// A counted refusal in the hour starting at minute 0.
async fn refusal(db: &PgPool, user: Uuid, reward: Uuid, attempts: i32, minute: i64) -> Uuid {
    sqlx::query_scalar(
        "insert into claims (user_id, reward_id, status, reason, refused_in, attempts, created_at)
         values ($1, $2, 'failed', 'SOLD_OUT', $3, $4, $5) returning id",
    )
    .bind(user)
    .bind(reward)
    .bind(at(0))
    .bind(attempts)
    .bind(at(minute))
    .fetch_one(db)
    .await
    .expect("refusal")
}

/// `(reward_id, event_id, slot, reward_rank, refused_in is set)` of a claim.
async fn claim(db: &PgPool, id: Uuid) -> (Uuid, Option<Uuid>, i32, Option<i32>, bool) {
    sqlx::query_as(
        "select reward_id, event_id, slot, reward_rank, refused_in is not null from claims where id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await
    .expect("the claim is kept")
}

#[tokio::test]
async fn incarnations_of_one_name_merge_and_keep_every_claim() {
    let db = database_at_0021().await;
    let (u1, u2) = (
        user(&db, "u1@example.com").await,
        user(&db, "u2@example.com").await,
    );
    // Event `week`: an old incarnation (deleted) and the live one.
    let week_old = event(&db, "week", 0, true, 3).await;
    let week = event(&db, "week", 100, false, 1).await;
    let solo = event(&db, "solo", 0, false, 0).await;
    // Reward `gold` under each incarnation; `silver` only under the old one;
    // `bronze` twice, both deleted (the newest survives).
    let gold_old = reward(&db, "gold", week_old, 1, true, 2).await;
    let gold = reward(&db, "gold", week, 101, false, 1).await;
    let silver = reward(&db, "silver", week_old, 1, true, 1).await;
    let bronze_old = reward(&db, "bronze", solo, 1, true, 0).await;
    let bronze = reward(&db, "bronze", solo, 50, true, 0).await;

    let u1_old = grant(&db, u1, gold_old, week_old, 1, 10).await;
    let u2_old = grant(&db, u2, gold_old, week_old, 1, 11).await;
    let u2_silver = grant(&db, u2, silver, week_old, 2, 12).await;
    // The double pay the old uid-keyed rows allowed: u1 took gold again.
    let u1_new = grant(&db, u1, gold, week, 1, 110).await;
    let refused_old = refusal(&db, u1, gold_old, 3, 20).await;
    let refused_new = refusal(&db, u1, gold, 2, 30).await;

    liveops_domain::MIGRATOR.run(&db).await.expect("migrate 0022");

    let events: Vec<(Uuid, String, i32)> =
        sqlx::query_as("select id, name, claims_total from events order by name")
            .fetch_all(&db)
            .await
            .expect("events");
    assert_eq!(events, vec![(solo, "solo".into(), 0), (week, "week".into(), 4)]);
    let rewards: Vec<(Uuid, String, Uuid, i32)> =
        sqlx::query_as("select id, name, event_id, claimed from rewards order by name")
            .fetch_all(&db)
            .await
            .expect("rewards");
    assert_eq!(
        rewards,
        vec![
            (bronze, "bronze".into(), solo, 0),
            (gold, "gold".into(), week, 3),
            (silver, "silver".into(), week, 1),
        ]
    );
    let merged: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select merged_id, survivor_id from definition_merges order by kind, merged_id")
            .fetch_all(&db)
            .await
            .expect("definition_merges");
    assert_eq!(merged.len(), 3, "{merged:?}");
    assert!(merged.contains(&(week_old, week)) && merged.contains(&(gold_old, gold)));
    assert!(merged.contains(&(bronze_old, bronze)));

    // u1's two grants of gold stay, as slots 1 and 2 of the one reward; only
    // the first counts as a distinct reward of the event.
    assert_eq!(claim(&db, u1_old).await, (gold, Some(week), 1, Some(1), false));
    assert_eq!(claim(&db, u1_new).await, (gold, Some(week), 2, None, false));
    assert_eq!(claim(&db, u2_old).await, (gold, Some(week), 1, Some(1), false));
    assert_eq!(
        claim(&db, u2_silver).await,
        (silver, Some(week), 1, Some(2), false)
    );
    // Both refusal rows stay; only the live incarnation's keeps its hour.
    assert_eq!(claim(&db, refused_new).await, (gold, None, 1, None, true));
    assert_eq!(claim(&db, refused_old).await, (gold, None, 1, None, false));
    let claims: i64 = sqlx::query_scalar("select count(*) from claims")
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(claims, 6, "no claim row is lost");

    // One row per namespace/name from now on, deleted or not.
    let duplicate = sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation,
                             deleted_at)
         values (gen_random_uuid(), 'default', 'week', 'w', '2026-01-01', '2027-01-01', 'Active', 1, now())",
    )
    .execute(&db)
    .await
    .expect_err("a second row for default/week");
    let constraint = duplicate
        .as_database_error()
        .and_then(|e| e.constraint().map(str::to_owned));
    assert_eq!(constraint.as_deref(), Some("events_namespace_name_key"));
}
