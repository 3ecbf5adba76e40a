//! CloudWatch embedded metric format: metrics written as log lines, no API calls.

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "SessionWarden";

#[derive(Debug, Default)]
pub struct Metrics {
    counts: Vec<(String, f64)>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn count(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += value,
            None => self.counts.push((name, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// One EMF JSON line with every metric under the `Function` dimension.
    pub fn to_emf(&self, function: &str, timestamp_ms: i64) -> String {
        let definitions: Vec<Value> = self
            .counts
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": definitions,
                }]
            }),
        );
        line.insert("Function".into(), Value::String(function.to_string()));
        for (name, value) in &self.counts {
            line.insert(name.clone(), json!(value));
        }
        Value::Object(line).to_string()
    }

    pub fn emit(&self, function: &str) {
        if !self.is_empty() {
            println!(
                "{}",
                self.to_emf(function, jiff::Timestamp::now().as_millisecond())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_declares_and_carries_each_metric() {
        let mut m = Metrics::new();
        m.count("SessionsStarted", 1.0);
        m.count("Flag_no_mfa", 1.0);
        m.count("SessionsStarted", 1.0);
        let line: Value =
            serde_json::from_str(&m.to_emf("session-recorder", 1_700_000_000_000)).unwrap();
        assert_eq!(line["SessionsStarted"], 2.0);
        assert_eq!(line["Function"], "session-recorder");
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        assert_eq!(declared["Metrics"].as_array().unwrap().len(), 2);
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
