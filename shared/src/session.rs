//! The session record and how each API call changes it.
//!
//! Every change is a merge that is idempotent (an event already applied is a no-op) and
//! commutative (state only moves up `active < ended < terminated`, end times keep the earliest
//! report, resume times the latest), so any delivery order ends in the same record.

use crate::cloudtrail::{CallFailure, SessionApiEvent, SessionCall};
use crate::directory::DescribedSession;
use crate::identity::{Mfa, MfaEvidence, Principal};
use crate::policy::{Assessment, FlagAction, FlagKind, Severity};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Event ids kept per session for de-duplication; a session has few API calls, but the plugin
/// resumes automatically on network errors, so bound it anyway.
pub const MAX_APPLIED_EVENTS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    #[default]
    Active,
    Ended,
    Terminated,
    /// A refused `StartSession`: there never was a session.
    Denied,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Ended => "ended",
            SessionState::Terminated => "terminated",
            SessionState::Denied => "denied",
        }
    }

    pub fn is_over(self) -> bool {
        self != SessionState::Active
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagRecord {
    pub severity: Severity,
    pub action: FlagAction,
    pub reason: String,
}

/// What Session Warden itself did to end a session, keyed by the reason it acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationRecord {
    pub outcome: TerminationOutcome,
    pub at: Timestamp,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationOutcome {
    Terminated,
    AlreadyEnded,
    WouldTerminate,
    Failed,
}

impl TerminationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationOutcome::Terminated => "terminated",
            TerminationOutcome::AlreadyEnded => "already_ended",
            TerminationOutcome::WouldTerminate => "would_terminate",
            TerminationOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionRecord {
    pub session_id: String,
    pub state: SessionState,
    pub principal: Option<Principal>,
    pub mfa: Mfa,
    pub mfa_evidence: Option<MfaEvidence>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub target: Option<String>,
    pub document: Option<String>,
    pub reason: Option<String>,
    pub start_event_id: Option<String>,
    pub started_at: Option<Timestamp>,
    pub last_resumed_at: Option<Timestamp>,
    pub resume_count: u32,
    pub ended_at: Option<Timestamp>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    pub denial: Option<Denial>,
    pub flags: BTreeMap<FlagKind, FlagRecord>,
    pub exempt: bool,
    pub terminations: BTreeMap<String, TerminationRecord>,
    pub applied_events: BTreeSet<String>,
    /// Latest event time seen, the base of the record's expiry.
    pub last_event_at: Option<Timestamp>,
    /// What the transcript scanner has seen of this session, if anything.
    #[serde(default)]
    pub transcript: Option<TranscriptSeen>,
    #[serde(default)]
    pub finding_count: u32,
    /// Keys of findings already counted (bounded like `applied_events`).
    #[serde(default)]
    pub finding_keys: BTreeSet<String>,
    /// Latest time the scanner failed to process a batch of this session's transcript.
    #[serde(default)]
    pub transcript_failed_at: Option<Timestamp>,
    /// The status `DescribeSessions` reported at the latest reaper run that saw the session.
    #[serde(default)]
    pub described_status: Option<String>,
    /// When that reaper run looked (its schedule time): an observation time, like a
    /// transcript's `processed_at`, not a fact about the session. It orders views so that a run
    /// applied late (a retry, a redrive) does not overwrite what a later run saw. An open
    /// session is looked at by every run, so this is the latest run's time; an ended one only by
    /// the run that noticed the end, so it says when Session Warden learned of the end (a run
    /// that could not update the session leaves that to the next one), while `ended_at` says
    /// when the session ended.
    #[serde(default)]
    pub described_at: Option<Timestamp>,
    /// Who asked for the session to be terminated (`warden sessions terminate`): the caller's
    /// identity as STS names it, or `local` for a replay state file.
    #[serde(default)]
    pub terminated_by: Option<String>,
    /// The reason they gave.
    #[serde(default)]
    pub termination_reason: Option<String>,
    /// When Session Manager accepted their request.
    #[serde(default)]
    pub terminated_at: Option<Timestamp>,
    /// The account in the session's store key ([`session_key`]): set for a session in an
    /// account other than the stack's own, so that equal session ids in different accounts are
    /// separate records; absent for the stack's own account, for a session whose account is
    /// unknown, and for every record written before accounts were told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyed_account: Option<String>,
}

/// Transcript facts, merged commutatively: first and last times seen, and what the stream
/// records say about the session (useful when its CloudTrail event has not arrived yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TranscriptSeen {
    pub log_group: Option<String>,
    pub first_event_at: Option<Timestamp>,
    pub last_event_at: Option<Timestamp>,
    pub owner_arn: Option<String>,
    pub target: Option<String>,
    pub run_as_user: Option<String>,
    pub region: Option<String>,
    /// When the scanner last processed a batch successfully.
    #[serde(default)]
    pub processed_at: Option<Timestamp>,
}

