//! `warden redrive`: dead letters from an SQS queue through the handler that failed on each,
//! on the deployment's table and topic. A dry run by default: it reads the queue, says what it
//! would run, and leaves every message in place.

use crate::replay::Handlers;
use crate::{Format, RedriveArgs};
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use warden_core::aws::{AwsPorts, TrustRoots, sdk_config, ssm_sdk};
use warden_core::cloudtrail::parse_event;
use warden_core::config::WardenConfig;
use warden_core::dead_letter::{DeadLetter, Route, open};
use warden_core::handlers::reaper::schedule_time;
use warden_core::ports::{Notifier, SessionDirectory, SessionStore, Terminator};
use warden_core::rules::RuleSet;
use warden_core::rules::load::{CustomPack, RuleSources, assemble};
use warden_core::transcript::payload::decode_subscription;

/// How long SQS hides a message this run received; the messages left in the queue are made
/// visible again at the end of the run, so this only matters if the run is cut short.
pub const DEFAULT_VISIBILITY_SECONDS: i32 = 600;
/// Long polling: SQS then asks all its servers, so a short queue is read whole.
const WAIT_SECONDS: i32 = 1;

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Dry run: the handler would take it.
    WouldRun,
    /// Dry run: the function acknowledges it without doing anything (an unrelated event, a
    /// control message), so `--apply` deletes it.
    WouldAcknowledge,
    /// Dry run: the handler would reject it as it is; it stays.
    WouldFail,
    /// Run through its handler successfully and deleted.
    Redriven,
    /// Acknowledged by its handler (nothing to do) and deleted.
    Acknowledged,
    /// Its handler failed again; it stays in the queue.
    Failed,
    /// Not an event any function takes; it stays.
    Unreadable,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::WouldRun => "would_redrive",
            Verdict::WouldAcknowledge => "would_acknowledge",
            Verdict::WouldFail => "would_fail",
            Verdict::Redriven => "redriven",
            Verdict::Acknowledged => "acknowledged",
            Verdict::Failed => "failed",
            Verdict::Unreadable => "unreadable",
        }
    }

    /// Whether the message is done with and goes from the queue (only ever with `--apply`).
    fn done(self) -> bool {
        matches!(self, Verdict::Redriven | Verdict::Acknowledged)
    }
}

/// One message's account.
struct Handled {
    verdict: Verdict,
    handler: Option<Route>,
    /// What the event is, or what the handler did with it.
    what: String,
    /// Why it fails (or would), for messages that stay.
    why: Option<String>,
}

impl Handled {
    fn unreadable(why: String) -> Self {
        Handled {
            verdict: Verdict::Unreadable,
            handler: None,
            what: String::new(),
            why: Some(why),
        }
    }
}

