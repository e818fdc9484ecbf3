//! Turns an outbox row (a structured-mode CloudEvent written by the claim
//! statement) into what a broker carries: the subject, the attributes for
//! binary mode, the content type and the body (DESIGN.md, "Event bus").

use bytes::Bytes;

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
    let required = |value: &Option<String>, name: &str| {
        value
            .clone()
            .ok_or_else(|| Malformed(format!("no `{name}` attribute")))
    };
    if row.specversion.as_deref() != Some("1.0") {
        return Err(Malformed("specversion is not 1.0".to_owned()));
    }
    let event_type = required(&row.ce_type, "type")?;
    let data = row
        .data
        .as_deref()
        .ok_or_else(|| Malformed("no `data`".to_owned()))?;
    let subject = broker_subject(prefix, &event_type, row.data_event_id.as_deref())?;
    let id = required(&row.ce_id, "id")?;
    let (attributes, content_type, body) = match mode {
        CeMode::Binary => {
            let mut attributes = Vec::with_capacity(6);
            attributes.push(("id", id.clone()));
            attributes.push(("type", event_type.clone()));
            attributes.push(("source", required(&row.source, "source")?));
            attributes.push(("specversion", "1.0".to_owned()));
            attributes.push(("time", required(&row.time, "time")?));
            if let Some(ce_subject) = &row.subject {
                attributes.push(("subject", ce_subject.clone()));
            }
            let content_type = row
                .datacontenttype
                .clone()
                .unwrap_or_else(|| "application/json".to_owned());
            (attributes, content_type, compact(data))
        }
        CeMode::Structured => {
            let whole = row
                .whole
                .as_deref()
                .ok_or_else(|| Malformed("the whole event was not read".to_owned()))?;
            (Vec::new(), STRUCTURED_CONTENT_TYPE.to_owned(), compact(whole))
        }
    };
    Ok(Outbound {
        outbox_id: row.id,
        event_type,
        id,
        subject,
        attributes,
        content_type,
        body: Bytes::from(body),
    })
}

/// JSON text as PostgreSQL writes it (a blank after each `:` and `,`)
/// without the blanks between tokens: the compact form, the same value.
/// The input is PostgreSQL's output of a jsonb, so it is valid JSON; runs
/// between blanks and strings are copied whole.
fn compact(json: &str) -> Vec<u8> {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(rest) = bytes.get(at..) {
        let run = rest
            .iter()
            .position(|byte| matches!(byte, b' ' | b'\n' | b'\r' | b'\t' | b'"'))
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..run]);
        at += run;
        match bytes.get(at) {
            None => break,
            Some(b'"') => {
                let end = string_end(bytes, at + 1);
                out.extend_from_slice(bytes.get(at..end).unwrap_or_default());
                at = end;
            }
            Some(_) => at += 1,
        }
    }
    out
}

/// Index just past the closing quote of the string whose content starts
/// at `at` (or the end of `bytes`).
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(rest) = bytes.get(at..) {
        match rest.iter().position(|byte| matches!(byte, b'"' | b'\\')) {
            Some(found) if rest[found] == b'"' => return at + found + 1,
            Some(found) => at += found + 2,
            None => break,
        }
    }
    bytes.len()
}

/// `<prefix>.<type after dev.liveops.>.<data.eventId>`: one subject per
/// Event, so a consumer can follow one Event and JetStream keeps its order.
fn broker_subject(prefix: &str, event_type: &str, event_id: Option<&str>) -> Result<String, Malformed> {
    let middle = event_type
        .strip_prefix(TYPE_PREFIX)
        .filter(|rest| rest.split('.').all(is_subject_token))
        .ok_or_else(|| {
            Malformed(format!(
                "type {event_type:?} is not dev.liveops.<word>[.<word>...]"
            ))
        })?;
    let event_id = event_id
        .filter(|id| is_subject_token(id))
        .ok_or_else(|| Malformed("data.eventId is missing or not one subject token".to_owned()))?;
    Ok(format!("{prefix}.{middle}.{event_id}"))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::{Value, json};

    use super::{Malformed, STRUCTURED_CONTENT_TYPE, compact, encode};
    use crate::{config::CeMode, outbox::OutboxRow};

    /// PostgreSQL's text of a jsonb: a blank after every `:` and `,`.
    struct PgFormatter;

    impl serde_json::ser::Formatter for PgFormatter {
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }

        fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
            w.write_all(b": ")
        }

        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
    }

    fn pg_text(value: &Value) -> String {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, PgFormatter);
        serde::Serialize::serialize(value, &mut serializer).expect("serializes");
        String::from_utf8(out).expect("utf-8")
    }

    /// `payload->>'name'`: a string's text, any other value's JSON.
    fn field(value: Option<&Value>) -> Option<String> {
        value
            .filter(|value| !value.is_null())
            .map(|value| value.as_str().map_or_else(|| value.to_string(), str::to_owned))
    }

    /// The row as `outbox::fetch_due` reads `payload` in structured mode.
    fn row(payload: Value) -> OutboxRow {
        let data = payload.get("data");
        OutboxRow {
            id: 7,
            created_at: Utc::now(),
            attempts: 0,
            specversion: field(payload.get("specversion")),
            ce_type: field(payload.get("type")),
            ce_id: field(payload.get("id")),
            source: field(payload.get("source")),
            time: field(payload.get("time")),
            subject: field(payload.get("subject")),
            datacontenttype: field(payload.get("datacontenttype")),
            data_event_id: field(data.and_then(|data| data.get("eventId"))),
            data: data.map(pg_text),
            whole: Some(pg_text(&payload)),
        }
    }

    #[test]
    fn compact_drops_the_blanks_between_tokens_and_keeps_those_in_strings() {
        let text = r#"{"a": "x y", "b": "q\" , : \\", "c": [1, 2.50, {"d": null}]}"#;
        assert_eq!(
            String::from_utf8(compact(text)).expect("utf-8"),
            r#"{"a":"x y","b":"q\" , : \\","c":[1,2.50,{"d":null}]}"#
        );
        let value = claimed();
        assert_eq!(
            serde_json::from_slice::<Value>(&compact(&pg_text(&value))).expect("json"),
            value
        );
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
