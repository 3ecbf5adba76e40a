//! Fixtures for unit tests: the project's own sample events and the payload fixtures in `tests/fixtures/`.

use crate::cloudtrail::{SessionApiEvent, parse_event};
use serde_json::Value;

pub fn event_json(file: &str) -> Value {
    let path = format!(
        "{}/../events/1-cloudtrail/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn event(file: &str) -> SessionApiEvent {
    parse_event(&event_json(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A payload fixture from `tests/fixtures/` (AWS shapes, values written for these tests).
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A valid custom rule, as an operator would add one, for rule-pack tests to vary.
pub const KUBECTL_RULE: &str = r#"
[[rule]]
id = "custom.kubectl_delete_namespace"
title = "Kubernetes namespace deleted"
category = "destructive"
severity = "high"
action = "alert"
patterns = ['^kubectl\s+delete\s+(ns|namespace)\s']
[rule.examples]
must_match = ["kubectl delete namespace prod"]
must_not_match = ["kubectl get namespace prod"]
"#;
