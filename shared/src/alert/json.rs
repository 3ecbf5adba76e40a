//! Alerts for pipelines and SIEMs: one JSON object, `schema_version` 1 (`docs/alerts.md`).

use super::facts::Facts;
use serde_json::{Map, Value, json};

pub const SCHEMA_VERSION: u32 = 1;

pub fn body(f: &Facts) -> String {
    let details: Vec<Value> = f
        .details
        .iter()
        .map(|(label, value)| json!({"label": label.trim_end_matches(':'), "value": value}))
        .collect();
    let links: Map<String, Value> = f
        .links
        .iter()
        .map(|l| (l.key.to_string(), Value::String(l.url.clone())))
        .collect();
    let principal = f.principal.as_ref().map(|p| {
        json!({
            "name": f.who,
            "arn": p.arn,
            "type": p.identity_type,
            "from_transcript": p.from_transcript,
        })
    });
    let alert = json!({
        "schema_version": SCHEMA_VERSION,
        "alert_id": f.alert_id,
        "kind": f.kind,
        "severity": f.severity.as_str(),
        "rule_id": f.rule_id,
        "title": f.title,
        "why": f.why,
        "details": details,
        "action": {"code": f.action_code, "text": f.action},
        "session": {
            "id": f.session_id,
            "state": f.state,
            "principal": principal,
            "mfa": f.mfa,
            "source_ip": f.source_ip,
            "user_agent": f.user_agent,
            "instance": f.instance,
            "document": f.document,
            "reason": f.reason,
            "account": f.account,
            "account_name": f.account_name,
            "region": f.region,
            "started_at": f.started_at.map(|t| t.to_string()),
            "ended_at": f.ended_at.map(|t| t.to_string()),
        },
        "links": links,
    });
    alert.to_string()
}
