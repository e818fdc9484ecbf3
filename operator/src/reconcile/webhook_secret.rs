//! The signing secret of a WebhookEndpoint, taken from the Secret its
//! `spec.secretRef` names (fetched from the API server in a cluster, a
//! `v1 Secret` document in manifests mode) and checked as the relay will
//! use it: `whsec_<base64>` per Standard Webhooks, or a bare value used as
//! raw key bytes.

use base64::{Engine, engine::general_purpose::STANDARD};
use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::SecretKeyRef;

/// Prefix of a secret in the Standard Webhooks format.
const SECRET_PREFIX: &str = "whsec_";

/// What the Secret a WebhookEndpoint names yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningSecret {
    /// The value to store in `webhook_endpoints.secret` (trimmed).
    Usable(String),
    /// No such Secret, or no such key in it (Ready reason `SecretNotFound`).
    NotFound(String),
    /// The key's value cannot sign (Ready reason `SecretInvalid`).
    Invalid(String),
}

/// The signing secret under `reference` in `secret` (`None`: the Secret
/// does not exist). `stringData` wins over `data`, as the API server merges
/// them on write; `namespace` is only for messages.
pub fn signing_secret(secret: Option<&Secret>, reference: &SecretKeyRef, namespace: &str) -> SigningSecret {
    let Some(secret) = secret else {
        return SigningSecret::NotFound(format!("Secret {namespace}/{} does not exist", reference.name));
    };
    let from_string = secret
        .string_data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
        .map(|value| Ok(value.clone()));
    let from_data = || {
        secret
            .data
            .as_ref()
            .and_then(|data| data.get(&reference.key))
            .map(|bytes| String::from_utf8(bytes.0.clone()))
    };
    let value = match from_string.or_else(from_data) {
        Some(Ok(value)) => value,
        Some(Err(_)) => {
            return SigningSecret::Invalid(format!(
                "key {:?} of Secret {namespace}/{} is not UTF-8 text",
                reference.key, reference.name
            ));
        }
        None => {
            return SigningSecret::NotFound(format!(
                "Secret {namespace}/{} has no key {:?}",
                reference.name, reference.key
            ));
        }
    };
    match check(value.trim()) {
        Ok(()) => SigningSecret::Usable(value.trim().to_owned()),
        Err(why) => SigningSecret::Invalid(format!(
            "key {:?} of Secret {namespace}/{}: {why}",
            reference.key, reference.name
        )),
    }
}

/// The relay's rule (relay/src/webhook/signature.rs): a `whsec_` value must
/// be base64, and the key must not be empty.
fn check(value: &str) -> Result<(), &'static str> {
    let empty = match value.strip_prefix(SECRET_PREFIX) {
        Some(encoded) => STANDARD
            .decode(encoded)
            .map_err(|_| "the whsec_ value is not base64")?
            .is_empty(),
        None => value.is_empty(),
    };
    if empty {
        return Err("the signing secret is empty");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    fn reference(key: &str) -> SecretKeyRef {
        SecretKeyRef {
            name: "hook".to_owned(),
            key: key.to_owned(),
        }
    }

    fn secret(data: &[(&str, &[u8])], string_data: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            string_data: Some(
                string_data
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Secret::default()
        }
    }

    #[test]
    fn whsec_and_bare_values_are_usable_and_string_data_wins() {
        let both = secret(&[("secret", b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")], &[]);
        assert_eq!(
            signing_secret(Some(&both), &reference("secret"), "ns"),
            SigningSecret::Usable("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned())
        );
        let bare = secret(&[("secret", b"old")], &[("secret", "plain-key")]);
        assert_eq!(
            signing_secret(Some(&bare), &reference("secret"), "ns"),
            SigningSecret::Usable("plain-key".to_owned())
        );
    }

    #[test]
    fn a_missing_secret_or_key_and_a_bad_value_are_named() {
        assert!(matches!(
            signing_secret(None, &reference("secret"), "ns"),
            SigningSecret::NotFound(message) if message == "Secret ns/hook does not exist"
        ));
        let other = secret(&[("token", b"x")], &[]);
        assert!(matches!(
            signing_secret(Some(&other), &reference("secret"), "ns"),
            SigningSecret::NotFound(message) if message.contains("no key \"secret\"")
        ));
        for bad in [&b"whsec_!!not base64"[..], b"   ", b"\xff\xfe"] {
            let value = secret(&[("secret", bad)], &[]);
            assert!(matches!(
                signing_secret(Some(&value), &reference("secret"), "ns"),
                SigningSecret::Invalid(_)
            ));
        }
    }
}