pub async fn run(args: RedriveArgs) -> Result<ExitCode, String> {
    let config = WardenConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    let sdk = sdk_config(args.aws.endpoint_url.as_deref(), TrustRoots::System).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = args.queue.as_str();
    let json = args.format == Format::Json;
    let handlers = if args.apply {
        let table = args
            .aws
            .table
            .clone()
            .ok_or("--table (or WARDEN_TABLE) is needed with --apply")?;
        let topic = args
            .aws
            .topic_arn
            .clone()
            .ok_or("--topic-arn (or WARDEN_TOPIC_ARN) is needed with --apply")?;
        let ssm = ssm_sdk::Client::new(&sdk);
        let rules = rules(&args.rules, &ssm).await?;
        // The functions' own adapters and configuration: terminations follow WARDEN_ENFORCE as
        // they do in the functions.
        let ports = AwsPorts::with_accounts(
            &sdk,
            &table,
            &topic,
            config.retention_days,
            config.enforce,
            config.accounts.clone(),
        );
        let directory = Arc::new(ports.directory());
        Some(Handlers::new(
            (ports.store, ports.notifier, ports.terminator, directory),
            config.clone(),
            rules,
        ))
    } else {
        None
    };

    // Message id → latest receipt handle of every message that stays in the queue.
    let mut kept: BTreeMap<String, String> = BTreeMap::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut seen = 0usize;
    let mut unread_error = None;
    'read: loop {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(WAIT_SECONDS)
            .visibility_timeout(args.visibility_timeout)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) if seen == 0 => {
                return Err(format!("cannot read the queue {queue}: {}", sqs_error(&e)));
            }
            Err(e) => {
                unread_error = Some(sqs_error(&e));
                break;
            }
        };
        let mut fresh = 0;
        for message in messages {
            let (Some(id), Some(handle)) = (message.message_id(), message.receipt_handle()) else {
                continue;
            };
            if let Some(old) = kept.get_mut(id) {
                // Back after its visibility timeout: the latest handle is the one that counts.
                *old = handle.to_string();
                continue;
            }
            if args.max.is_some_and(|max| seen >= max) {
                kept.insert(id.to_string(), handle.to_string());
                break 'read;
            }
            fresh += 1;
            seen += 1;
            let attributes: BTreeMap<String, String> = message
                .message_attributes()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_string())))
                .collect();
            let body = message.body().unwrap_or_default();
            let (letter, handled) = match open(body, &attributes) {
                Ok(letter) => {
                    let inspected = inspect(&letter, &config);
                    let handled = match &handlers {
                        Some(handlers) => redrive(handlers, &letter, inspected).await,
                        None => inspected,
                    };
                    (Some(letter), handled)
                }
                Err(e) => (None, Handled::unreadable(e.to_string())),
            };
            let verdict = handled.verdict;
            let mut delete_error = None;
            if verdict.done() {
                // Deleted only now that its handler succeeded.
                if let Err(e) = sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(handle)
                    .send()
                    .await
                {
                    delete_error = Some(sqs_error(&e));
                    kept.insert(id.to_string(), handle.to_string());
                }
            } else {
                kept.insert(id.to_string(), handle.to_string());
            }
            *counts.entry(verdict.as_str()).or_default() += 1;
            if delete_error.is_some() {
                *counts.entry("not_deleted").or_default() += 1;
            }
            print_message(id, letter.as_ref(), &handled, delete_error.as_deref(), json);
        }
        if fresh == 0 {
            break;
        }
    }

    // Everything left is visible again at once, for the next redrive (or the alarm).
    let mut not_released = 0;
    for handle in kept.values() {
        let released = sqs
            .change_message_visibility()
            .queue_url(queue)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
        if released.is_err() {
            not_released += 1;
        }
    }

    let count = |v: Verdict| counts.get(v.as_str()).copied().unwrap_or(0);
    let not_deleted = counts.get("not_deleted").copied().unwrap_or(0);
    let stays = count(Verdict::Failed) + count(Verdict::Unreadable) + not_deleted;
    if json {
        println!(
            "{}",
            json!({
                "type": "summary",
                "dry_run": !args.apply,
                "received": seen,
                "would_redrive": count(Verdict::WouldRun),
                "would_acknowledge": count(Verdict::WouldAcknowledge),
                "would_fail": count(Verdict::WouldFail),
                "redriven": count(Verdict::Redriven),
                "acknowledged": count(Verdict::Acknowledged),
                "failed": count(Verdict::Failed),
                "unreadable": count(Verdict::Unreadable),
                "not_deleted": not_deleted,
                "left_in_queue": kept.len(),
                "read_error": unread_error,
            })
        );
    } else if args.apply {
        println!(
            "\n{seen} dead letters: {} redriven and deleted, {} acknowledged and deleted (nothing to do), \
             {} still failing, {} unreadable{}; {} left in the queue",
            count(Verdict::Redriven),
            count(Verdict::Acknowledged),
            count(Verdict::Failed),
            count(Verdict::Unreadable),
            if not_deleted > 0 {
                format!(
                    ", {not_deleted} done but not deleted (a later redrive repeats them harmlessly)"
                )
            } else {
                String::new()
            },
            kept.len()
        );
    } else {
        println!(
            "\n{seen} dead letters: {} would be redriven, {} would be acknowledged (nothing to do), \
             {} would fail as they are, {} unreadable.\nDry run: nothing was run or deleted; \
             --apply runs them through the handlers and deletes each one that succeeds.",
            count(Verdict::WouldRun),
            count(Verdict::WouldAcknowledge),
            count(Verdict::WouldFail),
            count(Verdict::Unreadable),
        );
    }
    if let Some(error) = &unread_error {
        eprintln!("warden: stopped reading the queue: {error}");
    }
    if not_released > 0 {
        eprintln!(
            "warden: {not_released} messages could not be made visible again; they reappear after {} seconds",
            args.visibility_timeout
        );
    }
    let trouble = stays + count(Verdict::WouldFail) + usize::from(unread_error.is_some());
    Ok(if trouble == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// An SQS error in a line: the service's code and message, or what kept the request from it.
fn sqs_error<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(context) => {
            let e = context.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or("(no message)")
            )
        }
        other => DisplayErrorContext(other).to_string(),
    }
}

