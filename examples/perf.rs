//! Measurements behind `scripts/bench` (see docs/performance.md): each Lambda binary started as a
//! real process against a loopback Runtime API, and the generated transcripts `warden scan` is
//! timed on.
//!
//!   perf cold-start BIN_DIR [RUNS]   exec to first poll per function (median, min, max) and
//!                                    peak RSS at init
//!   perf batch-rss BIN_DIR           transcript-scanner's peak RSS after one 1 MB batch
//!   perf transcript text|stream|event|distinct BYTES OUT
//!                                    writes the generated transcript `warden scan` reads (an
//!                                    event: streaming records in one subscription event;
//!                                    distinct: text where no command line repeats)
//!   perf scan FILE [PACK] [RUNS]     in-process scan throughput of FILE (best of RUNS), with
//!                                    the default pack or PACK alone (PACK disables it)
//!   perf event [RUNS]                the scanner's handler on a 1 MB subscription event, in
//!                                    process with an in-memory store (median of RUNS)
//!   perf pack RULES OUT              writes a generated pack of RULES rules that disables
//!                                    the default pack's rules

#[path = "../tests/support/http_stub.rs"]
mod http_stub;
#[path = "../tests/support/lambda_process.rs"]
mod lambda_process;
#[path = "../tests/support/sample_transcript.rs"]
mod sample_transcript;

use http_stub::{LambdaRuntimeApi, Outcome, ScriptedHttpServer, ScriptedResponse};
use lambda_process::Function;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use warden_core::config::WardenConfig;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::{CollectingNotifier, DryRunTerminator, MemoryStore};
use warden_core::rules::{RulePack, RuleSet, default_rules};
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, decode_subscription, encode_subscription,
};
use warden_core::transcript::scan::{TranscriptInput, scan_input};

const FUNCTIONS: [&str; 3] = ["session-recorder", "transcript-scanner", "session-reaper"];
const SESSION_ID: &str = "alice-ea1181f76f3adcbdc";
/// A CloudWatch Logs subscription delivers at most about 1 MB of log events per batch.
const BATCH_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
enum PerfError {
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("{0}")]
    Run(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

const USAGE: &str = "perf cold-start BIN_DIR [RUNS] | perf batch-rss BIN_DIR | \
                     perf transcript text|stream|event|distinct BYTES OUT | perf scan FILE [PACK] [RUNS] | \
                     perf event [RUNS] | perf pack RULES OUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["cold-start", dir] => cold_start(Path::new(dir), 21),
        ["cold-start", dir, runs] => match runs.parse() {
            Ok(runs) if runs > 0 => cold_start(Path::new(dir), runs),
            _ => Err(PerfError::Usage(USAGE)),
        },
        ["batch-rss", dir] => batch_rss(Path::new(dir)),
        ["transcript", mode, bytes, out] => match bytes.parse() {
            Ok(bytes) => transcript(mode, bytes, Path::new(out)),
            Err(_) => Err(PerfError::Usage(USAGE)),
        },
        ["scan", file] => scan(Path::new(file), None, 3),
        ["scan", file, pack] => scan(Path::new(file), Some(Path::new(pack)), 3),
        ["scan", file, pack, runs] => match runs.parse() {
            Ok(runs) if runs > 0 => scan(Path::new(file), Some(Path::new(pack)), runs),
            _ => Err(PerfError::Usage(USAGE)),
        },
        ["event"] => event(21),
        ["event", runs] => match runs.parse() {
            Ok(runs) if runs > 0 => event(runs),
            _ => Err(PerfError::Usage(USAGE)),
        },
        ["pack", rules, out] => match rules.parse() {
            Ok(rules) => pack(rules, Path::new(out)),
            Err(_) => Err(PerfError::Usage(USAGE)),
        },
        _ => Err(PerfError::Usage(USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("perf: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What every function needs to get through init without touching AWS: configuration, static
/// credentials (no instance metadata lookup) and an endpoint that is never slow to refuse.
fn function_env(store: &ScriptedHttpServer) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", store.url()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("WARDEN_TABLE", "warden-bench".into()),
        (
            "WARDEN_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:111122223333:warden-bench".into(),
        ),
        ("WARDEN_ENFORCE", "false".into()),
        ("RUST_LOG", "info".into()),
    ]
}

fn start(binary: &Path, api: &LambdaRuntimeApi, store: &ScriptedHttpServer) -> Function {
    let env = function_env(store);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Function::start(&binary.display().to_string(), api, &env)
}

fn binary(dir: &Path, name: &str) -> Result<PathBuf, PerfError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(PerfError::Run(format!(
            "{} not found: build the release binaries first",
            path.display()
        )))
    }
}

/// `VmHWM` (peak resident set) of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64, PerfError> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|error| PerfError::Io {
        path: path.clone(),
        error,
    })?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| PerfError::Run(format!("{path}: no VmHWM line")))
}

