//! Dead letters: what the template's queues hold, opened to the event inside and routed to the
//! handler that failed on it.
//!
//! Three shapes reach the queues `template.yaml` declares:
//!
//! * a Lambda **on-failure destination record** (every function's `EventInvokeConfig`): the
//!   event is `requestPayload`; `requestContext.condition` says why it was given up
//!   (`RetriesExhausted`, `EventAgeExceeded`), `approximateInvokeCount` how often it ran, and
//!   `responsePayload` holds the function's last error (`errorType`, `errorMessage`);
//! * an **EventBridge rule dead letter** (the recorder rule's `DeadLetterConfig`): the body is the
//!   event itself, the reason in the message attributes `ERROR_CODE`, `ERROR_MESSAGE`,
//!   `EXHAUSTED_RETRY_CONDITION`, `RETRY_ATTEMPTS`, `RULE_ARN`, `TARGET_ARN`;
//! * a **Lambda function dead-letter queue** (`DeadLetterQueue`, not used by the template but
//!   accepted): the body is the event, the reason in the attributes `ErrorCode`, `ErrorMessage`,
//!   `RequestID`.

use serde_json::Value;
use std::collections::BTreeMap;

/// Which handler an event belongs to, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// An EventBridge `AWS API Call via CloudTrail` event.
    Recorder,
    /// A CloudWatch Logs subscription event (`{"awslogs": {"data": …}}`).
    Scanner,
    /// A schedule event (`"detail-type": "Scheduled Event"`).
    Reaper,
    /// A recorded `DescribeSessions` response (`{"Sessions": […]}`), which only `warden replay`
    /// uses.
    DescribeSessions,
}

impl Route {
    pub fn handler(self) -> &'static str {
        match self {
            Route::Recorder => "recorder",
            Route::Scanner => "scanner",
            Route::Reaper => "reaper",
            Route::DescribeSessions => "describe-sessions",
        }
    }
}

/// The handler `event` is for, or `None` when it has none of the shapes the functions take.
pub fn route(event: &Value) -> Option<Route> {
    if event.get("awslogs").is_some() {
        return Some(Route::Scanner);
    }
    if event.get("Sessions").is_some() {
        return Some(Route::DescribeSessions);
    }
    if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        return Some(Route::Reaper);
    }
    if event.get("detail").is_some_and(Value::is_object) {
        return Some(Route::Recorder);
    }
    None
}

/// How a dead letter came to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A Lambda on-failure destination record.
    OnFailure {
        /// `RetriesExhausted` or `EventAgeExceeded`.
        condition: Option<String>,
        /// How many times Lambda ran the function on it.
        attempts: Option<u64>,
        function_arn: Option<String>,
    },
    /// EventBridge could not hand the event to the function.
    EventBridgeRule { rule_arn: Option<String> },
    /// A Lambda function dead-letter queue.
    FunctionQueue { request_id: Option<String> },
    /// A bare event with no attribute saying where it came from.
    Bare,
}

impl Origin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::OnFailure { .. } => "on_failure",
            Origin::EventBridgeRule { .. } => "eventbridge_rule",
            Origin::FunctionQueue { .. } => "function_dlq",
            Origin::Bare => "bare",
        }
    }

    /// A short human account: "on-failure record: RetriesExhausted after 3 attempts".
    pub fn describe(&self) -> String {
        match self {
            Origin::OnFailure {
                condition,
                attempts,
                ..
            } => {
                let mut text = format!(
                    "on-failure record: {}",
                    condition.as_deref().unwrap_or("condition not given")
                );
                if let Some(n) = attempts {
                    text.push_str(&format!(" after {n} attempts"));
                }
                text
            }
            Origin::EventBridgeRule { .. } => "EventBridge rule dead letter".to_string(),
            Origin::FunctionQueue { .. } => "function dead-letter queue".to_string(),
            Origin::Bare => "bare event".to_string(),
        }
    }
}

