//! `warden`: the operator's command line for Session Warden.

mod events;
mod output;
mod progress;
mod redrive;
mod replay;
mod rules_cli;
mod scan;
mod scan_report;
mod session_events;
mod sessions;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Audit and enforce AWS Session Manager sessions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run sample events (files or folders of JSON) through the same handlers the Lambda
    /// functions use. Without an endpoint everything stays in this process: an in-memory
    /// table, alerts printed, terminations only reported (dry run).
    Replay(ReplayArgs),
    /// Run dead-lettered events from an SQS queue (the functions' dead-letter and on-failure
    /// queues, any record shape) through the handler each belongs to, on the deployment's table
    /// and topic, deleting each message once it succeeded. A dry run unless `--apply`.
    Redrive(RedriveArgs),
    /// List, show and terminate recorded sessions, from the table or a replay state file.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Scan a transcript for forbidden commands: plain text, streaming records (one JSON per
    /// line) or a CloudWatch Logs subscription event, recognised from the content.
    ///
    /// Ends with a summary: findings, lines and commands read. Exits 0 when it read a
    /// transcript, whether or not it finds something; 3 when the input holds nothing to scan
    /// (empty, not text, a control message, or no line at a shell prompt); 2 for unusable input
    /// or rules.
    Scan {
        /// Transcript file; `-` or nothing for standard input.
        input: Option<PathBuf>,
        /// Extra rule packs, applied after the default pack (they may disable or redefine rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Also print every screen line the scanner rebuilt, how it was read (command,
        /// continuation, candidate, output) and why: which prompt, learned from where. The
        /// first thing to look at when a command was missed.
        #[arg(long)]
        lines: bool,
    },
    /// Make sample events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// List, explain, test and check the forbidden-command rules and custom rule packs.
    #[command(subcommand, after_long_help = rules_cli::PACKS_HELP)]
    Rules(rules_cli::RulesCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// A CloudWatch Logs subscription event (base64 gzip JSON) from plain transcript lines.
    Subscription(events::SubscriptionArgs),
    /// A StartSession, ResumeSession or TerminateSession call as EventBridge delivers it.
    Session(session_events::SessionCallArgs),
    /// The reaper's scheduled event.
    Schedule(session_events::ScheduleArgs),
    /// A DescribeSessions response (active sessions), as the reaper's replay reads it.
    DescribeSessions(session_events::DescribeSessionsArgs),
}

/// Exit status when the input was read but held nothing recognisable: an empty or binary
/// transcript, a rule pack with no rules. Distinct from 1 (a problem found) and 2 (unusable
/// arguments or input that could not be read).
pub const EXIT_NOTHING_RECOGNISED: u8 = 3;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// Event files or folders (searched recursively for *.json, in name order).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Print each alert's full body, not only its subject.
    #[arg(long)]
    pub alert_bodies: bool,
    /// Keep the in-memory table in this JSON file across runs (read first, written after).
    #[arg(long, conflicts_with = "endpoint_url")]
    pub state: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// With an endpoint: really call ssm:TerminateSession (default: dry run).
    #[arg(long, requires = "endpoint_url")]
    pub enforce: bool,
    /// Extra rule packs for transcript events, applied after the default pack.
    #[arg(long = "rules")]
    pub rules: Vec<PathBuf>,
}

#[derive(Args)]
pub struct RedriveArgs {
    /// URL of the queue holding the dead letters (the stack's `…DeadLetterQueueUrl` outputs).
    #[arg(long)]
    pub queue: String,
    /// Run each message through its handler and delete it once it succeeded. Without it,
    /// nothing is run or deleted: each message is read, checked and left in the queue.
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Handle at most this many messages.
    #[arg(long)]
    pub max: Option<usize>,
    /// Seconds SQS hides a message once read; the messages left are made visible again when
    /// the run ends, so this only matters if it is cut short.
    #[arg(long, default_value_t = redrive::DEFAULT_VISIBILITY_SECONDS)]
    pub visibility_timeout: i32,
    /// Extra rule packs for transcript batches, after the default pack and the packs the
    /// scanner function is configured with (`WARDEN_RULES_FILE`, `WARDEN_RULES_PARAMETER`).
    #[arg(long = "rules")]
    pub rules: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Where the real AWS adapters point.
#[derive(Args, Clone)]
pub struct AwsArgs {
    /// Use the AWS adapters (DynamoDB, SNS, SSM) against this endpoint, e.g. a moto server.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// DynamoDB table for the AWS adapters.
    #[arg(long, env = "WARDEN_TABLE")]
    pub table: Option<String>,
    /// SNS topic for alerts with the AWS adapters.
    #[arg(long, env = "WARDEN_TOPIC_ARN")]
    pub topic_arn: Option<String>,
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// Sessions, newest first: all of them, or those every condition given matches.
    List(sessions::ListArgs),
    /// One session in full: the record, flags, alerts, findings, a timeline and console links.
    Show {
        session_id: String,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Terminate a session through Session Manager and record on it who asked (the caller's
    /// identity from STS; `local` with a state file) and why. Safe to repeat: a session that is
    /// already over is left as it is, and that is said (exit 0).
    Terminate {
        session_id: String,
        /// Why: recorded on the session with the termination (a ticket, an incident).
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[command(flatten)]
        source: SourceArgs,
    },
}

/// A state file written by `warden replay --state`, or the DynamoDB table.
#[derive(Args, Clone)]
pub struct SourceArgs {
    /// A state file `warden replay --state FILE` wrote, instead of the table.
    #[arg(long, conflicts_with_all = ["endpoint_url", "table", "stack"])]
    pub state: Option<PathBuf>,
    /// The deployed stack's name, instead of `--table`: its table is the one CloudFormation
    /// named `<stack>-SessionsTable-<suffix>` (found with `dynamodb:ListTables`).
    #[arg(long, conflicts_with = "table")]
    pub stack: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Like any Unix tool, end quietly when the reader goes away (`warden replay … | head`)
    // instead of panicking on a closed pipe.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    warden_core::telemetry::init_cli("warn");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args).await,
        Command::Redrive(args) => redrive::run(args).await,
        Command::Sessions(SessionsCommand::List(args)) => sessions::list(args).await,
        Command::Sessions(SessionsCommand::Show {
            session_id,
            format,
            source,
        }) => sessions::show(&source, &session_id, format).await,
        Command::Sessions(SessionsCommand::Terminate {
            session_id,
            reason,
            format,
            source,
        }) => sessions::terminate(&source, &session_id, &reason, format).await,
        Command::Scan {
            input,
            rules,
            format,
            lines,
        } => scan::run(&rules, format, lines, input.as_deref()),
        Command::Events(EventsCommand::Subscription(args)) => events::subscription(args),
        Command::Events(EventsCommand::Session(args)) => session_events::session_call(args),
        Command::Events(EventsCommand::Schedule(args)) => session_events::schedule(args),
        Command::Events(EventsCommand::DescribeSessions(args)) => {
            session_events::describe_sessions(args)
        }
        Command::Rules(command) => rules_cli::run_command(command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("warden: {message}");
            ExitCode::from(2)
        }
    }
}