fn cold_start(dir: &Path, runs: usize) -> Result<(), PerfError> {
    println!(
        "function            exec→first poll (ms): median    min    max  runs   init RSS (MB)"
    );
    for name in FUNCTIONS {
        let binary = binary(dir, name)?;
        let mut millis = Vec::with_capacity(runs);
        let mut rss = 0;
        for _ in 0..runs {
            let api = LambdaRuntimeApi::start(Vec::new());
            let store = ScriptedHttpServer::start(Vec::new());
            let function = start(&binary, &api, &store);
            let polled = api
                .wait_for_poll(1, Duration::from_secs(30))
                .map_err(|e| PerfError::Run(format!("{name}: {e}\n{}", function.output())))?;
            millis.push(polled.duration_since(function.started_at).as_secs_f64() * 1000.0);
            rss = rss.max(peak_rss_kib(function.id())?);
        }
        millis.sort_by(f64::total_cmp);
        println!(
            "{name:<20} {:>27.1} {:>6.1} {:>6.1} {:>5} {:>15.1}",
            millis[runs / 2],
            millis[0],
            millis[runs - 1],
            runs,
            rss as f64 / 1024.0
        );
    }
    Ok(())
}

/// One full-size subscription batch of streaming records, the shape the scanner sees most.
fn one_megabyte_batch() -> serde_json::Value {
    subscription_event(BATCH_BYTES)
}

/// A subscription event of about `bytes` of streaming records (20 lines each).
fn subscription_event(bytes: usize) -> serde_json::Value {
    let lines = sample_transcript::session_lines(bytes);
    let mut size = 0;
    let log_events = sample_transcript::records(&lines, 20)
        .into_iter()
        .enumerate()
        .map(|(i, record)| LogEvent {
            id: i.to_string(),
            timestamp: 1_764_000_000_000 + i as i64 * 1000,
            message: serde_json::to_string(&record).expect("a record serialises"),
        })
        .take_while(|event| {
            size += event.message.len();
            size <= bytes
        })
        .collect();
    let batch = LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: "111122223333".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: SESSION_ID.into(),
        subscription_filters: vec!["warden".into()],
        log_events,
    };
    encode_subscription(&batch)
}

fn batch_rss(dir: &Path) -> Result<(), PerfError> {
    let binary = binary(dir, "transcript-scanner")?;
    let event = one_megabyte_batch().to_string();
    let api = LambdaRuntimeApi::start(vec![event]);
    // The table answers every call with a non-retryable error: the batch is decoded and scanned
    // in full, then the invocation fails fast instead of waiting on SDK retries.
    let not_found = ScriptedResponse::new(
        400,
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
    )
    .with_header("Content-Type", "application/x-amz-json-1.0")
    .with_header("x-amzn-ErrorType", "ResourceNotFoundException");
    let store = ScriptedHttpServer::start(vec![not_found; 16]);
    let function = start(&binary, &api, &store);
    let results = api
        .wait_for_results(1, Duration::from_secs(60))
        .map_err(|e| PerfError::Run(format!("{e}\n{}", function.output())))?;
    // The store is called only after the whole batch was decoded and scanned.
    match &results[0].outcome {
        // lambda_runtime reports the type in the body; its header says `unhandled`.
        Outcome::Error { body, .. }
            if serde_json::from_str::<serde_json::Value>(body)
                .is_ok_and(|error| error["errorType"] == "StoreError") => {}
        other => {
            return Err(PerfError::Run(format!(
                "expected the batch to be scanned and then refused by the store, got {other:?}:\n{}",
                function.output()
            )));
        }
    }
    // The next poll means the invocation is over: its memory peak is behind us.
    api.wait_for_poll(2, Duration::from_secs(10))
        .map_err(PerfError::Run)?;
    let rss = peak_rss_kib(function.id())?;
    println!(
        "transcript-scanner peak RSS after a 1 MB batch: {:.1} MB",
        rss as f64 / 1024.0
    );
    Ok(())
}

fn transcript(mode: &str, bytes: usize, out: &Path) -> Result<(), PerfError> {
    let lines = match mode {
        "distinct" => sample_transcript::distinct_session_lines(bytes),
        _ => sample_transcript::session_lines(bytes),
    };
    let text = match mode {
        "text" | "distinct" => sample_transcript::text(&lines),
        "stream" => {
            let mut text = String::new();
            for record in sample_transcript::records(&lines, 20) {
                text.push_str(&serde_json::to_string(&record).expect("a record serialises"));
                text.push('\n');
            }
            text
        }
        "event" => {
            let event = subscription_event(bytes);
            // What the event carries, for throughput in transcript bytes.
            let batch =
                decode_subscription(&event, 1 << 30).map_err(|e| PerfError::Run(e.to_string()))?;
            let carried: usize = batch.log_events.iter().map(|e| e.message.len()).sum();
            println!("{carried}");
            event.to_string()
        }
        _ => return Err(PerfError::Usage(USAGE)),
    };
    std::fs::write(out, text).map_err(|error| PerfError::Io {
        path: out.display().to_string(),
        error,
    })
}

