//! A generated session's StartSession and TerminateSession events, made from the samples'
//! templates with their own identity, ids and times (shared by the fault and load runs).

use serde_json::{Value, json};

/// Who and when: the parts of a generated session its two CloudTrail events carry.
pub struct GeneratedSession<'a> {
    pub index: usize,
    pub user: &'a str,
    pub session_id: &'a str,
    pub started: jiff::Timestamp,
    pub ended: jiff::Timestamp,
    pub mfa: bool,
    /// First 8 hex digits of the CloudTrail event ids, and of the EventBridge event ids.
    pub event_id_prefix: &'a str,
    pub delivery_id_prefix: &'a str,
}

/// The session's start and end events, from `start_template` and `end_template`.
pub fn start_and_end(
    session: &GeneratedSession,
    start_template: &Value,
    end_template: &Value,
) -> (Value, Value) {
    let GeneratedSession {
        index: i,
        user,
        session_id,
        started,
        ended,
        mfa,
        event_id_prefix,
        delivery_id_prefix,
    } = *session;
    let arn = format!("arn:aws:sts::111122223333:assumed-role/Admin/{user}");
    let mut start = start_template.clone();
    let d = &mut start["detail"];
    d["userIdentity"]["arn"] = json!(arn);
    d["userIdentity"]["principalId"] = json!(format!("AROARBUVWNU5JXYCG2FUI:{user}"));
    d["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] =
        json!(if mfa { "true" } else { "false" });
    d["eventTime"] = json!(started.to_string());
    d["responseElements"]["sessionId"] = json!(session_id);
    d["responseElements"]["streamUrl"] = json!(format!(
        "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe"
    ));
    d["eventID"] = json!(format!("{event_id_prefix}-0000-4000-8000-{:012x}", 2 * i));
    start["time"] = json!(started.to_string());
    start["id"] = json!(format!(
        "{delivery_id_prefix}-0000-4000-8000-{:012x}",
        2 * i
    ));

    let mut end = end_template.clone();
    let d = &mut end["detail"];
    d["userIdentity"] = start["detail"]["userIdentity"].clone();
    d["eventTime"] = json!(ended.to_string());
    d["requestParameters"]["sessionId"] = json!(session_id);
    d["responseElements"]["sessionId"] = json!(session_id);
    d["eventID"] = json!(format!(
        "{event_id_prefix}-0000-4000-8000-{:012x}",
        2 * i + 1
    ));
    end["time"] = json!(ended.to_string());
    end["id"] = json!(format!(
        "{delivery_id_prefix}-0000-4000-8000-{:012x}",
        2 * i + 1
    ));
    (start, end)
}