impl TranscriptSeen {
    fn merge(&mut self, other: &TranscriptSeen) {
        self.first_event_at = min_some(self.first_event_at, other.first_event_at);
        self.last_event_at = self.last_event_at.max(other.last_event_at);
        self.processed_at = self.processed_at.max(other.processed_at);
        for (mine, theirs) in [
            (&mut self.log_group, &other.log_group),
            (&mut self.owner_arn, &other.owner_arn),
            (&mut self.target, &other.target),
            (&mut self.run_as_user, &other.run_as_user),
            (&mut self.region, &other.region),
        ] {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
    }
}

/// The earlier of two optional times, ignoring a missing one.
pub fn min_some(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    pub code: String,
    pub message: Option<String>,
}

impl From<&CallFailure> for Denial {
    fn from(f: &CallFailure) -> Self {
        Denial {
            code: f.code.clone(),
            message: f.message.clone(),
        }
    }
}

/// The key a session event is stored under: the session id, or for a refused start (which has
/// none) a synthetic id from the CloudTrail event id. `:` never occurs in real session ids.
pub fn record_id(event: &SessionApiEvent) -> String {
    match &event.session_id {
        Some(id) => id.clone(),
        None => format!("denied:{}", event.event_id),
    }
}

/// Separates the account from the session id in a store key. Session ids never contain it
/// (`crate::session_id::validate`), nor do refused starts' `denied:<event id>` ids.
pub const KEY_SEPARATOR: char = '/';

/// The key a session is stored under: `<account>/<id>` for a session in an account other than
/// `home` (the stack's own, `WARDEN_HOME_ACCOUNT`), the id alone otherwise. Sessions of the
/// stack's own account therefore keep the key they had before accounts were told apart, and so
/// does everything when no home account is configured (one account watched).
pub fn session_key(home: Option<&str>, account: Option<&str>, id: &str) -> String {
    match (home, account) {
        (Some(home), Some(account)) if account != home => format!("{account}{KEY_SEPARATOR}{id}"),
        _ => id.to_string(),
    }
}

impl SessionRecord {
    pub fn new(session_id: impl Into<String>) -> Self {
        SessionRecord {
            session_id: session_id.into(),
            ..SessionRecord::default()
        }
    }

    /// An empty record for a store key ([`session_key`]): its account, when the key names one,
    /// is the session's account.
    pub fn for_key(key: &str) -> Self {
        match key.split_once(KEY_SEPARATOR) {
            Some((account, id)) => SessionRecord {
                session_id: id.to_string(),
                account: Some(account.to_string()),
                keyed_account: Some(account.to_string()),
                ..SessionRecord::default()
            },
            None => SessionRecord::new(key),
        }
    }

    /// The key this record is stored under ([`session_key`]).
    pub fn key(&self) -> String {
        match &self.keyed_account {
            Some(account) => format!("{account}{KEY_SEPARATOR}{}", self.session_id),
            None => self.session_id.clone(),
        }
    }

    pub fn has_applied(&self, event_id: &str) -> bool {
        self.applied_events.contains(event_id)
    }

