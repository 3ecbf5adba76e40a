//! The DynamoDB store and SNS notifier against a real AWS API (moto server on loopback).

#[path = "support/moto.rs"]
mod moto;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use warden_core::alert::AlertKey;
use warden_core::aws::dynamodb::{ACTIVE_SHARDS, active_shard};
use warden_core::aws::{DynamoStore, SnsNotifier};
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::local::DryRunTerminator;
use warden_core::ports::{
    AlertClaim, AlertMark, AlertState, SessionFilter, SessionStore, StoreError,
};
use warden_core::session::{SessionRecord, SessionState};

fn event(file: &str) -> Value {
    let path = format!("{}/events/1-cloudtrail/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn store(endpoint: &str) -> (DynamoStore, aws_sdk_dynamodb::Client, String) {
    let config = moto::sdk_config(endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = moto::unique("sessions");
    moto::create_table(&client, &table).await;
    (DynamoStore::new(client.clone(), &table, 30), client, table)
}

type AwsRecorder = Recorder<DynamoStore, SnsNotifier, DryRunTerminator>;

/// The recorder on the AWS adapters with default configuration, and the queue its topic feeds.
async fn aws_recorder(endpoint: &str) -> (AwsRecorder, aws_config::SdkConfig, String) {
    recorder_with(endpoint, &[]).await
}

/// The recorder on the AWS adapters with `settings` as its environment.
async fn recorder_with(
    endpoint: &str,
    settings: &[(&str, &str)],
) -> (AwsRecorder, aws_config::SdkConfig, String) {
    let config = moto::sdk_config(endpoint).await;
    let (store, _, _) = store(endpoint).await;
    let (topic, queue) = moto::create_topic_with_queue(&config, &moto::unique("alerts")).await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic);
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let warden = WardenConfig::from_lookup(|name| {
        settings
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let recorder = Recorder::new(store, notifier, DryRunTerminator::new(), warden);
    (recorder, config, queue)
}

/// The alerts a subscriber received for a root start, published in `format`.
async fn root_alerts_in(endpoint: &str, format: &str) -> Vec<Value> {
    let (recorder, config, queue) =
        recorder_with(endpoint, &[("WARDEN_ALERT_FORMAT", format)]).await;
    recorder.handle(&event("08-start-root.json")).await.unwrap();
    let messages = moto::drain_queue(&config, &queue).await;
    assert!(!messages.is_empty(), "no alert published in {format}");
    for m in &messages {
        let attributes = &m["MessageAttributes"];
        for name in [
            "severity",
            "kind",
            "action",
            "account",
            "session_id",
            "alert_id",
        ] {
            assert!(
                attributes[name]["Value"].is_string(),
                "{format}: attribute {name} missing in {m}"
            );
        }
        assert_eq!(attributes["account"]["Value"], "111122223333");
    }
    messages
}

#[tokio::test]
async fn text_alerts_arrive_as_a_summary_the_fields_and_links() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    for m in root_alerts_in(&endpoint, "text").await {
        let body = m["Message"].as_str().unwrap();
        assert!(body.starts_with("[CRITICAL] "), "{body}");
        assert!(
            body.contains("Who:") && body.contains("CloudTrail:   https://"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn json_alerts_arrive_as_schema_version_1_with_their_attributes() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    for m in root_alerts_in(&endpoint, "json").await {
        let alert: Value = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
        assert_eq!(alert["schema_version"], 1);
        assert_eq!(
            alert["severity"],
            m["MessageAttributes"]["severity"]["Value"]
        );
        assert_eq!(alert["kind"], m["MessageAttributes"]["kind"]["Value"]);
        assert_eq!(
            alert["alert_id"],
            m["MessageAttributes"]["alert_id"]["Value"]
        );
        assert_eq!(alert["session"]["account"], "111122223333");
        assert!(
            alert["links"]["cloudtrail_event"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
    }
}

#[tokio::test]
async fn chat_alerts_arrive_as_custom_notifications() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    for m in root_alerts_in(&endpoint, "chat").await {
        let alert: Value = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
        assert_eq!(alert["version"], "1.0");
        assert_eq!(alert["source"], "custom");
        assert_eq!(alert["content"]["textType"], "client-markdown");
        assert!(
            alert["content"]["title"]
                .as_str()
                .unwrap()
                .contains("[CRITICAL]")
        );
        assert_eq!(
            alert["metadata"]["threadId"],
            m["MessageAttributes"]["session_id"]["Value"]
        );
    }
}

#[tokio::test]
async fn dynamo_store_round_trips_a_record_with_versions() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    let mut record = SessionRecord::new("alice-0123456789abcdef0");
    record.target = Some("i-0a1b2c3d4e5f60718".into());
    record.started_at = Some("2026-11-23T09:14:37Z".parse().unwrap());
    assert_eq!(store.save(&record, None).await, Ok(1));
    let loaded = store.load(&record.session_id).await.unwrap().unwrap();
    assert_eq!((loaded.value, loaded.version), (record.clone(), 1));
    assert_eq!(store.load("nobody-0").await, Ok(None));
}

#[tokio::test]
async fn dynamo_store_rejects_a_stale_write_as_a_conflict() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    let record = SessionRecord::new("bob-0123456789abcdef0");
    store.save(&record, None).await.unwrap();
    assert_eq!(
        store.save(&record, None).await,
        Err(StoreError::Conflict(record.session_id.clone()))
    );
    assert_eq!(store.save(&record, Some(1)).await, Ok(2));
    assert_eq!(
        store.save(&record, Some(1)).await,
        Err(StoreError::Conflict(record.session_id.clone()))
    );
}

#[tokio::test]
async fn an_alert_claim_admits_one_delivery_until_it_lapses_or_is_released() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    let key = AlertKey {
        session_id: "carol-1".into(),
        kind: "off_hours".into(),
    };
    let at = |second: i64| jiff::Timestamp::from_second(1_795_000_000 + second).unwrap();
    assert_eq!(
        store.claim_alert(&key, "first", at(0), at(30)).await,
        Ok(AlertClaim::Claimed)
    );
    assert_eq!(
        store.claim_alert(&key, "second", at(5), at(35)).await,
        Ok(AlertClaim::InFlight)
    );
    store.release_alert(&key, "first").await.unwrap();
    assert_eq!(
        store.claim_alert(&key, "second", at(6), at(36)).await,
        Ok(AlertClaim::Claimed)
    );
    assert_eq!(
        store.claim_alert(&key, "third", at(37), at(67)).await,
        Ok(AlertClaim::Claimed)
    );
}

/// Sent, claimed and released alerts read back the same from either store, with other
/// sessions' alerts left out.
async fn alert_marks_read_back<S: SessionStore>(store: &S) {
    let key = |session: &str, kind: &str| AlertKey {
        session_id: session.into(),
        kind: kind.into(),
    };
    let at = |second: i64| jiff::Timestamp::from_second(1_795_000_000 + second).unwrap();
    for kind in ["no_mfa", "off_hours", "finding:1#rule.a"] {
        let claim = store
            .claim_alert(&key("erin-1", kind), "d1", at(0), at(30))
            .await;
        assert_eq!(claim, Ok(AlertClaim::Claimed));
    }
    store
        .mark_alert_sent(&key("erin-1", "no_mfa"), at(2))
        .await
        .unwrap();
    store
        .release_alert(&key("erin-1", "finding:1#rule.a"), "d1")
        .await
        .unwrap();
    store
        .claim_alert(&key("erin-10", "root_user"), "d2", at(0), at(30))
        .await
        .unwrap();
    let marks = store.alerts("erin-1").await.unwrap();
    assert_eq!(
        marks,
        [
            AlertMark {
                kind: "finding:1#rule.a".into(),
                state: AlertState::Released
            },
            AlertMark {
                kind: "no_mfa".into(),
                state: AlertState::Sent { at: at(2) }
            },
            AlertMark {
                kind: "off_hours".into(),
                state: AlertState::Claimed { until: at(30) }
            },
        ]
    );
    assert_eq!(store.alerts("nobody-1").await, Ok(vec![]));
    // A released claim is free for the next delivery at once.
    assert_eq!(
        store
            .claim_alert(&key("erin-1", "finding:1#rule.a"), "d3", at(3), at(33))
            .await,
        Ok(AlertClaim::Claimed)
    );
}

#[tokio::test]
async fn dynamo_store_reads_back_whether_each_alert_went_out() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    alert_marks_read_back(&store).await;
}

#[tokio::test]
async fn memory_store_reads_back_alerts_as_the_dynamo_store_does() {
    alert_marks_read_back(&warden_core::local::MemoryStore::new()).await;
}

#[tokio::test]
async fn a_claim_whose_reply_was_lost_is_granted_to_its_holder_and_only_to_it() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    let key = AlertKey {
        session_id: "carol-3".into(),
        kind: "root_user".into(),
    };
    let at = |second: i64| jiff::Timestamp::from_second(1_795_000_000 + second).unwrap();
    store
        .claim_alert(&key, "first", at(0), at(30))
        .await
        .unwrap();
    // The SDK retries the put: the item already holds this delivery's claim.
    assert_eq!(
        store.claim_alert(&key, "first", at(1), at(31)).await,
        Ok(AlertClaim::Claimed)
    );
    assert_eq!(
        store.claim_alert(&key, "second", at(2), at(32)).await,
        Ok(AlertClaim::InFlight)
    );
    store.release_alert(&key, "second").await.unwrap();
    assert_eq!(
        store.claim_alert(&key, "second", at(3), at(33)).await,
        Ok(AlertClaim::InFlight),
        "another delivery released a claim it did not hold"
    );
}

#[tokio::test]
async fn a_sent_alert_stays_sent_whatever_later_deliveries_do() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    let key = AlertKey {
        session_id: "carol-2".into(),
        kind: "off_hours".into(),
    };
    let now = jiff::Timestamp::now();
    assert_eq!(
        store.claim_alert(&key, "first", now, now).await,
        Ok(AlertClaim::Claimed)
    );
    store.mark_alert_sent(&key, now).await.unwrap();
    store.mark_alert_sent(&key, now).await.unwrap();
    store.release_alert(&key, "first").await.unwrap();
    let later = now + jiff::SignedDuration::from_hours(1);
    assert_eq!(
        store.claim_alert(&key, "second", later, later).await,
        Ok(AlertClaim::AlreadySent)
    );
}

