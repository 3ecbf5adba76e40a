//! A forbidden command found in a session's transcript, as recorded under the session.

use crate::policy::Severity;
use crate::rules::RuleAction;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// The session's store key (`crate::session::session_key`): its id, or `<account>/<id>` for
    /// a member account's session.
    pub session_id: String,
    /// The CloudWatch Logs event the command was in: with the rule, the de-duplication key.
    pub log_event_id: String,
    pub rule_id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub action: RuleAction,
    pub attack: Vec<String>,
    /// The command as typed, secrets masked.
    pub command: String,
    /// What the rule matched, secrets masked.
    pub normalized: String,
    /// Line within the scanned batch.
    pub line: usize,
    pub log_event_time: Option<Timestamp>,
    pub found_at: Timestamp,
}

impl FindingRecord {
    /// Unique within a session: one finding per log event and rule, however often the batch
    /// is delivered.
    pub fn key(&self) -> String {
        format!("{}#{}", self.log_event_id, self.rule_id)
    }
}
