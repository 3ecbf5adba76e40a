//! Property: any permutation and duplication of one session's deliveries (its CloudTrail calls,
//! transcript batches with findings, reaper runs) merges to the same record, the same findings
//! and the same alerts, each sent once, and its state never moves back. The handlers run on the
//! in-memory store: this is the domain's merge logic, without AWS (`tests/contention.rs` races
//! the same deliveries against DynamoDB).
//!
//! `PROPTEST_CASES` sets the number of cases (512 by default).

#[path = "support/one_session.rs"]
mod one_session;

use jiff::Timestamp;
use one_session::{Delivery, Labelled, SESSION_ID, deliveries};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::sync::Arc;
use warden_core::config::WardenConfig;
use warden_core::finding::FindingRecord;
use warden_core::handlers::reaper::Reaper;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::{CollectingNotifier, DryRunTerminator, MemoryStore, RecordedDirectory};
use warden_core::ports::{AlertState, SessionStore};
use warden_core::session::{SessionRecord, SessionState};

/// What a delivery order leaves behind, without what differs by nature between two correct runs
/// (processing times).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    record: SessionRecord,
    findings: Vec<FindingRecord>,
    /// Alert marks by kind: all must be sent.
    marks: BTreeMap<String, &'static str>,
    /// Alerts published, by flag or worst rule, with how often.
    published: BTreeMap<String, usize>,
}

/// Where two outcomes differ, field by field, short enough to read in a failure.
fn differences(a: &Outcome, b: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let (ra, rb) = (
        serde_json::to_value(&a.record).unwrap(),
        serde_json::to_value(&b.record).unwrap(),
    );
    for (field, va) in ra.as_object().unwrap() {
        let vb = &rb[field];
        if va != vb {
            out.push(format!("record.{field}: {va} ≠ {vb}"));
        }
    }
    if a.findings != b.findings {
        let keys = |o: &Outcome| {
            o.findings
                .iter()
                .map(FindingRecord::key)
                .collect::<Vec<_>>()
        };
        out.push(format!("findings: {:?} ≠ {:?}", keys(a), keys(b)));
    }
    if a.marks != b.marks {
        out.push(format!("alert marks: {:?} ≠ {:?}", a.marks, b.marks));
    }
    if a.published != b.published {
        out.push(format!("published: {:?} ≠ {:?}", a.published, b.published));
    }
    out
}

fn rank(state: SessionState) -> u8 {
    one_session::state_rank(state.as_str())
}

/// The default rules, built once: building them is most of a case's time in a debug build.
fn rules() -> warden_core::rules::RuleSet {
    static RULES: std::sync::OnceLock<warden_core::rules::RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(warden_core::rules::default_rules).clone()
}

