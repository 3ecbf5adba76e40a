//! CloudWatch Logs subscription payloads, `{"awslogs":{"data": base64(gzip(JSON))}}`, decoded with
//! a hard cap on the inflated size, and the Session Manager stream records inside them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Read;

/// Default cap on a decompressed batch. A 1 MB payload of transcript text inflates to a few MB;
/// anything far beyond is a gzip bomb aimed at a 128 MB function.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsBatch {
    #[serde(default)]
    pub message_type: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub log_group: String,
    /// Session Manager names each stream after the session id.
    #[serde(default)]
    pub log_stream: String,
    #[serde(default)]
    pub subscription_filters: Vec<String>,
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    pub id: String,
    #[serde(default)]
    pub timestamp: i64,
    pub message: String,
}

impl LogsBatch {
    /// CloudWatch Logs checks a destination with control messages; they carry no transcript.
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("not a CloudWatch Logs subscription event: {0}")]
    NotSubscription(&'static str),
    #[error("the batch's data is not valid base64: {0}")]
    Base64(String),
    #[error("the batch's data is not valid gzip: {0}")]
    Gzip(String),
    #[error(
        "the batch's data inflates beyond the {limit}-byte cap (compressed {compressed} bytes): refused as a possible gzip bomb"
    )]
    TooLarge { limit: usize, compressed: usize },
    #[error("not a Kinesis event of CloudWatch Logs batches: {0}")]
    NotKinesis(&'static str),
    #[error("decoded log batch is not the expected JSON: {0}")]
    Json(String),
}

/// Decodes a subscription event as Lambda receives it.
pub fn decode_subscription(
    event: &Value,
    max_decompressed: usize,
) -> Result<LogsBatch, PayloadError> {
    let data = event
        .get("awslogs")
        .ok_or(PayloadError::NotSubscription("no `awslogs` key"))?
        .get("data")
        .and_then(Value::as_str)
        .ok_or(PayloadError::NotSubscription(
            "`awslogs.data` is missing or not a string",
        ))?;
    decode_data(data, max_decompressed)
}

/// base64(gzip(JSON)): what `awslogs.data` and a Kinesis record's `data` both carry.
fn decode_data(data: &str, max_decompressed: usize) -> Result<LogsBatch, PayloadError> {
    let compressed = STANDARD
        .decode(data.trim())
        .map_err(|e| PayloadError::Base64(e.to_string()))?;
    let json = inflate_capped(&compressed, max_decompressed)?;
    serde_json::from_slice(&json).map_err(|e| PayloadError::Json(e.to_string()))
}

/// One record of a Kinesis event: a CloudWatch Logs cross-account destination writes each
/// subscription batch to the stream as the same gzipped JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    /// What Lambda's partial batch response names a failed record by.
    pub sequence_number: String,
    pub data: String,
}

/// Whether `event` is a Kinesis event (`{"Records":[{"eventSource":"aws:kinesis",…}]}`).
pub fn is_kinesis_event(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:kinesis")
}

/// The records of a Kinesis event, in stream order.
pub fn kinesis_records(event: &Value) -> Result<Vec<KinesisRecord>, PayloadError> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or(PayloadError::NotKinesis("no `Records` array"))?;
    records
        .iter()
        .map(|r| {
            let kinesis = r
                .get("kinesis")
                .ok_or(PayloadError::NotKinesis("a record has no `kinesis` object"))?;
            let field = |name: &'static str| {
                kinesis
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or(PayloadError::NotKinesis(
                        "a record lacks `kinesis.data` or `kinesis.sequenceNumber`",
                    ))
            };
            Ok(KinesisRecord {
                sequence_number: field("sequenceNumber")?,
                data: field("data")?,
            })
        })
        .collect()
}

/// Decodes one Kinesis record's CloudWatch Logs batch.
pub fn decode_kinesis_record(
    record: &KinesisRecord,
    max_decompressed: usize,
) -> Result<LogsBatch, PayloadError> {
    decode_data(&record.data, max_decompressed)
}

fn inflate_capped(compressed: &[u8], limit: usize) -> Result<Vec<u8>, PayloadError> {
    let mut inflated = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit));
    // Reading one byte past the cap tells "exactly at the cap" from "over it".
    let read = GzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| PayloadError::Gzip(e.to_string()))?;
    if read > limit {
        return Err(PayloadError::TooLarge {
            limit,
            compressed: compressed.len(),
        });
    }
    Ok(inflated)
}

/// Builds a subscription event from a batch: what CloudWatch Logs would deliver. Used by
/// `warden events` and tests.
pub fn encode_subscription(batch: &LogsBatch) -> Value {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let json = serde_json::to_vec(batch).expect("a batch serialises");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(&json)
        .expect("writing to memory cannot fail");
    let gz = encoder.finish().expect("writing to memory cannot fail");
    serde_json::json!({"awslogs": {"data": STANDARD.encode(gz)}})
}

