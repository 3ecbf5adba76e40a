//! Fixtures for unit tests: the project's own sample events and the public samples beside it.

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

pub fn shared_sample(name: &str) -> Value {
    let path = format!("{}/../../shared/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
