//! `warden events`: makes CloudWatch Logs subscription events from plain transcript lines, so
//! users can build their own test payloads (the ones in `events/2-transcripts/` are made this way).

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, encode_subscription,
};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogMode {
    /// Streaming records (`cloudWatchStreamingEnabled: true`): one JSON record per log event.
    Stream,
    /// Upload at session end: raw transcript text in log events of whole lines.
    Upload,
    /// A CloudWatch Logs control message (no transcript).
    Control,
}

#[derive(Args)]
pub struct SubscriptionArgs {
    /// Plain transcript lines (prompt, typed command, output), or `-` for standard input.
    pub input: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "stream")]
    pub mode: LogMode,
    /// The session id, which is also the log stream name.
    #[arg(long, default_value = "alice-ea1181f76f3adcbdc")]
    pub session_id: String,
    #[arg(long, default_value = "/aws/ssm/session-logs")]
    pub log_group: String,
    #[arg(long, default_value = "111122223333")]
    pub account: String,
    #[arg(long, default_value = "eu-west-1")]
    pub region: String,
    #[arg(long, default_value = "i-0a1b2c3d4e5f60718")]
    pub target: String,
    /// The session owner's ARN, as stream records carry it.
    #[arg(
        long,
        default_value = "arn:aws:sts::111122223333:assumed-role/Operator/alice"
    )]
    pub owner_arn: String,
    #[arg(long, default_value = "ssm-user")]
    pub run_as_user: String,
    /// Time of the first log event; later events follow a second apart.
    #[arg(long, default_value = "2026-11-24T10:21:48Z")]
    pub start: Timestamp,
    /// Streaming mode: transcript lines per record (the agent uploads about once a second).
    #[arg(long, default_value_t = 4)]
    pub lines_per_record: usize,
}

/// Upload-at-end log events hold at most this many bytes of whole lines.
const UPLOAD_EVENT_BYTES: usize = 200_000;

pub fn subscription(args: SubscriptionArgs) -> Result<ExitCode, String> {
    let text = match &args.input {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("standard input: {e}"))?;
            text
        }
    };
    if args.lines_per_record == 0 {
        return Err("--lines-per-record must be at least 1".to_string());
    }
    let batch = match args.mode {
        LogMode::Control => control_batch(&args),
        LogMode::Stream => data_batch(&args, stream_messages(&args, &text)?),
        LogMode::Upload => data_batch(&args, upload_messages(&text)),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&encode_subscription(&batch)).expect("JSON")
    );
    Ok(ExitCode::SUCCESS)
}

fn stream_messages(args: &SubscriptionArgs, text: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(args.lines_per_record)
        .enumerate()
        .map(|(i, chunk)| {
            let record = StreamRecord {
                event_version: Some("1.0".into()),
                event_time: Some(event_time(args, i).to_string()),
                aws_region: Some(args.region.clone()),
                target: Some(StreamTarget {
                    id: Some(args.target.clone()),
                }),
                user_identity: Some(StreamIdentity {
                    arn: Some(args.owner_arn.clone()),
                }),
                run_as_user: Some(args.run_as_user.clone()),
                session_id: Some(args.session_id.clone()),
                session_data: chunk.iter().map(|l| l.to_string()).collect(),
            };
            serde_json::to_string(&record).map_err(|e| e.to_string())
        })
        .collect()
}

/// Whole lines, grouped into events of at most `UPLOAD_EVENT_BYTES`, as the agent uploads them.
fn upload_messages(text: &str) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if !current.is_empty() && current.len() + line.len() > UPLOAD_EVENT_BYTES {
            messages.push(std::mem::take(&mut current));
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

fn event_time(args: &SubscriptionArgs, index: usize) -> Timestamp {
    args.start
        .checked_add(jiff::SignedDuration::from_secs(index as i64))
        .unwrap_or(args.start)
}

fn data_batch(args: &SubscriptionArgs, messages: Vec<String>) -> LogsBatch {
    LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: args.account.clone(),
        log_group: args.log_group.clone(),
        log_stream: args.session_id.clone(),
        subscription_filters: vec!["session-warden".into()],
        log_events: messages
            .into_iter()
            .enumerate()
            .map(|(i, message)| {
                let at = event_time(args, i).as_millisecond();
                LogEvent {
                    // CloudWatch event ids are long decimal strings; derived here from the time.
                    id: format!("{at:0>20}{i:0>36}"),
                    timestamp: at,
                    message,
                }
            })
            .collect(),
    }
}

fn control_batch(args: &SubscriptionArgs) -> LogsBatch {
    LogsBatch {
        message_type: "CONTROL_MESSAGE".into(),
        owner: "CloudwatchLogs".into(),
        log_group: String::new(),
        log_stream: String::new(),
        subscription_filters: vec![],
        log_events: vec![LogEvent {
            id: String::new(),
            timestamp: args.start.as_millisecond(),
            message: "CWL CONTROL MESSAGE: Checking health of destination Lambda.".into(),
        }],
    }
}
