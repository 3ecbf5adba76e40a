//! The Session Manager adapters (`SsmTerminator`, `SsmDirectory`) with the real aws-sdk-ssm
//! client (signing, retries, awsJson1_1 error parsing) against a scripted loopback HTTP server
//! standing in for Session Manager.

#[path = "support/http_stub.rs"]
mod http_stub;

use http_stub::{RecordedRequest, ScriptedHttpServer, ScriptedResponse};
use serde_json::{Value, json};
use std::sync::Once;
use warden_core::aws::{SsmDirectory, SsmTerminator, sdk_config, ssm_sdk};
use warden_core::ports::{
    DirectoryError, Listing, SessionDirectory, TerminateError, Terminated, Terminator,
};

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

async fn directory(server: &ScriptedHttpServer) -> SsmDirectory {
    fake_aws_env();
    SsmDirectory::new(ssm_sdk::Client::new(&sdk_config(Some(&server.url())).await))
}

fn sessions_page(sessions: Value, next_token: Option<&str>) -> ScriptedResponse {
    let mut body = json!({ "Sessions": sessions });
    if let Some(token) = next_token {
        body["NextToken"] = json!(token);
    }
    ScriptedResponse::new(200, body.to_string()).with_header("Content-Type", JSON_1_1)
}

fn request_body(request: &RecordedRequest) -> Value {
    assert_eq!(
        request.header("x-amz-target"),
        Some("AmazonSSM.DescribeSessions"),
        "{request:?}"
    );
    serde_json::from_str(&request.body).unwrap()
}

#[tokio::test]
async fn describe_sessions_asks_for_the_listing_and_maps_each_session() {
    let server = ScriptedHttpServer::start(vec![sessions_page(
        json!([{
            "SessionId": "alice-ea1181f76f3adcbdc", "Target": "i-0a1b2c3d4e5f60718", "Status": "Terminated",
            "StartDate": 1795425277.0, "EndDate": 1795428139.5, "DocumentName": "SSM-SessionManagerRunShell",
            "Owner": "arn:aws:sts::111122223333:assumed-role/Operator/alice", "MaxSessionDuration": "60"
        }]),
        Some("page-2"),
    )]);
    let page = directory(&server)
        .await
        .describe(Listing::History, None, None)
        .await
        .unwrap();
    let body = request_body(&server.requests()[0]);
    assert_eq!(body["State"], "History");
    assert_eq!(body["MaxResults"], 200);
    let session = &page.sessions[0];
    assert_eq!(session.session_id, "alice-ea1181f76f3adcbdc");
    assert_eq!(session.status.as_deref(), Some("Terminated"));
    assert_eq!(
        session.end_date.unwrap().as_millisecond(),
        1_795_428_139_500
    );
    assert_eq!(
        session.owner.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Operator/alice")
    );
    assert_eq!(page.next_token.as_deref(), Some("page-2"));
}

#[tokio::test]
async fn describe_sessions_filters_by_session_id_and_passes_the_page_token() {
    let server = ScriptedHttpServer::start(vec![sessions_page(json!([]), None)]);
    directory(&server)
        .await
        .describe(Listing::Active, Some(SESSION_ID), Some("page-2".into()))
        .await
        .unwrap();
    let body = request_body(&server.requests()[0]);
    assert_eq!(body["State"], "Active");
    assert_eq!(body["NextToken"], "page-2");
    assert_eq!(
        body["Filters"],
        json!([{ "key": "SessionId", "value": SESSION_ID }])
    );
}

#[tokio::test]
async fn describe_sessions_retries_throttling_then_reports_it_as_unavailable() {
    let server = ScriptedHttpServer::start((0..MAX_ATTEMPTS).map(|_| throttled()).collect());
    let err = directory(&server)
        .await
        .describe(Listing::Active, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Unavailable(ref m) if m.contains("ThrottlingException")),
        "{err}"
    );
    assert_eq!(server.requests().len(), MAX_ATTEMPTS);
}

#[tokio::test]
async fn describe_sessions_access_denied_is_a_refusal() {
    let server = ScriptedHttpServer::start(vec![service_error(
        400,
        "AccessDeniedException",
        "not authorized",
    )]);
    let err = directory(&server)
        .await
        .describe(Listing::Active, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Rejected(ref m) if m.contains("AccessDeniedException")),
        "{err}"
    );
}
