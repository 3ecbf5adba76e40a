//! In-process implementations of the ports, for `warden replay` and tests.

use crate::alert::{Alert, AlertKey};
use crate::finding::FindingRecord;
use crate::ports::{
    AlertClaim, AlertMark, AlertState, Notifier, NotifyError, SessionFilter, SessionStore,
    StoreError, TerminateError, Terminated, Terminator, Versioned,
};
use crate::session::SessionRecord;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// An unsent alert's claim: who holds it and until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeldClaim {
    holder: String,
    until: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct MemoryState {
    sessions: BTreeMap<String, Versioned<SessionRecord>>,
    /// Alert mark → when it was sent.
    alerts: BTreeMap<String, Timestamp>,
    /// Alert mark → until when a delivery holds the claim to send it.
    #[serde(default)]
    alert_claims: BTreeMap<String, HeldClaim>,
    /// Session id → finding key → finding.
    #[serde(default)]
    findings: BTreeMap<String, BTreeMap<String, FindingRecord>>,
}

/// A session store in memory, optionally saved to and loaded from a JSON file.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is not a Session Warden state file: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(path: &Path) -> Result<Self, StateFileError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::new()),
            Err(source) => {
                return Err(StateFileError::Read {
                    path: shown,
                    source,
                });
            }
        };
        let state = serde_json::from_str(&text).map_err(|source| StateFileError::Parse {
            path: shown,
            source,
        })?;
        Ok(MemoryStore {
            state: Mutex::new(state),
        })
    }

    pub fn persist(&self, path: &Path) -> Result<(), StateFileError> {
        let text = serde_json::to_string_pretty(&*self.lock()).expect("state serialises");
        std::fs::write(path, text).map_err(|source| StateFileError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    pub fn sessions(&self) -> Vec<SessionRecord> {
        self.lock()
            .sessions
            .values()
            .map(|v| v.value.clone())
            .collect()
    }

    pub fn alert_count(&self) -> usize {
        self.lock().alerts.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A panic while holding the lock cannot leave the maps half-written: every write is one insert.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn alert_mark(key: &AlertKey) -> String {
    format!("{}#{}", key.session_id, key.kind)
}

impl SessionStore for MemoryStore {
    async fn load(&self, session_id: &str) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        Ok(self.lock().sessions.get(session_id).cloned())
    }

    async fn save(&self, record: &SessionRecord, expected: Option<u64>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let key = record.key();
        let current = state.sessions.get(&key).map(|v| v.version);
        if current != expected {
            return Err(StoreError::Conflict(key));
        }
        let version = expected.unwrap_or(0) + 1;
        state.sessions.insert(
            key,
            Versioned {
                value: record.clone(),
                version,
            },
        );
        Ok(version)
    }

    async fn claim_alert(
        &self,
        key: &AlertKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<AlertClaim, StoreError> {
        let mark = alert_mark(key);
        let mut state = self.lock();
        if state.alerts.contains_key(&mark) {
            return Ok(AlertClaim::AlreadySent);
        }
        if state
            .alert_claims
            .get(&mark)
            .is_some_and(|held| held.until >= now && held.holder != holder)
        {
            return Ok(AlertClaim::InFlight);
        }
        let claim = HeldClaim {
            holder: holder.to_string(),
            until,
        };
        state.alert_claims.insert(mark, claim);
        Ok(AlertClaim::Claimed)
    }

    async fn mark_alert_sent(&self, key: &AlertKey, at: Timestamp) -> Result<(), StoreError> {
        let mark = alert_mark(key);
        let mut state = self.lock();
        state.alert_claims.remove(&mark);
        state.alerts.entry(mark).or_insert(at);
        Ok(())
    }

    async fn release_alert(&self, key: &AlertKey, holder: &str) -> Result<(), StoreError> {
        let mark = alert_mark(key);
        let mut state = self.lock();
        if let Some(held) = state
            .alert_claims
            .get_mut(&mark)
            .filter(|held| held.holder == holder)
        {
            // As in DynamoDB: a claim that lapsed at the epoch, held by nobody.
            held.holder.clear();
            held.until = Timestamp::UNIX_EPOCH;
        }
        Ok(())
    }

    async fn alerts(&self, session_id: &str) -> Result<Vec<AlertMark>, StoreError> {
        let state = self.lock();
        let prefix = format!("{session_id}#");
        let mut marks: BTreeMap<String, AlertState> = BTreeMap::new();
        for (mark, held) in state.alert_claims.range(prefix.clone()..) {
            let Some(kind) = mark.strip_prefix(&prefix) else {
                break;
            };
            let claim = if held.until == Timestamp::UNIX_EPOCH {
                AlertState::Released
            } else {
                AlertState::Claimed { until: held.until }
            };
            marks.insert(kind.to_string(), claim);
        }
        for (mark, at) in state.alerts.range(prefix.clone()..) {
            let Some(kind) = mark.strip_prefix(&prefix) else {
                break;
            };
            marks.insert(kind.to_string(), AlertState::Sent { at: *at });
        }
        Ok(marks
            .into_iter()
            .map(|(kind, state)| AlertMark { kind, state })
            .collect())
    }

    async fn list(&self, filter: SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions: Vec<SessionRecord> = self
            .lock()
            .sessions
            .values()
            .map(|v| v.value.clone())
            .filter(|s| !filter.active_only || s.is_active())
            .collect();
        filter.sort(&mut sessions);
        sessions.truncate(filter.limit);
        Ok(sessions)
    }

    async fn record_finding(&self, finding: &FindingRecord) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let of_session = state
            .findings
            .entry(finding.session_id.clone())
            .or_default();
        if of_session.contains_key(&finding.key()) {
            return Ok(false);
        }
        of_session.insert(finding.key(), finding.clone());
        Ok(true)
    }

    async fn findings(&self, session_id: &str) -> Result<Vec<FindingRecord>, StoreError> {
        let state = self.lock();
        Ok(state
            .findings
            .get(session_id)
            .map(|f| f.values().cloned().collect())
            .unwrap_or_default())
    }
}

/// Keeps every published alert, in order, for the caller to print or inspect.
#[derive(Debug, Default)]
pub struct CollectingNotifier {
    alerts: Mutex<Vec<Alert>>,
}

impl CollectingNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes and returns the alerts published since the last call.
    pub fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.alerts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Notifier for CollectingNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.clone());
        Ok(())
    }
}

