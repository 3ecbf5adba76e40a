//! Typed CloudTrail `StartSession` / `ResumeSession` / `TerminateSession` calls as EventBridge
//! delivers them. Every field AWS may omit is an `Option`: the `aws_lambda_events` CloudTrail
//! type requires fields that real session events lack, so these types are the project's own.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The EventBridge envelope of an "AWS API Call via CloudTrail" event.
#[derive(Debug, Clone, Deserialize)]
pub struct EventBridgeEnvelope {
    #[serde(rename = "detail-type")]
    pub detail_type: Option<String>,
    pub source: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub detail: Option<CloudTrailRecord>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    pub event_version: Option<String>,
    pub user_identity: Option<UserIdentity>,
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_parameters: Option<RequestParameters>,
    pub response_elements: Option<ResponseElements>,
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub recipient_account_id: Option<String>,
    pub session_credential_from_console: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub session_issuer: Option<SessionIssuer>,
    pub attributes: Option<SessionAttributes>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub issuer_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// A string `"true"` / `"false"` in CloudTrail, not a boolean.
    pub mfa_authenticated: Option<String>,
    pub creation_date: Option<String>,
}

/// Request parameters of the three session calls; CloudTrail keys are camelCase.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParameters {
    pub target: Option<String>,
    pub document_name: Option<String>,
    pub parameters: Option<BTreeMap<String, Value>>,
    pub reason: Option<String>,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseElements {
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCall {
    Start,
    Resume,
    Terminate,
}

impl SessionCall {
    pub fn api_name(self) -> &'static str {
        match self {
            SessionCall::Start => "StartSession",
            SessionCall::Resume => "ResumeSession",
            SessionCall::Terminate => "TerminateSession",
        }
    }
}

/// A session API call, parsed and checked: the input every recorder decision starts from.
#[derive(Debug, Clone)]
pub struct SessionApiEvent {
    pub call: SessionCall,
    pub event_id: String,
    pub event_time: Timestamp,
    /// Absent only for a failed `StartSession`, which never created a session.
    pub session_id: Option<String>,
    pub identity: UserIdentity,
    pub account: Option<String>,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub target: Option<String>,
    pub document: Option<String>,
    pub document_parameters: BTreeMap<String, Value>,
    pub reason: Option<String>,
    pub failure: Option<CallFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub code: String,
    pub message: Option<String>,
}

/// The document Session Manager uses when `StartSession` names none.
pub const DEFAULT_SHELL_DOCUMENT: &str = "SSM-SessionManagerRunShell";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CloudTrailError {
    #[error("event is not valid JSON for an EventBridge CloudTrail event: {0}")]
    Malformed(String),
    #[error("event has no `detail`: not an EventBridge CloudTrail event")]
    MissingDetail,
    #[error(
        "event source `{0}` is not a Session Manager API call (expected aws.ssm / ssm.amazonaws.com)"
    )]
    NotSsm(String),
    #[error(
        "`{0}` is not a session API call (expected StartSession, ResumeSession or TerminateSession)"
    )]
    NotSessionCall(String),
    #[error("required field `detail.{0}` is missing")]
    MissingField(&'static str),
    #[error("field `detail.{field}` has an invalid value `{value}`: {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: String,
    },
}

impl CloudTrailError {
    /// Whether the event is well-formed but simply not for us, as opposed to broken.
    pub fn is_unrelated_event(&self) -> bool {
        matches!(
            self,
            CloudTrailError::NotSsm(_) | CloudTrailError::NotSessionCall(_)
        )
    }
}

/// Parses an EventBridge event (as raw JSON) into a session API event.
pub fn parse_event(raw: &Value) -> Result<SessionApiEvent, CloudTrailError> {
    let envelope = EventBridgeEnvelope::deserialize(raw)
        .map_err(|e| CloudTrailError::Malformed(e.to_string()))?;
    session_event_from(envelope)
}