    /// Merges one API call and the policy's view of it. Returns false when the event was
    /// already applied and nothing changed.
    pub fn apply(&mut self, event: &SessionApiEvent, assessment: &Assessment) -> bool {
        if self.has_applied(&event.event_id) {
            return false;
        }
        if self.applied_events.len() >= MAX_APPLIED_EVENTS {
            // Forget the smallest id: ids are random, so this drops an arbitrary old one.
            self.applied_events.pop_first();
        }
        self.applied_events.insert(event.event_id.clone());
        self.last_event_at = self.last_event_at.max(Some(event.event_time));
        match (event.call, &event.failure) {
            (SessionCall::Start, None) => self.apply_start(event, assessment),
            (SessionCall::Start, Some(failure)) => {
                self.apply_start(event, assessment);
                self.state = SessionState::Denied;
                self.denial = Some(failure.into());
            }
            (SessionCall::Resume, None) => {
                self.last_resumed_at = self.last_resumed_at.max(Some(event.event_time));
                self.resume_count += 1;
            }
            (SessionCall::Terminate, None) => {
                let who = Principal::from_identity(&event.identity);
                self.end(
                    SessionState::Terminated,
                    event.event_time,
                    who.key().to_string(),
                    "TerminateSession called".to_string(),
                );
            }
            // A refused resume or terminate changes nothing about the session itself.
            (SessionCall::Resume | SessionCall::Terminate, Some(_)) => {}
        }
        true
    }

    fn apply_start(&mut self, event: &SessionApiEvent, assessment: &Assessment) {
        self.principal = Some(assessment.principal.clone());
        self.mfa = assessment.mfa.mfa;
        self.mfa_evidence = Some(assessment.mfa.evidence);
        self.account = event.account.clone();
        self.region = event.region.clone();
        self.source_ip = event.source_ip.clone();
        self.user_agent = event.user_agent.clone();
        // CloudTrail's account of the start wins, but a field it lacks keeps what the transcript
        // or DescribeSessions filled in, whichever came first.
        if event.target.is_some() {
            self.target = event.target.clone();
        }
        if event.document.is_some() {
            self.document = event.document.clone();
        }
        self.reason = event.reason.clone();
        self.start_event_id = Some(event.event_id.clone());
        self.started_at = Some(event.event_time);
        self.exempt = assessment.exempt;
        for flag in &assessment.flags {
            self.flags.insert(
                flag.kind,
                FlagRecord {
                    severity: flag.severity,
                    action: flag.action,
                    reason: flag.reason.clone(),
                },
            );
        }
    }

    /// Moves the session towards its end; the earliest reported end wins, whoever reports it.
    pub fn end(&mut self, state: SessionState, at: Timestamp, by: String, why: String) {
        if self.state == SessionState::Denied {
            return;
        }
        self.state = self.state.max(state);
        // The earliest end wins; two reports of the same instant are settled by who reported
        // it, so the order they arrive in does not matter.
        let earlier = match (self.ended_at, &self.ended_by) {
            (None, _) => true,
            (Some(current), current_by) => {
                at < current || (at == current && Some(&by) < current_by.as_ref())
            }
        };
        if earlier {
            self.ended_at = Some(at);
            self.ended_by = Some(by);
            self.end_reason = Some(why);
        }
        self.last_event_at = self.last_event_at.max(Some(at));
    }

    pub fn record_termination(&mut self, reason_key: &str, record: TerminationRecord) {
        if record.outcome == TerminationOutcome::Terminated {
            self.end(
                SessionState::Terminated,
                record.at,
                "session-warden".to_string(),
                format!("terminated by Session Warden: {reason_key}"),
            );
        }
        self.terminations
            .entry(reason_key.to_string())
            .or_insert(record);
    }

    /// Records a person's request to terminate the session, once Session Manager accepted it, and
    /// ends the session with it. The earliest request stands (at the same instant, the lesser
    /// identity), so concurrent requests settle the same in any order and a repeated one
    /// changes nothing. Returns whether anything changed.
    pub fn note_termination_request(&mut self, by: &str, reason: &str, at: Timestamp) -> bool {
        let earlier = match (self.terminated_at, self.terminated_by.as_deref()) {
            (Some(current), current_by) => at < current || (at == current && Some(by) < current_by),
            (None, _) => true,
        };
        if !earlier {
            // A later request is not recorded, but counts as an event, as its end would.
            let before = self.last_event_at;
            self.last_event_at = self.last_event_at.max(Some(at));
            return before != self.last_event_at;
        }
        self.terminated_at = Some(at);
        self.terminated_by = Some(by.to_string());
        self.termination_reason = Some(reason.to_string());
        self.end(
            SessionState::Terminated,
            at,
            by.to_string(),
            format!("terminated on request: {reason}"),
        );
        true
    }