/// Never terminates anything: reports what would have been terminated.
#[derive(Debug, Default)]
pub struct DryRunTerminator {
    requested: Mutex<Vec<String>>,
}

impl DryRunTerminator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn requested(&self) -> Vec<String> {
        self.requested
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Terminator for DryRunTerminator {
    async fn terminate(
        &self,
        session_id: &str,
        _place: crate::ports::Place<'_>,
    ) -> Result<Terminated, TerminateError> {
        self.requested
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(session_id.to_string());
        Ok(Terminated::WouldHave)
    }
}

/// Stands in for Session Manager where there is none (a replay state file): every session it is
/// asked to end ends now. Nothing leaves the process.
#[derive(Debug, Default)]
pub struct SimulatedTerminator;

impl Terminator for SimulatedTerminator {
    async fn terminate(
        &self,
        _session_id: &str,
        _place: crate::ports::Place<'_>,
    ) -> Result<Terminated, TerminateError> {
        Ok(Terminated::Now)
    }
}

/// A caller identity given in advance: `local` for a state file, a fixed ARN in tests.
#[derive(Debug, Clone)]
pub struct FixedIdentity(pub String);

impl crate::ports::CallerIdentity for FixedIdentity {
    async fn caller(&self) -> Result<String, crate::ports::IdentityError> {
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn save_enforces_the_expected_version() {
        let store = MemoryStore::new();
        let record = SessionRecord::new("s-1");
        assert_eq!(store.save(&record, None).await, Ok(1));
        assert_eq!(
            store.save(&record, None).await,
            Err(StoreError::Conflict("s-1".into()))
        );
        assert_eq!(store.save(&record, Some(1)).await, Ok(2));
        assert_eq!(
            store.save(&record, Some(1)).await,
            Err(StoreError::Conflict("s-1".into()))
        );
    }

    #[tokio::test]
    async fn state_survives_a_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("warden-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let store = MemoryStore::new();
        store.save(&SessionRecord::new("s-1"), None).await.unwrap();
        let key = AlertKey {
            session_id: "s-1".into(),
            kind: "no_mfa".into(),
        };
        store
            .mark_alert_sent(&key, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        store.persist(&path).unwrap();
        let reopened = MemoryStore::open(&path).unwrap();
        assert_eq!(reopened.load("s-1").await.unwrap().unwrap().version, 1);
        let now = Timestamp::now();
        assert_eq!(
            reopened.claim_alert(&key, "retry", now, now).await,
            Ok(AlertClaim::AlreadySent)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn alert_key() -> AlertKey {
        AlertKey {
            session_id: "s-1".into(),
            kind: "no_mfa".into(),
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[tokio::test]
    async fn a_claim_retried_by_its_own_holder_is_granted() {
        let store = MemoryStore::new();
        let key = alert_key();
        store
            .claim_alert(&key, "first", at(0), at(30))
            .await
            .unwrap();
        assert_eq!(
            store.claim_alert(&key, "first", at(1), at(31)).await,
            Ok(AlertClaim::Claimed)
        );
    }

    #[tokio::test]
    async fn another_holder_cannot_release_a_claim() {
        let store = MemoryStore::new();
        let key = alert_key();
        store
            .claim_alert(&key, "first", at(0), at(30))
            .await
            .unwrap();
        store.release_alert(&key, "second").await.unwrap();
        assert_eq!(
            store.claim_alert(&key, "second", at(1), at(31)).await,
            Ok(AlertClaim::InFlight)
        );
    }

    #[tokio::test]
    async fn a_held_alert_claim_turns_other_deliveries_away_until_it_lapses() {
        let store = MemoryStore::new();
        let key = alert_key();
        assert_eq!(
            store.claim_alert(&key, "first", at(0), at(30)).await,
            Ok(AlertClaim::Claimed)
        );
        assert_eq!(
            store.claim_alert(&key, "second", at(10), at(40)).await,
            Ok(AlertClaim::InFlight)
        );
        assert_eq!(
            store.claim_alert(&key, "second", at(31), at(61)).await,
            Ok(AlertClaim::Claimed)
        );
    }

    #[tokio::test]
    async fn a_released_alert_claim_can_be_taken_at_once_and_a_sent_mark_survives_release() {
        let store = MemoryStore::new();
        let key = alert_key();
        store
            .claim_alert(&key, "first", at(0), at(30))
            .await
            .unwrap();
        store.release_alert(&key, "first").await.unwrap();
        assert_eq!(
            store.claim_alert(&key, "later", at(1), at(31)).await,
            Ok(AlertClaim::Claimed)
        );
        store.mark_alert_sent(&key, at(2)).await.unwrap();
        store.release_alert(&key, "later").await.unwrap();
        assert_eq!(
            store.claim_alert(&key, "later", at(100), at(130)).await,
            Ok(AlertClaim::AlreadySent)
        );
    }

    #[test]
    fn a_foreign_state_file_is_a_clear_error() {
        let path =
            std::env::temp_dir().join(format!("warden-bad-state-{}.json", std::process::id()));
        std::fs::write(&path, "[1,2,3]").unwrap();
        let err = MemoryStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("not a Session Warden state file"), "{err}");
        std::fs::remove_file(path).unwrap();
    }
}

/// Session Manager's session list from a recorded `DescribeSessions` response, for replay and
/// tests. Sessions whose status says they ended are the history; the rest are active.
/// Responses are kept per account and region; `replace` sets the functions' own.
#[derive(Debug, Default)]
pub struct RecordedDirectory {
    sessions: Mutex<PlaceSessions>,
}

/// Sessions by (account, region); `(None, None)` is the functions' own.
type PlaceSessions =
    BTreeMap<(Option<String>, Option<String>), Vec<crate::directory::DescribedSession>>;

impl RecordedDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces what the directory reports for the functions' own account with a newer response.
    pub fn replace(&self, response: crate::directory::DescribeSessionsResponse) {
        self.replace_in(crate::ports::Place::OWN, response);
    }

    /// Replaces what the directory reports for `place` (an account and region).
    pub fn replace_in(
        &self,
        place: crate::ports::Place<'_>,
        response: crate::directory::DescribeSessionsResponse,
    ) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                (
                    place.account.map(str::to_string),
                    place.region.map(str::to_string),
                ),
                response.sessions,
            );
    }
}

impl crate::ports::SessionDirectory for RecordedDirectory {
    async fn describe(
        &self,
        place: crate::ports::Place<'_>,
        listing: crate::ports::Listing,
        session_id: Option<&str>,
        _next_token: Option<String>,
    ) -> Result<crate::ports::SessionPage, crate::ports::DirectoryError> {
        let want_ended = listing == crate::ports::Listing::History;
        let key = (
            place.account.map(str::to_string),
            place.region.map(str::to_string),
        );
        let recorded = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let Some(listed) = recorded.get(&key) else {
            if place == crate::ports::Place::OWN {
                return Ok(crate::ports::SessionPage::default());
            }
            return Err(crate::ports::DirectoryError::Rejected(format!(
                "no DescribeSessions response recorded for account {} region {}",
                place.account.unwrap_or("(own)"),
                place.region.unwrap_or("(own)")
            )));
        };
        let sessions = listed
            .iter()
            .filter(|s| s.has_ended() == want_ended)
            .filter(|s| session_id.is_none_or(|id| s.session_id == id))
            .cloned()
            .collect();
        Ok(crate::ports::SessionPage {
            sessions,
            next_token: None,
        })
    }
}