/// The default pack, the packs the scanner function would load (`WARDEN_RULES_FILE`,
/// `WARDEN_RULES_PARAMETER`) and `--rules` files. Unlike the function, a pack that does not load
/// stops the redrive: batches scanned with fewer rules than intended would be deleted.
async fn rules(files: &[std::path::PathBuf], ssm: &ssm_sdk::Client) -> Result<RuleSet, String> {
    let mut packs = RuleSources::from_env().read(ssm).await;
    packs.extend(files.iter().map(|path| CustomPack::read_file(path)));
    let (rules, problems) = assemble(packs);
    match problems.first() {
        None => Ok(rules),
        Some(_) => Err(format!(
            "rule packs that did not load: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// Dry run: what the handler would be given, checked as far as it can be without AWS.
fn inspect(letter: &DeadLetter, config: &WardenConfig) -> Handled {
    let Some(route) = letter.route() else {
        return Handled::unreadable(no_handler(&letter.event));
    };
    let (verdict, what, why) = match route {
        Route::Recorder => match parse_event(&letter.event) {
            Ok(event) => (
                Verdict::WouldRun,
                format!(
                    "{} {} (event {})",
                    event.call.api_name(),
                    event
                        .session_id
                        .as_deref()
                        .unwrap_or("(refused start, no session)"),
                    event.event_id
                ),
                None,
            ),
            Err(e) if e.is_unrelated_event() => (
                Verdict::WouldAcknowledge,
                "not a session API call".into(),
                Some(e.to_string()),
            ),
            Err(e) => (Verdict::WouldFail, String::new(), Some(e.to_string())),
        },
        Route::Scanner => match decode_subscription(&letter.event, config.max_transcript_bytes) {
            Ok(batch) if batch.is_control_message() => (
                Verdict::WouldAcknowledge,
                "CloudWatch Logs control message".into(),
                None,
            ),
            Ok(batch) => (
                Verdict::WouldRun,
                format!(
                    "transcript batch of {} ({} log events)",
                    batch.log_stream,
                    batch.log_events.len()
                ),
                None,
            ),
            Err(e) => (Verdict::WouldFail, String::new(), Some(e.to_string())),
        },
        Route::Reaper => match schedule_time(&letter.event) {
            Ok(at) => (Verdict::WouldRun, format!("reaper run at {at}"), None),
            Err(e) => (Verdict::WouldFail, String::new(), Some(e.to_string())),
        },
        Route::DescribeSessions => return Handled::unreadable(no_handler(&letter.event)),
    };
    Handled {
        verdict,
        handler: Some(route),
        what,
        why,
    }
}

fn no_handler(event: &Value) -> String {
    let shape = match event {
        Value::Object(map) => format!(
            "keys {}",
            map.keys().take(6).cloned().collect::<Vec<_>>().join(", ")
        ),
        other => format!("a JSON {}", json_kind(other)),
    };
    format!(
        "not an event any function takes ({shape}): expected a CloudTrail event, a CloudWatch Logs \
         subscription event or a schedule event"
    )
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `--apply`: the event through its handler, as the function would run it. `inspected` (the dry
/// run's account) names the event when the handler fails on it.
async fn redrive<S: SessionStore, N: Notifier, T: Terminator, D: SessionDirectory>(
    handlers: &Handlers<S, N, T, D>,
    letter: &DeadLetter,
    inspected: Handled,
) -> Handled {
    let Some(route) = inspected.handler else {
        return inspected;
    };
    let done = |what: String| Handled {
        verdict: Verdict::Redriven,
        handler: Some(route),
        what,
        why: None,
    };
    let failed = |why: String| Handled {
        verdict: Verdict::Failed,
        handler: Some(route),
        what: inspected.what.clone(),
        why: Some(why),
    };
    match route {
        Route::Recorder => match handlers.recorder.handle(&letter.event).await {
            Ok(r) => done(format!(
                "{} {} → {}{}; {} alerts sent",
                r.call.api_name(),
                r.session_id,
                r.state.as_str(),
                if r.applied { "" } else { " (already applied)" },
                r.alerts.len()
            )),
            Err(e) if e.is_unrelated_event() => Handled {
                verdict: Verdict::Acknowledged,
                handler: Some(route),
                what: "not a session API call".into(),
                why: Some(e.to_string()),
            },
            Err(e) => failed(e.to_string()),
        },
        Route::Scanner => match handlers.scanner.handle(&letter.event).await {
            Ok(s) if s.control_message => Handled {
                verdict: Verdict::Acknowledged,
                handler: Some(route),
                what: "CloudWatch Logs control message".into(),
                why: None,
            },
            Ok(s) => done(format!(
                "transcript {}: {} lines, {} findings ({} new), {} alerts sent",
                s.session_id,
                s.lines,
                s.findings.len(),
                s.new_findings,
                s.alerts.len()
            )),
            Err(e) => failed(e.to_string()),
        },
        Route::Reaper => match handlers.reaper.handle(&letter.event).await {
            Ok(r) => done(format!(
                "reaper run: {} ended, {} recorded, {} alerts sent{}",
                r.ended.len(),
                r.recorded.len(),
                r.alerts.len(),
                if r.problems.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} sessions skipped (the next scheduled run retries them): {}",
                        r.problems.len(),
                        r.problems.join("; ")
                    )
                }
            )),
            Err(e) => failed(e.to_string()),
        },
        Route::DescribeSessions => Handled::unreadable(no_handler(&letter.event)),
    }
}

fn print_message(
    id: &str,
    letter: Option<&DeadLetter>,
    handled: &Handled,
    delete_error: Option<&str>,
    json: bool,
) {
    if json {
        let mut line = json!({
            "type": "dead_letter",
            "message_id": id,
            "outcome": handled.verdict.as_str(),
            "handler": handled.handler.map(Route::handler),
            "what": handled.what,
            "why": handled.why,
            "origin": letter.map(|l| l.origin.as_str()),
            "dead_lettered_because": letter.and_then(|l| l.error.clone()),
        });
        if let Some(error) = delete_error {
            line["not_deleted"] = json!(error);
        }
        println!("{line}");
        return;
    }
    let mut lines = vec![match letter {
        Some(letter) => format!("{id}  {}", letter.origin.describe()),
        None => id.to_string(),
    }];
    if let Some(error) = letter.and_then(|l| l.error.as_deref()) {
        lines.push(format!("    dead-lettered because: {error}"));
    }
    if let Some(route) = handled.handler {
        lines.push(format!("    {:<9} {}", route.handler(), handled.what));
    }
    let outcome = match handled.verdict {
        Verdict::WouldRun => "would redrive (dry run)".to_string(),
        Verdict::WouldAcknowledge => "would acknowledge and delete: nothing to do".to_string(),
        Verdict::WouldFail => "would FAIL as it is; it stays".to_string(),
        Verdict::Redriven => "redriven, deleted".to_string(),
        Verdict::Acknowledged => "acknowledged, deleted: nothing to do".to_string(),
        Verdict::Failed => "still FAILS; kept in the queue".to_string(),
        Verdict::Unreadable => "UNREADABLE; kept in the queue".to_string(),
    };
    lines.push(format!("    → {outcome}"));
    if let Some(why) = &handled.why {
        lines.push(format!("      {why}"));
    }
    if let Some(error) = delete_error {
        lines.push(format!(
            "      but deleting it failed ({error}); a later redrive repeats it harmlessly"
        ));
    }
    println!("{}", lines.join("\n"));
}
