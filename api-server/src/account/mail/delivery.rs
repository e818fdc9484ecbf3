//! The delivery worker: takes due mails from the outbox and hands them to
//! the SMTP server (lettre over rustls), or, with `SMTP_URL` unset, writes
//! them to the log at info so a local run needs no mail server.

use std::{sync::Arc, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Body, Mailbox, MultiPart, SinglePart, header::ContentTransferEncoding, header::ContentType},
};
use sqlx::PgPool;
use tokio::sync::Notify;

use super::{
    OutgoingMail,
    outbox::{self, MAX_ATTEMPTS, QueuedMail},
};

/// Longest one SMTP conversation may take; a mail's lease is longer.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// A leased mail is not due again for this long.
const LEASE: Duration = Duration::from_secs(60);
/// Mails taken per round.
const BATCH: i64 = 20;
/// Longest sleep between looks at the outbox: mails queued by other
/// replicas, or retries, are picked up at least this often.
const POLL: Duration = Duration::from_secs(10);

/// Where mails go.
#[derive(Clone)]
pub enum Transport {
    /// `SMTP_URL` unset: each mail is logged at info, link included.
    Log,
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Log => "Transport::Log",
            Self::Smtp(_) => "Transport::Smtp",
        })
    }
}

/// Why a mail was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The mail cannot be built (a recipient lettre will not address).
    #[error("cannot build the message: {0}")]
    Message(String),
    /// The SMTP conversation failed.
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl DeliveryError {
    /// Whether trying again cannot help (a 5xx answer, a bad address).
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Message(_) => true,
            Self::Smtp(error) => error.is_permanent(),
        }
    }
}

/// The transport and the From address of account mail.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// From `SMTP_URL` (none: log) and `MAIL_FROM`; refuses a URL or an
    /// address that cannot work, so a typo stops the start-up, not the mail.
    pub fn new(smtp_url: Option<&str>, mail_from: &str) -> anyhow::Result<Self> {
        let from = mail_from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM {mail_from:?} is not a mail address: {e}"))?;
        let transport = match smtp_url {
            None => Transport::Log,
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        };
        Ok(Self { transport, from })
    }

    /// Sends one mail now.
    pub async fn send(&self, recipient: &str, mail: &OutgoingMail) -> Result<(), DeliveryError> {
        match &self.transport {
            Transport::Log => {
                tracing::info!(to = %recipient, subject = %mail.subject, text = %mail.text,
                    "mail written to the log instead of sent (SMTP_URL is not set)");
                Ok(())
            }
            Transport::Smtp(smtp) => {
                smtp.send(self.message(recipient, mail)?).await?;
                Ok(())
            }
        }
    }

    fn message(&self, recipient: &str, mail: &OutgoingMail) -> Result<Message, DeliveryError> {
        let to = recipient
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError::Message(e.to_string()))?;
        // Quoted-printable keeps long link lines intact in every client.
        let part = |content_type: ContentType, text: &str| {
            Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable)
                .map(|body| SinglePart::builder().header(content_type).body(body))
                .map_err(|_| DeliveryError::Message("body cannot be quoted-printable".to_owned()))
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, &mail.text)?)
                    .singlepart(part(ContentType::TEXT_HTML, &mail.html)?),
            )
            .map_err(|e| DeliveryError::Message(e.to_string()))
    }
}

/// Delivers queued mail until the task is aborted: whenever woken, and at
/// least every [`POLL`].
pub async fn run(db: PgPool, mailer: Mailer, wakeup: Arc<Notify>) {
    loop {
        let pause = match deliver_due(&db, &mailer).await {
            Ok(()) => match outbox::seconds_until_next_due(&db).await {
                Ok(Some(seconds)) => Duration::try_from_secs_f64(seconds.max(0.0))
                    .unwrap_or(POLL)
                    .min(POLL),
                Ok(None) => POLL,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the mail outbox");
                    POLL
                }
            },
            Err(error) => {
                tracing::warn!(%error, "cannot take mail from the outbox; retrying");
                POLL
            }
        };
        // A wake-up that arrived while sending is kept by Notify, so a
        // mail queued meanwhile is not left waiting for the poll.
        let _ = tokio::time::timeout(pause, wakeup.notified()).await;
    }
}

/// Sends every mail that is due now, a batch at a time.
async fn deliver_due(db: &PgPool, mailer: &Mailer) -> sqlx::Result<()> {
    loop {
        let due = outbox::take_due(db, BATCH, LEASE).await?;
        if due.is_empty() {
            return Ok(());
        }
        for queued in due {
            deliver_one(db, mailer, queued).await?;
        }
    }
}

async fn deliver_one(db: &PgPool, mailer: &Mailer, queued: QueuedMail) -> sqlx::Result<()> {
    match mailer.send(&queued.recipient, &queued.mail).await {
        Ok(()) => {
            tracing::info!(mail_id = queued.id, attempts = queued.attempts, "mail delivered");
            outbox::remove(db, queued.id).await
        }
        Err(error) if error.is_permanent() || queued.attempts >= MAX_ATTEMPTS => {
            tracing::error!(mail_id = queued.id, attempts = queued.attempts, %error, "mail given up");
            outbox::remove(db, queued.id).await
        }
        Err(error) => {
            let next = outbox::backoff(queued.attempts);
            tracing::warn!(mail_id = queued.id, attempts = queued.attempts, %error, retry_in = ?next,
                "mail not delivered; will retry");
            outbox::retry_later(db, queued.id, queued.attempts, &error.to_string()).await
        }
    }
}
