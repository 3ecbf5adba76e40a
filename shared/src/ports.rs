//! The I/O the handlers need, as small traits: an AWS implementation of each lives in `aws`,
//! an in-process one in `local`.

use crate::alert::{Alert, AlertKey};
use crate::finding::FindingRecord;
use crate::session::SessionRecord;
use jiff::Timestamp;
use std::future::Future;

/// A stored value with the version its optimistic-locking write must match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("session {0} changed while it was being updated")]
    Conflict(String),
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    #[error("session store rejected the request: {0}")]
    Rejected(String),
    #[error("stored item {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl StoreError {
    /// Transient failures fail the invocation so Lambda retries it.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Conflict(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFilter {
    pub active_only: bool,
    pub limit: usize,
    /// Oldest start first (the reaper's order) instead of newest first (people's order). The
    /// limit keeps the first sessions in this order.
    pub oldest_first: bool,
}

impl SessionFilter {
    /// Puts sessions in the filter's order; equal start times list by id, so the order is stable.
    pub fn sort(&self, sessions: &mut [SessionRecord]) {
        sessions.sort_by(|a, b| {
            let by_start = if self.oldest_first {
                a.started_at.cmp(&b.started_at)
            } else {
                b.started_at.cmp(&a.started_at)
            };
            by_start.then(a.session_id.cmp(&b.session_id))
        });
    }
}

/// What a delivery found when it tried to claim an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertClaim {
    /// This delivery publishes the alert, then marks it sent (or releases the claim).
    Claimed,
    /// An earlier delivery published it.
    AlreadySent,
    /// A concurrent delivery of the same input is publishing it now. Its invocation is the one
    /// that fails and is retried if publishing fails, so this one has nothing to do.
    InFlight,
}

/// Where one alert of a session stands in the store, for people asking whether it went out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertMark {
    /// The alert key's kind: a flag, a reaper check, or `finding:<finding key>`.
    pub kind: String,
    #[serde(flatten)]
    pub state: AlertState,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AlertState {
    /// Published and marked sent.
    Sent { at: Timestamp },
    /// Claimed by a delivery and never marked sent: it is being published, or it was published
    /// and marking it failed. Once the claim lapses, the next delivery of its input sends it
    /// (again).
    Claimed { until: Timestamp },
    /// A publish failed and its claim was dropped: not sent; the failed invocation is retried
    /// and, after its retries, dead-lettered.
    Released,
}

