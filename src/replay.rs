//! `warden replay`: sample events through the real handlers.

use crate::output::{
    alert_json, finding_json, reaped_json, recorded_json, scanned_json, session_json,
    session_table, termination_json,
};
use crate::{Format, ReplayArgs};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use warden_core::alert::Alert;
use warden_core::aws::{AwsPorts, SsmDirectory, TrustRoots, sdk_config, ssm_sdk};
use warden_core::config::WardenConfig;
use warden_core::dead_letter::{Route, route, unwrap_on_failure};
use warden_core::directory::DescribeSessionsResponse;
use warden_core::handlers::actions::TerminationReport;
use warden_core::handlers::reaper::Reaper;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::{CollectingNotifier, DryRunTerminator, MemoryStore, RecordedDirectory};
use warden_core::ports::{Notifier, SessionDirectory, SessionStore, Terminator};
use warden_core::rules::RuleSet;

/// All handlers over one shared set of ports, as a deployment's functions share a table.
pub(crate) struct Handlers<S, N, T, D> {
    pub recorder: Recorder<Arc<S>, Arc<N>, Arc<T>>,
    pub scanner: Scanner<Arc<S>, Arc<N>, Arc<T>>,
    pub reaper: Reaper<Arc<S>, Arc<N>, Arc<T>, Arc<D>>,
    store: Arc<S>,
    /// In-process replays take the reaper's view of Session Manager from recorded
    /// `DescribeSessions` responses among the replayed files.
    recorded_directory: Option<Arc<RecordedDirectory>>,
}

impl<S: SessionStore, N: Notifier, T: Terminator, D: SessionDirectory> Handlers<S, N, T, D> {
    pub fn new(ports: (S, N, T, Arc<D>), config: WardenConfig, rules: RuleSet) -> Self {
        let (store, notifier, terminator, directory) = ports;
        let (store, notifier, terminator) =
            (Arc::new(store), Arc::new(notifier), Arc::new(terminator));
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
                rules,
            ),
            reaper: Reaper::new(store.clone(), notifier, terminator, directory, config),
            store,
            recorded_directory: None,
        }
    }
}

pub async fn run(args: ReplayArgs) -> Result<ExitCode, String> {
    let config = WardenConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    let rules = crate::scan::load_rules(&args.rules)?;
    let files = collect_files(&args.paths)?;
    match &args.aws.endpoint_url {
        Some(url) => {
            let table = args
                .aws
                .table
                .clone()
                .ok_or("--table (or WARDEN_TABLE) is needed with --endpoint-url")?;
            let topic = args
                .aws
                .topic_arn
                .clone()
                .ok_or("--topic-arn (or WARDEN_TOPIC_ARN) is needed with --endpoint-url")?;
            let sdk = sdk_config(Some(url), TrustRoots::System).await;
            let ports = AwsPorts::new(&sdk, &table, &topic, config.retention_days, args.enforce);
            let directory = Arc::new(SsmDirectory::new(ssm_sdk::Client::new(&sdk)));
            let handlers = Handlers::new(
                (ports.store, ports.notifier, ports.terminator, directory),
                config,
                rules,
            );
            replay_files(&handlers, &files, &args, !args.enforce).await
        }
        None => {
            let store = match &args.state {
                Some(path) => MemoryStore::open(path).map_err(|e| e.to_string())?,
                None => MemoryStore::new(),
            };
            let directory = Arc::new(RecordedDirectory::new());
            let mut handlers = Handlers::new(
                (
                    store,
                    CollectingNotifier::new(),
                    DryRunTerminator::new(),
                    directory.clone(),
                ),
                config,
                rules,
            );
            handlers.recorded_directory = Some(directory);
            let code = replay_files(&handlers, &files, &args, true).await?;
            if let Some(path) = &args.state {
                handlers.store.persist(path).map_err(|e| e.to_string())?;
            }
            Ok(code)
        }
    }
}

/// Files in the order given; folders expanded recursively to their `*.json` files, by name.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found).map_err(|e| format!("{}: {e}", path.display()))?;
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    if files.is_empty() {
        return Err("no *.json event files found".to_string());
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    recorded: usize,
    duplicates: usize,
    transcripts: usize,
    findings: usize,
    reaper_runs: usize,
    ignored: usize,
    failed: usize,
    alerts: usize,
    terminations: usize,
}

