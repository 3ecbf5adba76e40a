use super::*;
use crate::directory::DescribeSessionsResponse;
use crate::handlers::recorder::Recorder;
use crate::local::{CollectingNotifier, DryRunTerminator, MemoryStore, RecordedDirectory};
use crate::ports::{Place, SessionPage};
use crate::session::{SessionState, TerminationOutcome, TranscriptSeen};
use crate::test_support::event_json;
use std::collections::HashMap;
use std::sync::Arc;

type TestReaper = Reaper<
    Arc<MemoryStore>,
    Arc<CollectingNotifier>,
    Arc<DryRunTerminator>,
    Arc<RecordedDirectory>,
>;

/// A reaper and a recorder sharing one in-memory table, and the directory the reaper reads.
struct World {
    reaper: TestReaper,
    recorder: Recorder<Arc<MemoryStore>, Arc<CollectingNotifier>, Arc<DryRunTerminator>>,
    directory: Arc<RecordedDirectory>,
    store: Arc<MemoryStore>,
}

fn world(vars: &[(&str, &str)]) -> World {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = WardenConfig::from_lookup(|k| map.get(k).cloned()).unwrap();
    let (store, notifier, terminator) = (
        Arc::new(MemoryStore::new()),
        Arc::new(CollectingNotifier::new()),
        Arc::new(DryRunTerminator::new()),
    );
    let directory = Arc::new(RecordedDirectory::new());
    World {
        reaper: Reaper::new(
            store.clone(),
            notifier.clone(),
            terminator.clone(),
            directory.clone(),
            config.clone(),
        ),
        recorder: Recorder::new(store.clone(), notifier, terminator, config),
        directory,
        store,
    }
}

impl World {
    /// Delivers these CloudTrail samples (`events/1-cloudtrail/`) to the recorder, in order.
    async fn started(&self, files: &[&str]) {
        for file in files {
            self.recorder.handle(&event_json(file)).await.unwrap();
        }
    }
}

fn described(
    id: &str,
    status: &str,
    start: &str,
    end: Option<&str>,
    document: &str,
) -> DescribedSession {
    DescribedSession {
        session_id: id.to_string(),
        target: Some("i-0a1b2c3d4e5f60718".to_string()),
        status: Some(status.to_string()),
        start_date: Some(start.parse().unwrap()),
        end_date: end.map(|e| e.parse().unwrap()),
        document_name: Some(document.to_string()),
        owner: Some(format!(
            "arn:aws:sts::111122223333:assumed-role/Operator/{}",
            id.split('-').next().unwrap()
        )),
        reason: None,
    }
}

fn lists(world: &World, sessions: Vec<DescribedSession>) {
    world.directory.replace(DescribeSessionsResponse {
        sessions,
        next_token: None,
    });
}

const SHELL: &str = "SSM-SessionManagerRunShell";

/// Alice's shell session (`01-start-role-with-mfa.json`) as Session Manager lists it while open.
fn alice_connected() -> DescribedSession {
    described(ALICE, "Connected", "2026-11-23T09:14:37Z", None, SHELL)
}

/// Alice's shell session as Session Manager lists it after it ended at 10:02.
fn alice_ended() -> DescribedSession {
    described(
        ALICE,
        "Terminated",
        "2026-11-23T09:14:37Z",
        Some("2026-11-23T10:02:00Z"),
        SHELL,
    )
}

/// Alice's session recorded from CloudTrail and still open in Session Manager.
async fn alice_open(vars: &[(&str, &str)]) -> World {
    let w = world(vars);
    w.started(&["01-start-role-with-mfa.json"]).await;
    lists(&w, vec![alice_connected()]);
    w
}
const ALICE: &str = "alice-ea1181f76f3adcbdc";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

async fn record(world: &World, id: &str) -> SessionRecord {
    world
        .store
        .load(id)
        .await
        .unwrap()
        .expect("session stored")
        .value
}

