//! `SsmTerminator` with the real aws-sdk-ssm client (signing, retries, awsJson1_1 error parsing)
//! against a scripted loopback HTTP server standing in for Session Manager.

#[path = "support/http_stub.rs"]
mod http_stub;

use http_stub::{RecordedRequest, ScriptedHttpServer, ScriptedResponse};
use serde_json::{Value, json};
use std::sync::Once;
use warden_core::aws::{SsmTerminator, sdk_config, ssm_sdk};
use warden_core::ports::{TerminateError, Terminated, Terminator};

const SESSION_ID: &str = "bob-2731a0ce76f67ca89";
const JSON_1_1: &str = "application/x-amz-json-1.1";
const TARGET: &str = "AmazonSSM.TerminateSession";
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

async fn terminator(server: &ScriptedHttpServer, enforce: bool) -> SsmTerminator {
    fake_aws_env();
    let cfg = sdk_config(Some(&server.url())).await;
    SsmTerminator::new(ssm_sdk::Client::new(&cfg), enforce)
}

fn terminated(session_id: &str) -> ScriptedResponse {
    ScriptedResponse::new(200, json!({ "SessionId": session_id }).to_string())
        .with_header("Content-Type", JSON_1_1)
}

/// An awsJson1_1 error with its code in the body's `__type`.
fn service_error(status: u16, code: &str, message: &str) -> ScriptedResponse {
    ScriptedResponse::new(
        status,
        json!({ "__type": code, "message": message }).to_string(),
    )
    .with_header("Content-Type", JSON_1_1)
}

fn throttled() -> ScriptedResponse {
    service_error(400, "ThrottlingException", "Rate exceeded")
}

fn assert_terminate_call(request: &RecordedRequest, session_id: &str) {
    assert_eq!(request.method, "POST", "{request:?}");
    assert_eq!(request.path, "/", "{request:?}");
    assert_eq!(request.header("x-amz-target"), Some(TARGET), "{request:?}");
    let body: Value = serde_json::from_str(&request.body)
        .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {:?}", request.body));
    assert_eq!(body, json!({ "SessionId": session_id }));
}

#[tokio::test]
async fn a_terminated_session_is_reported_as_terminated_now_after_one_signed_call() {
    let server = ScriptedHttpServer::start(vec![terminated(SESSION_ID)]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::Now));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_terminate_call(&requests[0], SESSION_ID);
    let authorization = requests[0].header("authorization").unwrap_or_default();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "expected a SigV4 Authorization header, got {authorization:?}"
    );
    assert!(
        authorization.contains("/eu-west-1/ssm/aws4_request"),
        "{authorization}"
    );
}

#[tokio::test]
async fn a_validation_exception_means_the_session_already_ended_and_is_not_retried() {
    let server = ScriptedHttpServer::start(vec![service_error(
        400,
        "ValidationException",
        "Session is not in a valid state",
    )]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::AlreadyEnded));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_terminate_call(&requests[0], SESSION_ID);
}

#[tokio::test]
async fn a_session_that_does_not_exist_counts_as_already_ended() {
    let server = ScriptedHttpServer::start(vec![service_error(
        400,
        "DoesNotExistException",
        "Session bob-2731a0ce76f67ca89 does not exist",
    )]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::AlreadyEnded));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_error_code_given_only_in_the_x_amzn_errortype_header_is_understood() {
    // The header form, with the namespace suffix some services append; the body has no code.
    let reply = ScriptedResponse::new(400, r#"{"message":"Session is not in a valid state"}"#)
        .with_header("Content-Type", JSON_1_1)
        .with_header(
            "X-Amzn-Errortype",
            "ValidationException:http://internal.amazon.com/coral/com.amazonaws.ssm/",
        );
    let server = ScriptedHttpServer::start(vec![reply]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::AlreadyEnded));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn access_denied_is_a_rejection_naming_the_error_and_is_not_retried() {
    let server = ScriptedHttpServer::start(vec![service_error(
        400,
        "AccessDeniedException",
        "User is not authorized to perform: ssm:TerminateSession",
    )]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    match outcome {
        Err(TerminateError::Rejected(msg)) => {
            assert!(msg.contains("AccessDeniedException"), "{msg}");
            assert!(msg.contains("ssm:TerminateSession"), "{msg}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_until_the_call_succeeds() {
    let server = ScriptedHttpServer::start(vec![throttled(), terminated(SESSION_ID)]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::Now));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for request in &requests {
        assert_terminate_call(request, SESSION_ID);
    }
}

#[tokio::test]
async fn throttling_on_every_attempt_is_unavailable_after_the_last_attempt() {
    // One more reply than attempts are allowed, so an extra attempt would show in the count.
    let server = ScriptedHttpServer::start(vec![throttled(); MAX_ATTEMPTS + 1]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    match outcome {
        Err(TerminateError::Unavailable(text)) => {
            assert!(text.contains("ThrottlingException"), "{text}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(server.requests().len(), MAX_ATTEMPTS);
}

#[tokio::test]
async fn an_internal_server_error_is_retried_by_the_sdk() {
    let server = ScriptedHttpServer::start(vec![
        service_error(500, "InternalServerError", "An internal error occurred"),
        terminated(SESSION_ID),
    ]);
    let outcome = terminator(&server, true).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::Now));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_dry_run_reports_would_have_terminated_without_calling_ssm() {
    let server = ScriptedHttpServer::start(vec![terminated(SESSION_ID)]);
    let outcome = terminator(&server, false).await.terminate(SESSION_ID).await;

    assert_eq!(outcome, Ok(Terminated::WouldHave));
    assert_eq!(server.requests(), Vec::new());
}
