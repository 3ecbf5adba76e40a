//! transcript-scanner: one CloudWatch Logs batch (one session's log stream) in; forbidden
//! commands found, recorded, alerted and, where the rule says so, the session terminated.

use crate::alert::{ActionTaken, Alert, AlertContext};
use crate::config::WardenConfig;
use crate::finding::FindingRecord;
use crate::handlers::actions::{ActionError, TerminationReport, alert_once, terminate_once};
use crate::handlers::update_session;
use crate::metrics::Metrics;
use crate::ports::{Notifier, SessionStore, Terminator};
use crate::redact::mask_secrets;
use crate::rules::{RuleAction, RuleSet};
use crate::session::{SessionRecord, SessionState, TranscriptSeen, min_some};
use crate::transcript::payload::{
    LogsBatch, PayloadError, TranscriptChunk, chunk_of, decode_kinesis_record, decode_subscription,
    is_kinesis_event, kinesis_records,
};
use crate::transcript::scan::TranscriptScanner;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub struct Scanner<S, N, T> {
    store: S,
    notifier: N,
    terminator: T,
    config: WardenConfig,
    rules: RuleSet,
}

/// What one batch did.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    pub session_id: String,
    pub control_message: bool,
    pub log_events: usize,
    pub lines: usize,
    /// Findings in this batch (also those an earlier delivery already recorded).
    pub findings: Vec<FindingRecord>,
    pub new_findings: usize,
    pub alerts: Vec<Alert>,
    pub terminations: Vec<TerminationReport>,
    pub state: Option<SessionState>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    #[error("rejected batch: {0}")]
    Payload(#[from] PayloadError),
    #[error("rejected batch: log stream `{0}` is not a Session Manager session id")]
    NotASession(String),
    #[error(transparent)]
    Action(#[from] ActionError),
}

impl From<crate::ports::StoreError> for ScannerError {
    fn from(e: crate::ports::StoreError) -> Self {
        ScannerError::Action(ActionError::Store(e))
    }
}

impl ScannerError {
    pub fn kind(&self) -> &'static str {
        match self {
            ScannerError::Payload(PayloadError::TooLarge { .. }) => "DecompressionLimit",
            ScannerError::Payload(_) | ScannerError::NotASession(_) => "RejectedBatch",
            ScannerError::Action(ActionError::Store(_)) => "StoreError",
            ScannerError::Action(ActionError::Notify(_)) => "NotifyError",
            ScannerError::Action(ActionError::Terminate(_)) => "TerminateError",
        }
    }
}