/// What replaying one file did, whichever handler took it.
enum Replayed {
    Recorded(warden_core::handlers::recorder::Recorded),
    Scanned(warden_core::handlers::scanner::Scanned),
    /// A Kinesis event's batches, in stream order, and the record that failed, if one did
    /// (the ones after it wait, as Lambda would retry from it).
    Streamed(
        Vec<warden_core::handlers::scanner::Scanned>,
        Option<(String, String)>,
    ),
    /// A recorded `DescribeSessions` response: the reaper's view from now on.
    Directory {
        open: usize,
        ended: usize,
    },
    Reaped(warden_core::handlers::reaper::Reaped),
}

async fn replay_one<S: SessionStore, N: Notifier, T: Terminator, D: SessionDirectory>(
    handlers: &Handlers<S, N, T, D>,
    path: &Path,
) -> Result<Replayed, (bool, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| (false, e.to_string()))?;
    let event =
        serde_json::from_str::<Value>(&text).map_err(|e| (false, format!("not JSON: {e}")))?;
    // A Lambda on-failure destination record wraps the event as `requestPayload`: replay the
    // event itself, so dead-lettered events can be replayed after a fix.
    let event = unwrap_on_failure(event);
    let rejected = |e: String| (false, e);
    // Anything without a known shape goes to the recorder, which says what is wrong with it.
    // A Kinesis event (the central transcript stream) goes to the scanner record by record; the
    // dead-letter router leaves it out, as no dead-letter queue receives one.
    let kinesis = warden_core::transcript::payload::is_kinesis_event(&event);
    match route(&event).unwrap_or(if kinesis {
        Route::Scanner
    } else {
        Route::Recorder
    }) {
        Route::Scanner if kinesis => handlers
            .scanner
            .handle_kinesis(&event)
            .await
            .map(|(done, failed)| {
                let failed = failed.map(|(sequence, e)| (sequence, e.to_string()));
                Replayed::Streamed(done, failed)
            })
            .map_err(|e| rejected(e.to_string())),
        Route::Scanner => handlers
            .scanner
            .handle(&event)
            .await
            .map(Replayed::Scanned)
            .map_err(|e| rejected(e.to_string())),
        Route::DescribeSessions => {
            let response: DescribeSessionsResponse = serde_json::from_value(event)
                .map_err(|e| rejected(format!("not a DescribeSessions response: {e}")))?;
            let Some(directory) = &handlers.recorded_directory else {
                return Err(rejected(
                    "a recorded DescribeSessions response only applies to an in-process replay"
                        .to_string(),
                ));
            };
            let (open, ended) = response.sessions.iter().fold((0, 0), |(o, e), s| {
                if s.has_ended() {
                    (o, e + 1)
                } else {
                    (o + 1, e)
                }
            });
            directory.replace(response);
            Ok(Replayed::Directory { open, ended })
        }
        Route::Reaper => handlers
            .reaper
            .handle(&event)
            .await
            .map(Replayed::Reaped)
            .map_err(|e| rejected(e.to_string())),
        Route::Recorder => handlers
            .recorder
            .handle(&event)
            .await
            .map(Replayed::Recorded)
            .map_err(|e| (e.is_unrelated_event(), e.to_string())),
    }
}

