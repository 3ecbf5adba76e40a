//! Contention: 50 deliveries touching one session at the same time (its CloudTrail start,
//! resumes and termination, transcript batches with findings, reaper runs; duplicated and
//! shuffled) through the real DynamoDB and SNS adapters against moto server. A delivery that
//! fails (its optimistic-locking attempts ran out) is retried as Lambda retries it, and
//! dead-lettered then redriven if its retries fail too. Checked against one clean delivery of
//! each event in order:
//!
//! * no lost update: every table item (session, findings, alert marks) equals the clean one;
//! * one alert per kind: the topic's subscriber got each `alert_id` once, the clean set;
//! * the session's state never moves back: not in any version written (each write is noted),
//!   nor for a reader polling it throughout;
//! * no two writers were granted the same version: a write that was not conditional, or a
//!   backend whose conditional put is not atomic (moto's is not guaranteed to be, DynamoDB's
//!   is), would lose an update that way.
//!
//! The reaper's view of Session Manager is the in-process `RecordedDirectory` (moto has no
//! `DescribeSessions`); its table reads and writes go through the DynamoDB adapter like the rest.
//! Skips without moto server, like the other adapter tests. `WARDEN_CONTENTION_SEED` picks the
//! first schedule, `WARDEN_CONTENTION_ROUNDS` (3) how many storms run.

#[path = "support/items.rs"]
mod items;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/one_session.rs"]
mod one_session;

use jiff::Timestamp;
use one_session::{Delivery, Labelled, SESSION_ID, schedule, state_rank};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden_core::alert::AlertKey;
use warden_core::aws::{DynamoStore, SnsNotifier};
use warden_core::config::WardenConfig;
use warden_core::finding::FindingRecord;
use warden_core::handlers::reaper::Reaper;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::{DryRunTerminator, RecordedDirectory};
use warden_core::ports::{
    AlertClaim, AlertMark, SessionFilter, SessionStore, StoreError, Versioned,
};
use warden_core::session::{SessionRecord, SessionState};

const DELIVERIES: usize = 50;
/// Lambda's attempts at an asynchronous event (`MaximumRetryAttempts: 2`).
const LAMBDA_ATTEMPTS: usize = 3;

/// The DynamoDB store, noting every version it was granted (with the state it wrote) and every
/// conflict it met.
struct Witness {
    inner: DynamoStore,
    granted: Mutex<Vec<(String, u64, SessionState)>>,
    conflicts: AtomicUsize,
}

