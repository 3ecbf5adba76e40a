//! `warden sessions list|show`: read the table, or a replay state file.

use crate::output::{session_detail, session_detail_json, session_json, session_table};
use crate::{Format, SourceArgs};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use warden_core::alert::session_links;
use warden_core::aws::{DynamoStore, dynamodb_sdk, sdk_config};
use warden_core::config::DEFAULT_RETENTION_DAYS;
use warden_core::glob::Glob;
use warden_core::investigation::{SessionQuery, parse_since, timeline};
use warden_core::local::MemoryStore;
use warden_core::ports::{SessionFilter, SessionStore};
use warden_core::session::SessionRecord;

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
        let session = store.load(session_id).await?;
        let findings = store.findings(session_id).await?;
        let alerts = store.alerts(session_id).await?;
        Ok((session, findings, alerts))
    })
    .await?;
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

fn table_name(source: &SourceArgs) -> Result<&str, String> {
    source.aws.table.as_deref().ok_or_else(|| {
        "say where sessions are: --state FILE (from `warden replay --state`) or --table NAME \
         (the stack's SessionsTableName output, or WARDEN_TABLE)"
            .to_string()
    })
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
        let table = table_name(source)?;
        let sdk = sdk_config(source.aws.endpoint_url.as_deref()).await;
        AnyStore::Dynamo(DynamoStore::new(
            dynamodb_sdk::Client::new(&sdk),
            table,
            DEFAULT_RETENTION_DAYS,
        ))
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
}