/// A dead letter opened: the event to run again, where it came from and the error that put it
/// in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub event: Value,
    pub origin: Origin,
    /// The last error, as the record or the message attributes give it.
    pub error: Option<String>,
}

impl DeadLetter {
    pub fn route(&self) -> Option<Route> {
        route(&self.event)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("on-failure record has no `requestPayload` (the event was too large to include?)")]
    NoPayload,
}

/// Opens one queue message: its body and its string message attributes.
pub fn open(body: &str, attributes: &BTreeMap<String, String>) -> Result<DeadLetter, OpenError> {
    let value: Value = serde_json::from_str(body).map_err(|e| OpenError::NotJson(e.to_string()))?;
    if value.get("requestContext").is_some() && value.get("responseContext").is_some() {
        return on_failure_record(value);
    }
    let attribute = |name: &str| attributes.get(name).cloned();
    let joined = |code: Option<String>, message: Option<String>| match (code, message) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (code, message) => code.or(message),
    };
    if attributes.contains_key("RULE_ARN") || attributes.contains_key("ERROR_CODE") {
        let mut error = joined(attribute("ERROR_CODE"), attribute("ERROR_MESSAGE"));
        if let Some(condition) = attribute("EXHAUSTED_RETRY_CONDITION") {
            let retries = attribute("RETRY_ATTEMPTS").unwrap_or_else(|| "?".into());
            let reason = format!("{condition} after {retries} retries");
            error = Some(match error {
                Some(e) => format!("{e} ({reason})"),
                None => reason,
            });
        }
        return Ok(DeadLetter {
            event: value,
            origin: Origin::EventBridgeRule {
                rule_arn: attribute("RULE_ARN"),
            },
            error,
        });
    }
    if attributes.contains_key("RequestID") || attributes.contains_key("ErrorCode") {
        return Ok(DeadLetter {
            event: value,
            origin: Origin::FunctionQueue {
                request_id: attribute("RequestID"),
            },
            error: joined(attribute("ErrorCode"), attribute("ErrorMessage")),
        });
    }
    Ok(DeadLetter {
        event: value,
        origin: Origin::Bare,
        error: None,
    })
}

fn on_failure_record(mut record: Value) -> Result<DeadLetter, OpenError> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let context = record.get("requestContext").cloned().unwrap_or_default();
    let response = record.get("responsePayload").cloned().unwrap_or_default();
    let error = match (
        text(&response, "errorType"),
        text(&response, "errorMessage"),
    ) {
        (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
        (kind, message) => kind.or(message).or_else(|| {
            record
                .get("responseContext")
                .and_then(|c| text(c, "functionError"))
                .map(|e| format!("function error ({e})"))
        }),
    };
    let event = match record.get_mut("requestPayload").map(Value::take) {
        Some(Value::Null) | None => return Err(OpenError::NoPayload),
        Some(event) => event,
    };
    Ok(DeadLetter {
        event,
        origin: Origin::OnFailure {
            condition: text(&context, "condition"),
            attempts: context
                .get("approximateInvokeCount")
                .and_then(Value::as_u64),
            function_arn: text(&context, "functionArn"),
        },
        error,
    })
}

