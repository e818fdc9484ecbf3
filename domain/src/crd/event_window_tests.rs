//! The window rules (`announceAt`, `claimUntil`, `claimPolicy.resetAt`): the
//! CEL rules and the operator's mirror accept and refuse the same specs.

use chrono::NaiveTime;
use serde_json::json;

use super::cel_tests::{accepted, event, rejected_with, week};
use super::event_window::parse_reset_at;

#[test]
fn announce_at_up_to_starts_at_is_accepted() {
    accepted(&event(week(json!({"announceAt": "2026-02-20T00:00:00Z"})))).expect("accepted");
    accepted(&event(week(json!({"announceAt": "2026-03-01T00:00:00Z"})))).expect("accepted");
    rejected_with(
        &event(week(json!({"announceAt": "2026-03-01T00:00:01Z"}))),
        "announceAt must not be after startsAt",
    );
}

#[test]
fn claim_until_from_ends_at_on_is_accepted() {
    accepted(&event(week(json!({"claimUntil": "2026-03-09T00:00:00Z"})))).expect("accepted");
    accepted(&event(week(json!({"claimUntil": "2026-03-08T00:00:00Z"})))).expect("accepted");
    rejected_with(
        &event(week(json!({"claimUntil": "2026-03-07T23:59:59Z"}))),
        "claimUntil must not be before endsAt",
    );
}

#[test]
fn reset_at_is_a_local_time_for_recurring_periods() {
    let daily = |reset: &str| json!({"claimPolicy": {"frequency": "Daily", "resetAt": reset}});
    accepted(&event(week(daily("05:00")))).expect("accepted");
    accepted(&event(week(daily("23:59")))).expect("accepted");
    accepted(&event(week(
        json!({"claimPolicy": {"frequency": "Weekly", "resetAt": "00:30"}}),
    )))
    .expect("accepted");
    for bad in ["24:00", "5:00", "05:60", "0500", "05:00:00", ""] {
        rejected_with(&event(week(daily(bad))), "resetAt must be a local time HH:MM");
    }
    rejected_with(
        &event(week(json!({"claimPolicy": {"resetAt": "05:00"}}))),
        "resetAt applies to Daily and Weekly claim periods only",
    );
}

#[test]
fn reset_at_parses_to_a_time_of_day() {
    assert_eq!(parse_reset_at("05:30"), NaiveTime::from_hms_opt(5, 30, 0));
    assert_eq!(parse_reset_at("00:00"), Some(NaiveTime::MIN));
    assert_eq!(parse_reset_at("24:00"), None);
    assert_eq!(parse_reset_at("+5:00"), None);
}
