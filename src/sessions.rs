//! `warden sessions list|show|terminate`: read the table, or a replay state file; terminate
//! through Session Manager (or, in a state file, in the file).

use crate::output::{session_detail, session_detail_json, session_json, session_table};
use crate::{Format, SourceArgs};
use clap::Args;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use warden_core::alert::session_links;
use warden_core::aws::{
    DynamoStore, SsmTerminator, StsIdentity, TrustRoots, dynamodb_sdk, sdk_config, sts_sdk,
};
use warden_core::config::DEFAULT_RETENTION_DAYS;
use warden_core::glob::Glob;
use warden_core::investigation::{
    RequestError, RequestOutcome, SessionQuery, parse_since, terminate_on_request, timeline,
};
use warden_core::local::{FixedIdentity, MemoryStore, SimulatedTerminator};
use warden_core::ports::{SessionFilter, SessionStore};
use warden_core::session::SessionRecord;

/// Who a termination in a replay state file is recorded as: a state file is a sandbox with no
/// AWS identity behind it, and looking one up would make an offline command wait on the network.
pub const STATE_FILE_IDENTITY: &str = "local";

#[derive(Args)]
pub struct ListArgs {
    /// Only sessions still active (from the active-sessions index).
    #[arg(long)]
    pub active: bool,
    /// Only sessions with a flag or a finding.
    #[arg(long)]
    pub flagged: bool,
    /// Only this principal's sessions: user or role session name, ARN, principal id or access
    /// key id; `*` and `?` are wildcards, case does not matter (`'*/Admin/*'`).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Only sessions on this instance (wildcards as for --user).
    #[arg(long, value_name = "TARGET")]
    pub instance: Option<String>,
    /// Only sessions open at any time since then (started, still open or ended since): an
    /// RFC 3339 time, a date (midnight UTC) or an age (30m, 2h, 3d, 1w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only sessions in this AWS account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// At most this many sessions, the newest.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub source: SourceArgs,
}

impl ListArgs {
    fn query(&self) -> Result<SessionQuery, String> {
        let since = self
            .since
            .as_deref()
            .map(|text| parse_since(text, jiff::Timestamp::now()))
            .transpose()
            .map_err(|e| format!("--since: {e}"))?;
        Ok(SessionQuery {
            active_only: self.active,
            flagged: self.flagged,
            user: self.user.as_deref().map(Glob::new),
            instance: self.instance.as_deref().map(Glob::new),
            since,
            account: self.account.clone(),
            limit: self.limit,
        })
    }
}

