//! Turns an outbox row (a structured-mode CloudEvent written by the claim
//! statement) into what a broker carries: the subject, the attributes for
//! binary mode, the content type and the body (DESIGN.md, "Event bus").

use bytes::Bytes;
use serde_json::Value;

use crate::{
    config::{CeMode, is_subject_token},
    outbox::OutboxRow,
};

/// Every event type starts with this; the rest becomes the subject's middle.
pub const TYPE_PREFIX: &str = "dev.liveops.";
/// Content type of a structured-mode body (CloudEvents JSON format).
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

/// One outbox row ready to publish.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The row it came from.
    pub outbox_id: i64,
    /// CloudEvents `type`.
    pub event_type: String,
    /// CloudEvents `id`: JetStream's `Nats-Msg-Id` and AMQP's `message_id`,
    /// so brokers and consumers deduplicate redeliveries.
    pub id: String,
    /// NATS subject and AMQP routing key: `<prefix>.<type after
    /// dev.liveops.>.<eventId>`, e.g. `liveops.reward.claimed.<eventId>`.
    pub subject: String,
    /// Binary-mode attributes (`id`, `type`, `source`, `specversion`,
    /// `time`, `subject`), each transport prefixes the names its own way;
    /// empty in structured mode.
    pub attributes: Vec<(&'static str, String)>,
    /// `content-type` of the body.
    pub content_type: String,
    /// The `data` JSON (binary mode) or the whole event (structured mode).
    pub body: Bytes,
}

/// Why a row can never be published, whatever the broker does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed outbox row: {0}")]
pub struct Malformed(pub String);

/// Encodes `row` for publishing under `prefix` in `mode`.
pub fn encode(row: &OutboxRow, prefix: &str, mode: CeMode) -> Result<Outbound, Malformed> {
    let payload = &row.payload;
    let text = |name: &str| payload.get(name).and_then(Value::as_str);
    let required = |name: &'static str| text(name).ok_or_else(|| Malformed(format!("no `{name}` attribute")));
    if required("specversion")? != "1.0" {
        return Err(Malformed("specversion is not 1.0".to_owned()));
    }
    let event_type = required("type")?;
    let data = payload
        .get("data")
        .ok_or_else(|| Malformed("no `data`".to_owned()))?;
    let subject = broker_subject(prefix, event_type, data)?;
    let id = required("id")?.to_owned();
    let (attributes, content_type, body) = match mode {
        CeMode::Binary => {
            let mut attributes = vec![
                ("id", id.clone()),
                ("type", event_type.to_owned()),
                ("source", required("source")?.to_owned()),
                ("specversion", "1.0".to_owned()),
                ("time", required("time")?.to_owned()),
            ];
            if let Some(ce_subject) = text("subject") {
                attributes.push(("subject", ce_subject.to_owned()));
            }
            let content_type = text("datacontenttype").unwrap_or("application/json").to_owned();
            let body = serde_json::to_vec(data).map_err(|e| Malformed(e.to_string()))?;
            (attributes, content_type, body)
        }
        CeMode::Structured => {
            let body = serde_json::to_vec(payload).map_err(|e| Malformed(e.to_string()))?;
            (Vec::new(), STRUCTURED_CONTENT_TYPE.to_owned(), body)
        }
    };
    Ok(Outbound {
        outbox_id: row.id,
        event_type: event_type.to_owned(),
        id,
        subject,
        attributes,
        content_type,
        body: Bytes::from(body),
    })
}

/// `<prefix>.<type after dev.liveops.>.<data.eventId>`: one subject per
/// Event, so a consumer can follow one Event and JetStream keeps its order.
fn broker_subject(prefix: &str, event_type: &str, data: &Value) -> Result<String, Malformed> {
    let middle = event_type
        .strip_prefix(TYPE_PREFIX)
        .filter(|rest| rest.split('.').all(is_subject_token))
        .ok_or_else(|| {
            Malformed(format!(
                "type {event_type:?} is not dev.liveops.<word>[.<word>...]"
            ))
        })?;
    let event_id = data
        .get("eventId")
        .and_then(Value::as_str)
        .filter(|id| is_subject_token(id))
        .ok_or_else(|| Malformed("data.eventId is missing or not one subject token".to_owned()))?;
    Ok(format!("{prefix}.{middle}.{event_id}"))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::{Value, json};

    use super::{Malformed, STRUCTURED_CONTENT_TYPE, encode};
    use crate::{config::CeMode, outbox::OutboxRow};

    fn row(payload: Value) -> OutboxRow {
        OutboxRow {
            id: 7,
            event_type: "dev.liveops.reward.claimed".to_owned(),
            payload,
            created_at: Utc::now(),
            attempts: 0,
        }
    }

    fn claimed() -> Value {
        json!({
            "specversion": "1.0", "id": "c1", "source": "/liveops/events/default/summer",
            "type": "dev.liveops.reward.claimed", "time": "2026-01-01T00:00:00Z",
            "subject": "gold", "datacontenttype": "application/json",
            "data": {"eventId": "e1", "claimId": "c1"}
        })
    }

    #[test]
    fn binary_mode_carries_the_attributes_and_only_data_in_the_body() {
        let out = encode(&row(claimed()), "liveops", CeMode::Binary).expect("encodes");
        assert_eq!(out.subject, "liveops.reward.claimed.e1");
        assert_eq!(out.id, "c1");
        assert!(out.attributes.contains(&("subject", "gold".to_owned())));
        assert!(out.attributes.contains(&("specversion", "1.0".to_owned())));
        assert_eq!(out.content_type, "application/json");
        let body: Value = serde_json::from_slice(&out.body).expect("json");
        assert_eq!(body, json!({"eventId": "e1", "claimId": "c1"}));
    }

    #[test]
    fn structured_mode_sends_the_whole_event() {
        let out = encode(&row(claimed()), "liveops", CeMode::Structured).expect("encodes");
        assert!(out.attributes.is_empty());
        assert_eq!(out.content_type, STRUCTURED_CONTENT_TYPE);
        let body: Value = serde_json::from_slice(&out.body).expect("json");
        assert_eq!(body, claimed());
    }

    #[test]
    fn rows_that_cannot_become_a_subject_are_malformed() {
        let mut wildcard = claimed();
        wildcard["type"] = json!("dev.liveops.reward.*");
        assert!(matches!(
            encode(&row(wildcard), "liveops", CeMode::Binary),
            Err(Malformed(_))
        ));
        let mut foreign = claimed();
        foreign["type"] = json!("reward.claimed");
        assert!(encode(&row(foreign), "liveops", CeMode::Binary).is_err());
        let mut no_event = claimed();
        no_event["data"] = json!({});
        assert!(encode(&row(no_event), "liveops", CeMode::Binary).is_err());
    }
}
