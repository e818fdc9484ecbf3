//! One delivery attempt: vet the target, sign, POST the CloudEvent and
//! read the answer (Standard Webhooks: 2xx delivered, 410 Gone disables the
//! endpoint, anything else is retried, `Retry-After` included).

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use reqwest::{
    Client, StatusCode, Url,
    header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER},
    redirect::Policy,
    tls::Version,
};

use super::{signature::SigningKey, ssrf};
use crate::cloudevent::STRUCTURED_CONTENT_TYPE;

/// What the receiver (or the guard) made of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx: delivered.
    Delivered(u16),
    /// 410 Gone: the receiver asks never to be called again.
    Gone,
    /// The SSRF guard refused the target; no request was made.
    Refused(String),
    /// No answer, or one to retry; `retry_after` when the receiver said when.
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// The two HTTP clients: one whose resolver refuses private addresses,
/// for every endpoint but those with `allow_private`. Neither follows
/// redirects (a 3xx could point anywhere, the guard included) nor reads
/// proxy variables.
#[derive(Debug, Clone)]
pub struct Clients {
    guarded: Client,
    open: Client,
}

impl Clients {
    /// Clients giving each request at most `timeout`, connection included.
    pub fn new(timeout: Duration) -> reqwest::Result<Self> {
        let builder = || {
            Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .redirect(Policy::none())
                .no_proxy()
                .min_tls_version(Version::TLS_1_2)
                .user_agent(concat!("liveops-relay/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Self {
            guarded: builder().dns_resolver(ssrf::GuardedResolver::shared()).build()?,
            open: builder().build()?,
        })
    }
}

/// POSTs `payload` to `url` once, signed with `key` under `message_id`.
pub async fn send(
    clients: &Clients,
    url: &str,
    allow_private: bool,
    key: &SigningKey,
    message_id: &str,
    payload: &serde_json::Value,
) -> Answer {
    let url = match Url::parse(url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        Ok(url) => return Answer::Refused(format!("scheme {} is not http or https", url.scheme())),
        Err(error) => return Answer::Refused(format!("invalid URL: {error}")),
    };
    if !allow_private && let Err(why) = vet_target(&url).await {
        return Answer::Refused(why);
    }
    let body = serde_json::to_vec(payload).unwrap_or_default();
    let timestamp = Utc::now().timestamp();
    let client = if allow_private {
        &clients.open
    } else {
        &clients.guarded
    };
    let sent = client
        .post(url)
        .header(CONTENT_TYPE, STRUCTURED_CONTENT_TYPE)
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", key.sign(message_id, timestamp, &body))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => classify(response.status(), response.headers(), Utc::now()),
        Err(error) => Answer::Failed {
            status: None,
            error: error_chain(&error),
            retry_after: None,
        },
    }
}

/// Refuses an address literal or a name pointing inside the cluster or
/// the host (the guarded resolver checks again at connection time).
async fn vet_target(url: &Url) -> Result<(), String> {
    let refused = |target: &str, why: &str| Err(format!("{target} is {why}; set allowPrivate to allow it"));
    let host = url.host_str().ok_or_else(|| "the URL has no host".to_owned())?;
    // The URL parser has already normalised literals (`0x7f.1` is 127.0.0.1).
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return ssrf::forbidden_ip(ip).map_or(Ok(()), |why| refused(bare, why));
    }
    if let Some(why) = ssrf::internal_name(host) {
        return refused(host, why);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    ssrf::resolve_allowed(host, port)
        .await
        .map(|_| ())
        .map_err(|why| format!("{why}; set allowPrivate to allow it"))
}

/// The answer a status and its headers amount to.
pub fn classify(status: StatusCode, headers: &HeaderMap, now: DateTime<Utc>) -> Answer {
    if status.is_success() {
        Answer::Delivered(status.as_u16())
    } else if status == StatusCode::GONE {
        Answer::Gone
    } else {
        Answer::Failed {
            status: Some(status.as_u16()),
            error: format!("the receiver answered {status}"),
            retry_after: retry_after(headers, now),
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date, from `now`.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

/// The error and its sources on one line: reqwest's own message is often
/// just "error sending request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use reqwest::{StatusCode, header::HeaderMap};

    use super::{Answer, classify, retry_after};

    fn headers(retry: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("retry-after", retry.parse().expect("header"));
        map
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
        assert_eq!(retry_after(&headers("120"), now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after(&headers("Thu, 01 Jan 2026 00:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses_map_to_delivered_gone_or_retried() {
        let now = Utc::now();
        assert_eq!(
            classify(StatusCode::NO_CONTENT, &HeaderMap::new(), now),
            Answer::Delivered(204)
        );
        assert_eq!(classify(StatusCode::GONE, &HeaderMap::new(), now), Answer::Gone);
        let Answer::Failed {
            status, retry_after, ..
        } = classify(StatusCode::TOO_MANY_REQUESTS, &headers("7"), now)
        else {
            panic!("429 is retried");
        };
        assert_eq!((status, retry_after), (Some(429), Some(Duration::from_secs(7))));
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, &HeaderMap::new(), now),
            Answer::Failed { .. }
        ));
    }
}
