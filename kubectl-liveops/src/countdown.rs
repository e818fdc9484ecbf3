//! Human-readable countdowns to an event's next transition: `starts in
//! 2h13m`, `ends in 3d4h`, `ended 3d ago`.

use chrono::{DateTime, TimeDelta, Utc};

/// Where `now` stands relative to the window `[starts_at, ends_at)`.
pub fn countdown(now: DateTime<Utc>, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    if now < starts_at {
        format!("starts in {}", span(starts_at - now))
    } else if now < ends_at {
        format!("ends in {}", span(ends_at - now))
    } else {
        format!("ended {} ago", span(now - ends_at))
    }
}

/// The two largest units of a non-negative span (`3d4h`, `2h13m`, `45s`),
/// a zero second unit left out (`3d`).
pub fn span(delta: TimeDelta) -> String {
    let seconds = delta.num_seconds().max(0);
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let Some(first) = units.iter().position(|(_, size)| seconds >= *size) else {
        return "0s".to_owned();
    };
    let (name, size) = units[first];
    let mut text = format!("{}{name}", seconds / size);
    if let Some((next_name, next_size)) = units.get(first + 1) {
        let rest = seconds % size / next_size;
        if rest > 0 {
            text.push_str(&format!("{rest}{next_name}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339")
    }

    #[test]
    fn spans_read_as_their_two_largest_units() {
        assert_eq!(span(TimeDelta::seconds(2 * 3600 + 13 * 60 + 5)), "2h13m");
        assert_eq!(span(TimeDelta::days(3)), "3d");
        assert_eq!(span(TimeDelta::seconds(45)), "45s");
        assert_eq!(span(TimeDelta::seconds(-5)), "0s");
        assert_eq!(span(TimeDelta::seconds(86_400 + 60)), "1d");
    }

    #[test]
    fn the_countdown_names_the_next_boundary() {
        let (start, end) = (at("2026-03-01T00:00:00Z"), at("2026-03-08T00:00:00Z"));
        assert_eq!(
            countdown(at("2026-02-28T21:47:00Z"), start, end),
            "starts in 2h13m"
        );
        assert_eq!(countdown(start, start, end), "ends in 7d");
        assert_eq!(countdown(at("2026-03-11T00:00:00Z"), start, end), "ended 3d ago");
        assert_eq!(countdown(end, start, end), "ended 0s ago");
    }
}