pub trait SessionStore: Send + Sync {
    fn load(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<Versioned<SessionRecord>>, StoreError>> + Send;

    /// Writes the record if its stored version is still `expected` (`None`: it must not exist
    /// yet); returns the new version, or `StoreError::Conflict`.
    fn save(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Claims the right to publish an alert for `holder` (one delivery's token) until `until`,
    /// unless it was sent or another holder has an unexpired claim (one that has not reached
    /// `until` by `now`). Claiming again with the same holder is granted: a claim whose reply
    /// was lost, retried by the SDK, must not be mistaken for a concurrent delivery's.
    fn claim_alert(
        &self,
        key: &AlertKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<AlertClaim, StoreError>> + Send;

    /// Marks the alert sent, ending any claim. Idempotent: marking twice keeps the first time.
    fn mark_alert_sent(
        &self,
        key: &AlertKey,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops `holder`'s unsent claim, so a retry after a failed publish need not wait for it to
    /// lapse. A sent mark, and another holder's claim, are kept.
    fn release_alert(
        &self,
        key: &AlertKey,
        holder: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session's alert marks, by kind.
    fn alerts(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Vec<AlertMark>, StoreError>> + Send;

    fn list(
        &self,
        filter: SessionFilter,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send;

    /// Records a finding unless one with the same key exists; returns whether it was new.
    fn record_finding(
        &self,
        finding: &FindingRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The session's findings.
    fn findings(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Vec<FindingRecord>, StoreError>> + Send;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotifyError {
    #[error("notifier unavailable: {0}")]
    Unavailable(String),
    #[error("notifier rejected the alert: {0}")]
    Rejected(String),
}

pub trait Notifier: Send + Sync {
    /// Returns only once the alert is accepted for delivery.
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminated {
    Now,
    AlreadyEnded,
    /// Dry run: nothing was called.
    WouldHave,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TerminateError {
    #[error("terminator unavailable: {0}")]
    Unavailable(String),
    #[error("termination refused: {0}")]
    Rejected(String),
    /// The session is in an account Session Warden may not act in.
    #[error("cannot terminate there: {0}")]
    NoAccess(crate::config::MemberAccessError),
}

impl From<crate::config::MemberAccessError> for TerminateError {
    fn from(e: crate::config::MemberAccessError) -> Self {
        if e.is_transient() {
            TerminateError::Unavailable(e.to_string())
        } else {
            TerminateError::NoAccess(e)
        }
    }
}

/// Where a session is: its account and region. `None` is the functions' own account or region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Place<'a> {
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
}

impl<'a> Place<'a> {
    /// The functions' own account and region.
    pub const OWN: Place<'static> = Place {
        account: None,
        region: None,
    };

    /// Where a stored session is: a member account's (the account its key names; the
    /// functions' own for every other session) and the region its start (or transcript) came
    /// from.
    pub fn of(record: &'a SessionRecord) -> Self {
        Place {
            account: record.keyed_account.as_deref(),
            region: record
                .region
                .as_deref()
                .or_else(|| record.transcript.as_ref().and_then(|t| t.region.as_deref())),
        }
    }
}

pub trait Terminator: Send + Sync {
    /// Ends `session_id`, in `place` (its account and region).
    fn terminate(
        &self,
        session_id: &str,
        place: Place<'_>,
    ) -> impl Future<Output = Result<Terminated, TerminateError>> + Send;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("cannot tell who is calling: {0}")]
    Unavailable(String),
    #[error("the caller's identity was refused: {0}")]
    Rejected(String),
}

/// Who is running the command (`sts:GetCallerIdentity`), recorded with what they asked for.
pub trait CallerIdentity: Send + Sync {
    /// The caller's ARN, or another name for them where there is no AWS identity.
    fn caller(&self) -> impl Future<Output = Result<String, IdentityError>> + Send;
}

/// Which sessions `DescribeSessions` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Active,
    History,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionPage {
    pub sessions: Vec<crate::directory::DescribedSession>,
    pub next_token: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryError {
    #[error("session directory unavailable: {0}")]
    Unavailable(String),
    #[error("session directory refused the request: {0}")]
    Rejected(String),
    /// The account is one Session Warden may not act in.
    #[error("cannot list sessions there: {0}")]
    NoAccess(crate::config::MemberAccessError),
}

impl From<crate::config::MemberAccessError> for DirectoryError {
    fn from(e: crate::config::MemberAccessError) -> Self {
        if e.is_transient() {
            DirectoryError::Unavailable(e.to_string())
        } else {
            DirectoryError::NoAccess(e)
        }
    }
}

/// Session Manager's list of sessions (`ssm:DescribeSessions`).
pub trait SessionDirectory: Send + Sync {
    /// One page of the sessions in `place` (an account and region), optionally only the one
    /// with `session_id`.
    fn describe(
        &self,
        place: Place<'_>,
        listing: Listing,
        session_id: Option<&str>,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<SessionPage, DirectoryError>> + Send;
}

// Handlers own their ports; sharing one store, notifier or terminator between handlers (as
// `warden replay` does) goes through `Arc`.

impl<S: SessionStore> SessionStore for std::sync::Arc<S> {
    fn load(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<Versioned<SessionRecord>>, StoreError>> + Send {
        (**self).load(session_id)
    }

    fn save(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).save(record, expected)
    }

    fn claim_alert(
        &self,
        key: &AlertKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<AlertClaim, StoreError>> + Send {
        (**self).claim_alert(key, holder, now, until)
    }

    fn mark_alert_sent(
        &self,
        key: &AlertKey,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).mark_alert_sent(key, at)
    }

    fn release_alert(
        &self,
        key: &AlertKey,
        holder: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release_alert(key, holder)
    }

    fn alerts(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Vec<AlertMark>, StoreError>> + Send {
        (**self).alerts(session_id)
    }

    fn list(
        &self,
        filter: SessionFilter,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send {
        (**self).list(filter)
    }

    fn record_finding(
        &self,
        finding: &FindingRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).record_finding(finding)
    }

    fn findings(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Vec<FindingRecord>, StoreError>> + Send {
        (**self).findings(session_id)
    }
}

impl<N: Notifier> Notifier for std::sync::Arc<N> {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), NotifyError>> + Send {
        (**self).publish(alert)
    }
}

impl<T: Terminator> Terminator for std::sync::Arc<T> {
    fn terminate(
        &self,
        session_id: &str,
        place: Place<'_>,
    ) -> impl Future<Output = Result<Terminated, TerminateError>> + Send {
        (**self).terminate(session_id, place)
    }
}

impl<D: SessionDirectory> SessionDirectory for std::sync::Arc<D> {
    fn describe(
        &self,
        place: Place<'_>,
        listing: Listing,
        session_id: Option<&str>,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<SessionPage, DirectoryError>> + Send {
        (**self).describe(place, listing, session_id, next_token)
    }
}
