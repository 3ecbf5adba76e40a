//! `fetch_parameter` with the real aws-sdk-ssm client (signing, retries, awsJson1_1 error parsing)
//! against a scripted loopback HTTP server standing in for Parameter Store.

#[path = "support/http_stub.rs"]
mod http_stub;

use http_stub::{RecordedRequest, ScriptedHttpServer, ScriptedResponse};
use serde_json::{Value, json};
use std::sync::Once;
use warden_core::aws::{ParameterError, fetch_parameter, sdk_config, ssm_sdk};

const NAME: &str = "/warden/rules";
const JSON_1_1: &str = "application/x-amz-json-1.1";
const TARGET: &str = "AmazonSSM.GetParameter";
const PACK: &str = "disable = [\"destructive.disk_wipe\"]\n";
/// `warden_core::aws::sdk_config` allows four attempts per call.
const MAX_ATTEMPTS: usize = 4;

/// Fake credentials and region for the SDK's default chain, set once for the whole binary.
fn fake_aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: every test calls this before it builds a client or reads the environment, and
        // `call_once` makes concurrent callers wait until the variables are set, so no thread of
        // this test binary reads the environment while it is being written.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
            std::env::set_var(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            );
            std::env::set_var("AWS_REGION", "eu-west-1");
        }
    });
}

async fn client(server: &ScriptedHttpServer) -> ssm_sdk::Client {
    fake_aws_env();
    let cfg = sdk_config(Some(&server.url())).await;
    ssm_sdk::Client::new(&cfg)
}

fn parameter(kind: &str, value: &str) -> ScriptedResponse {
    let body = json!({
        "Parameter": {
            "Name": NAME,
            "Type": kind,
            "Value": value,
            "Version": 3,
            "ARN": "arn:aws:ssm:eu-west-1:111122223333:parameter/warden/rules",
            "DataType": "text",
        }
    });
    ScriptedResponse::new(200, body.to_string()).with_header("Content-Type", JSON_1_1)
}

/// An awsJson1_1 error with its code in the body's `__type`.
fn service_error(status: u16, code: &str, message: &str) -> ScriptedResponse {
    ScriptedResponse::new(
        status,
        json!({ "__type": code, "message": message }).to_string(),
    )
    .with_header("Content-Type", JSON_1_1)
}

fn assert_get_parameter_call(request: &RecordedRequest) {
    assert_eq!(request.method, "POST", "{request:?}");
    assert_eq!(request.path, "/", "{request:?}");
    assert_eq!(request.header("x-amz-target"), Some(TARGET), "{request:?}");
    assert_eq!(
        request.header("content-type"),
        Some(JSON_1_1),
        "{request:?}"
    );
    let body: Value = serde_json::from_str(&request.body)
        .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {:?}", request.body));
    assert_eq!(body, json!({ "Name": NAME, "WithDecryption": true }));
}

#[tokio::test]
async fn a_secure_string_is_read_with_decryption_in_one_signed_call() {
    let server = ScriptedHttpServer::start(vec![parameter("SecureString", PACK)]);
    let value = fetch_parameter(&client(&server).await, NAME).await;

    assert_eq!(value.as_deref(), Ok(PACK));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_get_parameter_call(&requests[0]);
    let authorization = requests[0].header("authorization").unwrap_or_default();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/ssm/aws4_request"),
        "expected a SigV4 Authorization header for ssm, got {authorization:?}"
    );
}

#[tokio::test]
async fn a_plain_string_is_read_the_same_way() {
    let server = ScriptedHttpServer::start(vec![parameter("String", PACK)]);
    let value = fetch_parameter(&client(&server).await, NAME).await;

    assert_eq!(value.as_deref(), Ok(PACK));
    assert_get_parameter_call(&server.requests()[0]);
}

#[tokio::test]
async fn a_missing_parameter_is_named_with_the_error_code_and_not_retried() {
    let server = ScriptedHttpServer::start(vec![service_error(
        400,
        "ParameterNotFound",
        "Parameter /warden/rules not found.",
    )]);
    let error = fetch_parameter(&client(&server).await, NAME)
        .await
        .unwrap_err();

    assert_eq!(
        error,
        ParameterError::Rejected {
            name: NAME.into(),
            code: "ParameterNotFound".into(),
            message: "Parameter /warden/rules not found.".into(),
        }
    );
    assert_eq!(
        error.to_string(),
        "SSM parameter `/warden/rules`: ParameterNotFound: Parameter /warden/rules not found."
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn access_denied_names_the_parameter_and_the_code() {
    let message = "User: arn:aws:sts::111122223333:assumed-role/scanner/fn is not authorized to \
                   perform: ssm:GetParameter on resource: arn:aws:ssm:eu-west-1:111122223333:parameter/warden/rules";
    let server =
        ScriptedHttpServer::start(vec![service_error(400, "AccessDeniedException", message)]);
    let error = fetch_parameter(&client(&server).await, NAME)
        .await
        .unwrap_err()
        .to_string();

    assert_eq!(
        error,
        format!("SSM parameter `/warden/rules`: AccessDeniedException: {message}")
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_until_the_value_comes() {
    let server = ScriptedHttpServer::start(vec![
        service_error(400, "ThrottlingException", "Rate exceeded"),
        parameter("SecureString", PACK),
    ]);
    let value = fetch_parameter(&client(&server).await, NAME).await;

    assert_eq!(value.as_deref(), Ok(PACK));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    requests.iter().for_each(assert_get_parameter_call);
}

#[tokio::test]
async fn a_service_down_on_every_attempt_is_unavailable() {
    let server = ScriptedHttpServer::start(vec![
        service_error(
            500,
            "InternalServerError",
            "An internal error occurred"
        );
        MAX_ATTEMPTS + 1
    ]);
    let error = fetch_parameter(&client(&server).await, NAME)
        .await
        .unwrap_err();

    match &error {
        ParameterError::Unavailable { name, reason } => {
            assert_eq!(name, NAME);
            assert!(reason.contains("InternalServerError"), "{reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(server.requests().len(), MAX_ATTEMPTS);
}

#[tokio::test]
async fn a_reply_without_a_value_is_an_error() {
    let reply = ScriptedResponse::new(200, json!({ "Parameter": { "Name": NAME } }).to_string())
        .with_header("Content-Type", JSON_1_1);
    let server = ScriptedHttpServer::start(vec![reply]);
    let error = fetch_parameter(&client(&server).await, NAME)
        .await
        .unwrap_err();

    assert_eq!(error, ParameterError::NoValue { name: NAME.into() });
}