pub async fn list(args: ListArgs) -> Result<ExitCode, String> {
    let query = args.query()?;
    let filter = query.store_filter();
    let sessions = with_store(
        &args.source,
        |store| async move { store.list(filter).await },
    )
    .await?;
    let sessions = query.select(sessions);
    match args.format {
        Format::Json => sessions
            .iter()
            .for_each(|s| println!("{}", session_json(s))),
        Format::Human if sessions.is_empty() => {
            eprintln!("no sessions match");
        }
        Format::Human => println!("{}", session_table(&sessions)),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(
    source: &SourceArgs,
    session_id: &str,
    format: Format,
) -> Result<ExitCode, String> {
    let found = with_store(source, |store| async move {
        use warden_core::investigation::LookupError;
        let key = match store.key_for(session_id).await {
            Ok(Some(key)) => key,
            Ok(None) => return Ok(Ok((None, Vec::new(), Vec::new()))),
            Err(LookupError::Store(e)) => return Err(e),
            Err(ambiguous) => return Ok(Err(ambiguous.to_string())),
        };
        let session = store.load(&key).await?;
        let findings = store.findings(&key).await?;
        let alerts = store.alerts(&key).await?;
        Ok(Ok((session, findings, alerts)))
    })
    .await??;
    let (Some(stored), findings, alerts) = found else {
        eprintln!("warden: no session {session_id}");
        return Ok(ExitCode::FAILURE);
    };
    let record = &stored.value;
    let events = timeline(record, &findings, &alerts);
    let links = session_links(record, None);
    match format {
        Format::Json => println!(
            "{}",
            session_detail_json(record, &findings, &alerts, &events, &links)
        ),
        Format::Human => println!(
            "{}",
            session_detail(record, &findings, &alerts, &events, &links)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Terminates through the same terminator the functions use (`ssm:TerminateSession`, always
/// enforced: a person asked), recording who asked and why; with a state file, in the file.
pub async fn terminate(
    source: &SourceArgs,
    session_id: &str,
    reason: &str,
    format: Format,
) -> Result<ExitCode, String> {
    let outcome = if let Some(path) = &source.state {
        let store = open_state(path)?;
        let identity = FixedIdentity(STATE_FILE_IDENTITY.to_string());
        let outcome =
            terminate_on_request(&store, &SimulatedTerminator, &identity, session_id, reason).await;
        if matches!(outcome, Ok(RequestOutcome::Terminated { .. })) {
            store.persist(path).map_err(|e| e.to_string())?;
        }
        outcome
    } else {
        let sdk = sdk_config(source.aws.endpoint_url.as_deref(), TrustRoots::System).await;
        let client = dynamodb_sdk::Client::new(&sdk);
        let table = table_name(source, &client).await?;
        let store = DynamoStore::new(client, &table, DEFAULT_RETENTION_DAYS);
        let identity = StsIdentity::new(sts_sdk::Client::new(&sdk));
        // A member account's session (keyed by its account) is ended through the member role
        // (WARDEN_MEMBER_*, as the functions have them), or refused naming the account; the
        // stack's own sessions with the caller's credentials.
        let accounts = warden_core::config::WardenConfig::from_env()
            .map_err(|e| e.to_string())?
            .accounts;
        let terminator = SsmTerminator::with_clients(
            std::sync::Arc::new(warden_core::aws::SsmClients::new(&sdk, accounts)),
            true,
        );
        terminate_on_request(&store, &terminator, &identity, session_id, reason).await
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e @ (RequestError::NoReason | RequestError::Identity(_) | RequestError::Store(_))) => {
            return Err(e.to_string());
        }
        Err(e) => {
            eprintln!("warden: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    match format {
        Format::Json => println!("{}", outcome_json(session_id, &outcome)),
        Format::Human => println!(
            "{}",
            outcome_text(session_id, &outcome, source.state.is_some())
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// One object: what came of this request (`outcome`, who asked now, when known) and the
/// session's termination as recorded (by this request or an earlier one).
fn outcome_json(session_id: &str, outcome: &RequestOutcome) -> serde_json::Value {
    let r = outcome.record();
    let requested_by = match outcome {
        RequestOutcome::Terminated { record } => record.terminated_by.clone(),
        RequestOutcome::EndedInSessionManager { by, .. }
        | RequestOutcome::WouldTerminate { by, .. } => Some(by.clone()),
        // Nothing to do: the caller's identity was not looked up.
        RequestOutcome::AlreadyOver { .. } => None,
    };
    json!({
        "type": "termination_request",
        "session_id": session_id,
        "outcome": outcome.code(),
        "requested_by": requested_by,
        "state": r.state.as_str(),
        "terminated_by": r.terminated_by,
        "termination_reason": r.termination_reason,
        "terminated_at": r.terminated_at.map(|t| t.to_string()),
        "ended_at": r.ended_at.map(|t| t.to_string()),
        "ended_by": r.ended_by,
    })
}

fn outcome_text(session_id: &str, outcome: &RequestOutcome, state_file: bool) -> String {
    match outcome {
        RequestOutcome::Terminated { record } => {
            let mut text = format!(
                "terminated {session_id} at {}: requested by {}, reason: {}",
                record
                    .terminated_at
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                record.terminated_by.as_deref().unwrap_or("?"),
                record.termination_reason.as_deref().unwrap_or("?"),
            );
            if state_file {
                text.push_str(" (in the state file only: no Session Manager call was made)");
            }
            text
        }
        RequestOutcome::AlreadyOver { record } => already_over(session_id, record),
        RequestOutcome::EndedInSessionManager { .. } => format!(
            "{session_id} had already ended in Session Manager; nothing was recorded (the reaper \
             records its end on its next run)"
        ),
        RequestOutcome::WouldTerminate { .. } => {
            format!("would terminate {session_id} (dry run); nothing was called or recorded")
        }
    }
}

fn already_over(session_id: &str, r: &SessionRecord) -> String {
    if r.state == warden_core::session::SessionState::Denied {
        return format!("{session_id} was never open (its start was refused); nothing to do");
    }
    let mut text = format!("{session_id} is already {}", r.state.as_str());
    if let Some(at) = r.ended_at {
        text.push_str(&format!(" (since {at}"));
        match (&r.terminated_by, &r.ended_by) {
            (Some(by), _) => text.push_str(&format!(
                ", on request by {by}: {}",
                r.termination_reason.as_deref().unwrap_or("no reason given")
            )),
            (None, Some(by)) => text.push_str(&format!(", by {by}")),
            (None, None) => {}
        }
        text.push(')');
    }
    text.push_str("; nothing to do");
    text
}

/// The table the arguments name: `--table`, or the one of `--stack`.
async fn table_name(source: &SourceArgs, client: &dynamodb_sdk::Client) -> Result<String, String> {
    if let Some(table) = &source.aws.table {
        return Ok(table.clone());
    }
    let Some(stack) = &source.stack else {
        return Err(
            "say where sessions are: --state FILE (from `warden replay --state`), --table NAME \
             (the stack's SessionsTableName output, or WARDEN_TABLE) or --stack NAME"
                .to_string(),
        );
    };
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = client
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(|e| format!("finding the table of stack {stack}: {}", list_error(&e)))?;
        names.extend(page.table_names.unwrap_or_default());
        match page.last_evaluated_table_name {
            Some(last) => start = Some(last),
            None => break,
        }
    }
    table_of_stack(stack, &names)
}

fn list_error<R: std::fmt::Debug>(
    error: &dynamodb_sdk::error::SdkError<dynamodb_sdk::operation::list_tables::ListTablesError, R>,
) -> String {
    use dynamodb_sdk::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    match error {
        SdkError::ServiceError(context) => {
            let e = context.err();
            let code = e.code().unwrap_or("error");
            let hint = if code.contains("AccessDenied") {
                " (allow dynamodb:ListTables, or pass --table with the stack's SessionsTableName \
                 output)"
            } else {
                ""
            };
            format!("{code}: {}{hint}", e.message().unwrap_or("(no message)"))
        }
        other => DisplayErrorContext(other).to_string(),
    }
}

/// The sessions table CloudFormation created for `stack` among `tables`: its physical name is
/// `<stack>-SessionsTable-<suffix>`. Exactly one must match.
fn table_of_stack(stack: &str, tables: &[String]) -> Result<String, String> {
    let prefix = format!("{stack}-SessionsTable-");
    let found: Vec<&String> = tables.iter().filter(|t| t.starts_with(&prefix)).collect();
    match found.as_slice() {
        [table] => Ok((*table).clone()),
        [] => Err(format!(
            "no table of stack {stack} in this account and region (looked for {prefix}…): check \
             --region/AWS_REGION and the stack name, or pass --table with the stack's \
             SessionsTableName output"
        )),
        many => Err(format!(
            "several tables could be stack {stack}'s ({}): pass --table",
            many.iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn open_state(path: &Path) -> Result<MemoryStore, String> {
    // `replay --state` starts a missing file empty; here a missing file is a mistake (a typo,
    // the wrong folder), not a table without sessions.
    if !path.exists() {
        return Err(format!(
            "{}: no such state file (`warden replay --state FILE` writes one)",
            path.display()
        ));
    }
    MemoryStore::open(path).map_err(|e| e.to_string())
}

/// Runs `read` against the store the arguments name.
async fn with_store<R, F, Fut>(source: &SourceArgs, read: F) -> Result<R, String>
where
    F: FnOnce(AnyStore) -> Fut,
    Fut: std::future::Future<Output = Result<R, warden_core::ports::StoreError>>,
{
    let store = if let Some(path) = &source.state {
        AnyStore::Local(open_state(path)?)
    } else {
        let sdk = sdk_config(source.aws.endpoint_url.as_deref(), TrustRoots::System).await;
        let client = dynamodb_sdk::Client::new(&sdk);
        let table = table_name(source, &client).await?;
        AnyStore::Dynamo(DynamoStore::new(client, &table, DEFAULT_RETENTION_DAYS))
    };
    read(store).await.map_err(|e| e.to_string())
}

/// The two stores `sessions` can read, behind one type.
pub enum AnyStore {
    Local(MemoryStore),
    Dynamo(DynamoStore),
}

impl AnyStore {
    async fn list(
        &self,
        filter: SessionFilter,
    ) -> Result<Vec<SessionRecord>, warden_core::ports::StoreError> {
        match self {
            AnyStore::Local(s) => s.list(filter).await,
            AnyStore::Dynamo(s) => s.list(filter).await,
        }
    }

    async fn findings(
        &self,
        id: &str,
    ) -> Result<Vec<warden_core::finding::FindingRecord>, warden_core::ports::StoreError> {
        match self {
            AnyStore::Local(s) => s.findings(id).await,
            AnyStore::Dynamo(s) => s.findings(id).await,
        }
    }

    async fn alerts(
        &self,
        id: &str,
    ) -> Result<Vec<warden_core::ports::AlertMark>, warden_core::ports::StoreError> {
        match self {
            AnyStore::Local(s) => s.alerts(id).await,
            AnyStore::Dynamo(s) => s.alerts(id).await,
        }
    }

    async fn load(
        &self,
        id: &str,
    ) -> Result<Option<warden_core::ports::Versioned<SessionRecord>>, warden_core::ports::StoreError>
    {
        match self {
            AnyStore::Local(s) => s.load(id).await,
            AnyStore::Dynamo(s) => s.load(id).await,
        }
    }

    /// The store key of the session a person named (its id, or `ACCOUNT/ID`).
    async fn key_for(
        &self,
        wanted: &str,
    ) -> Result<Option<String>, warden_core::investigation::LookupError> {
        match self {
            AnyStore::Local(s) => warden_core::investigation::session_key_for(s, wanted).await,
            AnyStore::Dynamo(s) => warden_core::investigation::session_key_for(s, wanted).await,
        }
    }
}

#[cfg(test)]
mod stack_tests {
    use super::table_of_stack;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_stack_s_table_is_the_one_cloudformation_named_after_it() {
        let tables = names(&[
            "warden-staging-SessionsTable-1A2B3C",
            "warden-SessionsTable-9Z8Y7X",
            "other",
        ]);
        assert_eq!(
            table_of_stack("warden", &tables).unwrap(),
            "warden-SessionsTable-9Z8Y7X"
        );
    }

    #[test]
    fn no_table_of_the_stack_says_where_it_looked() {
        let err = table_of_stack("warden", &names(&["other"])).unwrap_err();
        assert!(err.contains("warden-SessionsTable-"), "{err}");
    }

    #[test]
    fn two_candidates_are_named_and_refused() {
        let tables = names(&["w-SessionsTable-A", "w-SessionsTable-B"]);
        let err = table_of_stack("w", &tables).unwrap_err();
        assert!(
            err.contains("w-SessionsTable-A") && err.contains("w-SessionsTable-B"),
            "{err}"
        );
    }
}
