//! The session store on one DynamoDB table (see `template.yaml`):
//! session items `pk=SESSION#<key>, sk=META` (the key is the session id, or `<account>/<id>` for
//! a member account's session: `crate::session::session_key`), alert marks `sk=ALERT#<kind>` under the same
//! session (`claimed_until` in epoch milliseconds and the delivery's `holder` token while it
//! publishes, `sent_at` once sent), and a sparse `active-sessions` index on `active_shard` /
//! `active_since`.

use super::attribute_json::{from_item, to_item};
use super::{Failure, classify, refusal};
use crate::alert::AlertKey;
use crate::finding::FindingRecord;
use crate::ports::{
    AlertClaim, AlertMark, AlertState, SessionFilter, SessionStore, StoreError, Versioned,
};
use crate::session::SessionRecord;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use std::collections::HashMap;

pub const ACTIVE_INDEX: &str = "active-sessions";
/// The active index's partition keys. An organization's open sessions would all sit on one
/// index partition under a single key (about 1,000 writes a second at most, and one hot key
/// for every reaper read), so an open session goes to one of these shards by its key.
pub const ACTIVE_SHARDS: u32 = 16;
/// The single shard written before the index was sharded: still read, so sessions opened
/// before an upgrade are not lost from the reaper's view until their next write moves them.
const LEGACY_ACTIVE_SHARD: &str = "ACTIVE";
const META: &str = "META";

/// The shard of the active index an open session is written to: a stable hash of its key
/// (FNV-1a), so every write of one session lands on the same shard.
pub fn active_shard(session_key: &str) -> String {
    let hash = session_key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("ACTIVE#{:02}", hash % u64::from(ACTIVE_SHARDS))
}

/// Where a listing reads session items from.
#[derive(Clone, Copy)]
enum Listing<'a> {
    /// One shard of the active index, in the filter's order.
    ActiveShard(&'a str),
    /// Every session item: a scan, for people rather than the functions.
    All,
}

/// Every partition key of the active index, the legacy one first.
fn active_shards() -> impl Iterator<Item = String> {
    std::iter::once(LEGACY_ACTIVE_SHARD.to_string())
        .chain((0..ACTIVE_SHARDS).map(|n| format!("ACTIVE#{n:02}")))
}

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention_days: u32,
}

fn session_pk(session_id: &str) -> AttributeValue {
    AttributeValue::S(format!("SESSION#{session_id}"))
}

fn alert_sk(key: &AlertKey) -> AttributeValue {
    AttributeValue::S(format!("ALERT#{}", key.kind))
}

fn millis(at: Timestamp) -> AttributeValue {
    AttributeValue::N(at.as_millisecond().to_string())
}

fn store_error<E, R>(
    err: &aws_sdk_dynamodb::error::SdkError<E, R>,
    session_id: &str,
    table: &str,
) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match classify(err) {
        Failure::Transient(text) => StoreError::Unavailable(text),
        Failure::Service { code, .. } if code == "ConditionalCheckFailedException" => {
            StoreError::Conflict(session_id.to_string())
        }
        Failure::Service { code, message } => StoreError::Rejected(refusal(
            &code,
            &message,
            &format!("DynamoDB table `{table}`"),
        )),
    }
}

impl DynamoStore {
    /// The sessions `listing` reads, page by page, up to the filter's limit.
    async fn sessions_in(
        &self,
        listing: Listing<'_>,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = Vec::new();
        let mut start_key = None;
        loop {
            let (items, last_key) = match listing {
                Listing::ActiveShard(shard) => {
                    let output = self
                        .client
                        .query()
                        .table_name(&self.table)
                        .index_name(ACTIVE_INDEX)
                        .key_condition_expression("active_shard = :shard")
                        .expression_attribute_values(":shard", AttributeValue::S(shard.into()))
                        .scan_index_forward(filter.oldest_first)
                        .set_exclusive_start_key(start_key.take())
                        .send()
                        .await
                        .map_err(|e| store_error(&e, "(index)", &self.table))?;
                    (output.items, output.last_evaluated_key)
                }
                Listing::All => {
                    let output = self
                        .client
                        .scan()
                        .table_name(&self.table)
                        .filter_expression("sk = :meta")
                        .expression_attribute_values(":meta", AttributeValue::S(META.into()))
                        .set_exclusive_start_key(start_key.take())
                        .send()
                        .await
                        .map_err(|e| store_error(&e, "(scan)", &self.table))?;
                    (output.items, output.last_evaluated_key)
                }
            };
            for item in &items.unwrap_or_default() {
                // One unreadable item must not hide every other session from a listing.
                match self.decode(item) {
                    Ok(stored) => sessions.push(stored.value),
                    Err(error) => tracing::warn!(%error, "skipped an unreadable session item"),
                }
            }
            match last_key {
                Some(key) if sessions.len() < filter.limit => start_key = Some(key),
                _ => return Ok(sessions),
            }
        }
    }

