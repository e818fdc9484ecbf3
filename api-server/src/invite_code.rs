//! Invite codes: short, unambiguous, random; what invitees type at signup.

use rand::Rng;

/// Letters and digits without look-alikes (0/O, 1/I/L).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 31^8 ~ 8.5e11 codes: collisions are rare and retried at insert.
pub const INVITE_CODE_LEN: usize = 8;

/// A fresh random code.
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..INVITE_CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A typed code as stored: trimmed and upper-cased.
pub fn normalise(typed: &str) -> String {
    typed.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::{ALPHABET, INVITE_CODE_LEN, generate, normalise};

    #[test]
    fn generated_codes_use_only_the_unambiguous_alphabet() {
        for _ in 0..100 {
            let code = generate();
            assert_eq!(code.len(), INVITE_CODE_LEN);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
        }
    }

    #[test]
    fn typed_codes_are_trimmed_and_upper_cased() {
        assert_eq!(normalise(" abc23xyz "), "ABC23XYZ");
    }
}
