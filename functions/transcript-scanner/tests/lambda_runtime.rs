//! The real `transcript-scanner` binary as a child process, driven through a loopback Lambda
//! Runtime API; the end-to-end test also needs moto server (`WARDEN_TEST_AWS_ENDPOINT`).

#[path = "../../../tests/support/http_stub.rs"]
mod http_stub;
#[path = "../../../tests/support/lambda_process.rs"]
mod lambda_process;
#[path = "../../../tests/support/moto.rs"]
mod moto;

use aws_sdk_dynamodb::types::AttributeValue;
use http_stub::{LambdaRuntimeApi, Outcome};
use lambda_process::Function;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use warden_core::transcript::payload::{LogEvent, LogsBatch, encode_subscription};

const BINARY: &str = env!("CARGO_BIN_EXE_transcript-scanner");
const FORBIDDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../events/2-transcripts/21-forbidden-reverse-shell-stream.json"
);
const CONTROL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../events/2-transcripts/24-control-message.json"
);
const SESSION_ID: &str = "carol-5e48b7f8b97acc971";

fn gzip_bomb() -> String {
    let batch = LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: "111122223333".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: SESSION_ID.into(),
        subscription_filters: vec![],
        log_events: vec![LogEvent {
            id: "1".into(),
            timestamp: 0,
            message: "A".repeat(4 * 1024 * 1024),
        }],
    };
    encode_subscription(&batch).to_string()
}

#[test]
fn missing_configuration_stops_the_function_at_init() {
    let api = LambdaRuntimeApi::start(Vec::new());
    let mut function = Function::start(
        BINARY,
        &api,
        &[("WARDEN_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:t")],
    );
    let (status, output) = function
        .wait_for_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running:\n{}", function.output()));
    assert!(!status.success());
    assert!(output.contains("WARDEN_TABLE"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn scans_batches_end_to_end_through_the_runtime_api() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let aws = moto::sdk_config(&endpoint).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = moto::unique("scanner");
    moto::create_table(&dynamodb, &table).await;
    let (topic_arn, queue_url) =
        moto::create_topic_with_queue(&aws, &moto::unique("scanner-alerts")).await;
    let forbidden = std::fs::read_to_string(FORBIDDEN).unwrap();
    let control = std::fs::read_to_string(CONTROL).unwrap();
    let api = Arc::new(LambdaRuntimeApi::start(vec![
        forbidden.clone(),
        forbidden,
        control,
        gzip_bomb(),
    ]));
    let function = Function::start(
        BINARY,
        &api,
        &[
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("WARDEN_TABLE", table.as_str()),
            ("WARDEN_TOPIC_ARN", topic_arn.as_str()),
            ("WARDEN_ENFORCE", "false"),
            ("WARDEN_MAX_TRANSCRIPT_BYTES", "1048576"),
        ],
    );
    let waiter = Arc::clone(&api);
    let results =
        tokio::task::spawn_blocking(move || waiter.wait_for_results(4, Duration::from_secs(20)))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\nfunction output:\n{}", function.output()));
    let output = function.output();

    assert_eq!(
        function.response_json(&results[0].outcome),
        json!({"status": "scanned", "session_id": SESSION_ID, "findings": 2, "alerts": 1}),
        "one batch's findings go out in one alert: {output}"
    );
    assert_eq!(
        function.response_json(&results[1].outcome),
        json!({"status": "scanned", "session_id": SESSION_ID, "findings": 2, "alerts": 0}),
        "a redelivery alerts nobody: {output}"
    );
    assert_eq!(
        function.response_json(&results[2].outcome),
        json!({"status": "control_message"})
    );
    match &results[3].outcome {
        Outcome::Error { body, .. } => {
            let error: Value = serde_json::from_str(body).unwrap();
            assert_eq!(error["errorType"], "DecompressionLimit", "{body}");
        }
        other => panic!("expected the gzip bomb to be refused, got {other:?}"),
    }
    assert!(
        output.contains("\"DecodeErrors\""),
        "the refusal is counted as a metric:\n{output}"
    );

    let findings = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :f)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("SESSION#{SESSION_ID}")))
        .expression_attribute_values(":f", AttributeValue::S("FINDING#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut rules: Vec<&str> = findings
        .iter()
        .map(|f| match &f["rule_id"] {
            AttributeValue::S(s) => s.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "credential_access.instance_role_credentials",
            "remote_exec_c2.reverse_shell"
        ]
    );

    let messages = moto::drain_queue(&aws, &queue_url).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let alert = &messages[0];
    assert_eq!(
        alert["MessageAttributes"]["rule_id"]["Value"], "remote_exec_c2.reverse_shell",
        "the alert is keyed on its most severe finding: {alert:#}"
    );
    let body = alert["Message"].as_str().unwrap();
    assert!(
        body.contains("credential_access.instance_role_credentials"),
        "the alert lists every finding of the batch: {body}"
    );
    assert!(
        body.contains("would terminate the session (dry run"),
        "{body}"
    );
}