#[tokio::test]
async fn only_active_sessions_appear_in_the_active_index() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, client, table) = store(&endpoint).await;
    let mut active = SessionRecord::new("dana-1");
    active.started_at = Some("2026-11-24T10:00:00Z".parse().unwrap());
    let mut ended = SessionRecord::new("erin-1");
    ended.started_at = Some("2026-11-24T11:00:00Z".parse().unwrap());
    ended.state = SessionState::Terminated;
    store.save(&active, None).await.unwrap();
    store.save(&ended, None).await.unwrap();
    let listed = store
        .list(SessionFilter {
            active_only: true,
            limit: 10,
            oldest_first: false,
        })
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| s.session_id.as_str())
            .collect::<Vec<_>>(),
        ["dana-1"]
    );
    let all = store
        .list(SessionFilter {
            active_only: false,
            limit: 10,
            oldest_first: false,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    // The item is readable in the console: plain attributes, keys and expiry beside them.
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("SESSION#dana-1".into()))
        .key("sk", AttributeValue::S("META".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["state"], AttributeValue::S("active".into()));
    assert_eq!(
        item["active_shard"],
        AttributeValue::S(active_shard("dana-1"))
    );
    assert!(item.contains_key("expires_at"));
}

/// An organization's worth of open sessions: spread over every shard of the active index, and
/// listed whole, oldest first, with the limit keeping the oldest across shards.
#[tokio::test]
async fn thousands_of_open_sessions_are_spread_over_the_index_shards_and_listed_whole() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, client, table) = store(&endpoint).await;
    const SESSIONS: usize = 2_000;
    let start: jiff::Timestamp = "2026-11-24T00:00:00Z".parse().unwrap();
    for n in 0..SESSIONS {
        let mut record = SessionRecord::new(format!("user{n}-{n:017x}"));
        record.started_at = Some(start + jiff::SignedDuration::from_secs(n as i64 * 60));
        store.save(&record, None).await.unwrap();
    }
    // Every shard holds some, none holds most.
    let mut per_shard = Vec::new();
    for shard in 0..ACTIVE_SHARDS {
        let mut count = 0;
        let mut start_key = None;
        loop {
            let page = client
                .query()
                .table_name(&table)
                .index_name("active-sessions")
                .key_condition_expression("active_shard = :shard")
                .expression_attribute_values(
                    ":shard",
                    AttributeValue::S(format!("ACTIVE#{shard:02}")),
                )
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .unwrap();
            count += page.count as usize;
            match page.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => break,
            }
        }
        per_shard.push(count);
    }
    assert_eq!(per_shard.iter().sum::<usize>(), SESSIONS);
    let fair = SESSIONS / ACTIVE_SHARDS as usize;
    assert!(
        per_shard.iter().all(|&n| n > fair / 2 && n < fair * 2),
        "{per_shard:?}"
    );
    let all = store
        .list(SessionFilter {
            active_only: true,
            limit: SESSIONS + 10,
            oldest_first: true,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), SESSIONS);
    let oldest = store
        .list(SessionFilter {
            active_only: true,
            limit: 500,
            oldest_first: true,
        })
        .await
        .unwrap();
    let expected: Vec<String> = (0..500).map(|n| format!("user{n}-{n:017x}")).collect();
    assert_eq!(
        oldest.into_iter().map(|s| s.session_id).collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn a_session_written_before_the_index_was_sharded_is_still_listed() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, client, table) = store(&endpoint).await;
    let mut record = SessionRecord::new("olga-0123456789abcdef0");
    record.started_at = Some("2026-11-24T08:00:00Z".parse().unwrap());
    store.save(&record, None).await.unwrap();
    // As the single-shard version wrote it.
    client
        .update_item()
        .table_name(&table)
        .key(
            "pk",
            AttributeValue::S("SESSION#olga-0123456789abcdef0".into()),
        )
        .key("sk", AttributeValue::S("META".into()))
        .update_expression("SET active_shard = :legacy")
        .expression_attribute_values(":legacy", AttributeValue::S("ACTIVE".into()))
        .send()
        .await
        .unwrap();
    let listed = store
        .list(SessionFilter {
            active_only: true,
            limit: 10,
            oldest_first: true,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].session_id, "olga-0123456789abcdef0");
}