pub fn session_event_from(
    envelope: EventBridgeEnvelope,
) -> Result<SessionApiEvent, CloudTrailError> {
    let detail = envelope.detail.ok_or(CloudTrailError::MissingDetail)?;
    let source_ok = envelope.source.as_deref().is_none_or(|s| s == "aws.ssm");
    let event_source = detail
        .event_source
        .as_deref()
        .unwrap_or("ssm.amazonaws.com");
    if !source_ok || event_source != "ssm.amazonaws.com" {
        let shown = envelope.source.unwrap_or_else(|| event_source.to_string());
        return Err(CloudTrailError::NotSsm(shown));
    }
    let name = detail
        .event_name
        .as_deref()
        .ok_or(CloudTrailError::MissingField("eventName"))?;
    let call = match name {
        "StartSession" => SessionCall::Start,
        "ResumeSession" => SessionCall::Resume,
        "TerminateSession" => SessionCall::Terminate,
        other => return Err(CloudTrailError::NotSessionCall(other.to_string())),
    };
    let event_id = non_empty(detail.event_id).ok_or(CloudTrailError::MissingField("eventID"))?;
    let time_text = detail
        .event_time
        .ok_or(CloudTrailError::MissingField("eventTime"))?;
    let event_time: Timestamp =
        time_text
            .parse()
            .map_err(|e: jiff::Error| CloudTrailError::InvalidField {
                field: "eventTime",
                value: time_text.clone(),
                reason: e.to_string(),
            })?;
    let failure = non_empty(detail.error_code).map(|code| CallFailure {
        code,
        message: detail.error_message.clone(),
    });
    let request = detail.request_parameters.unwrap_or_default();
    let response = detail.response_elements.unwrap_or_default();
    let session_id = match call {
        SessionCall::Start => non_empty(response.session_id),
        SessionCall::Resume | SessionCall::Terminate => {
            non_empty(request.session_id).or_else(|| non_empty(response.session_id))
        }
    };
    if session_id.is_none() && failure.is_none() {
        return Err(CloudTrailError::MissingField(match call {
            SessionCall::Start => "responseElements.sessionId",
            _ => "requestParameters.sessionId",
        }));
    }
    if let Some(id) = &session_id {
        validate_session_id(id)?;
    }
    let identity = detail.user_identity.unwrap_or_default();
    let account = envelope
        .account
        .or(detail.recipient_account_id)
        .or_else(|| identity.account_id.clone());
    Ok(SessionApiEvent {
        call,
        event_id,
        event_time,
        session_id,
        account,
        region: detail.aws_region.or(envelope.region),
        source_ip: detail.source_ip_address,
        user_agent: detail.user_agent,
        target: request.target,
        document: match call {
            SessionCall::Start => Some(
                non_empty(request.document_name)
                    .unwrap_or_else(|| DEFAULT_SHELL_DOCUMENT.to_string()),
            ),
            _ => None,
        },
        document_parameters: request.parameters.unwrap_or_default(),
        reason: request.reason,
        failure,
        identity,
    })
}

