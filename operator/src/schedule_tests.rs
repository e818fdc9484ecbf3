//! Exhaustive tests of [`super::schedule_at`]: boundaries, suspend, invalid
//! specs, time zones and DST days.

use chrono::{DateTime, Duration, Utc};
use liveops_domain::{
    ConditionSpec,
    condition::{DaysCondition, ReferralsCondition},
    crd::{ClaimPolicy, EventPhase, EventSpec},
};

use super::*;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

fn spec(starts: &str, ends: &str) -> EventSpec {
    EventSpec {
        display_name: "Test".into(),
        description: String::new(),
        starts_at: at(starts),
        ends_at: at(ends),
        announce_at: None,
        claim_until: None,
        time_zone: "UTC".into(),
        condition: None,
        claim_policy: ClaimPolicy::default(),
        suspend: false,
        max_claims: None,
    }
}

fn streak(mut spec: EventSpec, zone: &str, days: i32) -> EventSpec {
    spec.time_zone = zone.into();
    spec.condition = Some(ConditionSpec {
        login_streak: Some(DaysCondition { days }),
        ..ConditionSpec::default()
    });
    spec
}

const START: &str = "2026-03-01T00:00:00Z";
const END: &str = "2026-03-08T00:00:00Z";

#[test]
fn before_start_is_scheduled_until_start() {
    let s = schedule_at(&spec(START, END), at(START) - Duration::nanoseconds(1));
    assert_eq!(s.phase, EventPhase::Scheduled);
    assert_eq!(s.next_transition_at, Some(at(START)));
}

#[test]
fn exactly_at_start_is_active_until_end() {
    let s = schedule_at(&spec(START, END), at(START));
    assert_eq!(s.phase, EventPhase::Active);
    assert_eq!(s.next_transition_at, Some(at(END)));
}

#[test]
fn just_before_end_is_still_active() {
    let s = schedule_at(&spec(START, END), at(END) - Duration::nanoseconds(1));
    assert_eq!(s.phase, EventPhase::Active);
}

#[test]
fn exactly_at_end_is_ended_with_nothing_ahead() {
    let s = schedule_at(&spec(START, END), at(END));
    assert_eq!((s.phase, s.next_transition_at), (EventPhase::Ended, None));
    let later = schedule_at(&spec(START, END), at("2030-01-01T00:00:00Z"));
    assert_eq!(later.phase, EventPhase::Ended);
}

#[test]
fn offsets_in_the_spec_are_instants() {
    // 09:00 in Seoul is midnight UTC: the same instant, so Active.
    let s = schedule_at(
        &spec("2026-03-01T09:00:00+09:00", "2026-03-02T09:00:00+09:00"),
        at("2026-03-01T00:00:00Z"),
    );
    assert_eq!(s.phase, EventPhase::Active);
}

#[test]
fn suspend_pauses_scheduled_and_active_but_not_ended() {
    let mut suspended = spec(START, END);
    suspended.suspend = true;
    for now in [
        at(START) - Duration::hours(1),
        at(START),
        at(END) - Duration::seconds(1),
    ] {
        let s = schedule_at(&suspended, now);
        assert_eq!(s.phase, EventPhase::Suspended, "at {now}");
        assert_eq!(s.next_transition_at, Some(at(END)));
    }
    assert_eq!(schedule_at(&suspended, at(END)).phase, EventPhase::Ended);
}

#[test]
fn an_empty_or_reversed_window_is_invalid() {
    for (starts, ends) in [(START, START), (END, START)] {
        let s = schedule_at(&spec(starts, ends), at(START));
        assert_eq!(s.phase, EventPhase::Invalid);
        assert_eq!(s.next_transition_at, None);
        assert_eq!(s.problems[0].field, "spec.endsAt");
    }
}

#[test]
fn an_unknown_time_zone_is_invalid() {
    let mut bad = spec(START, END);
    bad.time_zone = "Mars/Olympus_Mons".into();
    let s = schedule_at(&bad, at(START));
    assert_eq!(s.phase, EventPhase::Invalid);
    assert_eq!(s.problems[0].field, "spec.timeZone");
}

#[test]
fn several_condition_kinds_or_zero_counts_are_invalid() {
    let mut two = spec(START, END);
    two.condition = Some(ConditionSpec {
        login_days: Some(DaysCondition { days: 2 }),
        referrals: Some(ReferralsCondition {
            count: 1,
            verified_only: false,
        }),
        ..ConditionSpec::default()
    });
    assert_eq!(schedule_at(&two, at(START)).problems[0].field, "spec.condition");
    let zero = streak(spec(START, END), "UTC", 0);
    assert_eq!(
        schedule_at(&zero, at(START)).problems[0].field,
        "spec.condition.loginStreak.days"
    );
}

#[test]
fn a_streak_as_long_as_the_window_fits_and_one_more_day_does_not() {
    assert_eq!(
        schedule_at(&streak(spec(START, END), "UTC", 7), at(START)).phase,
        EventPhase::Active
    );
    let s = schedule_at(&streak(spec(START, END), "UTC", 8), at(START));
    assert_eq!(s.phase, EventPhase::Invalid);
    assert_eq!(s.problems[0].field, "spec.condition.loginStreak.days");
}

