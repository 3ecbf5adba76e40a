use super::*;
use crate::local::{CollectingNotifier, DryRunTerminator, MemoryStore};
use crate::ports::Terminated;
use crate::session::{SessionRecord, TerminationOutcome};
use crate::test_support::event_json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn config(vars: &[(&str, &str)]) -> WardenConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    WardenConfig::from_lookup(|k| map.get(k).cloned()).unwrap()
}

fn recorder(vars: &[(&str, &str)]) -> Recorder<MemoryStore, CollectingNotifier, DryRunTerminator> {
    Recorder::new(
        MemoryStore::new(),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        config(vars),
    )
}

fn recorder_with(
    terminator: ScriptedTerminator,
    vars: &[(&str, &str)],
) -> Recorder<MemoryStore, CollectingNotifier, ScriptedTerminator> {
    Recorder::new(
        MemoryStore::new(),
        CollectingNotifier::new(),
        terminator,
        config(vars),
    )
}

/// Answers every termination with a scripted result and counts the calls.
struct ScriptedTerminator {
    answers: Mutex<Vec<Result<Terminated, TerminateError>>>,
    calls: AtomicUsize,
}

impl ScriptedTerminator {
    fn new(answers: Vec<Result<Terminated, TerminateError>>) -> Self {
        ScriptedTerminator {
            answers: Mutex::new(answers),
            calls: AtomicUsize::new(0),
        }
    }
}

impl Terminator for ScriptedTerminator {
    async fn terminate(
        &self,
        _session_id: &str,
        _place: crate::ports::Place<'_>,
    ) -> Result<Terminated, TerminateError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut answers = self.answers.lock().unwrap();
        if answers.is_empty() {
            Ok(Terminated::Now)
        } else {
            answers.remove(0)
        }
    }
}

/// Fails the first `failures` publishes, then accepts.
struct FlakyNotifier {
    failures: AtomicUsize,
    accepted: Mutex<Vec<Alert>>,
}

impl Notifier for FlakyNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(NotifyError::Unavailable("throttled".into()));
        }
        self.accepted.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

/// Takes a while to accept each alert, as SNS does under load, so deliveries overlap.
#[derive(Default)]
struct SlowNotifier {
    accepted: Mutex<Vec<Alert>>,
}

impl Notifier for SlowNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.accepted.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

async fn stored(store: &MemoryStore, id: &str) -> SessionRecord {
    store.load(id).await.unwrap().expect("session stored").value
}

#[tokio::test]
async fn start_without_mfa_is_recorded_and_alerted_once() {
    let r = recorder(&[]);
    let out = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert!(out.applied);
    assert_eq!(out.alerts.len(), 1);
    assert_eq!(out.alerts[0].key.kind, "no_mfa");
    let session = stored(r.store(), &out.session_id).await;
    assert_eq!(session.state, SessionState::Active);
    assert!(session.flags.contains_key(&FlagKind::NoMfa));
}

#[tokio::test]
async fn a_redelivered_event_changes_nothing_and_pages_no_one() {
    let r = recorder(&[]);
    let first = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    let before = r.store().load(&first.session_id).await.unwrap().unwrap();
    let again = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert!(!again.applied);
    assert!(again.alerts.is_empty());
    assert_eq!(
        r.store().load(&first.session_id).await.unwrap().unwrap(),
        before
    );
    assert_eq!(r.notifier().take().len(), 1);
}

#[tokio::test]
async fn terminate_before_start_ends_like_an_in_order_delivery() {
    let in_order = recorder(&[]);
    in_order
        .handle(&event_json("15-start-after-terminate.json"))
        .await
        .unwrap();
    in_order
        .handle(&event_json("14-terminate-before-start.json"))
        .await
        .unwrap();
    let reversed = recorder(&[]);
    reversed
        .handle(&event_json("14-terminate-before-start.json"))
        .await
        .unwrap();
    let out = reversed
        .handle(&event_json("15-start-after-terminate.json"))
        .await
        .unwrap();
    let (a, b) = (
        stored(in_order.store(), &out.session_id).await,
        stored(reversed.store(), &out.session_id).await,
    );
    assert_eq!(a, b);
    assert_eq!(b.state, SessionState::Terminated);
}