fn alert_kinds(reaped: &Reaped) -> Vec<&str> {
    reaped
        .alerts
        .iter()
        .map(|a| a.attributes["kind"].as_str())
        .collect()
}

#[tokio::test]
async fn a_session_that_ended_without_an_api_call_is_closed_with_the_api_end_time() {
    let w = world(&[]);
    w.started(&["01-start-role-with-mfa.json"]).await;
    lists(&w, vec![alice_ended()]);
    let reaped = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    assert_eq!(
        reaped.ended,
        vec![(ALICE.to_string(), Some(at("2026-11-23T10:02:00Z")))]
    );
    let session = record(&w, ALICE).await;
    assert_eq!(session.state, SessionState::Ended);
    assert_eq!(session.ended_by.as_deref(), Some("session-manager"));
    assert_eq!(session.described_status.as_deref(), Some("Terminated"));
    assert!(
        w.store
            .list(SessionFilter {
                active_only: true,
                limit: 10,
                oldest_first: false,
            })
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_rerun_changes_nothing_and_alerts_no_one() {
    let w = world(&[]);
    w.started(&["01-start-role-with-mfa.json"]).await;
    lists(
        &w,
        vec![
            alice_ended(),
            described(
                "mallory-0f0f0f0f0f0f0f0f0",
                "Connected",
                "2026-11-23T09:00:00Z",
                None,
                SHELL,
            ),
        ],
    );
    let first = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    let before = w.store.sessions();
    let again = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    assert!(!first.alerts.is_empty());
    assert!(again.alerts.is_empty() && again.ended.is_empty() && again.recorded.is_empty());
    assert_eq!(w.store.sessions(), before);
}

#[tokio::test]
async fn an_open_session_cloudtrail_never_delivered_is_recorded_and_alerted() {
    let w = world(&[]);
    let mallory = "mallory-0f0f0f0f0f0f0f0f0";
    lists(
        &w,
        vec![described(
            mallory,
            "Connected",
            "2026-11-28T22:00:00Z",
            None,
            SHELL,
        )],
    );
    let reaped = w.reaper.run(at("2026-11-28T22:30:00Z")).await.unwrap();
    assert_eq!(reaped.recorded, vec![mallory.to_string()]);
    assert!(alert_kinds(&reaped).contains(&"unrecorded_session"));
    let session = record(&w, mallory).await;
    assert_eq!(session.principal.unwrap().display_name, "mallory");
    assert_eq!(session.started_at, Some(at("2026-11-28T22:00:00Z")));
    assert_eq!(session.state, SessionState::Active);
}

#[tokio::test]
async fn a_new_session_gets_time_for_its_cloudtrail_event() {
    let w = world(&[]);
    lists(
        &w,
        vec![described(
            "zoe-0f0f0f0f0f0f0f0f0",
            "Connected",
            "2026-11-28T22:25:00Z",
            None,
            SHELL,
        )],
    );
    let reaped = w.reaper.run(at("2026-11-28T22:30:00Z")).await.unwrap();
    assert!(!alert_kinds(&reaped).contains(&"unrecorded_session"));
}

#[tokio::test]
async fn sessions_past_the_maximum_duration_are_terminated() {
    let w = alice_open(&[("WARDEN_MAX_SESSION_MINUTES", "60")]).await;
    let reaped = w.reaper.run(at("2026-11-23T10:30:00Z")).await.unwrap();
    assert_eq!(reaped.terminations.len(), 1);
    assert_eq!(reaped.terminations[0].reason, "max_duration");
    assert_eq!(
        reaped.terminations[0].outcome,
        TerminationOutcome::WouldTerminate
    );
    assert!(alert_kinds(&reaped).contains(&"max_duration"));
}

#[tokio::test]
async fn a_shell_session_without_a_transcript_past_its_grace_is_alerted() {
    let w = alice_open(&[]).await;
    let early = w.reaper.run(at("2026-11-23T09:20:00Z")).await.unwrap();
    assert!(early.alerts.is_empty(), "within the grace period");
    let late = w.reaper.run(at("2026-11-23T09:30:00Z")).await.unwrap();
    assert_eq!(alert_kinds(&late), ["no_transcript"]);
    assert!(late.terminations.is_empty(), "fail mode open only alerts");
}

#[tokio::test]
async fn fail_mode_closed_terminates_a_session_without_a_transcript() {
    let w = alice_open(&[("WARDEN_FAIL_MODE", "closed")]).await;
    let reaped = w.reaper.run(at("2026-11-23T09:30:00Z")).await.unwrap();
    assert_eq!(reaped.terminations[0].reason, "no_transcript");
}

#[tokio::test]
async fn a_session_with_a_transcript_or_a_tunnel_needs_none() {
    let w = world(&[]);
    w.started(&["01-start-role-with-mfa.json", "09-start-ssh-tunnel.json"])
        .await;
    update_session(w.store.as_ref(), ALICE, |r| {
        r.note_transcript(&TranscriptSeen {
            processed_at: Some(at("2026-11-23T09:15:00Z")),
            ..TranscriptSeen::default()
        })
    })
    .await
    .unwrap();
    lists(
        &w,
        vec![
            described(ALICE, "Connected", "2026-11-23T09:14:37Z", None, SHELL),
            described(
                "erin-85d014b567557d391",
                "Connected",
                "2026-11-26T09:48:55Z",
                None,
                "AWS-StartSSHSession",
            ),
        ],
    );
    let reaped = w.reaper.run(at("2026-11-26T10:30:00Z")).await.unwrap();
    assert!(reaped.alerts.is_empty(), "{:?}", alert_kinds(&reaped));
}

#[tokio::test]
async fn a_transcript_the_scanner_could_not_process_is_alerted_after_the_retries() {
    let w = world(&[("WARDEN_FAIL_MODE", "closed")]);
    w.started(&["01-start-role-with-mfa.json"]).await;
    update_session(w.store.as_ref(), ALICE, |r| {
        r.note_transcript(&TranscriptSeen {
            processed_at: Some(at("2026-11-23T09:16:00Z")),
            ..TranscriptSeen::default()
        });
        r.transcript_failed_at = Some(at("2026-11-23T09:20:00Z"));
        true
    })
    .await
    .unwrap();
    lists(&w, vec![alice_connected()]);
    let during_retries = w.reaper.run(at("2026-11-23T09:22:00Z")).await.unwrap();
    assert!(during_retries.alerts.is_empty());
    let after = w.reaper.run(at("2026-11-23T09:30:00Z")).await.unwrap();
    assert_eq!(alert_kinds(&after), ["transcript_unprocessable"]);
    assert_eq!(after.terminations[0].reason, "transcript_unprocessable");
}

/// Alice's session with a transcript whose last log event was at `last`.
async fn alice_logged_until(vars: &[(&str, &str)], last: &str) -> World {
    let w = world(vars);
    w.started(&["01-start-role-with-mfa.json"]).await;
    update_session(w.store.as_ref(), ALICE, |r| {
        r.note_transcript(&TranscriptSeen {
            first_event_at: Some(at("2026-11-23T09:15:00Z")),
            last_event_at: Some(at(last)),
            processed_at: Some(at(last)),
            ..TranscriptSeen::default()
        })
    })
    .await
    .unwrap();
    w
}

#[tokio::test]
async fn a_transcript_that_stops_mid_session_is_alerted_once_past_the_idle_timeout() {
    let w = alice_logged_until(&[], "2026-11-23T09:40:00Z").await;
    lists(&w, vec![alice_connected()]);
    let within = w.reaper.run(at("2026-11-23T10:45:00Z")).await.unwrap();
    assert!(
        within.alerts.is_empty(),
        "65 minutes of silence fits an idle session: {:?}",
        alert_kinds(&within)
    );
    let past = w.reaper.run(at("2026-11-23T10:55:00Z")).await.unwrap();
    assert_eq!(alert_kinds(&past), ["transcript_stopped"]);
    assert!(past.terminations.is_empty(), "fail mode open only alerts");
    let again = w.reaper.run(at("2026-11-23T11:00:00Z")).await.unwrap();
    assert!(again.alerts.is_empty(), "alerted once per session");
}

#[tokio::test]
async fn a_silent_session_that_is_disconnected_or_checked_off_is_not_alerted() {
    let w = alice_logged_until(&[], "2026-11-23T09:40:00Z").await;
    lists(
        &w,
        vec![described(
            ALICE,
            "Disconnected",
            "2026-11-23T09:14:37Z",
            None,
            SHELL,
        )],
    );
    let disconnected = w.reaper.run(at("2026-11-23T11:00:00Z")).await.unwrap();
    assert!(
        disconnected.alerts.is_empty(),
        "a disconnected session sends nothing until it resumes: {:?}",
        alert_kinds(&disconnected)
    );
    let off = alice_logged_until(
        &[("WARDEN_TRANSCRIPT_SILENCE_MINUTES", "0")],
        "2026-11-23T09:40:00Z",
    )
    .await;
    lists(&off, vec![alice_connected()]);
    let reaped = off.reaper.run(at("2026-11-23T11:00:00Z")).await.unwrap();
    assert!(reaped.alerts.is_empty(), "{:?}", alert_kinds(&reaped));
}

#[tokio::test]
async fn fail_mode_closed_terminates_a_session_whose_transcript_stopped() {
    let w = alice_logged_until(
        &[
            ("WARDEN_FAIL_MODE", "closed"),
            ("WARDEN_TRANSCRIPT_SILENCE_MINUTES", "30"),
        ],
        "2026-11-23T09:40:00Z",
    )
    .await;
    lists(&w, vec![alice_connected()]);
    let reaped = w.reaper.run(at("2026-11-23T10:15:00Z")).await.unwrap();
    assert_eq!(alert_kinds(&reaped), ["transcript_stopped"]);
    assert_eq!(reaped.terminations[0].reason, "transcript_stopped");
}

#[tokio::test]
async fn a_session_missing_from_session_manager_stays_open_until_it_is_surely_over() {
    let w = world(&[]);
    w.started(&["01-start-role-with-mfa.json"]).await;
    lists(&w, vec![]);
    w.reaper.run(at("2026-11-23T10:00:00Z")).await.unwrap();
    assert_eq!(record(&w, ALICE).await.state, SessionState::Active);
    let reaped = w.reaper.run(at("2026-11-26T10:00:00Z")).await.unwrap();
    assert_eq!(reaped.ended.len(), 1);
    assert!(
        record(&w, ALICE)
            .await
            .end_reason
            .unwrap()
            .contains("no longer known")
    );
}

/// Fails look-ups of one session; lists everything else as the recorded directory does.
struct FlakyDirectory {
    inner: RecordedDirectory,
    failing: &'static str,
}

impl SessionDirectory for FlakyDirectory {
    async fn describe(
        &self,
        place: Place<'_>,
        listing: Listing,
        id: Option<&str>,
        token: Option<String>,
    ) -> Result<SessionPage, DirectoryError> {
        if id == Some(self.failing) {
            return Err(DirectoryError::Unavailable("ThrottlingException".into()));
        }
        self.inner.describe(place, listing, id, token).await
    }
}

#[tokio::test]
async fn one_failing_session_does_not_stop_the_run() {
    let store = Arc::new(MemoryStore::new());
    let config = WardenConfig::from_lookup(|_| None).unwrap();
    let recorder = Recorder::new(
        store.clone(),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        config.clone(),
    );
    recorder
        .handle(&event_json("01-start-role-with-mfa.json"))
        .await
        .unwrap();
    recorder
        .handle(&event_json("03-start-role-without-mfa.json"))
        .await
        .unwrap();
    let inner = RecordedDirectory::new();
    inner.replace(DescribeSessionsResponse {
        sessions: vec![
            alice_ended(),
            described(
                "bob-2731a0ce76f67ca89",
                "Terminated",
                "2026-11-23T13:02:11Z",
                Some("2026-11-23T13:30:00Z"),
                SHELL,
            ),
        ],
        next_token: None,
    });
    let directory = FlakyDirectory {
        inner,
        failing: ALICE,
    };
    let reaper = Reaper::new(
        store.clone(),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        directory,
        config,
    );
    let reaped = reaper.run(at("2026-11-23T14:00:00Z")).await.unwrap();
    assert_eq!(reaped.problems.len(), 1, "{:?}", reaped.problems);
    assert!(reaped.problems[0].starts_with(ALICE));
    assert_eq!(reaped.ended.len(), 1);
    assert_eq!(
        store
            .load("bob-2731a0ce76f67ca89")
            .await
            .unwrap()
            .unwrap()
            .value
            .state,
        SessionState::Ended
    );
}

#[test]
fn only_schedule_events_start_a_run() {
    let scheduled = serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-29T00:00:00Z"});
    assert_eq!(
        schedule_time(&scheduled).unwrap(),
        at("2026-11-29T00:00:00Z")
    );
    let err = schedule_time(&event_json("01-start-role-with-mfa.json")).unwrap_err();
    assert!(err.to_string().contains("Scheduled Event"), "{err}");
}

#[tokio::test]
async fn a_limited_batch_takes_the_oldest_active_sessions_first() {
    let w = world(&[("WARDEN_REAPER_BATCH", "1")]);
    w.started(&[
        "03-start-role-without-mfa.json",
        "01-start-role-with-mfa.json",
        "05-start-off-hours.json",
    ])
    .await;
    lists(
        &w,
        vec![
            alice_ended(),
            described(
                "bob-2731a0ce76f67ca89",
                "Terminated",
                "2026-11-23T13:02:11Z",
                Some("2026-11-23T13:30:00Z"),
                SHELL,
            ),
            described(
                "carol-5e48b7f8b97acc971",
                "Terminated",
                "2026-11-28T23:12:05Z",
                Some("2026-11-28T23:40:00Z"),
                SHELL,
            ),
        ],
    );
    let first = w.reaper.run(at("2026-11-29T00:00:00Z")).await.unwrap();
    assert_eq!(
        first
            .ended
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        [ALICE]
    );
    assert!(first.more_next_time);
    let second = w.reaper.run(at("2026-11-29T00:05:00Z")).await.unwrap();
    assert_eq!(
        second
            .ended
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        ["bob-2731a0ce76f67ca89"]
    );
}

/// Organization mode: the stack's own account and two member accounts it may act in.
const MEMBERS: &[(&str, &str)] = &[
    ("AWS_REGION", "eu-west-1"),
    ("WARDEN_HOME_ACCOUNT", "111122223333"),
    ("WARDEN_MEMBER_ROLE_NAME", "SessionWardenMember"),
    ("WARDEN_MEMBER_ACCOUNTS", "222233334444,444455556666"),
];

impl World {
    /// Delivers these CloudTrail samples as if they had happened in `account`.
    async fn started_in(&self, account: &str, files: &[&str]) {
        for file in files {
            let mut raw = event_json(file);
            raw["account"] = account.into();
            let id = raw["detail"]["eventID"].as_str().unwrap().to_string();
            raw["detail"]["eventID"] = format!("{account}-{id}").into();
            self.recorder.handle(&raw).await.unwrap();
        }
    }

    /// What Session Manager lists in `account` and `region` (`None`: the functions' own).
    fn lists_in(&self, account: &str, region: Option<&str>, sessions: Vec<DescribedSession>) {
        let place = Place {
            account: Some(account),
            region,
        };
        self.directory.replace_in(
            place,
            DescribeSessionsResponse {
                sessions,
                next_token: None,
            },
        );
    }
}

#[tokio::test]
async fn each_account_s_sessions_are_closed_from_its_own_session_manager() {
    let w = world(MEMBERS);
    w.started_in("111122223333", &["01-start-role-with-mfa.json"])
        .await;
    w.started_in("222233334444", &["01-start-role-with-mfa.json"])
        .await;
    lists(&w, vec![alice_connected()]);
    w.lists_in("222233334444", None, vec![alice_ended()]);
    w.lists_in("444455556666", None, vec![]);
    let reaped = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    let member_key = format!("222233334444/{ALICE}");
    assert_eq!(
        reaped.ended,
        [(member_key.clone(), Some(at("2026-11-23T10:02:00Z")))]
    );
    assert_eq!(record(&w, &member_key).await.state, SessionState::Ended);
    assert_eq!(record(&w, ALICE).await.state, SessionState::Active);
    assert!(reaped.problems.is_empty(), "{:?}", reaped.problems);
}

#[tokio::test]
async fn configured_member_accounts_are_visited_without_sessions_in_the_table() {
    let w = world(&[MEMBERS, &[("WARDEN_MEMBER_REGIONS", "us-east-1")]].concat());
    w.lists_in("222233334444", Some("us-east-1"), vec![]);
    w.lists_in("444455556666", Some("us-east-1"), vec![alice_connected()]);
    let reaped = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    assert_eq!(
        reaped.visited,
        [
            "own account",
            "222233334444 us-east-1",
            "444455556666 us-east-1"
        ]
    );
    // Session Manager's open session nobody logged, recorded under its account.
    let key = format!("444455556666/{ALICE}");
    assert_eq!(reaped.recorded, std::slice::from_ref(&key));
    assert_eq!(
        record(&w, &key).await.account.as_deref(),
        Some("444455556666")
    );
}

#[tokio::test]
async fn the_account_with_the_oldest_waiting_session_is_visited_first() {
    let w = world(MEMBERS);
    w.started_in("444455556666", &["16-start-with-change-ticket.json"])
        .await;
    w.started_in("222233334444", &["01-start-role-with-mfa.json"])
        .await;
    w.lists_in("222233334444", None, vec![alice_connected()]);
    w.lists_in("444455556666", None, vec![]);
    let reaped = w.reaper.run(at("2026-11-29T04:00:00Z")).await.unwrap();
    assert_eq!(
        reaped.visited,
        ["222233334444", "444455556666", "own account"]
    );
}

#[tokio::test]
async fn a_spent_time_budget_leaves_member_accounts_for_the_next_run_and_says_so() {
    let w = world(MEMBERS);
    w.started_in("222233334444", &["01-start-role-with-mfa.json"])
        .await;
    let reaper = Reaper::new(
        w.store.clone(),
        Arc::new(CollectingNotifier::new()),
        Arc::new(DryRunTerminator::new()),
        w.directory.clone(),
        WardenConfig::from_lookup(|k| {
            MEMBERS
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap(),
    )
    .with_budget(std::time::Duration::ZERO);
    let reaped = reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    assert_eq!(reaped.visited, ["own account"]);
    assert_eq!(reaped.skipped.len(), 2, "{:?}", reaped.skipped);
    assert!(
        reaped.skipped[0].starts_with("222233334444: 1 active sessions"),
        "{:?}",
        reaped.skipped
    );
    assert!(reaped.more_next_time);
}

#[tokio::test]
async fn a_member_account_that_cannot_be_read_is_named_and_the_run_goes_on() {
    let w = world(MEMBERS);
    w.started_in("222233334444", &["01-start-role-with-mfa.json"])
        .await;
    w.lists_in("444455556666", None, vec![]);
    lists(&w, vec![]);
    let reaped = w.reaper.run(at("2026-11-23T10:10:00Z")).await.unwrap();
    assert_eq!(reaped.problems.len(), 1, "{:?}", reaped.problems);
    assert!(reaped.problems[0].starts_with("222233334444: "));
    assert!(reaped.visited.contains(&"own account".to_string()));
    assert!(reaped.visited.contains(&"444455556666".to_string()));
}
