//! session-reaper: on a schedule, asks Session Manager which sessions are still open. Ending a
//! session with `exit`, an idle timeout or the maximum duration makes no API call, so this is
//! how the table learns it ended; it also records sessions CloudTrail never delivered, and
//! enforces the session limits.

use crate::alert::{ActionTaken, Alert, AlertContext};
use crate::config::{FailMode, WardenConfig};
use crate::directory::DescribedSession;
use crate::glob::any_matches;
use crate::handlers::actions::{ActionError, TerminationReport, alert_once, terminate_once};
use crate::handlers::update_session;
use crate::metrics::Metrics;
use crate::policy::Severity;
use crate::ports::{
    DirectoryError, Listing, Notifier, Place, SessionDirectory, SessionFilter, SessionStore,
    StoreError, Terminator,
};
use crate::session::SessionRecord;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Pages of `DescribeSessions` read per listing and run: 20 × 200 sessions.
const MAX_PAGES: usize = 20;
/// History look-ups (one API call each) per run; the rest wait for the next run.
const MAX_LOOKUPS: usize = 100;
/// A session neither active nor in the history this long after it started is over: Session
/// Manager keeps 30 days of history and no session lasts longer than a day.
const FORGOTTEN_AFTER: SignedDuration = SignedDuration::from_hours(48);
/// Lambda retries a failed batch twice, one and two minutes later: a failure older than this
/// was not cured by the retries.
const RETRY_WINDOW: SignedDuration = SignedDuration::from_mins(5);
/// Documents that run a command rather than an interactive shell: no streamed transcript.
const NON_SHELL_DOCUMENTS: &[&str] = &[
    "AWS-StartInteractiveCommand",
    "AWS-StartNonInteractiveCommand",
];