/// A Lambda on-failure destination record wrapping `event`, as `warden replay` and the tests
/// meet it; any other value is returned as it is.
pub fn unwrap_on_failure(value: Value) -> Value {
    match value {
        Value::Object(mut map)
            if map.contains_key("requestPayload") && map.contains_key("requestContext") =>
        {
            map.remove("requestPayload").unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{event_json, fixture};
    use serde_json::json;

    fn no_attributes() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    #[test]
    fn an_on_failure_record_opens_to_its_payload_with_the_condition_and_error() {
        let mut record = fixture("lambda-async-onfailure-invocation-record.json");
        record["requestPayload"] = event_json("03-start-role-without-mfa.json");
        record["responsePayload"] =
            json!({"errorType": "StoreError", "errorMessage": "session store unavailable"});
        let letter = open(&record.to_string(), &no_attributes()).unwrap();
        assert_eq!(letter.event, event_json("03-start-role-without-mfa.json"));
        assert_eq!(letter.route(), Some(Route::Recorder));
        assert_eq!(
            letter.origin,
            Origin::OnFailure {
                condition: Some("RetriesExhausted".into()),
                attempts: Some(3),
                function_arn: Some(
                    "arn:aws:lambda:eu-central-1:444455556666:function:warden-SessionRecorder:$LATEST"
                        .into()
                ),
            }
        );
        assert_eq!(
            letter.error.as_deref(),
            Some("StoreError: session store unavailable")
        );
        assert_eq!(
            letter.origin.describe(),
            "on-failure record: RetriesExhausted after 3 attempts"
        );
    }

    #[test]
    fn an_on_failure_record_without_its_payload_is_an_error() {
        let mut record = fixture("lambda-async-onfailure-invocation-record.json");
        record.as_object_mut().unwrap().remove("requestPayload");
        assert_eq!(
            open(&record.to_string(), &no_attributes()),
            Err(OpenError::NoPayload)
        );
    }

    #[test]
    fn an_eventbridge_dead_letter_is_the_event_with_the_reason_in_attributes() {
        let event = event_json("08-start-root.json");
        let attributes: BTreeMap<String, String> = [
            ("RULE_ARN", "arn:aws:events:eu-west-1:111122223333:rule/x"),
            (
                "TARGET_ARN",
                "arn:aws:lambda:eu-west-1:111122223333:function:f",
            ),
            ("ERROR_CODE", "SDK_CLIENT_ERROR"),
            ("ERROR_MESSAGE", "Unable to invoke Lambda function"),
            ("EXHAUSTED_RETRY_CONDITION", "MaximumEventAgeInSeconds"),
            ("RETRY_ATTEMPTS", "12"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let letter = open(&event.to_string(), &attributes).unwrap();
        assert_eq!(letter.event, event);
        assert_eq!(letter.origin.as_str(), "eventbridge_rule");
        assert_eq!(
            letter.error.as_deref(),
            Some(
                "SDK_CLIENT_ERROR: Unable to invoke Lambda function (MaximumEventAgeInSeconds after 12 retries)"
            )
        );
    }

    #[test]
    fn a_function_dead_letter_queue_message_is_the_event_with_its_error_code() {
        let event = json!({"awslogs": {"data": "H4sI"}});
        let attributes: BTreeMap<String, String> = [
            ("RequestID", "r-1"),
            ("ErrorCode", "200"),
            ("ErrorMessage", "Task timed out"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let letter = open(&event.to_string(), &attributes).unwrap();
        assert_eq!(letter.route(), Some(Route::Scanner));
        assert_eq!(
            letter.origin,
            Origin::FunctionQueue {
                request_id: Some("r-1".into())
            }
        );
        assert_eq!(letter.error.as_deref(), Some("200: Task timed out"));
    }

    #[test]
    fn events_route_to_the_handler_of_their_shape() {
        assert_eq!(
            route(&event_json("01-start-role-with-mfa.json")),
            Some(Route::Recorder)
        );
        assert_eq!(
            route(&json!({"awslogs": {"data": ""}})),
            Some(Route::Scanner)
        );
        assert_eq!(
            route(
                &json!({"detail-type": "Scheduled Event", "time": "2026-11-24T10:00:00Z", "detail": {}})
            ),
            Some(Route::Reaper)
        );
        assert_eq!(
            route(&json!({"Sessions": []})),
            Some(Route::DescribeSessions)
        );
        assert_eq!(route(&json!({"Message": "an SNS envelope"})), None);
        assert_eq!(route(&json!([1, 2])), None);
    }

    #[test]
    fn a_body_that_is_not_json_is_an_error() {
        assert!(matches!(
            open("not json", &no_attributes()),
            Err(OpenError::NotJson(_))
        ));
    }
}