async fn replay_files<S: SessionStore, N: Notifier, T: Terminator, D: SessionDirectory>(
    handlers: &Handlers<S, N, T, D>,
    files: &[PathBuf],
    args: &ReplayArgs,
    dry_run: bool,
) -> Result<ExitCode, String> {
    let mut tally = Tally::default();
    let mut touched = BTreeSet::new();
    let json = args.format == Format::Json;
    let mut progress = crate::progress::Progress::new("replaying", "events", files.len());
    for path in files {
        progress.advance();
        let name = path.display().to_string();
        let (alerts, terminations) = match replay_one(handlers, path).await {
            Ok(Replayed::Recorded(done)) => {
                touched.insert(done.session_id.clone());
                if done.applied {
                    tally.recorded += 1;
                } else {
                    tally.duplicates += 1;
                }
                print_recorded(&done, &name, json);
                (done.alerts, done.terminations)
            }
            Ok(Replayed::Directory { open, ended }) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"type": "directory", "file": name, "open": open, "ended": ended})
                    );
                } else {
                    println!(
                        "{name}\n    session directory: {open} open, {ended} ended (DescribeSessions)"
                    );
                }
                continue;
            }
            Ok(Replayed::Reaped(done)) => {
                tally.reaper_runs += 1;
                touched.extend(done.ended.iter().map(|(id, _)| id.clone()));
                touched.extend(done.recorded.iter().cloned());
                print_reaped(&done, &name, json);
                (done.alerts, done.terminations)
            }
            Ok(Replayed::Streamed(batches, failed)) => {
                for done in batches {
                    tally.transcripts += 1;
                    tally.findings += done.findings.len();
                    if !done.control_message {
                        touched.insert(done.session_id.clone());
                    }
                    print_scanned(&done, &name, json);
                    print_actions(
                        &done.alerts,
                        &done.terminations,
                        &name,
                        json,
                        args.alert_bodies,
                    );
                    tally.alerts += done.alerts.len();
                    tally.terminations += done.terminations.len();
                }
                if let Some((sequence, message)) = failed {
                    tally.failed += 1;
                    let message = format!("Kinesis record {sequence}: {message}");
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"type": "rejected", "file": name, "error": message})
                        );
                    } else {
                        println!("{name}\n    rejected: {message}");
                    }
                }
                continue;
            }
            Ok(Replayed::Scanned(done)) => {
                tally.transcripts += 1;
                tally.findings += done.findings.len();
                if !done.control_message {
                    touched.insert(done.session_id.clone());
                }
                print_scanned(&done, &name, json);
                (done.alerts, done.terminations)
            }
            Err((unrelated, message)) => {
                let verdict = if unrelated { "ignored" } else { "rejected" };
                if unrelated {
                    tally.ignored += 1;
                } else {
                    tally.failed += 1;
                }
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"type": verdict, "file": name, "error": message})
                    );
                } else {
                    println!("{name}\n    {verdict}: {message}");
                }
                continue;
            }
        };
        print_actions(&alerts, &terminations, &name, json, args.alert_bodies);
        tally.alerts += alerts.len();
        tally.terminations += terminations.len();
    }
    progress.finish();
    // Every event has been replayed by now: a session that cannot be read back for the summary
    // (a transient store error) is reported and left out, and the exit status says the output
    // is incomplete; it is not a usage error.
    let (mut sessions, unread) = read_back(&*handlers.store, &touched).await;
    for (id, error) in &unread {
        eprintln!("warden: session {id} left out of the summary: {error}");
        if json {
            println!(
                "{}",
                serde_json::json!({"type": "unread", "session_id": id, "error": error.to_string()})
            );
        }
    }
    let unread = unread.len();
    sessions.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then(a.session_id.cmp(&b.session_id))
    });
    if json {
        for s in &sessions {
            println!("{}", session_json(s));
        }
        // The same totals as the human summary line, last, so a reader knows the run is whole.
        println!(
            "{}",
            serde_json::json!({
                "type": "summary",
                "events": files.len(),
                "recorded": tally.recorded,
                "duplicates": tally.duplicates,
                "transcript_batches": tally.transcripts,
                "findings": tally.findings,
                "reaper_runs": tally.reaper_runs,
                "ignored": tally.ignored,
                "rejected": tally.failed,
                "alerts": tally.alerts,
                "terminations": tally.terminations,
                "dry_run": dry_run,
                "sessions": sessions.len(),
                "unread": unread,
            })
        );
    } else {
        let dry = if dry_run { " (dry run)" } else { "" };
        println!(
            "\n{} events: {} recorded, {} duplicates, {} transcript batches ({} findings), {} reaper runs, {} ignored, {} rejected; {} alerts; {} terminations{dry}\n",
            files.len(),
            tally.recorded,
            tally.duplicates,
            tally.transcripts,
            tally.findings,
            tally.reaper_runs,
            tally.ignored,
            tally.failed,
            tally.alerts,
            tally.terminations
        );
        println!("{}", session_table(&sessions));
        if unread > 0 {
            println!("{unread} sessions could not be read back for this table (see above)");
        }
    }
    Ok(if tally.failed == 0 && unread == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The sessions with `ids` as stored now, and those that could not be read.
async fn read_back<S: SessionStore>(
    store: &S,
    ids: &BTreeSet<String>,
) -> (
    Vec<warden_core::session::SessionRecord>,
    Vec<(String, warden_core::ports::StoreError)>,
) {
    let mut sessions = Vec::new();
    let mut unread = Vec::new();
    for id in ids {
        match store.load(id).await {
            Ok(Some(stored)) => sessions.push(stored.value),
            Ok(None) => {}
            Err(error) => unread.push((id.clone(), error)),
        }
    }
    (sessions, unread)
}

fn print_recorded(done: &warden_core::handlers::recorder::Recorded, file: &str, json: bool) {
    if json {
        println!("{}", recorded_json(done, file));
        return;
    }
    let flags: Vec<String> = done
        .flags
        .iter()
        .map(|f| format!("{}({})", f.kind, f.severity))
        .collect();
    let duplicate = if done.applied {
        ""
    } else {
        "  (already applied)"
    };
    println!(
        "{file}\n    {:<16} {}  → {}{}{duplicate}",
        done.call.api_name(),
        done.session_id,
        done.state.as_str(),
        if flags.is_empty() {
            String::new()
        } else {
            format!("  flags: {}", flags.join(" "))
        },
    );
    if done.exempt && !done.flags.is_empty() {
        println!("    exempt principal: no alert");
    }
}

fn print_scanned(done: &warden_core::handlers::scanner::Scanned, file: &str, json: bool) {
    if json {
        println!("{}", scanned_json(done, file));
        for finding in &done.findings {
            println!("{}", finding_json(finding, file));
        }
        return;
    }
    if done.control_message {
        println!("{file}\n    control message: acknowledged, nothing to scan");
        return;
    }
    println!(
        "{file}\n    transcript       {}  {} log events, {} lines, {} findings{}",
        done.session_id,
        done.log_events,
        done.lines,
        done.findings.len(),
        done.state
            .map(|s| format!("  → {}", s.as_str()))
            .unwrap_or_default()
    );
    for finding in &done.findings {
        println!(
            "    FINDING line {} {} ({}, {}): {}",
            finding.line,
            finding.rule_id,
            finding.severity,
            finding.action.as_str(),
            finding.command
        );
    }
}

fn print_reaped(done: &warden_core::handlers::reaper::Reaped, file: &str, json: bool) {
    if json {
        println!("{}", reaped_json(done, file));
        for (id, at) in &done.ended {
            println!(
                "{}",
                serde_json::json!({"type": "ended", "session_id": id, "ended_at": at.map(|t| t.to_string()), "file": file})
            );
        }
        for id in &done.recorded {
            println!(
                "{}",
                serde_json::json!({"type": "unrecorded", "session_id": id, "file": file})
            );
        }
        return;
    }
    println!(
        "{file}\n    reaper run       {} active in the table, {} open in Session Manager{}",
        done.active_in_table,
        done.active_in_session_manager,
        if done.more_next_time {
            "; more next run"
        } else {
            ""
        }
    );
    for (id, at) in &done.ended {
        let at = at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into());
        println!("    ENDED {id} at {at}");
    }
    for id in &done.recorded {
        println!("    RECORDED {id} from DescribeSessions");
    }
    for problem in &done.problems {
        println!("    PROBLEM {problem}");
    }
    for skipped in &done.skipped {
        println!("    SKIPPED {skipped}");
    }
}