/// A Kinesis event holding `batches`, as a CloudWatch Logs destination writes them to a stream
/// and Lambda delivers them (sequence numbers count up from 1).
pub fn encode_kinesis(batches: &[LogsBatch]) -> Value {
    let records: Vec<Value> = batches
        .iter()
        .enumerate()
        .map(|(i, batch)| {
            let data = encode_subscription(batch)["awslogs"]["data"].clone();
            serde_json::json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": batch.log_stream,
                    "sequenceNumber": format!("{:056}", i + 1),
                    "data": data,
                    "approximateArrivalTimestamp": 1_795_000_000.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{:056}", i + 1),
                "eventName": "aws:kinesis:record",
                "awsRegion": "eu-west-1",
            })
        })
        .collect();
    serde_json::json!({"Records": records})
}

/// One streaming-mode record (`cloudWatchStreamingEnabled: true`): the lines the pty wrote in
/// about a second, with ANSI escapes already removed by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StreamRecord {
    pub event_version: Option<String>,
    pub event_time: Option<String>,
    pub aws_region: Option<String>,
    pub target: Option<StreamTarget>,
    pub user_identity: Option<StreamIdentity>,
    pub run_as_user: Option<String>,
    pub session_id: Option<String>,
    pub session_data: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StreamTarget {
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StreamIdentity {
    pub arn: Option<String>,
}

/// What one log event's message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptChunk {
    /// Streaming mode: a JSON record.
    Stream(StreamRecord),
    /// Upload-at-end mode: raw typescript text.
    Raw(String),
}

/// Detects the logging mode of one log event from its message.
pub fn chunk_of(message: &str) -> TranscriptChunk {
    if message.trim_start().starts_with('{')
        && let Ok(record) = serde_json::from_str::<StreamRecord>(message)
    {
        return TranscriptChunk::Stream(record);
    }
    TranscriptChunk::Raw(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fixture;

    fn batch(messages: &[&str]) -> LogsBatch {
        LogsBatch {
            message_type: "DATA_MESSAGE".into(),
            owner: "111122223333".into(),
            log_group: "/aws/ssm/session-logs".into(),
            log_stream: "alice-0123456789abcdef0".into(),
            subscription_filters: vec!["warden".into()],
            log_events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| LogEvent {
                    id: format!("3718{i:052}"),
                    timestamp: 1_764_000_000_000 + i as i64,
                    message: m.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn decodes_a_subscription_event() {
        let decoded =
            decode_subscription(&fixture("cwlogs-subscription-envelope.json"), 1 << 20).unwrap();
        let expected: LogsBatch =
            serde_json::from_value(fixture("cwlogs-subscription-envelope.decoded.json")).unwrap();
        assert_eq!(decoded, expected);
        assert_eq!(decoded.message_type, "DATA_MESSAGE");
    }

    #[test]
    fn encoding_and_decoding_round_trip() {
        let original = batch(&["sh-5.2$ id", "uid=1001(ssm-user)"]);
        assert_eq!(
            decode_subscription(&encode_subscription(&original), 1 << 20).unwrap(),
            original
        );
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_cap() {
        let huge = "A".repeat(4 * 1024 * 1024);
        let event = encode_subscription(&batch(&[&huge]));
        let compressed_len = event["awslogs"]["data"].as_str().unwrap().len();
        assert!(
            compressed_len < 20_000,
            "the bomb compresses well: {compressed_len}"
        );
        let err = decode_subscription(&event, 1024 * 1024).unwrap_err();
        assert!(
            matches!(
                err,
                PayloadError::TooLarge {
                    limit: 1_048_576,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn broken_payloads_say_what_is_wrong() {
        let cases = [
            (serde_json::json!({"records": []}), "no `awslogs` key"),
            (
                serde_json::json!({"awslogs": {"data": 5}}),
                "missing or not a string",
            ),
            (
                serde_json::json!({"awslogs": {"data": "%%%"}}),
                "not valid base64",
            ),
            (
                serde_json::json!({"awslogs": {"data": STANDARD.encode(b"plain")}}),
                "not valid gzip",
            ),
        ];
        for (event, needle) in cases {
            let err = decode_subscription(&event, 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn control_messages_are_recognised() {
        let mut control = batch(&["CWL CONTROL MESSAGE: Checking health of destination Lambda."]);
        control.message_type = "CONTROL_MESSAGE".into();
        let decoded = decode_subscription(&encode_subscription(&control), 1 << 20).unwrap();
        assert!(decoded.is_control_message());
    }

    #[test]
    fn stream_records_and_raw_text_are_told_apart() {
        let record = fixture("ssm-session-stream-record-linux.json");
        match chunk_of(&record.to_string()) {
            TranscriptChunk::Stream(r) => {
                assert!(r.session_data.iter().any(|l| l.contains("date")))
            }
            other => panic!("expected a stream record, got {other:?}"),
        }
        assert!(matches!(
            chunk_of("Script started on 2026-11-24"),
            TranscriptChunk::Raw(_)
        ));
        assert!(matches!(chunk_of("{ not json"), TranscriptChunk::Raw(_)));
        assert!(matches!(
            chunk_of("{\"other\": 1}"),
            TranscriptChunk::Raw(_)
        ));
    }
}