impl SessionStore for Witness {
    async fn load(&self, id: &str) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        self.inner.load(id).await
    }
    async fn save(&self, record: &SessionRecord, expected: Option<u64>) -> Result<u64, StoreError> {
        let saved = self.inner.save(record, expected).await;
        match &saved {
            Ok(version) => self.granted.lock().unwrap().push((
                record.session_id.clone(),
                *version,
                record.state,
            )),
            Err(StoreError::Conflict(_)) => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        saved
    }
    async fn claim_alert(
        &self,
        key: &AlertKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<AlertClaim, StoreError> {
        self.inner.claim_alert(key, holder, now, until).await
    }
    async fn mark_alert_sent(&self, key: &AlertKey, at: Timestamp) -> Result<(), StoreError> {
        self.inner.mark_alert_sent(key, at).await
    }
    async fn release_alert(&self, key: &AlertKey, holder: &str) -> Result<(), StoreError> {
        self.inner.release_alert(key, holder).await
    }
    async fn alerts(&self, id: &str) -> Result<Vec<AlertMark>, StoreError> {
        self.inner.alerts(id).await
    }
    async fn list(&self, filter: SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list(filter).await
    }
    async fn record_finding(&self, f: &FindingRecord) -> Result<bool, StoreError> {
        self.inner.record_finding(f).await
    }
    async fn findings(&self, id: &str) -> Result<Vec<FindingRecord>, StoreError> {
        self.inner.findings(id).await
    }
}

struct Handlers {
    store: Arc<Witness>,
    notifier: Arc<SnsNotifier>,
    terminator: Arc<DryRunTerminator>,
    recorder: Recorder<Arc<Witness>, Arc<SnsNotifier>, Arc<DryRunTerminator>>,
    scanner: Scanner<Arc<Witness>, Arc<SnsNotifier>, Arc<DryRunTerminator>>,
    config: WardenConfig,
}

impl Handlers {
    fn new(store: DynamoStore, notifier: SnsNotifier) -> Self {
        let config = WardenConfig::from_lookup(|_| None).unwrap();
        let store = Arc::new(Witness {
            inner: store,
            granted: Mutex::new(Vec::new()),
            conflicts: AtomicUsize::new(0),
        });
        let notifier = Arc::new(notifier);
        let terminator = Arc::new(DryRunTerminator::new());
        Handlers {
            recorder: Recorder::new(
                store.clone(),
                notifier.clone(),
                terminator.clone(),
                config.clone(),
            ),
            scanner: Scanner::new(
                store.clone(),
                notifier.clone(),
                terminator.clone(),
                config.clone(),
                warden_core::rules::default_rules(),
            ),
            store,
            notifier,
            terminator,
            config,
        }
    }

    /// One invocation, as the function's handler runs it; `Err` fails the invocation.
    async fn invoke(&self, delivery: &Delivery) -> Result<(), String> {
        match delivery {
            Delivery::CloudTrail(event) => self
                .recorder
                .handle(event)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Delivery::Transcript(event) => self
                .scanner
                .handle(event)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Delivery::Reaper { at, view } => {
                let directory = RecordedDirectory::new();
                directory.replace(view.clone());
                let reaper = Reaper::new(
                    self.store.clone(),
                    self.notifier.clone(),
                    self.terminator.clone(),
                    directory,
                    self.config.clone(),
                );
                let reaped = reaper.run(*at).await.map_err(|e| e.to_string())?;
                // A session the run had to skip (its update kept conflicting) is redone by the
                // next scheduled run; for this test that is a failure to retry.
                match reaped.problems.first() {
                    None => Ok(()),
                    Some(problem) => Err(format!("reaper skipped {problem}")),
                }
            }
        }
    }

    /// As Lambda delivers an asynchronous event: retried after a failure, `LAMBDA_ATTEMPTS` in
    /// all. Returns the attempts made and whether the last one succeeded.
    async fn deliver(&self, delivery: &Delivery, jitter: u64) -> (usize, Result<(), String>) {
        let mut last = Ok(());
        for attempt in 0..LAMBDA_ATTEMPTS {
            if attempt > 0 {
                // Lambda waits a minute or more; a few hundred milliseconds keep the race on.
                tokio::time::sleep(Duration::from_millis(100 + jitter % 200)).await;
            }
            last = self.invoke(delivery).await;
            if last.is_ok() {
                return (attempt + 1, last);
            }
        }
        (LAMBDA_ATTEMPTS, last)
    }
}

struct Outcome {
    items: BTreeMap<String, serde_json::Value>,
    uncured: Vec<String>,
    alerts: BTreeMap<String, usize>,
    unlabelled: usize,
}

async fn outcome(
    config: &aws_config::SdkConfig,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    queue: &str,
) -> Outcome {
    let (items, uncured) = items::table_items(dynamo, table).await;
    let mut alerts = BTreeMap::new();
    let mut unlabelled = 0;
    for message in moto::drain_queue(config, queue).await {
        match message["MessageAttributes"]["alert_id"]["Value"].as_str() {
            Some(id) => *alerts.entry(id.to_string()).or_insert(0) += 1,
            None => unlabelled += 1,
        }
    }
    Outcome {
        items,
        uncured,
        alerts,
        unlabelled,
    }
}

/// A fresh table and topic (with its subscriber queue), and handlers on them.
async fn world(config: &aws_config::SdkConfig) -> (Handlers, String, String) {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let table = moto::unique("contention");
    moto::create_table(&dynamo, &table).await;
    let (topic, queue) = moto::create_topic_with_queue(config, &moto::unique("contention")).await;
    let handlers = Handlers::new(
        DynamoStore::new(dynamo, &table, 30),
        SnsNotifier::new(aws_sdk_sns::Client::new(config), topic),
    );
    (handlers, table, queue)
}

/// What one storm did, for the summary line.
struct Storm {
    seed: u64,
    attempts: usize,
    dead_lettered: usize,
    conflicts: usize,
    writes: usize,
    polls: usize,
    seconds: f64,
}

async fn storm(config: &aws_config::SdkConfig, seed: u64, clean: &Outcome) -> Storm {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let (handlers, table, queue) = world(config).await;
    let handlers = Arc::new(handlers);
    let deliveries: Vec<Labelled> = schedule(seed, DELIVERIES);

    // A reader polling the session throughout: (version, state) as it saw them, in time order.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = DynamoStore::new(dynamo.clone(), &table, 30);
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Some(stored)) = store.load(SESSION_ID).await {
                    seen.push((stored.version, stored.value.state));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        })
    };

    let began = Instant::now();
    let tasks: Vec<_> = deliveries
        .iter()
        .enumerate()
        .map(|(n, labelled)| {
            let handlers = handlers.clone();
            let delivery = labelled.delivery.clone();
            let jitter = one_session::Rng::new(seed ^ (n as u64 + 1)).next();
            tokio::spawn(async move { handlers.deliver(&delivery, jitter).await })
        })
        .collect();
    let mut attempts = 0;
    let mut dead_letters = Vec::new();
    for (task, labelled) in tasks.into_iter().zip(&deliveries) {
        let (made, result) = task.await.expect("a delivery task panicked");
        attempts += made;
        if result.is_err() {
            dead_letters.push(labelled);
        }
    }
    // The operator redrives the dead letters once the storm is over.
    for labelled in &dead_letters {
        handlers
            .invoke(&labelled.delivery)
            .await
            .unwrap_or_else(|e| panic!("redriving {} failed: {e}", labelled.label));
    }
    let seconds = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let seen = reader.await.unwrap();

    // Each version was granted to one writer, and the states written only went up.
    let mut granted = handlers.store.granted.lock().unwrap().clone();
    granted.sort_by_key(|(id, version, _)| (id.clone(), *version));
    for pair in granted.windows(2) {
        let ((id0, v0, s0), (id1, v1, s1)) = (&pair[0], &pair[1]);
        assert!(
            id0 != id1 || v0 != v1,
            "seed {seed}: version {v0} of {id0} was granted to two writers: one of their updates \
             is lost (a write that was not conditional, or a backend whose conditional put is not \
             atomic)"
        );
        assert!(
            id0 != id1 || state_rank(s1.as_str()) >= state_rank(s0.as_str()),
            "seed {seed}: version {v1} of {id0} wrote {s1:?} after version {v0} wrote {s0:?}"
        );
    }

    // The state never moved back, and versions only grew, for the polling reader.
    for pair in seen.windows(2) {
        let ((v0, s0), (v1, s1)) = (pair[0], pair[1]);
        assert!(
            v1 >= v0,
            "seed {seed}: a consistent read saw version {v1} after {v0}"
        );
        assert!(
            state_rank(s1.as_str()) >= state_rank(s0.as_str()),
            "seed {seed}: the session went from {s0:?} (version {v0}) back to {s1:?} (version {v1})"
        );
    }

    let raced = outcome(config, &dynamo, &table, &queue).await;
    let differing: Vec<String> = clean
        .items
        .iter()
        .filter(|(key, item)| raced.items.get(*key) != Some(item))
        .map(|(key, item)| {
            format!(
                "{key}\n  clean: {item}\n  raced: {}",
                raced
                    .items
                    .get(key)
                    .map_or("(none)".into(), |v| v.to_string())
            )
        })
        .chain(
            raced
                .items
                .keys()
                .filter(|key| !clean.items.contains_key(*key))
                .map(|key| format!("{key}: not in the clean delivery")),
        )
        .collect();
    assert!(
        differing.is_empty(),
        "seed {seed}: lost or changed updates:\n{}",
        differing.join("\n")
    );
    assert!(
        raced.uncured.is_empty(),
        "seed {seed}: a transcript failure was left uncured"
    );
    assert_eq!(
        raced.unlabelled, 0,
        "seed {seed}: an alert without an alert_id"
    );
    assert_eq!(
        raced.alerts, clean.alerts,
        "seed {seed}: alerts the subscriber got (by alert_id, with counts) differ from the clean delivery's"
    );
    Storm {
        seed,
        attempts,
        dead_lettered: dead_letters.len(),
        conflicts: handlers.store.conflicts.load(Ordering::Relaxed),
        writes: granted.len(),
        polls: seen.len(),
        seconds,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_racing_deliveries_to_one_session_lose_nothing_and_page_once_per_kind() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let config = moto::sdk_config(&endpoint).await;
    let first_seed: u64 = std::env::var("WARDEN_CONTENTION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13);
    let rounds: u64 = std::env::var("WARDEN_CONTENTION_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);

    // The clean delivery: each event once, in the order it happened, one at a time.
    let (handlers, table, queue) = world(&config).await;
    for labelled in one_session::deliveries() {
        handlers
            .invoke(&labelled.delivery)
            .await
            .unwrap_or_else(|e| panic!("clean delivery of {}: {e}", labelled.label));
    }
    let clean = outcome(
        &config,
        &aws_sdk_dynamodb::Client::new(&config),
        &table,
        &queue,
    )
    .await;
    assert_eq!(
        clean.alerts.len(),
        4,
        "no_mfa and three findings: {:?}",
        clean.alerts
    );
    assert!(clean.alerts.values().all(|&n| n == 1));

    for round in 0..rounds {
        let s = storm(&config, first_seed + round, &clean).await;
        println!(
            "contention seed {}: {DELIVERIES} concurrent deliveries, {} invocations ({} Lambda retries), \
             {} dead-lettered and redriven, {} version conflicts, {} writes granted, {} reads by the \
             poller, {:.1} s: no lost update, {} alerts once each, state monotonic",
            s.seed,
            s.attempts,
            s.attempts - DELIVERIES,
            s.dead_lettered,
            s.conflicts,
            s.writes,
            s.polls,
            s.seconds,
            clean.alerts.len()
        );
    }
}