    /// Every item of a session whose sort key starts with `prefix`, page by page.
    async fn session_items(
        &self,
        session_id: &str,
        prefix: &str,
        consistent: bool,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", session_pk(session_id))
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
                .consistent_read(consistent)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| store_error(&e, session_id, &self.table))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(items),
            }
        }
    }

    pub fn new(client: Client, table: impl Into<String>, retention_days: u32) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            retention_days,
        }
    }

    /// When an item written with reference to `at` leaves the table (DynamoDB TTL).
    fn expires_at(&self, at: Timestamp) -> AttributeValue {
        let expires = at.as_second() + i64::from(self.retention_days) * 86_400;
        AttributeValue::N(expires.to_string())
    }

    /// A put of the alert item for `key`, kept for the retention period from `at`; the caller
    /// adds the claim or sent attribute.
    fn alert_put(
        &self,
        key: &AlertKey,
        at: Timestamp,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", session_pk(&key.session_id))
            .item("sk", alert_sk(key))
            .item("expires_at", self.expires_at(at))
    }

    /// Sends a conditional put of an alert item whose failed condition means there is nothing
    /// to do (the alert is already marked sent, or the claim is not this holder's). Alert items
    /// are only ever put, never updated or deleted, so the functions need no other write
    /// permission on the table.
    async fn put_if(
        &self,
        put: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
        key: &AlertKey,
    ) -> Result<(), StoreError> {
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) => match store_error(&e, &key.session_id, &self.table) {
                StoreError::Conflict(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Why a claim was refused: the alert was sent, or another delivery holds it. A claim held
    /// by `holder` itself (a put that succeeded but whose reply was lost, then retried) is
    /// granted.
    async fn held_alert(&self, key: &AlertKey, holder: &str) -> Result<AlertClaim, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", session_pk(&key.session_id))
            .key("sk", alert_sk(key))
            .consistent_read(true)
            .projection_expression("sent_at, holder")
            .send()
            .await
            .map_err(|e| store_error(&e, &key.session_id, &self.table))?;
        let item = output.item.unwrap_or_default();
        let ours = matches!(item.get("holder"), Some(AttributeValue::S(h)) if h == holder);
        Ok(if item.contains_key("sent_at") {
            AlertClaim::AlreadySent
        } else if ours {
            AlertClaim::Claimed
        } else {
            AlertClaim::InFlight
        })
    }

    fn decode(
        &self,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Versioned<SessionRecord>, StoreError> {
        let key = match item.get("pk") {
            Some(AttributeValue::S(pk)) => pk.clone(),
            _ => "(no pk)".to_string(),
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            key: key.clone(),
            reason,
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n
                .parse::<u64>()
                .map_err(|e| corrupt(format!("version: {e}")))?,
            _ => return Err(corrupt("no version attribute".to_string())),
        };
        let value = from_item(item).map_err(corrupt)?;
        let record: SessionRecord =
            serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        Ok(Versioned {
            value: record,
            version,
        })
    }
}

/// An alert item read back: sent (`sent_at`), claimed (`claimed_until` in the future or past),
/// or released (`claimed_until` at the epoch).
fn alert_mark(
    session_id: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<AlertMark, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: format!("SESSION#{session_id} ALERT"),
        reason,
    };
    let kind = match item.get("sk") {
        Some(AttributeValue::S(sk)) => sk.strip_prefix("ALERT#").unwrap_or(sk).to_string(),
        _ => return Err(corrupt("no sort key".to_string())),
    };
    let state = match (item.get("sent_at"), item.get("claimed_until")) {
        (Some(AttributeValue::S(at)), _) => AlertState::Sent {
            at: at
                .parse()
                .map_err(|e| corrupt(format!("{kind}: sent_at {at:?}: {e}")))?,
        },
        (None, Some(AttributeValue::N(millis))) => {
            let until = millis
                .parse::<i64>()
                .ok()
                .and_then(|m| Timestamp::from_millisecond(m).ok())
                .ok_or_else(|| corrupt(format!("{kind}: claimed_until {millis:?}")))?;
            if until == Timestamp::UNIX_EPOCH {
                AlertState::Released
            } else {
                AlertState::Claimed { until }
            }
        }
        _ => {
            return Err(corrupt(format!(
                "{kind}: neither sent_at nor claimed_until"
            )));
        }
    };
    Ok(AlertMark { kind, state })
}