/// Session ids are opaque but bounded (1–96 characters) and become parts of storage keys.
fn validate_session_id(id: &str) -> Result<(), CloudTrailError> {
    match crate::session_id::validate(id) {
        Ok(_) => Ok(()),
        Err(reason) => Err(CloudTrailError::InvalidField {
            field: "sessionId",
            value: id.chars().take(120).collect(),
            reason: reason.to_string(),
        }),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{event_json as event_file, fixture};
    use serde_json::json;

    fn wrap(detail: Value) -> Value {
        json!({"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.ssm",
               "account":"111122223333","time":"2026-11-24T10:00:00Z","region":"eu-west-1","resources":[],
               "detail": detail})
    }

    #[test]
    fn parses_a_console_start_session() {
        let event = parse_event(&fixture("eventbridge-startsession-console.json")).unwrap();
        assert_eq!(event.call, SessionCall::Start);
        assert_eq!(
            event.session_id.as_deref(),
            Some("dana.ops-07c1d2e3f4a5b6c7d")
        );
        assert_eq!(event.event_id, "3f0c6a52-9d1e-4b7a-8c2f-5e6d7a8b9c01");
        assert_eq!(event.target.as_deref(), Some("i-0b1c2d3e4f5a6b7c8"));
        assert_eq!(event.document.as_deref(), Some(DEFAULT_SHELL_DOCUMENT));
        assert_eq!(event.account.as_deref(), Some("444455556666"));
        assert_eq!(event.event_time.to_string(), "2026-10-12T02:31:47Z");
        let attrs = event.identity.session_context.unwrap().attributes.unwrap();
        assert_eq!(attrs.mfa_authenticated.as_deref(), Some("false"));
    }

    #[test]
    fn parses_an_iam_user_record_without_session_context_wrapped_in_eventbridge() {
        let event = parse_event(&wrap(fixture(
            "cloudtrail-record-startsession-iamuser-customdoc.json",
        )))
        .unwrap();
        assert_eq!(event.identity.identity_type.as_deref(), Some("IAMUser"));
        assert!(event.identity.session_context.is_none());
        assert_eq!(event.document.as_deref(), Some("SSM-sudo"));
        assert_eq!(event.source_ip.as_deref(), Some("198.51.100.23"));
    }

    #[test]
    fn every_sample_in_events_parses() {
        let dir = format!("{}/../events/1-cloudtrail", env!("CARGO_MANIFEST_DIR"));
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let raw: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                parse_event(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                count += 1;
            }
        }
        assert!(count >= 10, "expected the sample events, found {count}");
    }

    #[test]
    fn resume_and_terminate_take_the_session_id_from_the_request() {
        let resume = parse_event(&event_file("02-resume-role-with-mfa.json")).unwrap();
        assert_eq!(resume.call, SessionCall::Resume);
        assert_eq!(
            resume.session_id.as_deref(),
            Some("alice-ea1181f76f3adcbdc")
        );
        assert_eq!(resume.document, None);
        let terminate = parse_event(&event_file("04-terminate-role-without-mfa.json")).unwrap();
        assert_eq!(terminate.call, SessionCall::Terminate);
        assert_eq!(
            terminate.session_id.as_deref(),
            Some("bob-2731a0ce76f67ca89")
        );
    }

    #[test]
    fn a_denied_start_parses_with_its_failure_and_no_session() {
        let event = parse_event(&event_file("11-start-denied.json")).unwrap();
        assert_eq!(event.session_id, None);
        let failure = event.failure.unwrap();
        assert_eq!(failure.code, "AccessDenied");
        assert!(failure.message.unwrap().contains("not authorized"));
    }

    #[test]
    fn a_start_without_session_id_or_error_is_rejected_with_the_field_named() {
        let mut raw = event_file("01-start-role-with-mfa.json");
        raw["detail"]["responseElements"] = Value::Null;
        assert_eq!(
            parse_event(&raw).unwrap_err(),
            CloudTrailError::MissingField("responseElements.sessionId")
        );
    }

    #[test]
    fn other_api_calls_are_rejected_as_unrelated() {
        let mut raw = event_file("01-start-role-with-mfa.json");
        raw["detail"]["eventName"] = json!("SendCommand");
        let err = parse_event(&raw).unwrap_err();
        assert!(err.is_unrelated_event());
        assert!(err.to_string().contains("SendCommand"));
    }

    #[test]
    fn events_from_other_services_are_rejected_as_unrelated() {
        let mut raw = event_file("01-start-role-with-mfa.json");
        raw["source"] = json!("aws.ec2");
        assert!(parse_event(&raw).unwrap_err().is_unrelated_event());
    }

    #[test]
    fn a_bad_event_time_is_rejected_with_the_value() {
        let mut raw = event_file("01-start-role-with-mfa.json");
        raw["detail"]["eventTime"] = json!("yesterday");
        let err = parse_event(&raw).unwrap_err();
        assert!(err.to_string().contains("eventTime") && err.to_string().contains("yesterday"));
    }

    #[test]
    fn wrong_json_types_are_rejected_not_panicked_on() {
        for bad in [
            json!(null),
            json!([1, 2]),
            json!("text"),
            json!({"detail": 5}),
            json!({"detail": {"eventName": 7}}),
        ] {
            assert!(
                matches!(
                    parse_event(&bad),
                    Err(CloudTrailError::Malformed(_) | CloudTrailError::MissingDetail)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_session_id_that_cannot_be_a_key_is_rejected() {
        let mut raw = event_file("01-start-role-with-mfa.json");
        raw["detail"]["responseElements"]["sessionId"] = json!("a#b");
        assert!(matches!(
            parse_event(&raw),
            Err(CloudTrailError::InvalidField {
                field: "sessionId",
                ..
            })
        ));
        raw["detail"]["responseElements"]["sessionId"] = json!("x".repeat(97));
        assert!(matches!(
            parse_event(&raw),
            Err(CloudTrailError::InvalidField {
                field: "sessionId",
                ..
            })
        ));
    }
}
