//! The real `session-reaper` binary as a child process, driven through a loopback Lambda
//! Runtime API, with moto server for DynamoDB and SNS (`WARDEN_TEST_AWS_ENDPOINT`) and a scripted
//! loopback Session Manager for `DescribeSessions`.

#[path = "../../../tests/support/http_stub.rs"]
mod http_stub;
#[path = "../../../tests/support/lambda_process.rs"]
mod lambda_process;
#[path = "../../../tests/support/moto.rs"]
mod moto;

use http_stub::{LambdaRuntimeApi, ScriptedHttpServer, ScriptedResponse};
use lambda_process::Function;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use warden_core::aws::DynamoStore;
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::local::{CollectingNotifier, DryRunTerminator};
use warden_core::ports::SessionStore;

const BINARY: &str = env!("CARGO_BIN_EXE_session-reaper");
const ALICE: &str = "alice-ea1181f76f3adcbdc";
const MALLORY: &str = "mallory-5b0c3e1f9a7d24e68";

fn schedule(time: &str) -> String {
    json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "111122223333", "time": time, "region": "eu-west-1", "resources": [], "detail": {}})
    .to_string()
}

fn ssm(body: Value) -> ScriptedResponse {
    ScriptedResponse::new(200, body.to_string())
        .with_header("Content-Type", "application/x-amz-json-1.1")
}

#[test]
fn missing_configuration_stops_the_function_at_init() {
    let api = LambdaRuntimeApi::start(Vec::new());
    let mut function = Function::start(BINARY, &api, &[("WARDEN_TABLE", "t")]);
    let (status, output) = function
        .wait_for_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running:\n{}", function.output()));
    assert!(!status.success());
    assert!(output.contains("WARDEN_TOPIC_ARN"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reaps_through_the_runtime_api_and_a_rerun_changes_nothing() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let aws = moto::sdk_config(&endpoint).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = moto::unique("reaper");
    moto::create_table(&dynamodb, &table).await;
    let (topic_arn, queue_url) =
        moto::create_topic_with_queue(&aws, &moto::unique("reaper-alerts")).await;
    // Alice's start, as the recorder wrote it.
    let store = DynamoStore::new(dynamodb.clone(), &table, 30);
    let recorder = Recorder::new(
        store.clone(),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        WardenConfig::from_lookup(|_| None).unwrap(),
    );
    let start = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/1-cloudtrail/01-start-role-with-mfa.json"
    ))
    .unwrap();
    recorder
        .handle(&serde_json::from_str(&start).unwrap())
        .await
        .unwrap();

    let open = json!({"Sessions": [{"SessionId": MALLORY, "Status": "Connected", "StartDate": 1795473600,
        "Target": "i-0c4d5e6f7a8b90123", "DocumentName": "SSM-SessionManagerRunShell",
        "Owner": "arn:aws:sts::111122223333:assumed-role/Admin/mallory"}]});
    let alice_ended = json!({"Sessions": [{"SessionId": ALICE, "Status": "Terminated", "StartDate": 1795425277,
        "EndDate": 1795428139, "Target": "i-0a1b2c3d4e5f60718", "DocumentName": "SSM-SessionManagerRunShell"}]});
    let session_manager =
        ScriptedHttpServer::start(vec![ssm(open.clone()), ssm(alice_ended), ssm(open)]);
    let api = Arc::new(LambdaRuntimeApi::start(vec![
        schedule("2026-11-29T00:00:00Z"),
        schedule("2026-11-29T00:05:00Z"),
    ]));
    let ssm_url = session_manager.url();
    let function = Function::start(
        BINARY,
        &api,
        &[
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ENDPOINT_URL_SSM", ssm_url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("WARDEN_TABLE", table.as_str()),
            ("WARDEN_TOPIC_ARN", topic_arn.as_str()),
            ("WARDEN_ENFORCE", "false"),
        ],
    );
    let waiter = Arc::clone(&api);
    let results =
        tokio::task::spawn_blocking(move || waiter.wait_for_results(2, Duration::from_secs(20)))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\nfunction output:\n{}", function.output()));
    let output = function.output();

    let first = function.response_json(&results[0].outcome);
    assert_eq!(
        (first["ended"].as_u64(), first["recorded"].as_u64()),
        (Some(1), Some(1)),
        "{first}\n{output}"
    );
    assert_eq!(
        first["alerts"], 2,
        "unrecorded_session and no_transcript for mallory: {first}"
    );
    let again = function.response_json(&results[1].outcome);
    assert_eq!(
        (
            again["ended"].as_u64(),
            again["recorded"].as_u64(),
            again["alerts"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{again}"
    );

    let alice = store.load(ALICE).await.unwrap().unwrap().value;
    assert_eq!(alice.state.as_str(), "ended");
    assert_eq!(alice.ended_at.unwrap().as_second(), 1_795_428_139);
    let requests = session_manager.requests();
    let history: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(
        history["Filters"],
        json!([{"key": "SessionId", "value": ALICE}])
    );
    let messages = moto::drain_queue(&aws, &queue_url).await;
    let mut kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["MessageAttributes"]["kind"]["Value"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["no_transcript", "unrecorded_session"]);
}
