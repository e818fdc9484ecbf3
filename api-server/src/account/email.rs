//! Email addresses, validated and normalised at the boundary.

/// A syntactically plausible email address, trimmed and lower-cased.
/// Deliverability is not checked: that takes sending a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEmail(&'static str);

/// RFC 5321's limit on a forward path.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Email {
    /// Validates and normalises: one `@`, a local part of printable ASCII
    /// without spaces, a dotted domain of letters, digits and hyphens.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(InvalidEmail("email is required"));
        }
        if email.len() > MAX_LEN {
            return Err(InvalidEmail("email is longer than 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(InvalidEmail("email must contain @"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= MAX_LOCAL_LEN
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"@\"(),:;<>[\\]".contains(&b));
        if !local_ok {
            return Err(InvalidEmail("the part of the email before @ is not valid"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !domain_ok {
            return Err(InvalidEmail("the domain of the email is not valid"));
        }
        Ok(Self(email))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn normalises_case_and_surrounding_space() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").map(|e| e.as_ref().to_owned()),
            Ok("alice@example.com".into())
        );
    }

    #[test]
    fn accepts_plus_addressing_and_subdomains() {
        assert!(Email::parse("a.b+tag@mail.example.co.kr").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
            ".a@b.com",
            "a..b@c.com",
            "a@b_c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "x".repeat(65))).is_err());
    }
}