impl SessionStore for DynamoStore {
    async fn load(&self, session_id: &str) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", session_pk(session_id))
            .key("sk", AttributeValue::S(META.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&e, session_id, &self.table))?;
        output
            .item
            .as_ref()
            .map(|item| self.decode(item))
            .transpose()
    }

    async fn save(&self, record: &SessionRecord, expected: Option<u64>) -> Result<u64, StoreError> {
        let id = &record.key();
        let json = serde_json::to_value(record).map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut item = to_item(json.as_object().expect("a record serialises to an object"));
        let version = expected.unwrap_or(0) + 1;
        item.insert("pk".into(), session_pk(id));
        item.insert("sk".into(), AttributeValue::S(META.into()));
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        if let Some(expires) = record.expires_at(self.retention_days) {
            item.insert("expires_at".into(), AttributeValue::N(expires.to_string()));
        }
        if record.is_active() {
            let since = record
                .started_at
                .or(record.last_resumed_at)
                .or(record.last_event_at);
            if let Some(since) = since {
                item.insert("active_shard".into(), AttributeValue::S(active_shard(id)));
                item.insert("active_since".into(), AttributeValue::S(since.to_string()));
            }
        }
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = match expected {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(v) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        request
            .send()
            .await
            .map_err(|e| store_error(&e, id, &self.table))?;
        Ok(version)
    }

    async fn claim_alert(
        &self,
        key: &AlertKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<AlertClaim, StoreError> {
        let result = self
            .alert_put(key, until)
            .item("claimed_until", millis(until))
            .item("holder", AttributeValue::S(holder.to_string()))
            .condition_expression(
                "attribute_not_exists(pk) OR \
                 (attribute_not_exists(sent_at) AND (claimed_until < :now OR holder = :holder))",
            )
            .expression_attribute_values(":now", millis(now))
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(AlertClaim::Claimed),
            Err(e) => match store_error(&e, &key.session_id, &self.table) {
                StoreError::Conflict(_) => self.held_alert(key, holder).await,
                other => Err(other),
            },
        }
    }

    async fn mark_alert_sent(&self, key: &AlertKey, at: Timestamp) -> Result<(), StoreError> {
        // The first mark stands.
        let mark = self
            .alert_put(key, at)
            .item("sent_at", AttributeValue::S(at.to_string()))
            .condition_expression("attribute_not_exists(sent_at)");
        self.put_if(mark, key).await
    }

    async fn release_alert(&self, key: &AlertKey, holder: &str) -> Result<(), StoreError> {
        // A claim that lapsed at the epoch: the next delivery takes it at once. Only the
        // holder's own claim is released, and never a sent mark.
        let released = self
            .alert_put(key, Timestamp::now())
            .item("claimed_until", millis(Timestamp::UNIX_EPOCH))
            .condition_expression("attribute_not_exists(sent_at) AND holder = :holder")
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_string()));
        self.put_if(released, key).await
    }

    async fn alerts(&self, session_id: &str) -> Result<Vec<AlertMark>, StoreError> {
        let items = self.session_items(session_id, "ALERT#", true).await?;
        items
            .iter()
            .map(|item| alert_mark(session_id, item))
            .collect()
    }

    async fn list(&self, filter: SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = if filter.active_only {
            // Each shard is read in the filter's order up to the limit: the first `limit` of
            // all of them together are among those.
            let mut sessions = Vec::new();
            for shard in active_shards() {
                sessions.extend(
                    self.sessions_in(Listing::ActiveShard(&shard), &filter)
                        .await?,
                );
            }
            sessions
        } else {
            self.sessions_in(Listing::All, &filter).await?
        };
        filter.sort(&mut sessions);
        sessions.truncate(filter.limit);
        Ok(sessions)
    }

    async fn record_finding(&self, finding: &FindingRecord) -> Result<bool, StoreError> {
        let id = &finding.session_id;
        let json =
            serde_json::to_value(finding).map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut item = to_item(json.as_object().expect("a finding serialises to an object"));
        item.insert("pk".into(), session_pk(id));
        item.insert(
            "sk".into(),
            AttributeValue::S(format!("FINDING#{}", finding.key())),
        );
        item.insert("expires_at".into(), self.expires_at(finding.found_at));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match store_error(&e, id, &self.table) {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn findings(&self, session_id: &str) -> Result<Vec<FindingRecord>, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: format!("SESSION#{session_id} FINDING"),
            reason,
        };
        let items = self.session_items(session_id, "FINDING#", false).await?;
        items
            .iter()
            .map(|item| {
                let value = from_item(item).map_err(corrupt)?;
                serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
            })
            .collect()
    }
}
