//! session-recorder: one CloudTrail session API call in, the session recorded, risks acted on.

use crate::alert::{ActionTaken, Alert, AlertContext};
use crate::cloudtrail::{CloudTrailError, SessionCall, parse_event};
use crate::config::WardenConfig;
pub use crate::handlers::actions::TerminationReport;
use crate::handlers::actions::{ActionError, alert_once, terminate_once};
use crate::handlers::update_session;
use crate::metrics::Metrics;
use crate::policy::{Flag, FlagAction, FlagKind};
use crate::ports::{Notifier, NotifyError, SessionStore, StoreError, TerminateError, Terminator};
use crate::session::{SessionState, record_id};
use serde_json::{Value, json};

pub struct Recorder<S, N, T> {
    store: S,
    notifier: N,
    terminator: T,
    config: WardenConfig,
}

/// What one event did, for logs, metrics and replay output.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The session's store key: its id, or `<account>/<id>` for a member account's session.
    pub session_id: String,
    pub call: SessionCall,
    pub event_id: String,
    /// False when the event had been applied before (a redelivery).
    pub applied: bool,
    pub state: SessionState,
    pub flags: Vec<Flag>,
    pub exempt: bool,
    /// Alerts published by this invocation (none on a redelivery that finds them sent).
    pub alerts: Vec<Alert>,
    /// Terminations decided by this invocation.
    pub terminations: Vec<TerminationReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("rejected event: {0}")]
    Rejected(#[from] CloudTrailError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Terminate(#[from] TerminateError),
}

impl From<ActionError> for RecorderError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Store(e) => RecorderError::Store(e),
            ActionError::Notify(e) => RecorderError::Notify(e),
            ActionError::Terminate(e) => RecorderError::Terminate(e),
        }
    }
}

impl RecorderError {
    /// A short name for the Lambda error type and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            RecorderError::Rejected(_) => "RejectedEvent",
            RecorderError::Store(_) => "StoreError",
            RecorderError::Notify(_) => "NotifyError",
            RecorderError::Terminate(_) => "TerminateError",
        }
    }

    /// Well-formed events that are not session calls: nothing to do, nothing to retry.
    pub fn is_unrelated_event(&self) -> bool {
        matches!(self, RecorderError::Rejected(e) if e.is_unrelated_event())
    }
}

fn flag_title(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::NoMfa => "Session started without MFA",
        FlagKind::OffHours => "Session started outside business hours",
        FlagKind::RootUser => "Root user started a session",
        FlagKind::Tunnel => "Tunnel session started (no transcript)",
        FlagKind::DeniedStart => "Session start denied",
        FlagKind::NoReason => "Session started without a change ticket",
    }
}

impl<S: SessionStore, N: Notifier, T: Terminator> Recorder<S, N, T> {
    pub fn new(store: S, notifier: N, terminator: T, config: WardenConfig) -> Self {
        Recorder {
            store,
            notifier,
            terminator,
            config,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    pub fn config(&self) -> &WardenConfig {
        &self.config
    }

    pub async fn handle(&self, raw: &Value) -> Result<Recorded, RecorderError> {
        let event = parse_event(raw)?;
        let assessment = self.config.policy.assess(&event);
        // Equal session ids in different accounts are different sessions.
        let id = self
            .config
            .accounts
            .key(event.account.as_deref(), &record_id(&event));
        let updated = update_session(&self.store, &id, |r| r.apply(&event, &assessment)).await?;
        let (mut record, applied) = (updated.record, updated.changed);
        let mut recorded = Recorded {
            session_id: id,
            call: event.call,
            event_id: event.event_id.clone(),
            applied,
            state: record.state,
            flags: assessment.flags.clone(),
            exempt: assessment.exempt,
            alerts: Vec::new(),
            terminations: Vec::new(),
        };
        for flag in &assessment.flags {
            let action = if assessment.exempt {
                ActionTaken::Exempt
            } else if flag.action == FlagAction::Terminate {
                let reason = flag.kind.as_str();
                let (updated, step) =
                    terminate_once(&self.store, &self.terminator, record, reason).await?;
                record = updated;
                recorded
                    .terminations
                    .extend(step.report(&record.key(), reason));
                ActionTaken::Termination(step.outcome, step.detail)
            } else {
                ActionTaken::AlertOnly
            };
            // Exempt principals, and flags a change ticket excused, are kept with the session.
            if assessment.exempt || flag.action == FlagAction::Record {
                continue;
            }
            let context = AlertContext {
                session: &record,
                kind: flag.kind.as_str(),
                alert_key: flag.kind.as_str(),
                severity: flag.severity,
                extra: Vec::new(),
                rule_id: None,
                title: flag_title(flag.kind),
                why: &flag.reason,
                action,
                event_id: Some(&event.event_id),
                local_zone: self.config.policy.business_hours.zone(),
                format: self.config.alert_format,
                account_name: self.config.accounts.name_of(record.account.as_deref()),
            };
            if let Some(alert) = alert_once(
                &self.store,
                &self.notifier,
                &context,
                self.config.alert_claim_lease,
            )
            .await?
            {
                recorded.alerts.push(alert);
            }
        }
        recorded.state = record.state;
        Ok(recorded)
    }

    /// The Lambda entry point. An event that is not a session call is acknowledged and logged;
    /// any other failure is returned so Lambda retries the event and, once its retries are spent,
    /// hands it to the dead-letter destination: nothing is dropped silently.
    pub async fn handle_invocation(&self, raw: Value) -> Result<Value, RecorderError> {
        let mut metrics = Metrics::new();
        let reply = match self.handle(&raw).await {
            Ok(done) => {
                tracing::info!(
                    session_id = %done.session_id,
                    call = done.call.api_name(),
                    event_id = %done.event_id,
                    applied = done.applied,
                    state = done.state.as_str(),
                    flags = ?done.flags.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(),
                    alerts = done.alerts.len(),
                    terminations = done.terminations.len(),
                    "recorded session event"
                );
                if done.applied {
                    metrics.count(format!("{}Calls", done.call.api_name()), 1.0);
                    for flag in &done.flags {
                        metrics.count(format!("Flag_{}", flag.kind.as_str()), 1.0);
                    }
                }
                metrics.count("AlertsSent", done.alerts.len() as f64);
                metrics.count("Terminations", done.terminations.len() as f64);
                Ok(json!({
                    "status": if done.applied { "recorded" } else { "duplicate" },
                    "session_id": done.session_id,
                    "state": done.state.as_str(),
                    "alerts": done.alerts.len(),
                }))
            }
            Err(e) if e.is_unrelated_event() => {
                tracing::warn!(error = %e, "ignored event that is not a session API call");
                metrics.count("RejectedInputs", 1.0);
                Ok(json!({"status": "ignored", "reason": e.to_string()}))
            }
            Err(e) => {
                tracing::error!(error = %e, kind = e.kind(), "session event failed; Lambda will retry it");
                if matches!(e, RecorderError::Rejected(_)) {
                    metrics.count("RejectedInputs", 1.0);
                }
                metrics.count("Errors", 1.0);
                Err(e)
            }
        };
        metrics.emit("session-recorder");
        reply
    }
}

#[cfg(test)]
mod tests;
