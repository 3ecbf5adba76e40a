//! The real `session-recorder` binary as a child process, driven through a loopback Lambda
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

const BINARY: &str = env!("CARGO_BIN_EXE_session-recorder");
const START_WITHOUT_MFA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../events/1-cloudtrail/03-start-role-without-mfa.json"
);
const SESSION_ID: &str = "bob-2731a0ce76f67ca89";
const TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:123456789012:warden-alerts";
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const RESULTS_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the function with `env` and asserts it stops during init, naming `variable`.
fn assert_init_fails_naming(env: &[(&str, &str)], variable: &str) {
    let api = LambdaRuntimeApi::start(Vec::new());
    let mut function = Function::start(BINARY, &api, env);
    let Some((status, output)) = function.wait_for_exit(INIT_TIMEOUT) else {
        panic!(
            "the function was still running after {INIT_TIMEOUT:?}; output so far:\n{}",
            function.output()
        );
    };
    assert!(
        !status.success(),
        "expected a failing exit, got {status}; output:\n{output}"
    );
    assert!(
        output.contains(variable),
        "the output does not name {variable}:\n{output}"
    );
    assert!(
        api.results().is_empty(),
        "no invocation should have been handled"
    );
}

#[test]
fn missing_configuration_stops_the_function_at_init_with_a_clear_message() {
    assert_init_fails_naming(&[("WARDEN_TOPIC_ARN", TOPIC_ARN)], "WARDEN_TABLE");
}

#[test]
fn an_unknown_timezone_stops_the_function_at_init_naming_the_variable() {
    assert_init_fails_naming(
        &[
            ("WARDEN_TABLE", "sessions"),
            ("WARDEN_TOPIC_ARN", TOPIC_ARN),
            ("WARDEN_TIMEZONE", "Mars/Base"),
        ],
        "WARDEN_TIMEZONE",
    );
}

#[tokio::test]
async fn records_events_end_to_end_through_the_runtime_api() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let aws = moto::sdk_config(&endpoint).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = moto::unique("sessions");
    moto::create_table(&dynamodb, &table).await;
    let (topic_arn, queue_url) = moto::create_topic_with_queue(&aws, &moto::unique("alerts")).await;

    let start = std::fs::read_to_string(START_WITHOUT_MFA).expect("read the sample event");
    let mut unrelated: Value = serde_json::from_str(&start).expect("sample event is JSON");
    unrelated["detail"]["eventName"] = json!("SendCommand");
    let api = Arc::new(LambdaRuntimeApi::start(vec![
        start.clone(),
        start,
        unrelated.to_string(),
        json!({"detail": "broken"}).to_string(),
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
        ],
    );

    let waiter = Arc::clone(&api);
    let results = tokio::task::spawn_blocking(move || waiter.wait_for_results(4, RESULTS_TIMEOUT))
        .await
        .expect("the waiting thread")
        .unwrap_or_else(|e| panic!("{e}\nfunction output:\n{}", function.output()));
    let output = function.output();
    assert_eq!(results.len(), 4, "{results:#?}");

    let first = function.response_json(&results[0].outcome);
    assert_eq!(
        first,
        json!({"status": "recorded", "session_id": SESSION_ID, "state": "active", "alerts": 1}),
        "{output}"
    );
    let again = function.response_json(&results[1].outcome);
    assert_eq!(
        again,
        json!({"status": "duplicate", "session_id": SESSION_ID, "state": "active", "alerts": 0}),
        "{output}"
    );
    let unrelated = function.response_json(&results[2].outcome);
    assert_eq!(unrelated["status"], "ignored", "{unrelated}");
    assert!(
        unrelated["reason"]
            .as_str()
            .is_some_and(|r| r.contains("SendCommand")),
        "{unrelated}"
    );
    match &results[3].outcome {
        Outcome::Error { body, .. } => {
            let error: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
            assert_eq!(error["errorType"], "RejectedEvent", "{body}");
            assert!(
                error["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("rejected event")),
                "{body}"
            );
        }
        other => panic!("expected an error for the malformed event, got {other:?}"),
    }

    let item = dynamodb
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("SESSION#{SESSION_ID}")))
        .key("sk", AttributeValue::S("META".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get the session item")
        .item
        .unwrap_or_else(|| panic!("no session item for {SESSION_ID} in {table}"));
    assert_eq!(
        item.get("state"),
        Some(&AttributeValue::S("active".into())),
        "{item:#?}"
    );

    let messages = moto::drain_queue(&aws, &queue_url).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let alert = &messages[0];
    assert_eq!(
        alert["MessageAttributes"]["kind"]["Value"], "no_mfa",
        "{alert:#}"
    );
    assert!(
        alert["Subject"].as_str().is_some_and(|s| s.contains("bob")),
        "{alert:#}"
    );
}
