//! Session Manager's own view of sessions (`ssm:DescribeSessions`): how the reaper learns that a
//! session ended without any API call, and finds sessions CloudTrail never told the recorder about.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

/// One session as `DescribeSessions` reports it. Field names follow the API's JSON, so a
/// recorded response file deserialises as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribedSession {
    pub session_id: String,
    #[serde(default)]
    pub target: Option<String>,
    /// `Connected`, `Connecting`, `Disconnected`, `Terminating`, `Terminated` or `Failed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "api_time")]
    pub start_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "api_time")]
    pub end_date: Option<Timestamp>,
    #[serde(default)]
    pub document_name: Option<String>,
    /// The ARN of the principal that started the session.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl DescribedSession {
    /// Whether the session is over, as far as its status says.
    pub fn has_ended(&self) -> bool {
        matches!(self.status.as_deref(), Some("Terminated" | "Failed")) || self.end_date.is_some()
    }
}

/// A `DescribeSessions` response body, as saved from the CLI or the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSessionsResponse {
    pub sessions: Vec<DescribedSession>,
    #[serde(default)]
    pub next_token: Option<String>,
}

/// The API's JSON carries dates as epoch seconds (`1795000000.123`); the CLI prints them as
/// ISO-8601 strings. Both are accepted.
fn api_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
    use serde::de::Error;
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            let seconds = n
                .as_f64()
                .ok_or_else(|| D::Error::custom("date is not a number"))?;
            let millis = (seconds * 1000.0).round() as i64;
            Timestamp::from_millisecond(millis)
                .map(Some)
                .map_err(|e| D::Error::custom(format!("date {seconds} out of range: {e}")))
        }
        Some(serde_json::Value::String(s)) => s
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|e| D::Error::custom(format!("date `{s}`: {e}"))),
        Some(other) => Err(D::Error::custom(format!(
            "date has an unexpected form: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_form_with_epoch_seconds() {
        let response: DescribeSessionsResponse = serde_json::from_str(
            r#"{"Sessions":[{"SessionId":"alice-0123","Target":"i-1","Status":"Terminated",
                "StartDate":1795000000.5,"EndDate":1795003600,"DocumentName":"SSM-SessionManagerRunShell",
                "Owner":"arn:aws:sts::1:assumed-role/Operator/alice","MaxSessionDuration":"60"}],"NextToken":"t"}"#,
        )
        .unwrap();
        let s = &response.sessions[0];
        assert_eq!(s.start_date.unwrap().as_millisecond(), 1_795_000_000_500);
        assert_eq!(s.end_date.unwrap().as_second(), 1_795_003_600);
        assert!(s.has_ended());
        assert_eq!(response.next_token.as_deref(), Some("t"));
    }

    #[test]
    fn reads_the_cli_form_with_iso_dates() {
        let s: DescribedSession = serde_json::from_str(
            r#"{"SessionId":"bob-1","Status":"Connected","StartDate":"2026-11-24T10:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(s.start_date.unwrap().to_string(), "2026-11-24T10:00:00Z");
        assert!(!s.has_ended());
    }

    #[test]
    fn a_bad_date_is_a_clear_error() {
        let err =
            serde_json::from_str::<DescribedSession>(r#"{"SessionId":"x","StartDate":"soon"}"#)
                .unwrap_err();
        assert!(err.to_string().contains("date `soon`"), "{err}");
    }
}