#[tokio::test]
async fn the_active_index_lists_in_either_order_and_the_limit_keeps_the_first() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, _, _) = store(&endpoint).await;
    for (id, start) in [
        ("old-1", "2026-11-24T08:00:00Z"),
        ("mid-1", "2026-11-24T09:00:00Z"),
        ("new-1", "2026-11-24T10:00:00Z"),
    ] {
        let mut record = SessionRecord::new(id);
        record.started_at = Some(start.parse().unwrap());
        store.save(&record, None).await.unwrap();
    }
    let ids = |sessions: Vec<SessionRecord>| {
        sessions
            .into_iter()
            .map(|s| s.session_id)
            .collect::<Vec<_>>()
    };
    let oldest = store
        .list(SessionFilter {
            active_only: true,
            limit: 2,
            oldest_first: true,
        })
        .await
        .unwrap();
    assert_eq!(ids(oldest), ["old-1", "mid-1"]);
    let newest = store
        .list(SessionFilter {
            active_only: true,
            limit: 2,
            oldest_first: false,
        })
        .await
        .unwrap();
    assert_eq!(ids(newest), ["new-1", "mid-1"]);
}

#[tokio::test]
async fn an_unreadable_item_is_reported_with_its_key() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (store, client, table) = store(&endpoint).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("SESSION#broken-1".into()))
        .item("sk", AttributeValue::S("META".into()))
        .item("version", AttributeValue::N("1".into()))
        .item("state", AttributeValue::S("exploded".into()))
        .send()
        .await
        .unwrap();
    let err = store.load("broken-1").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { key, .. } if key == "SESSION#broken-1"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_table_is_a_rejection_not_a_retry() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let config = moto::sdk_config(&endpoint).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "no-such-table", 30);
    let Err(StoreError::Rejected(message)) = store.load("x").await else {
        panic!("a missing table is a rejection");
    };
    assert!(message.contains("ResourceNotFound"), "{message}");
    // It says which table and what to check.
    assert!(
        message.contains("table `no-such-table` does not exist in this account and region"),
        "{message}"
    );
}

