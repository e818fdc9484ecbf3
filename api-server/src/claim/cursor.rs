//! The opaque keyset cursor of claim listings: the position (created_at,
//! id) of the last claim of a page, newest first.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Default page size of claim listings.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size a client may ask for.
pub const MAX_LIMIT: i64 = 100;

/// Where the next page starts: strictly after (older than) this claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the last claim shown.
    pub created_at: DateTime<Utc>,
    /// `id` of the last claim shown (breaks ties in `created_at`).
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text handed to clients as `nextCursor`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.created_at.timestamp_micros(), self.id))
    }

    /// Parses a `cursor` query parameter produced by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, String> {
        let invalid = || "cursor is not one this API returned".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self { created_at, id })
    }
}

/// Checks a `limit` query parameter, applying the default.
pub fn page_limit(requested: Option<i64>) -> Result<i64, String> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(_) => Err(format!("limit must be between 1 and {MAX_LIMIT}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        let cursor = Cursor {
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("valid instant"),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
    }

    #[test]
    fn garbage_cursors_are_refused() {
        assert!(Cursor::decode("not base64!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("12.not-a-uuid")).is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("x.00000000-0000-0000-0000-000000000000")).is_err());
    }

    #[test]
    fn limits_outside_one_to_the_maximum_are_refused() {
        assert_eq!(page_limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(page_limit(Some(100)), Ok(100));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }
}