    /// Merges what a transcript batch showed; returns whether anything changed.
    pub fn note_transcript(&mut self, seen: &TranscriptSeen) -> bool {
        let before = self.transcript.clone();
        self.transcript
            .get_or_insert_with(TranscriptSeen::default)
            .merge(seen);
        if self.target.is_none() {
            self.target.clone_from(&seen.target);
        }
        self.last_event_at = self.last_event_at.max(seen.last_event_at);
        before != self.transcript
    }

    /// Fills in what `DescribeSessions` knows and the record lacks (CloudTrail's account of the
    /// start wins where both exist), and ends the session if the API says it ended. Returns
    /// whether anything changed.
    pub fn note_described(&mut self, described: &DescribedSession, now: Timestamp) -> bool {
        let before = self.clone();
        if self.principal.is_none() {
            self.principal = described.owner.as_deref().map(Principal::from_arn);
        }
        if self.target.is_none() {
            self.target.clone_from(&described.target);
        }
        if self.document.is_none() {
            self.document.clone_from(&described.document_name);
        }
        if self.started_at.is_none() {
            self.started_at = described.start_date;
        }
        // The latest run's view stands, whatever order runs are applied in (equal times: the
        // greater status, so the outcome is still the same).
        let later = match (self.described_at, &self.described_status) {
            (None, _) => true,
            (Some(seen), current) => {
                now > seen || (now == seen && described.status.as_ref() > current.as_ref())
            }
        };
        if described.status.is_some() && later {
            self.described_status.clone_from(&described.status);
            self.described_at = Some(now);
        }
        if described.has_ended() {
            let status = described.status.as_deref().unwrap_or("ended");
            self.end(
                SessionState::Ended,
                described.end_date.unwrap_or(now),
                "session-manager".to_string(),
                format!("Session Manager reports the session {status}"),
            );
        }
        self.last_event_at = self.last_event_at.max(described.start_date);
        before != *self
    }

    /// Counts findings not counted before; returns whether any was new.
    pub fn note_findings<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) -> bool {
        let mut changed = false;
        for key in keys {
            if self.finding_keys.contains(key) {
                continue;
            }
            if self.finding_keys.len() >= MAX_APPLIED_EVENTS {
                self.finding_keys.pop_first();
            }
            self.finding_keys.insert(key.to_string());
            self.finding_count += 1;
            changed = true;
        }
        changed
    }

    pub fn is_active(&self) -> bool {
        self.state == SessionState::Active
    }