#[test]
fn login_days_follow_the_same_window_rule() {
    let mut days = spec(START, END);
    days.condition = Some(ConditionSpec {
        login_days: Some(DaysCondition { days: 8 }),
        ..ConditionSpec::default()
    });
    assert_eq!(
        schedule_at(&days, at(START)).problems[0].field,
        "spec.condition.loginDays.days"
    );
}

#[test]
fn days_are_counted_in_the_event_time_zone() {
    // 2026-03-01T00:00Z to 03-03T00:00Z: two UTC days, but in Seoul (UTC+9)
    // it runs from 09:00 on the 1st to 09:00 on the 3rd: three local days.
    let window = spec(START, "2026-03-03T00:00:00Z");
    assert_eq!(
        schedule_at(&streak(window.clone(), "UTC", 3), at(START)).phase,
        EventPhase::Invalid
    );
    assert_eq!(
        schedule_at(&streak(window, "Asia/Seoul", 3), at(START)).phase,
        EventPhase::Active
    );
}

#[test]
fn a_spring_forward_day_still_counts_as_one_local_day() {
    // New York skips 02:00-03:00 on 2026-03-08: local midnight to midnight
    // over 03-07..03-09 is 47 hours and still two local days.
    let window = spec("2026-03-07T05:00:00Z", "2026-03-09T04:00:00Z");
    assert_eq!(window.ends_at - window.starts_at, Duration::hours(47));
    assert_eq!(
        schedule_at(&streak(window.clone(), "America/New_York", 2), at(START)).phase,
        EventPhase::Scheduled
    );
    assert_eq!(
        schedule_at(&streak(window, "America/New_York", 3), at(START)).phase,
        EventPhase::Invalid
    );
}

#[test]
fn a_fall_back_day_of_25_hours_is_one_local_day() {
    // New York repeats 01:00-02:00 on 2026-11-01: that local day is 25 hours.
    let window = spec("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z");
    assert_eq!(window.ends_at - window.starts_at, Duration::hours(25));
    assert_eq!(
        schedule_at(&streak(window.clone(), "America/New_York", 1), at(START)).phase,
        EventPhase::Scheduled
    );
    assert_eq!(
        schedule_at(&streak(window, "America/New_York", 2), at(START)).phase,
        EventPhase::Invalid
    );
}

#[test]
fn every_instant_around_the_boundaries_has_the_expected_phase() {
    let window = spec(START, END);
    let step = Duration::milliseconds(250);
    let mut now = at(START) - Duration::seconds(2);
    while now < at(END) + Duration::seconds(2) {
        let expected = if now < at(START) {
            EventPhase::Scheduled
        } else if now < at(END) {
            EventPhase::Active
        } else {
            EventPhase::Ended
        };
        let s = schedule_at(&window, now);
        assert_eq!(s.phase, expected, "at {now}");
        if let Some(next) = s.next_transition_at {
            assert!(next > now, "next transition {next} must lie after {now}");
            assert_ne!(
                schedule_at(&window, next).phase,
                expected,
                "phase changes at {next}"
            );
        }
        now += if now > at(START) + Duration::seconds(2) && now < at(END) - Duration::seconds(2) {
            Duration::hours(6)
        } else {
            step
        };
    }
}

#[test]
fn a_grace_window_keeps_claims_open_after_the_end() {
    let mut event = spec(START, END);
    event.claim_until = Some(at("2026-03-09T00:00:00Z"));
    let active = schedule_at(&event, at(START));
    assert_eq!(active.next_transition_at, Some(at(END)));
    assert_eq!(active.wake_at(), Some(at(END)));
    let grace = schedule_at(&event, at(END));
    assert_eq!(grace.phase, EventPhase::Ended);
    assert_eq!(grace.next_transition_at, None);
    assert_eq!(grace.claims_close_at, Some(at("2026-03-09T00:00:00Z")));
    assert_eq!(grace.wake_at(), Some(at("2026-03-09T00:00:00Z")));
    let closed = schedule_at(&event, at("2026-03-09T00:00:00Z"));
    assert_eq!((closed.phase, closed.wake_at()), (EventPhase::Ended, None));
}

#[test]
fn a_grace_window_equal_to_the_end_is_none() {
    let mut event = spec(START, END);
    event.claim_until = Some(at(END));
    assert_eq!(schedule_at(&event, at(START)).claims_close_at, None);
}

#[test]
fn an_inconsistent_window_is_invalid() {
    let mut event = spec(START, END);
    event.announce_at = Some(at(START) + Duration::seconds(1));
    event.claim_until = Some(at(END) - Duration::seconds(1));
    let s = schedule_at(&event, at(START));
    assert_eq!(s.phase, EventPhase::Invalid);
    let fields: Vec<&str> = s.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["spec.announceAt", "spec.claimUntil"]);
}
