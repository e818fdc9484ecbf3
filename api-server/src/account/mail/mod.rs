//! Account mail (DESIGN.md, "Accounts"): rendered here, queued in
//! `mail_outbox` in the transaction that issues its token, and delivered by
//! a background worker, so a slow or absent mail server never slows the
//! request that asked for the mail.

pub mod delivery;
pub mod outbox;
pub mod template;

use std::sync::Arc;

use sqlx::PgConnection;
use tokio::sync::Notify;
use url::Url;

/// A rendered mail: subject, plain text and HTML alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The Subject line.
    pub subject: String,
    /// The text/plain body.
    pub text: String,
    /// The text/html body.
    pub html: String,
}

/// Where handlers put mail: links are built from `PUBLIC_URL`, rows go into
/// the outbox of the caller's transaction, and [`MailQueue::wake`] tells
/// this replica's worker to look at once after that transaction commits.
#[derive(Debug, Clone)]
pub struct MailQueue {
    public_url: Url,
    wakeup: Arc<Notify>,
}

impl MailQueue {
    /// A queue whose links start with `public_url`.
    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            wakeup: Arc::new(Notify::new()),
        }
    }

    /// `{PUBLIC_URL}{path}?token={token}`; a path prefix in PUBLIC_URL (an
    /// API served under `/liveops`) is kept.
    pub fn link(&self, path: &str, token: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}?token={token}")
    }

    /// Queues `mail` for `recipient` inside the caller's transaction: it is
    /// sent only if that transaction commits.
    pub async fn enqueue(
        &self,
        conn: &mut PgConnection,
        recipient: &str,
        mail: &OutgoingMail,
    ) -> sqlx::Result<()> {
        outbox::enqueue(conn, recipient, mail).await
    }

    /// Wakes this replica's delivery worker (call after the commit).
    pub fn wake(&self) {
        self.wakeup.notify_one();
    }

    /// What the worker waits on.
    pub fn wakeup(&self) -> Arc<Notify> {
        self.wakeup.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::MailQueue;

    #[test]
    fn links_join_the_public_url_and_keep_its_path() {
        let queue = MailQueue::new("https://api.example.com".parse().expect("url"));
        assert_eq!(
            queue.link("/auth/verify-email", "abc"),
            "https://api.example.com/auth/verify-email?token=abc"
        );
        let prefixed = MailQueue::new("https://example.com/liveops/".parse().expect("url"));
        assert_eq!(
            prefixed.link("/auth/password/reset", "t"),
            "https://example.com/liveops/auth/password/reset?token=t"
        );
    }
}