#[tokio::test]
async fn an_alert_is_marked_sent_only_after_the_notifier_accepts_it() {
    let notifier = FlakyNotifier {
        failures: AtomicUsize::new(1),
        accepted: Mutex::new(vec![]),
    };
    let r = Recorder::new(
        MemoryStore::new(),
        notifier,
        DryRunTerminator::new(),
        config(&[]),
    );
    let err = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RecorderError::Notify(NotifyError::Unavailable(_))
    ));
    assert_eq!(r.store().alert_count(), 0);
    // Lambda retries the same event: the session is already recorded, the alert now goes out.
    let retry = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert!(!retry.applied);
    assert_eq!(retry.alerts.len(), 1);
    assert_eq!(r.notifier().accepted.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn two_concurrent_deliveries_of_one_event_page_once() {
    let r = Recorder::new(
        MemoryStore::new(),
        SlowNotifier::default(),
        DryRunTerminator::new(),
        config(&[]),
    );
    let event = event_json("03-start-role-without-mfa.json");
    let (first, second) = tokio::join!(r.handle(&event), r.handle(&event));
    let sent = first.unwrap().alerts.len() + second.unwrap().alerts.len();
    assert_eq!(sent, 1);
    assert_eq!(r.notifier().accepted.lock().unwrap().len(), 1);
    assert_eq!(r.store().alert_count(), 1);
}

#[tokio::test]
async fn a_terminate_flag_ends_the_session_once_and_says_so() {
    let terminator = ScriptedTerminator::new(vec![]);
    let r = recorder_with(
        terminator,
        &[("WARDEN_FLAG_ACTIONS", "root_user=terminate")],
    );
    let out = r.handle(&event_json("08-start-root.json")).await.unwrap();
    assert_eq!(out.state, SessionState::Terminated);
    assert_eq!(out.terminations[0].outcome, TerminationOutcome::Terminated);
    assert!(out.alerts[0].body.contains("session terminated"));
    let session = stored(r.store(), &out.session_id).await;
    assert_eq!(session.ended_by.as_deref(), Some("session-warden"));
    let again = r.handle(&event_json("08-start-root.json")).await.unwrap();
    assert!(again.terminations.is_empty() && again.alerts.is_empty());
    assert_eq!(r.terminator.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn dry_run_reports_would_terminate_and_leaves_the_session_active() {
    let r = recorder(&[("WARDEN_FLAG_ACTIONS", "tunnel=terminate")]);
    let out = r
        .handle(&event_json("09-start-ssh-tunnel.json"))
        .await
        .unwrap();
    assert_eq!(out.state, SessionState::Active);
    assert!(out.terminations[0].dry_run());
    assert!(out.alerts[0].body.contains("would terminate"));
}

#[tokio::test]
async fn a_refused_termination_is_recorded_and_alerted_as_failed() {
    let terminator = ScriptedTerminator::new(vec![Err(TerminateError::Rejected(
        "AccessDeniedException".into(),
    ))]);
    let r = recorder_with(terminator, &[("WARDEN_FLAG_ACTIONS", "no_mfa=terminate")]);
    let out = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert_eq!(out.terminations[0].outcome, TerminationOutcome::Failed);
    assert!(
        out.alerts[0]
            .body
            .contains("termination FAILED (AccessDeniedException)"),
        "{}",
        out.alerts[0].body
    );
    assert_eq!(out.state, SessionState::Active);
}

#[tokio::test]
async fn an_unavailable_terminator_fails_the_invocation_before_alerting() {
    let terminator =
        ScriptedTerminator::new(vec![Err(TerminateError::Unavailable("timeout".into()))]);
    let r = recorder_with(terminator, &[("WARDEN_FLAG_ACTIONS", "no_mfa=terminate")]);
    let err = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RecorderError::Terminate(TerminateError::Unavailable(_))
    ));
    assert!(r.notifier().take().is_empty());
    let retry = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert_eq!(retry.state, SessionState::Terminated);
    assert_eq!(retry.alerts.len(), 1);
}

#[tokio::test]
async fn a_session_already_ended_is_not_terminated_again() {
    let terminator = ScriptedTerminator::new(vec![]);
    let r = recorder_with(terminator, &[("WARDEN_FLAG_ACTIONS", "no_mfa=terminate")]);
    r.handle(&event_json("04-terminate-role-without-mfa.json"))
        .await
        .unwrap();
    let out = r
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    assert_eq!(
        out.terminations[0].outcome,
        TerminationOutcome::AlreadyEnded
    );
    assert_eq!(r.terminator.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn exempt_principals_are_recorded_but_never_alerted() {
    let r = recorder(&[(
        "WARDEN_EXEMPT_PRINCIPALS",
        "arn:aws:sts::111122223333:assumed-role/Batch/*",
    )]);
    let out = r
        .handle(&event_json("13-start-scheduled-automation.json"))
        .await
        .unwrap();
    assert!(out.exempt && out.alerts.is_empty());
    let session = stored(r.store(), &out.session_id).await;
    assert!(session.exempt);
    assert_eq!(session.flags.len(), 2);
}

#[tokio::test]
async fn a_denied_start_is_recorded_and_alerted() {
    let r = recorder(&[]);
    let out = r.handle(&event_json("11-start-denied.json")).await.unwrap();
    assert_eq!(out.state, SessionState::Denied);
    assert_eq!(out.alerts[0].key.kind, "denied_start");
}

#[tokio::test]
async fn unrelated_events_are_rejected_as_such() {
    let r = recorder(&[]);
    let mut raw = event_json("01-start-role-with-mfa.json");
    raw["detail"]["eventName"] = serde_json::json!("GetParameter");
    let err = r.handle(&raw).await.unwrap_err();
    assert!(err.is_unrelated_event());
    let broken = r
        .handle(&serde_json::json!({"detail": "nope"}))
        .await
        .unwrap_err();
    assert!(!broken.is_unrelated_event());
}

#[tokio::test]
async fn every_sample_replays_in_any_order_to_the_same_table() {
    let mut files: Vec<String> = std::fs::read_dir(format!(
        "{}/../events/1-cloudtrail",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .map(|e| e.unwrap().file_name().into_string().unwrap())
    .filter(|n| n.ends_with(".json"))
    .collect();
    files.sort();
    let forward = recorder(&[]);
    for f in &files {
        forward.handle(&event_json(f)).await.unwrap();
    }
    let backward = recorder(&[]);
    for f in files.iter().rev().chain(files.iter()) {
        backward.handle(&event_json(f)).await.unwrap();
    }
    assert_eq!(forward.store().sessions(), backward.store().sessions());
    assert_eq!(
        forward.notifier().take().len(),
        backward.notifier().take().len()
    );
}

/// The memory store as DynamoDB behaves when replies are lost: every alert claim is written,
/// its reply lost, and the SDK's retry sends the same claim again; marking an alert sent
/// fails `mark_failures` times (the write may or may not have happened).
struct LostReplies {
    inner: MemoryStore,
    mark_failures: AtomicUsize,
}

impl LostReplies {
    fn new(mark_failures: usize) -> Self {
        LostReplies {
            inner: MemoryStore::new(),
            mark_failures: AtomicUsize::new(mark_failures),
        }
    }
}

impl SessionStore for LostReplies {
    async fn load(
        &self,
        session_id: &str,
    ) -> Result<Option<crate::ports::Versioned<SessionRecord>>, StoreError> {
        self.inner.load(session_id).await
    }

    async fn save(&self, record: &SessionRecord, expected: Option<u64>) -> Result<u64, StoreError> {
        self.inner.save(record, expected).await
    }

    async fn claim_alert(
        &self,
        key: &crate::alert::AlertKey,
        holder: &str,
        now: jiff::Timestamp,
        until: jiff::Timestamp,
    ) -> Result<crate::ports::AlertClaim, StoreError> {
        self.inner.claim_alert(key, holder, now, until).await?;
        self.inner.claim_alert(key, holder, now, until).await
    }

    async fn mark_alert_sent(
        &self,
        key: &crate::alert::AlertKey,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if self.mark_failures.load(Ordering::SeqCst) > 0 {
            self.mark_failures.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Unavailable("connection reset".into()));
        }
        self.inner.mark_alert_sent(key, at).await
    }

    async fn release_alert(
        &self,
        key: &crate::alert::AlertKey,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.inner.release_alert(key, holder).await
    }

    async fn alerts(&self, session_id: &str) -> Result<Vec<crate::ports::AlertMark>, StoreError> {
        self.inner.alerts(session_id).await
    }

    async fn list(
        &self,
        filter: crate::ports::SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list(filter).await
    }

    async fn record_finding(
        &self,
        finding: &crate::finding::FindingRecord,
    ) -> Result<bool, StoreError> {
        self.inner.record_finding(finding).await
    }

    async fn findings(
        &self,
        session_id: &str,
    ) -> Result<Vec<crate::finding::FindingRecord>, StoreError> {
        self.inner.findings(session_id).await
    }
}

#[tokio::test]
async fn a_claim_whose_reply_was_lost_still_pages() {
    let r = Recorder::new(
        LostReplies::new(0),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        config(&[]),
    );
    let out = r.handle(&event_json("08-start-root.json")).await.unwrap();
    assert_eq!(out.alerts.len(), 1, "the root-user alert was dropped");
    assert_eq!(r.notifier().take().len(), 1);
}

#[tokio::test]
async fn an_alert_sent_but_not_marked_is_not_sent_again_by_a_retry() {
    let r = Recorder::new(
        LostReplies::new(1),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        config(&[]),
    );
    let event = event_json("08-start-root.json");
    let first = r.handle(&event).await.unwrap();
    assert_eq!(first.alerts.len(), 1);
    // A redelivery while the claim holds sends nothing; the message carries a stable id for
    // a redelivery after the lease.
    let again = r.handle(&event).await.unwrap();
    assert!(again.alerts.is_empty());
    let sent = r.notifier().take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].attributes["alert_id"],
        format!("{}/{}", first.session_id, sent[0].key.kind)
    );
}

const TICKETS: [(&str, &str); 2] = [
    ("WARDEN_REASON_POLICY", "off_hours"),
    ("WARDEN_REASON_PATTERN", "^(CHG|INC)-[0-9]+"),
];

#[tokio::test]
async fn an_off_hours_start_without_a_ticket_is_alerted_as_no_reason() {
    let r = recorder(&TICKETS);
    let out = r
        .handle(&event_json("05-start-off-hours.json"))
        .await
        .unwrap();
    let kinds: Vec<&str> = out.alerts.iter().map(|a| a.key.kind.as_str()).collect();
    assert_eq!(kinds, ["off_hours", "no_reason"]);
}

#[tokio::test]
async fn a_change_ticket_is_recorded_and_shown_in_the_alert() {
    let r = recorder(&TICKETS);
    let out = r
        .handle(&event_json("16-start-with-change-ticket.json"))
        .await
        .unwrap();
    let kinds: Vec<&str> = out.alerts.iter().map(|a| a.key.kind.as_str()).collect();
    assert_eq!(kinds, ["off_hours"]);
    assert!(
        out.alerts[0]
            .body
            .contains("Reason:       CHG-4821 renew the TLS certificate on web-1"),
        "{}",
        out.alerts[0].body
    );
    let session = stored(r.store(), &out.session_id).await;
    assert_eq!(
        session.reason.as_deref(),
        Some("CHG-4821 renew the TLS certificate on web-1")
    );
}

#[tokio::test]
async fn a_flag_a_ticket_excuses_is_recorded_but_pages_no_one() {
    let mut vars = TICKETS.to_vec();
    vars.push(("WARDEN_REASON_EXCUSES", "off_hours"));
    let r = recorder(&vars);
    let out = r
        .handle(&event_json("16-start-with-change-ticket.json"))
        .await
        .unwrap();
    assert!(out.alerts.is_empty(), "{:?}", out.alerts);
    let session = stored(r.store(), &out.session_id).await;
    assert_eq!(
        session.flags[&FlagKind::OffHours].action,
        FlagAction::Record
    );
}

/// The same event as if it had happened in `account` (an organization's member account whose
/// session ids may repeat another account's).
fn in_account(file: &str, account: &str) -> serde_json::Value {
    let mut raw = event_json(file);
    raw["account"] = account.into();
    raw["detail"]["recipientAccountId"] = account.into();
    raw["detail"]["eventID"] =
        format!("{account}-{}", raw["detail"]["eventID"].as_str().unwrap()).into();
    raw
}

#[tokio::test]
async fn equal_session_ids_in_two_accounts_are_recorded_apart() {
    let r = recorder(&[("WARDEN_HOME_ACCOUNT", "111122223333")]);
    let home = r
        .handle(&in_account(
            "03-start-role-without-mfa.json",
            "111122223333",
        ))
        .await
        .unwrap();
    let member = r
        .handle(&in_account(
            "03-start-role-without-mfa.json",
            "222233334444",
        ))
        .await
        .unwrap();
    assert_eq!(
        member.session_id,
        format!("222233334444/{}", home.session_id)
    );
    let (home, member) = (
        stored(r.store(), &home.session_id).await,
        stored(r.store(), &member.session_id).await,
    );
    assert_eq!(home.account.as_deref(), Some("111122223333"));
    assert_eq!(member.account.as_deref(), Some("222233334444"));
    assert_eq!(home.session_id, member.session_id);
    assert_eq!(r.store().sessions().len(), 2);
}

#[tokio::test]
async fn a_member_account_session_is_alerted_on_its_own_and_names_its_account() {
    let r = recorder(&[("WARDEN_HOME_ACCOUNT", "111122223333")]);
    for account in ["111122223333", "222233334444"] {
        let out = r
            .handle(&in_account("03-start-role-without-mfa.json", account))
            .await
            .unwrap();
        assert_eq!(out.alerts.len(), 1, "{account}: one no_mfa alert each");
        assert_eq!(out.alerts[0].attributes["account"], account);
    }
}

#[tokio::test]
async fn without_a_home_account_sessions_keep_their_bare_id() {
    let r = recorder(&[]);
    let out = r
        .handle(&in_account(
            "03-start-role-without-mfa.json",
            "222233334444",
        ))
        .await
        .unwrap();
    assert!(!out.session_id.contains('/'), "{}", out.session_id);
}

#[tokio::test]
async fn a_member_account_without_a_role_is_recorded_as_a_failed_termination_naming_it() {
    let refusal = crate::config::MemberAccessError::NotAMember {
        account: "222233334444".into(),
        role: "SessionWardenMember".into(),
    };
    let terminator = ScriptedTerminator::new(vec![Err(TerminateError::NoAccess(refusal))]);
    let r = recorder_with(
        terminator,
        &[
            ("WARDEN_FLAG_ACTIONS", "root_user=terminate"),
            ("WARDEN_HOME_ACCOUNT", "111122223333"),
        ],
    );
    let out = r
        .handle(&in_account("08-start-root.json", "222233334444"))
        .await
        .unwrap();
    assert_eq!(out.state, SessionState::Active);
    assert_eq!(out.terminations[0].outcome, TerminationOutcome::Failed);
    let session = stored(r.store(), &out.session_id).await;
    let detail = session.terminations["root_user"].detail.clone().unwrap();
    assert!(
        detail.contains("222233334444") && detail.contains("SessionWardenMember"),
        "{detail}"
    );
    assert!(
        out.alerts[0].body.contains("222233334444"),
        "{}",
        out.alerts[0].body
    );
}
