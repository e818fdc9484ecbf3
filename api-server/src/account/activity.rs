//! Days of use (DESIGN.md, "Condition kinds": `loginStreak`, `loginDays`).
//!
//! A day of use is a local day with a password login or a session refresh.
//! Every login is recorded in `user_logins`; a refresh is recorded only
//! when the user has nothing recorded yet today, "today" taken in UTC and
//! in the time zone of every event now running, so each such event sees
//! the day. A client that keeps its session alive by refreshing every 15
//! minutes thus writes a handful of rows a day, not ninety-six.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use uuid::Uuid;

/// Records a day of use for a refresh by `user_id`, unless one is recorded
/// already for today in every zone that matters. Returns whether a row was
/// written.
pub async fn record_refresh(db: &PgPool, user_id: Uuid) -> sqlx::Result<bool> {
    let zones = sqlx::query_scalar!(
        "select distinct time_zone from events
         where deleted_at is null and starts_at <= now() and ends_at > now()"
    )
    .fetch_all(db)
    .await?;
    let since = latest_local_midnight(Utc::now(), zones.iter().map(String::as_str));
    let inserted = sqlx::query!(
        "insert into user_logins (user_id, via_refresh)
         select $1, true
         where not exists (select 1 from user_logins where user_id = $1 and logged_in_at >= $2)",
        user_id,
        since,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The latest of the starts of the current local day in UTC and in each of
/// `zones` (names that are not IANA zones are skipped: the operator marks
/// such events Invalid). A record at or after it falls on today in all.
pub fn latest_local_midnight<'a>(
    now: DateTime<Utc>,
    zones: impl IntoIterator<Item = &'a str>,
) -> DateTime<Utc> {
    zones
        .into_iter()
        .filter_map(|name| name.parse::<Tz>().ok())
        .filter_map(|zone| {
            let local_day = now.with_timezone(&zone).date_naive();
            // The first instant of the day: midnight, or the first valid
            // time after a gap when a DST change skips midnight.
            zone.from_local_datetime(&local_day.and_time(NaiveTime::MIN))
                .earliest()
                .or_else(|| {
                    let one_am = NaiveTime::from_hms_opt(1, 0, 0)?;
                    zone.from_local_datetime(&local_day.and_time(one_am)).earliest()
                })
                .map(|start| start.with_timezone(&Utc))
        })
        .fold(utc_midnight(now), DateTime::max)
}

fn utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::latest_local_midnight;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339")
    }

    #[test]
    fn without_events_the_day_is_the_utc_day() {
        assert_eq!(
            latest_local_midnight(at("2025-03-10T15:00:00Z"), []),
            at("2025-03-10T00:00:00Z")
        );
    }

    #[test]
    fn a_zone_whose_day_began_later_than_utcs_sets_the_bar() {
        // 15:00 UTC is 00:00 on the 11th in Seoul: a new Seoul day.
        let now = at("2025-03-10T15:30:00Z");
        assert_eq!(
            latest_local_midnight(now, ["Asia/Seoul", "UTC"]),
            at("2025-03-10T15:00:00Z")
        );
        // In New York (UTC-4 in March) the day began at 04:00 UTC.
        assert_eq!(
            latest_local_midnight(now, ["America/New_York"]),
            at("2025-03-10T04:00:00Z")
        );
    }

    #[test]
    fn unknown_zone_names_are_ignored() {
        let now = at("2025-03-10T15:30:00Z");
        assert_eq!(
            latest_local_midnight(now, ["Mars/Olympus"]),
            at("2025-03-10T00:00:00Z")
        );
    }
}