impl<S: SessionStore, N: Notifier, T: Terminator> Scanner<S, N, T> {
    pub fn new(store: S, notifier: N, terminator: T, config: WardenConfig, rules: RuleSet) -> Self {
        Scanner {
            store,
            notifier,
            terminator,
            config,
            rules,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub async fn handle(&self, raw: &Value) -> Result<Scanned, ScannerError> {
        let batch = decode_subscription(raw, self.config.max_transcript_bytes)?;
        self.handle_batch(&batch).await
    }

    /// One CloudWatch Logs batch, however it arrived.
    pub async fn handle_batch(&self, batch: &LogsBatch) -> Result<Scanned, ScannerError> {
        if batch.is_control_message() {
            return Ok(Scanned {
                control_message: true,
                ..Scanned::default()
            });
        }
        // The subscription's `owner` is the account the log group (and so the session) is in.
        let account = Some(batch.owner.trim()).filter(|o| !o.is_empty());
        let session_id = self.config.accounts.key(account, &session_id_of(batch)?);
        match self.process(batch, session_id.clone()).await {
            Ok(scanned) => Ok(scanned),
            Err(error) => {
                self.note_failure(&session_id).await;
                Err(error)
            }
        }
    }

    /// Marks the session's transcript as failing, so the reaper can act if the retries fail
    /// too. Best effort: the store may be what failed.
    async fn note_failure(&self, session_id: &str) {
        let now = Timestamp::now();
        let marked = update_session(&self.store, session_id, |r| {
            r.transcript_failed_at = r.transcript_failed_at.max(Some(now));
            true
        })
        .await;
        if let Err(error) = marked {
            tracing::warn!(session_id, %error, "could not mark the transcript batch as failed");
        }
    }

    async fn process(
        &self,
        batch: &LogsBatch,
        session_id: String,
    ) -> Result<Scanned, ScannerError> {
        let (seen, findings, lines) = self.scan(batch, &session_id);
        let keys: Vec<String> = findings.iter().map(FindingRecord::key).collect();
        let owner = Some(batch.owner.trim()).filter(|o| !o.is_empty());
        let mut record = update_session(&self.store, &session_id, |r| {
            let mut noted = r.note_transcript(&seen);
            if r.account.is_none() && owner.is_some() {
                r.account = owner.map(str::to_string);
                noted = true;
            }
            r.note_findings(keys.iter().map(String::as_str)) || noted
        })
        .await?
        .record;
        let mut scanned = Scanned {
            session_id,
            log_events: batch.log_events.len(),
            lines,
            ..Scanned::default()
        };
        for finding in &findings {
            if self.store.record_finding(finding).await? {
                scanned.new_findings += 1;
            }
        }
        record = self.act_on(record, &findings, &mut scanned).await?;
        scanned.findings = findings;
        scanned.state = Some(record.state);
        Ok(scanned)
    }

    /// Runs the batch's log events, in order, through the detection pipeline.
    fn scan(
        &self,
        batch: &LogsBatch,
        session_id: &str,
    ) -> (TranscriptSeen, Vec<FindingRecord>, usize) {
        let mut scanner = TranscriptScanner::new(&self.rules);
        let found_at = Timestamp::now();
        let mut seen = TranscriptSeen {
            log_group: Some(batch.log_group.clone()).filter(|g| !g.is_empty()),
            processed_at: Some(found_at),
            ..TranscriptSeen::default()
        };
        // In transcript order; one finding per log event and rule (the first line it fires on),
        // and at most MAX_FINDINGS_PER_RULE of a rule per batch: a session that repeats one
        // command thousands of times must not turn a batch into thousands of writes.
        let mut findings: Vec<FindingRecord> = Vec::new();
        let mut per_rule: HashMap<String, usize> = HashMap::new();
        let mut suppressed = 0usize;
        let count = batch.log_events.len();
        for (index, event) in batch.log_events.iter().enumerate() {
            let chunk = chunk_of(&event.message);
            let at = Timestamp::from_millisecond(event.timestamp).ok();
            seen.first_event_at = min_some(seen.first_event_at, at);
            seen.last_event_at = seen.last_event_at.max(at);
            if let TranscriptChunk::Stream(record) = &chunk {
                seen.owner_arn = seen
                    .owner_arn
                    .take()
                    .or(record.user_identity.as_ref().and_then(|u| u.arn.clone()));
                seen.target = seen
                    .target
                    .take()
                    .or(record.target.as_ref().and_then(|t| t.id.clone()));
                seen.run_as_user = seen.run_as_user.take().or(record.run_as_user.clone());
                seen.region = seen.region.take().or(record.aws_region.clone());
            }
            let mut hits = Vec::new();
            scanner.feed_chunk(&chunk, &mut hits);
            if index + 1 == count {
                scanner.finish(&mut hits);
            }
            let mut fired_here = HashSet::new();
            for hit in hits {
                if !fired_here.insert(hit.rule.id.as_str()) {
                    continue;
                }
                let recorded = per_rule.entry(hit.rule.id.clone()).or_default();
                if *recorded >= MAX_FINDINGS_PER_RULE {
                    suppressed += 1;
                    continue;
                }
                *recorded += 1;
                findings.push(FindingRecord {
                    session_id: session_id.to_string(),
                    log_event_id: event.id.clone(),
                    rule_id: hit.rule.id.clone(),
                    title: hit.rule.title.clone(),
                    category: hit.rule.category.clone(),
                    severity: hit.rule.severity,
                    action: hit.rule.action,
                    attack: hit.rule.attack.clone(),
                    command: mask_secrets(&hit.command),
                    normalized: mask_secrets(&hit.normalized),
                    line: hit.line,
                    log_event_time: at,
                    found_at,
                });
            }
        }
        if suppressed > 0 {
            tracing::warn!(
                session_id,
                suppressed,
                cap = MAX_FINDINGS_PER_RULE,
                "a rule fired more often in one batch than is recorded; the first ones are kept"
            );
        }
        (seen, findings, scanner.lines_seen())
    }

    /// One alert for the batch, naming every rule that fired with its command; the session
    /// is terminated once if any of them says so. Record-tier findings are context: stored with
    /// the session (above), never paged.
    async fn act_on(
        &self,
        record: SessionRecord,
        findings: &[FindingRecord],
        scanned: &mut Scanned,
    ) -> Result<SessionRecord, ScannerError> {
        let mut alertable: Vec<&FindingRecord> = findings
            .iter()
            .filter(|f| f.action != RuleAction::Record)
            .collect();
        // Worst first; transcript order among equals (the sort is stable).
        alertable.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let Some(top) = alertable.first() else {
            return Ok(record);
        };
        let terminating = alertable.iter().find(|f| f.action == RuleAction::Terminate);
        let (record, action) = match terminating {
            Some(rule) => {
                let reason = format!("rule:{}", rule.rule_id);
                let (record, step) =
                    terminate_once(&self.store, &self.terminator, record, &reason).await?;
                scanned
                    .terminations
                    .extend(step.report(&record.key(), &reason));
                let detail = match step.detail {
                    Some(d) => Some(format!("{reason}; {d}")),
                    None => Some(reason),
                };
                (record, ActionTaken::Termination(step.outcome, detail))
            }
            None => (record, ActionTaken::AlertOnly),
        };
        let title = match alertable.len() {
            1 => top.title.clone(),
            n => format!("{} and {} more", top.title, n - 1),
        };
        let why = match alertable.as_slice() {
            [only] => format!(
                "rule {} ({}{}) matched a command typed in the session",
                only.rule_id,
                only.category,
                if only.attack.is_empty() {
                    String::new()
                } else {
                    format!("; ATT&CK {}", only.attack.join(", "))
                }
            ),
            many => format!("{} rules matched commands typed in the session", many.len()),
        };
        let mut extra = Vec::new();
        for finding in alertable.iter().take(MAX_FINDINGS_LISTED) {
            if alertable.len() > 1 {
                extra.push((
                    "Rule:",
                    format!(
                        "{} [{}] {} (line {})",
                        finding.rule_id,
                        finding.severity.as_str(),
                        finding.title,
                        finding.line
                    ),
                ));
            }
            extra.push(("Command:", finding.command.clone()));
            if finding.normalized != finding.command {
                extra.push(("Normalised:", finding.normalized.clone()));
            }
        }
        if alertable.len() > MAX_FINDINGS_LISTED {
            extra.push((
                "More:",
                format!(
                    "{} more findings (warden sessions show {})",
                    alertable.len() - MAX_FINDINGS_LISTED,
                    record.key()
                ),
            ));
        }
        // The same findings make the same key, so a redelivered batch is not alerted twice.
        let alert_key = format!("findings:{}", batch_key(alertable.iter().map(|f| f.key())));
        let context = AlertContext {
            session: &record,
            kind: "finding",
            alert_key: &alert_key,
            severity: top.severity,
            rule_id: Some(&top.rule_id),
            title: &title,
            why: &why,
            extra,
            action,
            event_id: None,
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
            scanned.alerts.push(alert);
        }
        Ok(record)
    }

    /// A Kinesis event from the central stream (organization mode): each record is one
    /// CloudWatch Logs batch. Records are handled in stream order; at the first that fails, the
    /// rest wait, and the answer names it as Lambda's partial batch response asks
    /// (`ReportBatchItemFailures`): Lambda retries from there, so a shard keeps its order and
    /// the records before it are not run again. Returns the scans and the failed record.
    pub async fn handle_kinesis(
        &self,
        raw: &Value,
    ) -> Result<(Vec<Scanned>, Option<(String, ScannerError)>), ScannerError> {
        let records = kinesis_records(raw)?;
        let mut done = Vec::with_capacity(records.len());
        for record in &records {
            let outcome = match decode_kinesis_record(record, self.config.max_transcript_bytes) {
                Ok(batch) => self.handle_batch(&batch).await,
                Err(e) => Err(ScannerError::Payload(e)),
            };
            match outcome {
                Ok(scanned) => done.push(scanned),
                Err(error) => return Ok((done, Some((record.sequence_number.clone(), error)))),
            }
        }
        Ok((done, None))
    }

    async fn handle_kinesis_invocation(&self, raw: &Value) -> Result<Value, ScannerError> {
        let mut metrics = Metrics::new();
        let (done, failed) = match self.handle_kinesis(raw).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(error = %e, kind = e.kind(), "unreadable Kinesis event");
                metrics.count("RejectedInputs", 1.0);
                metrics.count("Errors", 1.0);
                metrics.emit("transcript-scanner");
                return Err(e);
            }
        };
        for scanned in &done {
            metrics.count("TranscriptLines", scanned.lines as f64);
            metrics.count("AlertsSent", scanned.alerts.len() as f64);
            metrics.count("Terminations", scanned.terminations.len() as f64);
        }
        let failures = match &failed {
            Some((sequence, error)) => {
                tracing::error!(error = %error, kind = error.kind(), sequence_number = %sequence,
                    "Kinesis record failed; Lambda retries from it");
                metrics.count("Errors", 1.0);
                vec![json!({"itemIdentifier": sequence})]
            }
            None => Vec::new(),
        };
        tracing::info!(
            batches = done.len(),
            failed = failures.len(),
            "scanned Kinesis records"
        );
        metrics.emit("transcript-scanner");
        Ok(json!({"batchItemFailures": failures}))
    }

