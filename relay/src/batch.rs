//! One batch's way through the relay: encoded (a malformed row goes
//! straight to the dead letters), sent to the broker, its answers awaited
//! and recorded (marked, or refusals counted and dead-lettered after
//! RELAY_MAX_ATTEMPTS). The leader sends the next batch before it awaits
//! and records this one, so the broker always has work and the database
//! works at the same time.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    Result,
    backoff::delay_after,
    cloudevent::{self, Malformed, Outbound},
    metrics::{Metrics, TypeLabels, type_label},
    outbox::{self, OutboxRow},
    publisher::{INITIAL_ROW_RETRY, RelaySettings, bounded},
    transport::{Acks, AnyTransport, Delivery, Transport, TransportError},
};

/// Rows encoded for the broker, each with its message.
#[derive(Debug, Default)]
pub struct Encoded {
    rows: Vec<OutboxRow>,
    messages: Vec<Outbound>,
}

/// A batch with the broker: sent, its acknowledgements to come.
pub struct Sent {
    encoded: Encoded,
    acks: Acks,
}

impl Sent {
    /// Ids of its rows: sent, not marked yet, so not to be fetched again.
    pub fn ids(&self) -> Vec<i64> {
        self.encoded.rows.iter().map(|row| row.id).collect()
    }
}

/// A batch the broker answered, not yet recorded in the outbox.
#[derive(Debug)]
pub struct Answered {
    encoded: Encoded,
    deliveries: Vec<Delivery>,
    acked_at: DateTime<Utc>,
}

/// Encodes `rows`; also returns the rows no broker could ever take.
pub fn encode(rows: Vec<OutboxRow>, settings: &RelaySettings) -> (Encoded, Vec<(i64, Malformed)>) {
    let mut encoded = Encoded::default();
    let mut malformed = Vec::new();
    for row in rows {
        match cloudevent::encode(
            &row,
            &settings.transport.subject_prefix,
            settings.transport.ce_mode,
        ) {
            Ok(message) => {
                encoded.rows.push(row);
                encoded.messages.push(message);
            }
            Err(error) => malformed.push((row.id, error)),
        }
    }
    (encoded, malformed)
}

/// Moves the `malformed` rows to the dead letters.
pub async fn dead_letter_malformed(
    conn: &mut PgConnection,
    malformed: Vec<(i64, Malformed)>,
    settings: &RelaySettings,
    metrics: &Metrics,
) -> Result<()> {
    for (id, error) in malformed {
        metrics.error("malformed");
        tracing::error!(outbox_id = id, %error, "dead-lettering a malformed row");
        bounded(
            settings.transport.ack_timeout,
            outbox::dead_letter(conn, id, &error.to_string()),
        )
        .await?;
        metrics.dead_lettered.inc();
    }
    Ok(())
}

/// Sends `encoded` behind whatever is already with the broker; `None`
/// when there is nothing to send.
pub async fn send(transport: &mut AnyTransport, encoded: Encoded) -> Result<Option<Sent>, TransportError> {
    if encoded.messages.is_empty() {
        return Ok(None);
    }
    let acks = transport.send(&encoded.messages).await?;
    Ok(Some(Sent { encoded, acks }))
}

/// Waits for the broker's answers to `sent`.
pub async fn answers(sent: Sent) -> Result<Answered, TransportError> {
    let Sent { encoded, acks } = sent;
    let deliveries = acks.await?;
    Ok(Answered {
        encoded,
        deliveries,
        acked_at: Utc::now(),
    })
}

impl Answered {
    /// Whether the broker refused every message: then the stream or
    /// exchange itself may be gone, and `Transport::check` must tell a
    /// broker failure from refusals of these messages before they count.
    pub fn all_refused(&self) -> bool {
        self.deliveries
            .iter()
            .all(|delivery| matches!(delivery, Delivery::Refused(_)))
    }
}

/// Marks the acknowledged rows and counts the refusals.
pub async fn record(
    conn: &mut PgConnection,
    answered: Answered,
    settings: &RelaySettings,
    metrics: &Metrics,
) -> Result<()> {
    let limit = settings.transport.ack_timeout;
    let Answered {
        encoded,
        deliveries,
        acked_at,
    } = answered;
    let mut acked = Vec::with_capacity(deliveries.len());
    let mut refused = Vec::new();
    for ((row, message), delivery) in encoded.rows.iter().zip(&encoded.messages).zip(deliveries) {
        let labels = TypeLabels {
            r#type: type_label(&message.event_type),
        };
        match delivery {
            Delivery::Stored | Delivery::Duplicate => {
                if delivery == Delivery::Duplicate {
                    metrics.duplicates.get_or_create(&labels).inc();
                }
                metrics.published.get_or_create(&labels).inc();
                let latency = (acked_at - row.created_at).to_std().unwrap_or_default();
                metrics.commit_to_ack_seconds.observe(latency.as_secs_f64());
                acked.push(row.id);
            }
            Delivery::Refused(reason) => refused.push((row, reason)),
        }
    }
    // At-least-once either way: only acknowledged rows are marked or
    // removed, and a row kept for retention is never fetched again.
    if settings.retention.is_zero() {
        bounded(limit, outbox::remove_published(conn, &acked)).await?;
    } else {
        bounded(limit, outbox::mark_published(conn, &acked)).await?;
    }
    for (row, reason) in refused {
        metrics.error("refused");
        let retry_in = delay_after(
            INITIAL_ROW_RETRY,
            settings.backoff_max,
            row.attempts.unsigned_abs(),
        );
        let attempts = bounded(limit, outbox::record_refusal(conn, row.id, &reason, retry_in)).await?;
        if attempts >= settings.max_attempts {
            tracing::error!(outbox_id = row.id, attempts, %reason, "dead-lettering a row the broker keeps refusing");
            bounded(limit, outbox::dead_letter(conn, row.id, &reason)).await?;
            metrics.dead_lettered.inc();
        } else {
            tracing::warn!(outbox_id = row.id, attempts, %reason, ?retry_in, "the broker refused a row");
        }
    }
    Ok(())
}
