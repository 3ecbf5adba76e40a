//! The SSM adapters (`SsmTerminator`, `SsmDirectory`, `fetch_parameter`) with the real
//! aws-sdk-ssm client (signing, retries, awsJson1_1 error parsing) against a scripted loopback
//! HTTP server standing in for Session Manager and Parameter Store.

#[path = "support/http_stub.rs"]
mod http_stub;

use http_stub::{RecordedRequest, ScriptedHttpServer, ScriptedResponse};
use serde_json::{Value, json};
use std::sync::Once;
use warden_core::aws::{
    ParameterError, SsmDirectory, SsmTerminator, fetch_parameter, sdk_config, ssm_sdk,
};
use warden_core::ports::{
    DirectoryError, Listing, Place, SessionDirectory, TerminateError, Terminated, Terminator,
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
    SsmTerminator::new(client(server).await, enforce)
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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

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
    let outcome = terminator(&server, true)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

    assert_eq!(outcome, Ok(Terminated::Now));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_dry_run_reports_would_have_terminated_without_calling_ssm() {
    let server = ScriptedHttpServer::start(vec![terminated(SESSION_ID)]);
    let outcome = terminator(&server, false)
        .await
        .terminate(SESSION_ID, Place::OWN)
        .await;

    assert_eq!(outcome, Ok(Terminated::WouldHave));
    assert_eq!(server.requests(), Vec::new());
}

async fn directory(server: &ScriptedHttpServer) -> SsmDirectory {
    SsmDirectory::new(client(server).await)
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
        .describe(Place::OWN, Listing::History, None, None)
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
        .describe(
            Place::OWN,
            Listing::Active,
            Some(SESSION_ID),
            Some("page-2".into()),
        )
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
        .describe(Place::OWN, Listing::Active, None, None)
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
        .describe(Place::OWN, Listing::Active, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Rejected(ref m) if m.contains("AccessDeniedException")),
        "{err}"
    );
}

// Parameter Store (`fetch_parameter`, custom rule packs).

const NAME: &str = "/warden/rules";
const GET_PARAMETER: &str = "AmazonSSM.GetParameter";
const PACK: &str = "disable = [\"destructive.disk_wipe\"]\n";

async fn client(server: &ScriptedHttpServer) -> ssm_sdk::Client {
    fake_aws_env();
    let cfg = sdk_config(Some(&server.url()), warden_core::aws::TrustRoots::Amazon).await;
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

fn assert_get_parameter_call(request: &RecordedRequest) {
    assert_eq!(request.method, "POST", "{request:?}");
    assert_eq!(request.path, "/", "{request:?}");
    assert_eq!(
        request.header("x-amz-target"),
        Some(GET_PARAMETER),
        "{request:?}"
    );
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