    /// The Lambda entry point: control messages are acknowledged; a batch that cannot be
    /// processed is returned as an error so Lambda retries it and, after its retries, hands it to
    /// the dead-letter destination. A Kinesis event answers with its failed record instead.
    pub async fn handle_invocation(&self, raw: Value) -> Result<Value, ScannerError> {
        if is_kinesis_event(&raw) {
            return self.handle_kinesis_invocation(&raw).await;
        }
        let mut metrics = Metrics::new();
        let reply = match self.handle(&raw).await {
            Ok(done) if done.control_message => {
                tracing::info!("acknowledged a CloudWatch Logs control message");
                Ok(json!({"status": "control_message"}))
            }
            Ok(done) => {
                tracing::info!(
                    session_id = %done.session_id,
                    log_events = done.log_events,
                    lines = done.lines,
                    findings = done.findings.len(),
                    new_findings = done.new_findings,
                    alerts = done.alerts.len(),
                    terminations = done.terminations.len(),
                    "scanned transcript batch"
                );
                metrics.count("TranscriptLines", done.lines as f64);
                for finding in &done.findings {
                    let metric = match finding.action {
                        RuleAction::Record => "RecordedSignals".to_string(),
                        _ => format!("Findings_{}", finding.severity.as_str()),
                    };
                    metrics.count(metric, 1.0);
                }
                metrics.count("AlertsSent", done.alerts.len() as f64);
                metrics.count("Terminations", done.terminations.len() as f64);
                Ok(json!({
                    "status": "scanned",
                    "session_id": done.session_id,
                    "findings": done.findings.len(),
                    "alerts": done.alerts.len(),
                }))
            }
            Err(e) => {
                tracing::error!(error = %e, kind = e.kind(), "transcript batch failed; Lambda will retry it");
                match &e {
                    ScannerError::Payload(_) | ScannerError::NotASession(_) => {
                        metrics.count("DecodeErrors", 1.0);
                        metrics.count("RejectedInputs", 1.0);
                    }
                    ScannerError::Action(_) => {}
                }
                metrics.count("Errors", 1.0);
                Err(e)
            }
        };
        metrics.emit("transcript-scanner");
        reply
    }
}

/// Findings spelled out in one alert; the rest are counted (the session keeps them all).
const MAX_FINDINGS_LISTED: usize = 10;
/// Findings of one rule recorded per batch (see `Scanner::scan`).
pub const MAX_FINDINGS_PER_RULE: usize = 25;

/// A short stable digest of a batch's finding keys (FNV-1a, 64 bits): the alert's key.
fn batch_key(keys: impl Iterator<Item = String>) -> String {
    let mut keys: Vec<String> = keys.collect();
    keys.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in keys.join("\n").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Session Manager names the log stream after the session id.
fn session_id_of(batch: &LogsBatch) -> Result<String, ScannerError> {
    let id = batch.log_stream.trim();
    match crate::session_id::validate(id) {
        Ok(id) => Ok(id.to_string()),
        Err(_) => Err(ScannerError::NotASession(
            batch.log_stream.chars().take(120).collect(),
        )),
    }
}

#[cfg(test)]
mod tests;