    /// When the record may be deleted by the table's TTL.
    pub fn expires_at(&self, retention_days: u32) -> Option<i64> {
        let base = self.last_event_at.or(self.started_at)?;
        Some(base.as_second() + i64::from(retention_days) * 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business_hours::BusinessHours;
    use crate::glob::parse_list;
    use crate::policy::{DEFAULT_TUNNEL_DOCUMENTS, StartPolicy};
    use crate::test_support::event;

    fn policy() -> StartPolicy {
        StartPolicy {
            business_hours: BusinessHours::parse("UTC", "Mon-Fri 08:00-18:00", "").unwrap(),
            idp_mfa_roles: parse_list("AWSReservedSSO_*"),
            exempt_principals: vec![],
            tunnel_documents: parse_list(DEFAULT_TUNNEL_DOCUMENTS),
            actions: BTreeMap::new(),
            tickets: Default::default(),
        }
    }

    fn replay(files: &[&str]) -> SessionRecord {
        let policy = policy();
        let first = event(files[0]);
        let mut record = SessionRecord::new(record_id(&first));
        for file in files {
            let e = event(file);
            record.apply(&e, &policy.assess(&e));
        }
        record
    }

    #[test]
    fn start_records_who_where_and_what() {
        let r = replay(&["03-start-role-without-mfa.json"]);
        assert_eq!(r.state, SessionState::Active);
        assert_eq!(r.principal.as_ref().unwrap().display_name, "bob");
        assert_eq!(r.mfa, Mfa::False);
        assert!(r.target.as_deref().unwrap().starts_with("i-"));
        assert_eq!(
            r.flags.keys().copied().collect::<Vec<_>>(),
            vec![FlagKind::NoMfa]
        );
    }

    #[test]
    fn terminate_ends_the_session_with_who_and_when() {
        let r = replay(&[
            "03-start-role-without-mfa.json",
            "04-terminate-role-without-mfa.json",
        ]);
        assert_eq!(r.state, SessionState::Terminated);
        assert_eq!(r.ended_at.unwrap().to_string(), "2026-11-23T13:47:11Z");
        assert!(r.ended_by.unwrap().contains("assumed-role/Admin/bob"));
    }

    #[test]
    fn terminate_before_start_ends_in_the_same_record() {
        let in_order = replay(&[
            "15-start-after-terminate.json",
            "14-terminate-before-start.json",
        ]);
        let reversed = replay(&[
            "14-terminate-before-start.json",
            "15-start-after-terminate.json",
        ]);
        assert_eq!(in_order, reversed);
        assert_eq!(reversed.state, SessionState::Terminated);
        assert!(reversed.started_at.is_some() && reversed.ended_at.is_some());
    }

    #[test]
    fn redelivered_events_change_nothing() {
        let once = replay(&[
            "01-start-role-with-mfa.json",
            "02-resume-role-with-mfa.json",
        ]);
        let twice = replay(&[
            "01-start-role-with-mfa.json",
            "02-resume-role-with-mfa.json",
            "02-resume-role-with-mfa.json",
            "01-start-role-with-mfa.json",
        ]);
        assert_eq!(once, twice);
        assert_eq!(twice.resume_count, 1);
    }

    #[test]
    fn resume_keeps_the_session_active_and_counts() {
        let r = replay(&[
            "01-start-role-with-mfa.json",
            "02-resume-role-with-mfa.json",
        ]);
        assert_eq!(r.state, SessionState::Active);
        assert_eq!(
            r.last_resumed_at.unwrap().to_string(),
            "2026-11-23T09:34:37Z"
        );
    }

    #[test]
    fn denied_start_is_recorded_under_its_event_id() {
        let r = replay(&["11-start-denied.json"]);
        assert!(r.session_id.starts_with("denied:"));
        assert_eq!(r.state, SessionState::Denied);
        assert_eq!(r.denial.unwrap().code, "AccessDenied");
        assert!(r.flags.contains_key(&FlagKind::DeniedStart));
    }

    #[test]
    fn earliest_end_wins_and_state_never_goes_back() {
        let mut r = replay(&["01-start-role-with-mfa.json"]);
        let late: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let early: Timestamp = "2026-11-23T11:00:00Z".parse().unwrap();
        r.end(SessionState::Terminated, late, "a".into(), "x".into());
        r.end(SessionState::Ended, early, "b".into(), "y".into());
        assert_eq!(
            (r.state, r.ended_at, r.ended_by.as_deref()),
            (SessionState::Terminated, Some(early), Some("b"))
        );
    }

    #[test]
    fn the_applied_event_set_is_bounded() {
        let mut r = replay(&["01-start-role-with-mfa.json"]);
        let mut resume = event("02-resume-role-with-mfa.json");
        let assessment = policy().assess(&resume);
        for i in 0..(MAX_APPLIED_EVENTS + 50) {
            resume.event_id = format!("{i:08}");
            r.apply(&resume, &assessment);
        }
        assert_eq!(r.applied_events.len(), MAX_APPLIED_EVENTS);
    }

    #[test]
    fn transcript_facts_merge_in_any_order() {
        let t = |at: &str, target: Option<&str>| TranscriptSeen {
            log_group: Some("/aws/ssm/sessions".into()),
            first_event_at: Some(at.parse().unwrap()),
            last_event_at: Some(at.parse().unwrap()),
            target: target.map(str::to_string),
            ..TranscriptSeen::default()
        };
        let (early, late) = (
            t("2026-11-24T10:00:00Z", Some("i-1")),
            t("2026-11-24T10:05:00Z", None),
        );
        let (mut a, mut b) = (SessionRecord::new("s"), SessionRecord::new("s"));
        assert!(a.note_transcript(&early) && a.note_transcript(&late));
        b.note_transcript(&late);
        b.note_transcript(&early);
        assert_eq!(a, b);
        assert_eq!(a.target.as_deref(), Some("i-1"));
        assert!(!a.note_transcript(&early), "a redelivery changes nothing");
    }

    #[test]
    fn the_latest_reaper_view_stands_in_any_order() {
        let view = |status: &str| DescribedSession {
            session_id: "s".into(),
            target: None,
            status: Some(status.into()),
            start_date: None,
            end_date: None,
            document_name: None,
            owner: None,
            reason: None,
        };
        let (early, late): (Timestamp, Timestamp) = (
            "2026-11-24T10:00:00Z".parse().unwrap(),
            "2026-11-24T10:05:00Z".parse().unwrap(),
        );
        let (mut a, mut b) = (SessionRecord::new("s"), SessionRecord::new("s"));
        a.note_described(&view("Disconnected"), early);
        a.note_described(&view("Connected"), late);
        b.note_described(&view("Connected"), late);
        assert!(!b.note_described(&view("Disconnected"), early));
        assert_eq!(a, b);
        assert_eq!(b.described_status.as_deref(), Some("Connected"));
    }

    #[test]
    fn the_run_that_notices_an_end_changes_only_when_it_was_noticed() {
        // A run that could not update the session (its write failed) leaves the end to the
        // next run: the session's end, its status and who reported it are the same; only the
        // observation time says which run saw it.
        let ended = DescribedSession {
            session_id: "s".into(),
            target: Some("i-1".into()),
            status: Some("Terminated".into()),
            start_date: Some("2026-11-24T09:00:00Z".parse().unwrap()),
            end_date: Some("2026-11-24T09:30:00Z".parse().unwrap()),
            document_name: Some("SSM-SessionManagerRunShell".into()),
            owner: Some("arn:aws:sts::1:assumed-role/Admin/bob".into()),
            reason: None,
        };
        let (first_run, next_run): (Timestamp, Timestamp) = (
            "2026-11-24T10:00:00Z".parse().unwrap(),
            "2026-11-24T10:05:00Z".parse().unwrap(),
        );
        let active = replay(&["03-start-role-without-mfa.json"]);
        let (mut by_first, mut by_next) = (active.clone(), active);
        assert!(by_first.note_described(&ended, first_run));
        assert!(by_next.note_described(&ended, next_run));
        assert_eq!(by_first.state, SessionState::Ended);
        assert_eq!(
            by_first.ended_at, ended.end_date,
            "the end is Session Manager's"
        );
        assert_eq!(
            (by_first.described_at, by_next.described_at),
            (Some(first_run), Some(next_run))
        );
        by_next.described_at = by_first.described_at;
        assert_eq!(by_first, by_next);
    }

    #[test]
    fn two_ends_reported_for_the_same_instant_settle_the_same_in_either_order() {
        let at: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let mut a = replay(&["01-start-role-with-mfa.json"]);
        let mut b = a.clone();
        a.end(
            SessionState::Ended,
            at,
            "session-manager".into(),
            "x".into(),
        );
        a.end(
            SessionState::Terminated,
            at,
            "arn:aws:iam::1:user/x".into(),
            "y".into(),
        );
        b.end(
            SessionState::Terminated,
            at,
            "arn:aws:iam::1:user/x".into(),
            "y".into(),
        );
        b.end(
            SessionState::Ended,
            at,
            "session-manager".into(),
            "x".into(),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn a_start_without_a_target_keeps_the_target_the_transcript_named() {
        let mut start = event("03-start-role-without-mfa.json");
        start.target = None;
        let assessment = policy().assess(&start);
        let seen = TranscriptSeen {
            target: Some("i-1".into()),
            ..TranscriptSeen::default()
        };
        let (mut a, mut b) = (SessionRecord::new("s"), SessionRecord::new("s"));
        a.apply(&start, &assessment);
        a.note_transcript(&seen);
        b.note_transcript(&seen);
        b.apply(&start, &assessment);
        assert_eq!(a, b);
        assert_eq!(b.target.as_deref(), Some("i-1"));
    }

    #[test]
    fn the_earliest_termination_request_stands_in_any_order() {
        let (early, late): (Timestamp, Timestamp) = (
            "2026-11-23T13:10:00Z".parse().unwrap(),
            "2026-11-23T13:11:00Z".parse().unwrap(),
        );
        let mut a = replay(&["03-start-role-without-mfa.json"]);
        let mut b = a.clone();
        assert!(a.note_termination_request("arn:aws:iam::1:user/ann", "INC-1", early));
        a.note_termination_request("arn:aws:iam::1:user/ben", "INC-2", late);
        assert!(b.note_termination_request("arn:aws:iam::1:user/ben", "INC-2", late));
        assert!(b.note_termination_request("arn:aws:iam::1:user/ann", "INC-1", early));
        assert_eq!(a, b);
        assert_eq!(a.state, SessionState::Terminated);
        assert_eq!(
            (
                a.terminated_by.as_deref(),
                a.termination_reason.as_deref(),
                a.terminated_at
            ),
            (Some("arn:aws:iam::1:user/ann"), Some("INC-1"), Some(early))
        );
        assert_eq!(a.ended_by.as_deref(), Some("arn:aws:iam::1:user/ann"));
        assert!(
            !a.note_termination_request("arn:aws:iam::1:user/ann", "INC-1", early),
            "a repeated request changes nothing"
        );
    }

    #[test]
    fn findings_are_counted_once() {
        let mut r = SessionRecord::new("s");
        assert!(r.note_findings(["e1#rule.a", "e1#rule.b"]));
        assert!(!r.note_findings(["e1#rule.a"]));
        assert_eq!(r.finding_count, 2);
    }

    #[test]
    fn expiry_counts_from_the_latest_event() {
        let r = replay(&[
            "03-start-role-without-mfa.json",
            "04-terminate-role-without-mfa.json",
        ]);
        let end: Timestamp = "2026-11-23T13:47:11Z".parse().unwrap();
        assert_eq!(r.expires_at(1), Some(end.as_second() + 86_400));
    }

    #[test]
    fn a_member_account_session_is_keyed_by_its_account() {
        let key = session_key(Some("111122223333"), Some("222233334444"), "alice-1");
        assert_eq!(key, "222233334444/alice-1");
        let record = SessionRecord::for_key(&key);
        assert_eq!(record.session_id, "alice-1");
        assert_eq!(record.account.as_deref(), Some("222233334444"));
        assert_eq!(record.key(), key);
    }

    #[test]
    fn the_home_account_and_an_unknown_account_keep_the_bare_id() {
        let home = Some("111122223333");
        assert_eq!(session_key(home, home, "alice-1"), "alice-1");
        assert_eq!(session_key(home, None, "alice-1"), "alice-1");
        assert_eq!(
            session_key(None, Some("222233334444"), "alice-1"),
            "alice-1"
        );
        assert_eq!(SessionRecord::for_key("alice-1").key(), "alice-1");
    }

    #[test]
    fn a_record_written_before_accounts_were_told_apart_keeps_its_key() {
        let old = serde_json::json!({
            "session_id": "alice-1", "state": "active", "principal": null, "mfa": "true",
            "mfa_evidence": null, "account": "111122223333", "region": "eu-west-1",
            "source_ip": null, "user_agent": null, "target": null, "document": null,
            "reason": null, "start_event_id": null, "started_at": null, "last_resumed_at": null,
            "resume_count": 0, "ended_at": null, "ended_by": null, "end_reason": null,
            "denial": null, "flags": {}, "exempt": false, "terminations": {},
            "applied_events": [], "last_event_at": null
        });
        let record: SessionRecord = serde_json::from_value(old).unwrap();
        assert_eq!(record.key(), "alice-1");
        let json = serde_json::to_value(&record).unwrap();
        assert!(json.get("keyed_account").is_none(), "{json}");
    }
}
