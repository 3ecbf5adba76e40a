//! `warden sessions list|show`: read the table, or a replay state file.

use crate::output::{session_detail, session_json, session_table};
use crate::{Format, SourceArgs};
use std::process::ExitCode;
use warden_core::aws::{DynamoStore, dynamodb_sdk, sdk_config};
use warden_core::config::DEFAULT_RETENTION_DAYS;
use warden_core::local::MemoryStore;
use warden_core::ports::{SessionFilter, SessionStore};
use warden_core::session::SessionRecord;

pub async fn list(
    source: &SourceArgs,
    active: bool,
    limit: usize,
    format: Format,
) -> Result<ExitCode, String> {
    let filter = SessionFilter {
        active_only: active,
        limit,
        oldest_first: false,
    };
    let sessions = with_store(source, |store| async move { store.list(filter).await }).await?;
    match format {
        Format::Json => sessions
            .iter()
            .for_each(|s| println!("{}", session_json(s))),
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
    match format {
        Format::Json => {
            let mut value =
                serde_json::to_value(&stored.value).expect("a session record serialises");
            value["findings"] = serde_json::to_value(&findings).expect("findings serialise");
            value["alerts"] = serde_json::to_value(&alerts).expect("alert marks serialise");
            println!("{value}");
        }
        Format::Human => println!("{}", session_detail(&stored.value, &findings, &alerts)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `read` against the store the arguments name.
async fn with_store<R, F, Fut>(source: &SourceArgs, read: F) -> Result<R, String>
where
    F: FnOnce(AnyStore) -> Fut,
    Fut: std::future::Future<Output = Result<R, warden_core::ports::StoreError>>,
{
    let store = if let Some(path) = &source.state {
        // `replay --state` starts a missing file empty; here a missing file is a mistake (a
        // typo, the wrong folder), not a table without sessions.
        if !path.exists() {
            return Err(format!(
                "{}: no such state file (`warden replay --state FILE` writes one)",
                path.display()
            ));
        }
        AnyStore::Local(MemoryStore::open(path).map_err(|e| e.to_string())?)
    } else if let Some(table) = &source.aws.table {
        let sdk = sdk_config(source.aws.endpoint_url.as_deref()).await;
        AnyStore::Dynamo(DynamoStore::new(
            dynamodb_sdk::Client::new(&sdk),
            table,
            DEFAULT_RETENTION_DAYS,
        ))
    } else {
        return Err(
            "say where sessions are: --state FILE (from `warden replay --state`) or --table NAME"
                .into(),
        );
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
