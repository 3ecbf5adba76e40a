//! The real `transcript-scanner` binary at init with custom rule packs that do not load: the
//! parameter is read once, an alert per broken pack is published to SNS, and the function still
//! starts (with the default rules). Parameter Store and SNS are a scripted loopback server.

#[path = "../../../tests/support/http_stub.rs"]
mod http_stub;
#[path = "../../../tests/support/lambda_process.rs"]
mod lambda_process;

use http_stub::{LambdaRuntimeApi, Outcome, RecordedRequest, ScriptedHttpServer, ScriptedResponse};
use lambda_process::Function;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use warden_core::transcript::payload::{LogEvent, LogsBatch, encode_subscription};

const BINARY: &str = env!("CARGO_BIN_EXE_transcript-scanner");
const PARAMETER: &str = "/warden/rules";
const TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:111122223333:warden-alerts";

/// The message CloudWatch Logs sends when a subscription is created: needs no AWS call.
fn control_message() -> String {
    let batch = LogsBatch {
        message_type: "CONTROL_MESSAGE".into(),
        owner: "CloudwatchLogs".into(),
        log_group: String::new(),
        log_stream: String::new(),
        subscription_filters: vec![],
        log_events: vec![LogEvent {
            id: "1".into(),
            timestamp: 0,
            message: "CWL CONTROL MESSAGE: Checking health of destination Lambda function".into(),
        }],
    };
    encode_subscription(&batch).to_string()
}

fn parameter_not_found() -> ScriptedResponse {
    ScriptedResponse::new(
        400,
        json!({"__type": "ParameterNotFound", "message": "Parameter /warden/rules not found."})
            .to_string(),
    )
    .with_header("Content-Type", "application/x-amz-json-1.1")
}

fn published() -> ScriptedResponse {
    ScriptedResponse::new(
        200,
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>\
         <MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>\
         <ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>\
         </ResponseMetadata></PublishResponse>",
    )
    .with_header("Content-Type", "text/xml")
}

/// The `name=value` pairs of a form-encoded (SNS query protocol) body, decoded.
fn form(request: &RecordedRequest) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(byte) = std::str::from_utf8(bytes.get(i + 1..i + 3).unwrap_or(&[]))
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    request
        .body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {form:#?}"))
}

#[test]
fn broken_custom_packs_are_alerted_at_init_and_the_function_runs_with_the_default_rules() {
    let aws = ScriptedHttpServer::start(vec![parameter_not_found(), published(), published()]);
    let api = LambdaRuntimeApi::start(vec![control_message()]);
    let function = Function::start(
        BINARY,
        &api,
        &[
            ("AWS_ENDPOINT_URL", aws.url().as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("WARDEN_TABLE", "warden"),
            ("WARDEN_TOPIC_ARN", TOPIC_ARN),
            ("WARDEN_RULES_FILE", "/nonexistent/custom-rules.toml"),
            ("WARDEN_RULES_PARAMETER", PARAMETER),
        ],
    );
    let results = api
        .wait_for_results(1, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}\nfunction output:\n{}", function.output()));
    match &results[0].outcome {
        Outcome::Response(body) => assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"status": "control_message"})
        ),
        other => panic!("expected a response, got {other:?}"),
    }
    // The alerts are published before the function polls for its first event.
    let deadline = Instant::now() + Duration::from_secs(5);
    while aws.requests().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let requests = aws.requests();
    let output = function.output();
    assert_eq!(requests.len(), 3, "{requests:#?}\n{output}");

    assert_eq!(
        requests[0].header("x-amz-target"),
        Some("AmazonSSM.GetParameter")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&requests[0].body).unwrap(),
        json!({"Name": PARAMETER, "WithDecryption": true})
    );

    let sources = [
        "/nonexistent/custom-rules.toml",
        "SSM parameter /warden/rules",
    ];
    for (request, source) in requests[1..].iter().zip(sources) {
        let form = form(request);
        assert_eq!(field(&form, "Action"), "Publish");
        assert_eq!(field(&form, "TopicArn"), TOPIC_ARN);
        assert_eq!(
            field(&form, "Subject"),
            "[HIGH] Custom rule pack failed to load; default rules in force"
        );
        let message = field(&form, "Message");
        assert!(
            message.contains(&format!("Source:       {source}")),
            "{message}"
        );
        let attributes: Vec<&str> = form
            .iter()
            .filter(|(k, _)| k.starts_with("MessageAttributes.entry."))
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(
            attributes.contains(&"kind") && attributes.contains(&"rules_load_failed"),
            "{attributes:?}"
        );
    }
    let parameter_alert = field(&form(&requests[2]), "Message").to_string();
    assert!(
        parameter_alert.contains(
            "SSM parameter `/warden/rules`: ParameterNotFound: Parameter /warden/rules not found."
        ),
        "{parameter_alert}"
    );
    assert!(
        output.contains("custom rule pack failed to load"),
        "the problem is logged too:\n{output}"
    );
    assert!(output.contains("rules loaded"), "{output}");
    assert!(
        output.contains("\"RulePackErrors\":2.0"),
        "counted as a metric:\n{output}"
    );
}