fn print_actions(
    alerts: &[Alert],
    terminations: &[TerminationReport],
    file: &str,
    json: bool,
    bodies: bool,
) {
    if json {
        for alert in alerts {
            println!("{}", alert_json(alert, file));
        }
        for t in terminations {
            println!("{}", termination_json(t, file));
        }
        return;
    }
    for t in terminations {
        println!(
            "    TERMINATE {} ({}): {}",
            t.session_id,
            t.reason,
            t.outcome.as_str()
        );
    }
    for alert in alerts {
        println!("    ALERT {}", alert.subject);
        if bodies {
            for line in alert.body.lines() {
                println!("        {line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use warden_core::alert::AlertKey;
    use warden_core::finding::FindingRecord;
    use warden_core::ports::{AlertClaim, SessionFilter, StoreError, Versioned};
    use warden_core::session::SessionRecord;

    /// A store whose reads of one session fail as a throttled or unreachable table does.
    struct UnreadableOne {
        inner: MemoryStore,
        unreadable: &'static str,
    }

    impl SessionStore for UnreadableOne {
        async fn load(&self, id: &str) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
            if id == self.unreadable {
                return Err(StoreError::Unavailable("throttled".into()));
            }
            self.inner.load(id).await
        }
        async fn save(&self, r: &SessionRecord, expected: Option<u64>) -> Result<u64, StoreError> {
            self.inner.save(r, expected).await
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
        async fn alerts(&self, id: &str) -> Result<Vec<warden_core::ports::AlertMark>, StoreError> {
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

    #[tokio::test]
    async fn a_session_that_cannot_be_read_back_is_left_out_not_fatal() {
        let inner = MemoryStore::new();
        for id in ["a-0", "b-0"] {
            inner.save(&SessionRecord::new(id), None).await.unwrap();
        }
        let store = UnreadableOne {
            inner,
            unreadable: "b-0",
        };
        let ids: BTreeSet<String> = ["a-0", "b-0", "gone-0"].map(String::from).into();
        let (sessions, unread) = read_back(&store, &ids).await;
        assert_eq!(
            sessions
                .iter()
                .map(|s| s.session_id.as_str())
                .collect::<Vec<_>>(),
            ["a-0"]
        );
        assert_eq!(
            unread,
            [(
                "b-0".to_string(),
                StoreError::Unavailable("throttled".into())
            )]
        );
    }
}
