//! session-recorder: one CloudTrail session API call in, the session recorded, risks acted on.

use crate::alert::{ActionTaken, Alert, AlertContext, AlertKey, render};
use crate::cloudtrail::{CloudTrailError, SessionCall, parse_event};
use crate::config::WardenConfig;
use crate::handlers::update_session;
use crate::metrics::Metrics;
use crate::policy::{Flag, FlagAction, FlagKind};
use crate::ports::{
    Notifier, NotifyError, SessionStore, StoreError, TerminateError, Terminated, Terminator,
};
use crate::session::{
    SessionRecord, SessionState, TerminationOutcome, TerminationRecord, record_id,
};
use jiff::Timestamp;
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationReport {
    pub session_id: String,
    pub reason: String,
    pub outcome: TerminationOutcome,
}

impl TerminationReport {
    pub fn dry_run(&self) -> bool {
        self.outcome == TerminationOutcome::WouldTerminate
    }
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
        let id = record_id(&event);
        let (mut record, applied) =
            update_session(&self.store, &id, |r| r.apply(&event, &assessment)).await?;
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
                let (updated, report) = self.terminate_once(record, flag.kind.as_str()).await?;
                record = updated;
                let action = ActionTaken::Termination(report.outcome, report.detail.clone());
                recorded
                    .terminations
                    .extend(report.fresh.then_some(TerminationReport {
                        session_id: record.session_id.clone(),
                        reason: flag.kind.as_str().to_string(),
                        outcome: report.outcome,
                    }));
                action
            } else {
                ActionTaken::AlertOnly
            };
            if assessment.exempt {
                continue;
            }
            let context = AlertContext {
                session: &record,
                kind: flag.kind.as_str(),
                severity: flag.severity,
                rule_id: None,
                title: flag_title(flag.kind),
                why: &flag.reason,
                action,
                event_id: Some(&event.event_id),
                local_zone: self.config.policy.business_hours.zone(),
            };
            if let Some(alert) = self.alert_once(&context).await? {
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

    /// Terminates the session for `reason` unless an earlier delivery already did, and records
    /// the outcome on the session.
    async fn terminate_once(
        &self,
        record: SessionRecord,
        reason: &str,
    ) -> Result<(SessionRecord, TerminationStep), RecorderError> {
        if let Some(done) = record
            .terminations
            .get(reason)
            .filter(|t| t.outcome != TerminationOutcome::Failed)
        {
            let step = TerminationStep {
                outcome: done.outcome,
                detail: done.detail.clone(),
                fresh: false,
            };
            return Ok((record, step));
        }
        let now = Timestamp::now();
        let (outcome, detail) = if record.state.is_over() {
            (
                TerminationOutcome::AlreadyEnded,
                Some(format!("session already {}", record.state.as_str())),
            )
        } else {
            match self.terminator.terminate(&record.session_id).await {
                Ok(Terminated::Now) => (TerminationOutcome::Terminated, None),
                Ok(Terminated::AlreadyEnded) => (TerminationOutcome::AlreadyEnded, None),
                Ok(Terminated::WouldHave) => (TerminationOutcome::WouldTerminate, None),
                Err(TerminateError::Rejected(why)) => (TerminationOutcome::Failed, Some(why)),
                Err(transient @ TerminateError::Unavailable(_)) => return Err(transient.into()),
            }
        };
        let entry = TerminationRecord {
            outcome,
            at: now,
            detail: detail.clone(),
        };
        let (record, _) = update_session(&self.store, &record.session_id, |r| {
            let before = r.terminations.get(reason).cloned();
            r.record_termination(reason, entry.clone());
            r.terminations.get(reason) != before.as_ref()
        })
        .await?;
        Ok((
            record,
            TerminationStep {
                outcome,
                detail,
                fresh: true,
            },
        ))
    }

    /// Publishes the alert unless it was sent before; marks it only after the notifier accepted it.
    async fn alert_once(&self, context: &AlertContext<'_>) -> Result<Option<Alert>, RecorderError> {
        let key = AlertKey {
            session_id: context.session.session_id.clone(),
            kind: context.kind.to_string(),
        };
        if self.store.alert_sent(&key).await? {
            return Ok(None);
        }
        let alert = render(context);
        self.notifier.publish(&alert).await?;
        self.store.mark_alert_sent(&key, Timestamp::now()).await?;
        Ok(Some(alert))
    }
}

struct TerminationStep {
    outcome: TerminationOutcome,
    detail: Option<String>,
    /// False when an earlier delivery already decided it.
    fresh: bool,
}

#[cfg(test)]
mod tests;