#[tokio::test]
async fn sns_alerts_arrive_with_subject_body_and_filter_attributes() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (recorder, config, queue) = aws_recorder(&endpoint).await;
    recorder
        .handle(&event("13-start-scheduled-automation.json"))
        .await
        .unwrap();
    recorder
        .handle(&event("13-start-scheduled-automation.json"))
        .await
        .unwrap();
    let messages = moto::drain_queue(&config, &queue).await;
    assert_eq!(
        messages.len(),
        2,
        "one per flag, none for the redelivery: {messages:?}"
    );
    let mut kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["MessageAttributes"]["kind"]["Value"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["no_mfa", "off_hours"]);
    for m in &messages {
        assert_eq!(
            m["MessageAttributes"]["session_id"]["Value"],
            "nightly-patching-1668559b165d29e96"
        );
        assert!(m["Subject"].as_str().unwrap().contains("nightly-patching"));
        assert!(
            m["Message"]
                .as_str()
                .unwrap()
                .contains("arn:aws:sts::111122223333:assumed-role/Batch/nightly-patching")
        );
    }
    let severities: Vec<&str> = messages
        .iter()
        .map(|m| {
            m["MessageAttributes"]["severity"]["Value"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(severities.contains(&"high") && severities.contains(&"medium"));
}

#[tokio::test]
async fn the_recorder_on_aws_adapters_matches_the_in_process_replay() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let (recorder, _, _) = aws_recorder(&endpoint).await;
    let local = Recorder::new(
        warden_core::local::MemoryStore::new(),
        warden_core::local::CollectingNotifier::new(),
        DryRunTerminator::new(),
        WardenConfig::from_lookup(|_| None).unwrap(),
    );
    for file in [
        "14-terminate-before-start.json",
        "15-start-after-terminate.json",
        "14-terminate-before-start.json",
    ] {
        recorder.handle(&event(file)).await.unwrap();
        local.handle(&event(file)).await.unwrap();
    }
    let id = "ivan-e83a5cd9061e6da8e";
    let remote = recorder.store().load(id).await.unwrap().unwrap().value;
    let in_process = local.store().load(id).await.unwrap().unwrap().value;
    assert_eq!(remote, in_process);
    assert_eq!(remote.state, SessionState::Terminated);
}