pub struct Reaper<S, N, T, D> {
    store: S,
    notifier: N,
    terminator: T,
    directory: D,
    config: WardenConfig,
    budget: std::time::Duration,
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct Reaped {
    pub active_in_table: usize,
    pub active_in_session_manager: usize,
    /// Sessions this run closed, with the end time it recorded.
    pub ended: Vec<(String, Option<Timestamp>)>,
    /// Sessions this run recorded from `DescribeSessions` alone.
    pub recorded: Vec<String>,
    pub alerts: Vec<Alert>,
    pub terminations: Vec<TerminationReport>,
    /// Per-session problems; they never stop the run.
    pub problems: Vec<String>,
    /// True when the batch, look-up limit or time budget left work for the next run.
    pub more_next_time: bool,
    /// The accounts and regions visited: `own account`, or `<account> <region>`.
    pub visited: Vec<String>,
    /// The accounts and regions left for the next run, with why and what waits there.
    pub skipped: Vec<String>,
}

/// An account and region the reaper asks Session Manager in. `None`: the functions' own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Visit {
    pub fn place(&self) -> Place<'_> {
        Place {
            account: self.account.as_deref(),
            region: self.region.as_deref(),
        }
    }

    /// `own account`, `222233334444`, `222233334444 us-east-1`, `own account us-east-1`.
    pub fn label(&self) -> String {
        let account = self.account.as_deref().unwrap_or("own account");
        match &self.region {
            Some(region) => format!("{account} {region}"),
            None => account.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReaperError {
    #[error("rejected schedule event: {0}")]
    NotAScheduleEvent(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReaperError {
    pub fn kind(&self) -> &'static str {
        match self {
            ReaperError::NotAScheduleEvent(_) => "RejectedEvent",
            ReaperError::Directory(_) => "DirectoryError",
            ReaperError::Store(_) => "StoreError",
        }
    }
}

/// A risk the reaper alerts on.
struct Finding<'a> {
    kind: &'static str,
    severity: Severity,
    title: &'static str,
    why: String,
    terminate: bool,
    described: Option<&'a DescribedSession>,
}

/// The time a schedule event fired: the reaper's "now", so a replay is deterministic.
pub fn schedule_time(event: &Value) -> Result<Timestamp, ReaperError> {
    let reject = |why: &str| ReaperError::NotAScheduleEvent(why.to_string());
    if event.get("detail-type").and_then(Value::as_str) != Some("Scheduled Event") {
        return Err(reject("`detail-type` is not `Scheduled Event`"));
    }
    let time = event
        .get("time")
        .and_then(Value::as_str)
        .ok_or_else(|| reject("no `time`"))?;
    time.parse()
        .map_err(|e| reject(&format!("`time` {time:?}: {e}")))
}

impl<S: SessionStore, N: Notifier, T: Terminator, D: SessionDirectory> Reaper<S, N, T, D> {
    pub fn new(store: S, notifier: N, terminator: T, directory: D, config: WardenConfig) -> Self {
        let budget = std::time::Duration::from_secs(u64::from(config.reaper.budget_seconds));
        Reaper {
            store,
            notifier,
            terminator,
            directory,
            config,
            budget,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(&self, event: &Value) -> Result<Reaped, ReaperError> {
        let now = schedule_time(event)?;
        self.run(now).await
    }

    /// Runs with at most `budget` of wall-clock time for visiting member accounts and regions
    /// (`WARDEN_REAPER_BUDGET_SECONDS`); the functions' own account is always visited.
    pub fn with_budget(mut self, budget: std::time::Duration) -> Self {
        self.budget = budget;
        self
    }

    pub async fn run(&self, now: Timestamp) -> Result<Reaped, ReaperError> {
        let started = std::time::Instant::now();
        let mut reaped = Reaped::default();
        let in_table = self
            .store
            .list(SessionFilter {
                active_only: true,
                limit: self.config.reaper.batch,
                // The oldest are the likeliest to have ended; the rest wait for the next run.
                oldest_first: true,
            })
            .await?;
        reaped.more_next_time |= in_table.len() >= self.config.reaper.batch;
        reaped.active_in_table = in_table.len();
        let mut lookups = MAX_LOOKUPS;
        for (visit, records) in self.visits(&in_table) {
            let own = visit.account.is_none() && visit.region.is_none();
            if !own && started.elapsed() >= self.budget {
                reaped.skipped.push(format!(
                    "{}: {} active sessions in the table wait for the next run (time budget of \
                     {}s spent)",
                    visit.label(),
                    records.len(),
                    self.budget.as_secs()
                ));
                reaped.more_next_time = true;
                continue;
            }
            match self
                .visit(&visit, &records, now, &mut lookups, &mut reaped)
                .await
            {
                Ok(()) => reaped.visited.push(visit.label()),
                // The functions' own account failing fails the run, as it always did; a member
                // account that cannot be read is named and the run goes on.
                Err(e) if own => return Err(e),
                Err(e) => reaped.problems.push(format!("{}: {e}", visit.label())),
            }
        }
        Ok(reaped)
    }

    /// The accounts and regions to visit, each with the table's active sessions there: the
    /// functions' own, those the table has sessions in, and the configured member accounts
    /// in the configured regions; the oldest session's first, those with none after.
    fn visits<'r>(&self, in_table: &'r [SessionRecord]) -> Vec<(Visit, Vec<&'r SessionRecord>)> {
        let own_region = self.config.region.as_deref();
        let mut visits: Vec<(Visit, Vec<&SessionRecord>)> = Vec::new();
        let mut add = |visit: Visit, record: Option<&'r SessionRecord>| {
            let index = match visits.iter().position(|(v, _)| *v == visit) {
                Some(index) => index,
                None => {
                    visits.push((visit, Vec::new()));
                    visits.len() - 1
                }
            };
            visits[index].1.extend(record);
        };
        // Oldest first: the table's order.
        for record in in_table {
            let region = Place::of(record)
                .region
                .filter(|r| own_region.is_some_and(|own| own != *r))
                .map(str::to_string);
            let visit = Visit {
                account: record.keyed_account.clone(),
                region: if record.keyed_account.is_some() && own_region.is_none() {
                    Place::of(record).region.map(str::to_string)
                } else {
                    region
                },
            };
            add(visit, Some(record));
        }
        add(Visit::default(), None);
        let accounts = &self.config.accounts;
        let regions: Vec<Option<String>> = if accounts.member_regions.is_empty() {
            vec![None]
        } else {
            accounts
                .member_regions
                .iter()
                .map(|r| Some(r.clone()).filter(|r| Some(r.as_str()) != own_region))
                .collect()
        };
        for member in accounts
            .members
            .iter()
            .filter(|m| !accounts.is_home(Some(m)))
        {
            for region in &regions {
                add(
                    Visit {
                        account: Some(member.clone()),
                        region: region.clone(),
                    },
                    None,
                );
            }
        }
        // The functions' own account, when the table has nothing waiting there, comes after the
        // visits with sessions waiting and before the configured ones without.
        if let Some(own) = visits
            .iter()
            .position(|(v, r)| *v == Visit::default() && r.is_empty())
        {
            let own = visits.remove(own);
            let first_empty = visits
                .iter()
                .position(|(_, r)| r.is_empty())
                .unwrap_or(visits.len());
            visits.insert(first_empty, own);
        }
        visits
    }

    /// One account and region: its open sessions compared with the table's active ones there.
    async fn visit(
        &self,
        visit: &Visit,
        records: &[&SessionRecord],
        now: Timestamp,
        lookups: &mut usize,
        reaped: &mut Reaped,
    ) -> Result<(), ReaperError> {
        let place = visit.place();
        let open = self.list(place, Listing::Active, reaped).await?;
        reaped.active_in_session_manager += open.len();
        let ended_elsewhere: Vec<&SessionRecord> = records
            .iter()
            .copied()
            .filter(|r| !open.contains_key(&r.session_id))
            .collect();
        reaped.more_next_time |= ended_elsewhere.len() > *lookups;
        let take = ended_elsewhere.len().min(*lookups);
        *lookups -= take;
        for record in ended_elsewhere.into_iter().take(take) {
            if let Err(problem) = self.close(place, record, now, reaped).await {
                reaped.problems.push(format!("{}: {problem}", record.key()));
            }
        }
        for described in open.values() {
            if let Err(problem) = self.check_open(visit, described, now, reaped).await {
                reaped.problems.push(format!(
                    "{}: {problem}",
                    self.config
                        .accounts
                        .key(visit.account.as_deref(), &described.session_id)
                ));
            }
        }
        Ok(())
    }

    /// Every session of one listing in `place`, up to the page limit, by id.
    async fn list(
        &self,
        place: Place<'_>,
        listing: Listing,
        reaped: &mut Reaped,
    ) -> Result<BTreeMap<String, DescribedSession>, ReaperError> {
        let mut sessions = BTreeMap::new();
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let page = self.directory.describe(place, listing, None, token).await?;
            sessions.extend(page.sessions.into_iter().map(|s| (s.session_id.clone(), s)));
            token = page.next_token;
            if token.is_none() {
                return Ok(sessions);
            }
        }
        reaped.more_next_time = true;
        Ok(sessions)
    }

    /// A session the table thinks is active but Session Manager does not list as open.
    async fn close(
        &self,
        place: Place<'_>,
        record: &SessionRecord,
        now: Timestamp,
        reaped: &mut Reaped,
    ) -> Result<(), String> {
        let page = self
            .directory
            .describe(place, Listing::History, Some(&record.session_id), None)
            .await
            .map_err(|e| e.to_string())?;
        let described = match page
            .sessions
            .into_iter()
            .find(|s| s.session_id == record.session_id)
        {
            Some(described) => described,
            None => {
                let started = record.started_at.or(record.last_event_at);
                let forgotten = started.is_some_and(|t| now.duration_since(t) > FORGOTTEN_AFTER);
                if !forgotten {
                    // Not listed yet: the API may lag behind CloudTrail. Look again next run.
                    return Ok(());
                }
                DescribedSession {
                    session_id: record.session_id.clone(),
                    target: None,
                    status: Some("no longer known to Session Manager".to_string()),
                    start_date: None,
                    end_date: Some(now),
                    document_name: None,
                    owner: None,
                    reason: None,
                }
            }
        };
        let updated = update_session(&self.store, &record.key(), |r| {
            r.note_described(&described, now)
        })
        .await
        .map_err(|e| e.to_string())?;
        let (closed, changed) = (updated.record, updated.changed);
        if changed && closed.state.is_over() {
            reaped.ended.push((closed.key(), closed.ended_at));
        }
        Ok(())
    }

    /// A session Session Manager lists as open: record it if CloudTrail never did, and check
    /// its limits.
    async fn check_open(
        &self,
        visit: &Visit,
        described: &DescribedSession,
        now: Timestamp,
        reaped: &mut Reaped,
    ) -> Result<(), String> {
        // DescribeSessions answers for the account it was called in.
        let accounts = &self.config.accounts;
        let home = visit.account.as_deref().or(accounts.home.as_deref());
        let key = accounts.key(home, &described.session_id);
        let updated = update_session(&self.store, &key, |r| {
            let mut changed = r.note_described(described, now);
            if r.account.is_none() && home.is_some() {
                r.account = home.map(str::to_string);
                changed = true;
            }
            changed
        })
        .await
        .map_err(|e| e.to_string())?;
        let record = updated.record;
        if updated.created {
            reaped.recorded.push(record.key());
        }
        if record.exempt || record.state.is_over() {
            return Ok(());
        }
        let mut record = record;
        for finding in self.findings(&record, described, now) {
            record = self
                .act(record, &finding, reaped)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn findings<'a>(
        &self,
        record: &SessionRecord,
        described: &'a DescribedSession,
        now: Timestamp,
    ) -> Vec<Finding<'a>> {
        let settings = &self.config.reaper;
        let age = record.started_at.map(|t| now.duration_since(t));
        let older_than =
            |minutes: u32| age.is_some_and(|a| a > SignedDuration::from_mins(i64::from(minutes)));
        let closed = settings.fail_mode == FailMode::Closed;
        let mut findings = Vec::new();
        if record.start_event_id.is_none() && older_than(settings.unrecorded_grace_minutes) {
            findings.push(Finding {
                kind: "unrecorded_session",
                severity: Severity::High,
                title: "Session with no CloudTrail record",
                why: format!(
                    "Session Manager lists this session as {}, but no StartSession event reached Session Warden \
                     within {} minutes: check the trail and the EventBridge rule",
                    described.status.as_deref().unwrap_or("open"),
                    settings.unrecorded_grace_minutes
                ),
                terminate: false,
                described: Some(described),
            });
        }
        if let Some(limit) = settings.max_session_minutes.filter(|&m| older_than(m)) {
            findings.push(Finding {
                kind: "max_duration",
                severity: Severity::Medium,
                title: "Session exceeded the maximum duration",
                why: format!("open for more than {limit} minutes (WARDEN_MAX_SESSION_MINUTES)"),
                terminate: true,
                described: Some(described),
            });
        }
        if self.is_shell(record) {
            let grace = settings.transcript_grace_minutes;
            if grace > 0 && record.transcript.is_none() && older_than(grace) {
                findings.push(Finding {
                    kind: "no_transcript",
                    severity: if closed { Severity::High } else { Severity::Medium },
                    title: "Shell session with no transcript",
                    why: format!(
                        "no transcript reached the scanner within {grace} minutes: session logging may be off, \
                         pointed at another log group, or the agent tampered with"
                    ),
                    terminate: closed,
                    described: Some(described),
                });
            }
            let silence = settings.transcript_silence_minutes;
            let last_logged = record.transcript.as_ref().and_then(|t| t.last_event_at);
            if let Some(last) = last_logged.filter(|last| {
                silence > 0
                    && described.status.as_deref() == Some("Connected")
                    && now.duration_since(*last) > SignedDuration::from_mins(i64::from(silence))
            }) {
                findings.push(Finding {
                    kind: "transcript_stopped",
                    severity: if closed { Severity::High } else { Severity::Medium },
                    title: "Session transcript stopped arriving",
                    why: format!(
                        "Session Manager lists the session as Connected, but the last transcript log event was at \
                         {last}, more than {silence} minutes ago (WARDEN_TRANSCRIPT_SILENCE_MINUTES), longer than \
                         Session Manager lets an idle session live: session logging may have been turned off or \
                         the agent tampered with mid-session, or a command has printed nothing for that long"
                    ),
                    terminate: closed,
                    described: Some(described),
                });
            }
            let failed = record.transcript_failed_at.filter(|failed| {
                let cured = record
                    .transcript
                    .as_ref()
                    .and_then(|t| t.processed_at)
                    .is_some_and(|ok| ok > *failed);
                !cured && now.duration_since(*failed) > RETRY_WINDOW
            });
            if let Some(failed) = failed {
                findings.push(Finding {
                    kind: "transcript_unprocessable",
                    severity: Severity::High,
                    title: "Session transcript could not be scanned",
                    why: format!(
                        "a batch of the transcript failed processing at {failed} and Lambda's retries did not \
                         cure it; it is in the scanner's dead-letter queue"
                    ),
                    terminate: closed,
                    described: Some(described),
                });
            }
        }
        findings
    }

    /// Interactive shells are the sessions that must have a transcript.
    fn is_shell(&self, record: &SessionRecord) -> bool {
        let document = record
            .document
            .as_deref()
            .unwrap_or(crate::cloudtrail::DEFAULT_SHELL_DOCUMENT);
        !any_matches(&self.config.policy.tunnel_documents, document)
            && !NON_SHELL_DOCUMENTS.contains(&document)
    }

    async fn act(
        &self,
        record: SessionRecord,
        finding: &Finding<'_>,
        reaped: &mut Reaped,
    ) -> Result<SessionRecord, ActionError> {
        let (record, action) = if finding.terminate {
            let (record, step) =
                terminate_once(&self.store, &self.terminator, record, finding.kind).await?;
            reaped
                .terminations
                .extend(step.report(&record.key(), finding.kind));
            (record, ActionTaken::Termination(step.outcome, step.detail))
        } else {
            (record, ActionTaken::AlertOnly)
        };
        let mut extra = Vec::new();
        if let Some(described) = finding.described {
            extra.push((
                "Status:",
                described
                    .status
                    .clone()
                    .unwrap_or_else(|| "unknown".to_string()),
            ));
        }
        let context = AlertContext {
            session: &record,
            kind: finding.kind,
            alert_key: finding.kind,
            severity: finding.severity,
            rule_id: None,
            title: finding.title,
            why: &finding.why,
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
            reaped.alerts.push(alert);
        }
        Ok(record)
    }

    /// The Lambda entry point: the run's summary, or an error when Session Manager or the table
    /// cannot be read at all (the next scheduled run tries again).
    pub async fn handle_invocation(&self, event: Value) -> Result<Value, ReaperError> {
        let mut metrics = Metrics::new();
        let reply = match self.handle(&event).await {
            Ok(done) => {
                for problem in &done.problems {
                    tracing::warn!(%problem, "session skipped this run");
                }
                tracing::info!(
                    active_in_table = done.active_in_table,
                    active_in_session_manager = done.active_in_session_manager,
                    ended = done.ended.len(),
                    recorded = done.recorded.len(),
                    alerts = done.alerts.len(),
                    terminations = done.terminations.len(),
                    problems = done.problems.len(),
                    visited = ?done.visited,
                    skipped = ?done.skipped,
                    more_next_time = done.more_next_time,
                    "reaper run finished"
                );
                metrics.count("SessionsEnded", done.ended.len() as f64);
                metrics.count("UnrecordedSessions", done.recorded.len() as f64);
                metrics.count("AlertsSent", done.alerts.len() as f64);
                metrics.count("Terminations", done.terminations.len() as f64);
                metrics.count("ReaperProblems", done.problems.len() as f64);
                Ok(json!({
                    "status": "reaped",
                    "ended": done.ended.len(),
                    "recorded": done.recorded.len(),
                    "alerts": done.alerts.len(),
                    "terminations": done.terminations.len(),
                    "problems": done.problems.len(),
                    "visited": done.visited,
                    "skipped": done.skipped,
                    "more_next_time": done.more_next_time,
                }))
            }
            Err(e) => {
                tracing::error!(error = %e, kind = e.kind(), "reaper run failed");
                metrics.count("Errors", 1.0);
                Err(e)
            }
        };
        metrics.emit("session-reaper");
        reply
    }
}

#[cfg(test)]
mod tests;
