//! A moto server on loopback, started by `scripts/test`, stands in for AWS: these helpers find
//! it and create the table, topic and queue the tests need.
#![allow(dead_code)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ENDPOINT_VAR: &str = "WARDEN_TEST_AWS_ENDPOINT";

/// The Python that has moto, boto3 and cfn-lint: `WARDEN_TEST_PYTHON` (scripts/test points it at
/// the virtual environment it installs them in), else `python3` from PATH.
pub fn python() -> String {
    std::env::var("WARDEN_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// The moto endpoint, or `None` to skip. Under CI a missing server is a failure, not a skip.
pub fn endpoint() -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => {
            set_fake_credentials();
            Some(url)
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "{ENDPOINT_VAR} is not set: run the tests through scripts/test, which starts moto server"
            )
        }
        _ => {
            eprintln!(
                "skipping: {ENDPOINT_VAR} not set (scripts/test starts moto server and sets it)"
            );
            None
        }
    }
}

/// Static test credentials in the environment, for clients that must sign before they send.
pub fn set_fake_credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: runs once, before this process builds any client that reads these variables.
    ONCE.call_once(|| unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "eu-west-1");
    });
}

/// The functions' SDK configuration (their default trust roots), pointed at `endpoint`.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    warden_core::aws::sdk_config(Some(endpoint), warden_core::aws::TrustRoots::Amazon).await
}

/// A name no other test in this run uses, so tests share one server safely.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!(
        "{prefix}-{}-{n}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond() % 1_000_000
    )
}

/// The table as `template.yaml` declares it.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("active_shard"))
        .attribute_definitions(attr("active_since"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("active-sessions")
                .key_schema(key("active_shard", KeyType::Hash))
                .key_schema(key("active_since", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table on moto");
}

/// An SNS topic with an SQS queue subscribed (raw delivery off, so attributes arrive in the
/// SNS JSON envelope). Returns (topic ARN, queue URL).
pub async fn create_topic_with_queue(
    config: &aws_config::SdkConfig,
    name: &str,
) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let topic = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    (topic, queue_url)
}

/// Every message waiting in the queue, as the SNS envelopes SQS received.
pub async fn drain_queue(
    config: &aws_config::SdkConfig,
    queue_url: &str,
) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut messages = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return messages;
        }
        for m in batch {
            messages.push(serde_json::from_str(m.body.as_deref().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}