/// Runs `order` through fresh handlers on one in-memory store. Panics if a delivery fails (none
/// may: nothing here is transient) or the session's state moves back.
fn run(order: &[&Labelled]) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = WardenConfig::from_lookup(|_| None).unwrap();
        let store = Arc::new(MemoryStore::new());
        let notifier = Arc::new(CollectingNotifier::new());
        let terminator = Arc::new(DryRunTerminator::new());
        let recorder = Recorder::new(
            store.clone(),
            notifier.clone(),
            terminator.clone(),
            config.clone(),
        );
        let scanner = Scanner::new(
            store.clone(),
            notifier.clone(),
            terminator.clone(),
            config.clone(),
            rules(),
        );
        let mut highest = 0;
        for labelled in order {
            match &labelled.delivery {
                Delivery::CloudTrail(event) => {
                    recorder.handle(event).await.unwrap();
                }
                Delivery::Transcript(event) => {
                    scanner.handle(event).await.unwrap();
                }
                Delivery::Reaper { at, view } => {
                    let directory = RecordedDirectory::new();
                    directory.replace(view.clone());
                    let reaper = Reaper::new(
                        store.clone(),
                        notifier.clone(),
                        terminator.clone(),
                        directory,
                        config.clone(),
                    );
                    let reaped = reaper.run(*at).await.unwrap();
                    assert!(reaped.problems.is_empty(), "{:?}", reaped.problems);
                }
            }
            let state = store.load(SESSION_ID).await.unwrap().unwrap().value.state;
            assert!(
                rank(state) >= highest,
                "state moved back to {state:?} after {}",
                labelled.label
            );
            highest = rank(state);
        }
        let mut record = store.load(SESSION_ID).await.unwrap().unwrap().value;
        if let Some(seen) = record.transcript.as_mut() {
            seen.processed_at = None;
        }
        for termination in record.terminations.values_mut() {
            termination.at = Timestamp::UNIX_EPOCH;
        }
        let mut findings = store.findings(SESSION_ID).await.unwrap();
        for finding in &mut findings {
            finding.found_at = Timestamp::UNIX_EPOCH;
        }
        findings.sort_by_key(FindingRecord::key);
        let marks = store
            .alerts(SESSION_ID)
            .await
            .unwrap()
            .into_iter()
            .map(|mark| {
                let state = match mark.state {
                    AlertState::Sent { .. } => "sent",
                    AlertState::Claimed { .. } => "claimed",
                    AlertState::Released => "released",
                };
                (mark.kind, state)
            })
            .collect();
        let mut published = BTreeMap::new();
        for alert in notifier.take() {
            // A scanner alert is named by its batch's digest; its worst rule says what it was.
            let name = alert.rule_id.clone().unwrap_or(alert.key.kind);
            *published.entry(name).or_insert(0) += 1;
        }
        Outcome {
            record,
            findings,
            marks,
            published,
        }
    })
}

#[test]
fn the_deliveries_in_order_record_the_session_and_page_once_per_kind() {
    let all = deliveries();
    let outcome = run(&all.iter().collect::<Vec<_>>());
    assert_eq!(outcome.record.state, SessionState::Terminated);
    assert_eq!(outcome.record.resume_count, 2);
    assert_eq!(outcome.record.finding_count, 3);
    assert_eq!(
        outcome.record.described_status.as_deref(),
        Some("Connected")
    );
    assert_eq!(outcome.findings.len(), 3);
    let rules: Vec<&str> = outcome
        .published
        .keys()
        .map(|kind| {
            kind.rsplit_once('#')
                .map_or(kind.as_str(), |(_, rule)| rule)
        })
        .collect();
    assert_eq!(
        rules,
        [
            "credential_access.instance_role_credentials",
            "defense_evasion.disable_audit",
            "defense_evasion.shell_history",
            "no_mfa",
        ]
    );
    assert!(outcome.published.values().all(|&n| n == 1));
    assert!(outcome.marks.values().all(|&s| s == "sent"));
}

#[test]
fn any_permutation_and_duplication_of_a_sessions_deliveries_merges_to_the_same_record() {
    let all = deliveries();
    let clean = run(&all.iter().collect::<Vec<_>>());
    let n = all.len();
    let orders = (
        Just((0..n).collect::<Vec<usize>>()),
        prop::collection::vec(0..n, 0..=8),
    )
        .prop_flat_map(|(each, repeats)| {
            let mut order = each;
            order.extend(repeats);
            Just(order).prop_shuffle()
        });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&orders, |order| {
            let deliveries: Vec<&Labelled> = order.iter().map(|&i| &all[i]).collect();
            let outcome = run(&deliveries);
            let labels: Vec<&str> = deliveries.iter().map(|d| d.label).collect();
            let differences = differences(&outcome, &clean);
            prop_assert!(
                differences.is_empty(),
                "order {:?} differs from the clean delivery: {:#?}",
                labels,
                differences
            );
            Ok(())
        })
        .unwrap();
    println!(
        "{cases} orders of {n} deliveries (each at least once, up to 8 repeats) merged to the same \
         record in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
