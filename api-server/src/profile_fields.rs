//! The rules for profile fields (PATCH /auth/profile): what a nickname, a
//! bio and a profile image URL may be. The `profileComplete` condition
//! counts a field as set when it is non-null.

/// A field value the rules refuse; the text says which rule, for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidField(pub String);

/// Longest nickname, in characters.
pub const MAX_NICKNAME_CHARS: usize = 30;
/// Longest bio, in characters.
pub const MAX_BIO_CHARS: usize = 500;
/// Longest profile image URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// A nickname as stored: trimmed, not blank, at most 30 characters, no
/// control characters.
pub fn check_nickname(text: &str) -> Result<String, InvalidField> {
    let nickname = text.trim();
    if nickname.is_empty() {
        return Err(InvalidField("nickname must not be blank".into()));
    }
    if nickname.chars().count() > MAX_NICKNAME_CHARS {
        return Err(InvalidField(format!(
            "nickname must be at most {MAX_NICKNAME_CHARS} characters"
        )));
    }
    if nickname.chars().any(char::is_control) {
        return Err(InvalidField(
            "nickname must not contain control characters".into(),
        ));
    }
    Ok(nickname.to_owned())
}

/// A bio as stored: trimmed, at most 500 characters; blank clears it (`None`).
pub fn check_bio(text: &str) -> Result<Option<String>, InvalidField> {
    let bio = text.trim();
    // PostgreSQL text cannot hold NUL; other control characters (newlines) stay.
    if bio.contains('\0') {
        return Err(InvalidField("bio must not contain NUL characters".into()));
    }
    if bio.chars().count() > MAX_BIO_CHARS {
        return Err(InvalidField(format!(
            "bio must be at most {MAX_BIO_CHARS} characters"
        )));
    }
    Ok((!bio.is_empty()).then(|| bio.to_owned()))
}

/// A profile image URL: absolute, http or https, with a host, at most 2 KiB.
pub fn check_image_url(text: &str) -> Result<String, InvalidField> {
    let text = text.trim();
    let invalid = || InvalidField("profileImageUrl must be an absolute http or https URL".into());
    if text.len() > MAX_URL_LEN {
        return Err(InvalidField(format!(
            "profileImageUrl must be at most {MAX_URL_LEN} bytes"
        )));
    }
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::{check_bio, check_image_url, check_nickname};

    #[test]
    fn nicknames_are_trimmed_and_must_not_be_blank() {
        assert_eq!(check_nickname("  neo  ").ok().as_deref(), Some("neo"));
        assert!(check_nickname("   ").is_err());
        assert!(check_nickname(&"가".repeat(31)).is_err());
        assert!(check_nickname("a\u{7}b").is_err());
    }

    #[test]
    fn a_blank_bio_clears_it_and_a_long_one_is_refused() {
        assert_eq!(check_bio("  ").ok(), Some(None));
        assert!(check_bio(&"x".repeat(501)).is_err());
        assert!(check_bio("line one\nline two").is_ok());
        assert!(check_bio("nul\0inside").is_err());
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(check_image_url("https://cdn.example.com/a.png").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.com/a",
            "/relative.png",
            "not a url",
            "https://",
        ] {
            assert!(check_image_url(bad).is_err(), "{bad}");
        }
    }
}