fn read(path: &Path) -> Result<String, PerfError> {
    std::fs::read_to_string(path).map_err(|error| PerfError::Io {
        path: path.display().to_string(),
        error,
    })
}

/// The default rules, or `pack` on top of them (a generated pack disables them all).
fn rules(pack: Option<&Path>) -> Result<RuleSet, PerfError> {
    match pack {
        None => Ok(default_rules()),
        Some(path) => {
            let pack = RulePack::parse(&read(path)?, &path.display().to_string())
                .map_err(|e| PerfError::Run(e.to_string()))?;
            warden_core::rules::default_with(vec![pack]).map_err(|e| PerfError::Run(e.to_string()))
        }
    }
}

/// Scan throughput in this process: the input read and recognised once, then scanned `runs`
/// times; the best run is printed as `MB/s findings lines` (MB of 10^6 bytes).
fn scan(file: &Path, pack: Option<&Path>, runs: usize) -> Result<(), PerfError> {
    let rules = rules(pack)?;
    let text = read(file)?;
    let input =
        TranscriptInput::detect(&text, 1 << 30).map_err(|e| PerfError::Run(e.to_string()))?;
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..runs {
        let start = Instant::now();
        found = std::hint::black_box(scan_input(&rules, &input)).len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{:.1} {found} {}",
        text.len() as f64 / 1e6 / best,
        rules.rules().len()
    );
    Ok(())
}

/// The transcript-scanner's handler on a 1 MB subscription event, as a warm function runs it:
/// decode, scan, findings recorded and alerts sent to in-memory stand-ins. Prints the median
/// and the first (cold) run in milliseconds.
fn event(runs: usize) -> Result<(), PerfError> {
    let event = one_megabyte_batch();
    let rules = default_rules();
    let config = WardenConfig::from_lookup(|name| match name {
        "WARDEN_ENFORCE" => Some("false".into()),
        _ => None,
    })
    .map_err(|e| PerfError::Run(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| PerfError::Run(e.to_string()))?;
    let mut millis = Vec::with_capacity(runs);
    for _ in 0..runs {
        // A new session each time: every run records its findings and sends its alerts.
        let scanner = Scanner::new(
            MemoryStore::new(),
            CollectingNotifier::new(),
            DryRunTerminator::new(),
            config.clone(),
            rules.clone(),
        );
        let start = Instant::now();
        let scanned = runtime
            .block_on(scanner.handle(&event))
            .map_err(|e| PerfError::Run(e.to_string()))?;
        millis.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(scanned);
    }
    let first = millis[0];
    millis.sort_by(f64::total_cmp);
    println!("{:.2} {first:.2}", millis[runs / 2]);
    Ok(())
}

/// Command names the generated rules are about, each with a flag or a file per rule.
const TOOLS: [&str; 20] = [
    "curl",
    "wget",
    "tar",
    "rsync",
    "scp",
    "ssh",
    "openssl",
    "python3",
    "perl",
    "node",
    "docker",
    "kubectl",
    "systemctl",
    "useradd",
    "chmod",
    "chown",
    "mount",
    "iptables",
    "crontab",
    "git",
];

/// A pack of `count` rules shaped like the default pack's (anchored at the command name, word
/// loops, a redirection into a file anywhere on the line), after disabling the default rules:
/// what a team with its own pack would run.
fn pack(count: usize, out: &Path) -> Result<(), PerfError> {
    use std::fmt::Write;
    let ids: Vec<String> = default_rules()
        .rules()
        .iter()
        .map(|r| format!("{:?}", r.id))
        .collect();
    let mut text = format!("disable = [{}]\n", ids.join(", "));
    for i in 0..count {
        let tool = TOOLS[i % TOOLS.len()];
        let _ = write!(
            text,
            r#"
[[rule]]
id = "generated.rule_{i}"
title = "generated rule {i}"
category = "generated"
severity = "high"
action = "alert"
patterns = [
  '^{tool}[ \t]+(?:[^ \t]+[ \t]+)*?--opt-{i}(?:[ \t=]|$)',
  '^(?:[^ \t]+[ \t]+)*?(?:[0-9]|&)?>>?\|?[ \t]*/etc/generated/file-{i}(?:[ \t]|$)',
  '^{tool}[ \t](?:.*[ \t])?(?:-[A-Za-z]*x[A-Za-z]*|--exec)[ \t]+[^ \t]*/tmp/[^ \t]*tool-{i}(?:[ \t]|$)',
]
[rule.examples]
must_match = ["{tool} --opt-{i} x", "echo x >> /etc/generated/file-{i}"]
must_not_match = ["{tool} --opt-{i}x", "cat /etc/generated/file-{i}"]
"#
        );
    }
    RulePack::parse(&text, "generated").map_err(|e| PerfError::Run(e.to_string()))?;
    std::fs::write(out, text).map_err(|error| PerfError::Io {
        path: out.display().to_string(),
        error,
    })
}
