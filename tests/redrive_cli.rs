//! `warden redrive` as an operator runs it: the real binary against a queue of dead letters in
//! moto server's SQS (every record shape `template.yaml` produces), redriven onto moto's DynamoDB
//! and SNS. Skips without moto server, like the other adapter tests (`scripts/test` starts it).

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http_stub.rs"]
mod http_stub;
#[path = "support/moto.rs"]
mod moto;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{Command, Output};

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cloudtrail(file: &str) -> Value {
    read_json(&format!("{EVENTS}/1-cloudtrail/{file}"))
}

fn transcript(file: &str) -> Value {
    read_json(&format!("{EVENTS}/2-transcripts/{file}"))
}

/// A queue for dead letters on moto.
async fn dead_letter_queue(config: &aws_config::SdkConfig) -> Queues {
    let sqs = aws_sdk_sqs::Client::new(config);
    let dead_letters = sqs
        .create_queue()
        .queue_name(moto::unique("dead-letters"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    Queues { sqs, dead_letters }
}

/// The on-failure destination record Lambda writes after the retries, around `event`.
fn on_failure(event: Value, function: &str, error: &str) -> String {
    let mut record = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lambda-async-onfailure-invocation-record.json"
    ));
    record["requestContext"]["functionArn"] = json!(format!(
        "arn:aws:lambda:eu-west-1:111122223333:function:warden-{function}:$LATEST"
    ));
    record["requestPayload"] = event;
    record["responsePayload"] = json!({"errorType": "StoreError", "errorMessage": error});
    record.to_string()
}

struct Queues {
    sqs: aws_sdk_sqs::Client,
    dead_letters: String,
}

impl Queues {
    async fn send(&self, body: &str, attributes: &[(&str, &str)]) {
        let mut request = self
            .sqs
            .send_message()
            .queue_url(&self.dead_letters)
            .message_body(body);
        for (name, value) in attributes {
            request = request.message_attributes(
                *name,
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(*value)
                    .build()
                    .unwrap(),
            );
        }
        request.send().await.expect("send a dead letter to moto");
    }

    /// (visible, in flight) messages of the dead-letter queue.
    async fn depth(&self) -> (u64, u64) {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.dead_letters)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attributes = out.attributes.unwrap();
        let number = |name: QueueAttributeName| attributes[&name].parse::<u64>().unwrap();
        (
            number(QueueAttributeName::ApproximateNumberOfMessages),
            number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }
}

fn redrive(endpoint: &str, queue: &str, table: &str, topic: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["redrive", "--queue", queue, "--format", "json"])
        .args([
            "--endpoint-url",
            endpoint,
            "--table",
            table,
            "--topic-arn",
            topic,
        ])
        .args(extra)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("WARDEN_EXEMPT_PRINCIPALS")
        .env_remove("WARDEN_RULES_FILE")
        .env_remove("WARDEN_RULES_PARAMETER")
        // A dry run of terminations, as WARDEN_ENFORCE=false makes the functions do.
        .env("WARDEN_ENFORCE", "false")
        .output()
        .expect("warden runs")
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// Outcome of each message, by the label the test gave it (the `what` or `why` it printed).
fn outcomes(lines: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["type"] == "dead_letter")
        .map(|l| {
            let handler = l["handler"].as_str().unwrap_or("-").to_string();
            (handler, l["outcome"].as_str().unwrap().to_string())
        })
        .collect();
    out.sort();
    out
}

fn summary(lines: &[Value]) -> &Value {
    lines
        .iter()
        .find(|l| l["type"] == "summary")
        .expect("a summary line")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

async fn session_items(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> BTreeMap<String, String> {
    let items = dynamo
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    items
        .iter()
        .filter(|i| i["sk"].as_s().unwrap() == "META")
        .map(|i| {
            (
                i["session_id"].as_s().unwrap().clone(),
                i["state"].as_s().unwrap().clone(),
            )
        })
        .collect()
}

/// Alerts the topic's subscriber received, by `alert_id`.
async fn received(config: &aws_config::SdkConfig, queue: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for message in moto::drain_queue(config, queue).await {
        let id = message["MessageAttributes"]["alert_id"]["Value"]
            .as_str()
            .expect("every alert carries an alert_id")
            .to_string();
        *ids.entry(id).or_default() += 1;
    }
    ids
}

#[tokio::test]
async fn redrive_runs_each_dead_letter_through_its_handler_and_deletes_only_what_succeeded() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let config = moto::sdk_config(&endpoint).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let table = moto::unique("redrive");
    moto::create_table(&dynamo, &table).await;
    let (topic, alerts) = moto::create_topic_with_queue(&config, &moto::unique("redrive")).await;
    let queues = dead_letter_queue(&config).await;

    // Every shape the template's queues receive.
    let bob = cloudtrail("03-start-role-without-mfa.json");
    queues
        .send(
            &on_failure(bob.clone(), "session-recorder", "session store unavailable"),
            &[],
        )
        .await;
    // The EventBridge rule's own dead letter: the bare event, the reason in attributes.
    queues
        .send(
            &cloudtrail("08-start-root.json").to_string(),
            &[
                ("RULE_ARN", "arn:aws:events:eu-west-1:111122223333:rule/r"),
                ("ERROR_CODE", "SDK_CLIENT_ERROR"),
                ("ERROR_MESSAGE", "Unable to invoke Lambda function"),
            ],
        )
        .await;
    // The same start again, as a function dead-letter queue holds it: applied once.
    queues
        .send(
            &bob.to_string(),
            &[("RequestID", "r-2"), ("ErrorCode", "200")],
        )
        .await;
    queues
        .send(
            &on_failure(
                transcript("21-forbidden-reverse-shell-stream.json"),
                "transcript-scanner",
                "notifier unavailable",
            ),
            &[],
        )
        .await;
    queues
        .send(
            &on_failure(
                transcript("24-control-message.json"),
                "transcript-scanner",
                "x",
            ),
            &[],
        )
        .await;
    // Still broken: an event without its id, a body that is not JSON, an SNS envelope.
    let mut broken = cloudtrail("01-start-role-with-mfa.json");
    broken["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventID")
        .unwrap();
    queues
        .send(&on_failure(broken, "session-recorder", "rejected"), &[])
        .await;
    queues.send("not json at all", &[]).await;
    queues
        .send(
            &json!({"Type": "Notification", "Message": "{}"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(queues.depth().await, (8, 0));

    // 1. The dry run reads and checks everything, runs and deletes nothing.
    let dry = redrive(&endpoint, &queues.dead_letters, &table, &topic, &[]);
    let dry_lines = lines(&dry);
    assert_eq!(
        dry.status.code(),
        Some(1),
        "some would fail: {}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        outcomes(&dry_lines),
        pairs(&[
            ("-", "unreadable"),
            ("-", "unreadable"),
            ("recorder", "would_fail"),
            ("recorder", "would_redrive"),
            ("recorder", "would_redrive"),
            ("recorder", "would_redrive"),
            ("scanner", "would_acknowledge"),
            ("scanner", "would_redrive"),
        ])
    );
    assert_eq!(summary(&dry_lines)["dry_run"], true);
    assert_eq!(summary(&dry_lines)["received"], 8);
    let on_failure_line = dry_lines
        .iter()
        .find(|l| {
            l["origin"] == "on_failure"
                && l["handler"] == "scanner"
                && l["outcome"] == "would_redrive"
        })
        .unwrap();
    assert_eq!(
        on_failure_line["dead_lettered_because"],
        "StoreError: notifier unavailable"
    );
    assert!(
        on_failure_line["what"]
            .as_str()
            .unwrap()
            .contains("carol-5e48b7f8b97acc971"),
        "{on_failure_line}"
    );
    assert_eq!(
        queues.depth().await,
        (8, 0),
        "the dry run leaves every message, visible"
    );
    assert!(session_items(&dynamo, &table).await.is_empty());
    assert!(received(&config, &alerts).await.is_empty());

    // 2. The handlers fail (no such table): nothing is deleted, and each says why.
    let failing = redrive(
        &endpoint,
        &queues.dead_letters,
        &moto::unique("no-such-table"),
        &topic,
        &["--apply"],
    );
    let failing_lines = lines(&failing);
    assert_eq!(failing.status.code(), Some(1));
    let failed: Vec<&Value> = failing_lines
        .iter()
        .filter(|l| l["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 5, "{failing_lines:#?}");
    let bob: Vec<&&Value> = failed
        .iter()
        .filter(|l| l["what"].as_str().unwrap().starts_with("StartSession bob-"))
        .collect();
    assert_eq!(bob.len(), 2, "{failed:#?}");
    assert!(
        bob.iter()
            .all(|l| l["why"].as_str().unwrap().contains("ResourceNotFound")),
        "{bob:#?}"
    );
    assert_eq!(summary(&failing_lines)["acknowledged"], 1);
    assert_eq!(
        queues.depth().await,
        (7, 0),
        "only the control message went: the rest are all back"
    );

    // 3. With the table there, what can be redriven is, and deleted; the rest stays.
    let applied = redrive(
        &endpoint,
        &queues.dead_letters,
        &table,
        &topic,
        &["--apply"],
    );
    let applied_lines = lines(&applied);
    assert_eq!(
        applied.status.code(),
        Some(1),
        "three are still broken: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert_eq!(
        outcomes(&applied_lines),
        pairs(&[
            ("-", "unreadable"),
            ("-", "unreadable"),
            ("recorder", "failed"),
            ("recorder", "redriven"),
            ("recorder", "redriven"),
            ("recorder", "redriven"),
            ("scanner", "redriven"),
        ])
    );
    let still_failing = applied_lines
        .iter()
        .find(|l| l["outcome"] == "failed")
        .unwrap();
    assert!(
        still_failing["why"].as_str().unwrap().contains("eventID"),
        "{still_failing}"
    );
    assert_eq!(queues.depth().await, (3, 0));
    assert_eq!(
        session_items(&dynamo, &table).await,
        BTreeMap::from([
            (
                "111122223333-ba86b353bb0579c91".to_string(),
                "active".to_string()
            ),
            ("bob-2731a0ce76f67ca89".to_string(), "active".to_string()),
            ("carol-5e48b7f8b97acc971".to_string(), "active".to_string()),
        ])
    );
    let sent = received(&config, &alerts).await;
    let kinds: Vec<&str> = sent
        .keys()
        .map(|id| id.split_once('/').unwrap().1)
        .collect();
    assert!(sent.values().all(|&n| n == 1), "{sent:?}");
    assert!(
        kinds.contains(&"no_mfa") && kinds.contains(&"root_user"),
        "{kinds:?}"
    );
    // The transcript batch's two findings go out in one alert.
    assert_eq!(
        kinds.iter().filter(|k| k.starts_with("findings:")).count(),
        1,
        "{kinds:?}"
    );

    // 4. Again: the broken three stay, nothing is sent twice.
    let again = redrive(
        &endpoint,
        &queues.dead_letters,
        &table,
        &topic,
        &["--apply"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(summary(&lines(&again))["redriven"], 0);
    assert_eq!(queues.depth().await, (3, 0));
    assert!(received(&config, &alerts).await.is_empty());
}

#[tokio::test]
async fn a_dead_lettered_reaper_run_is_redriven_against_session_manager() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let config = moto::sdk_config(&endpoint).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let table = moto::unique("redrive-reaper");
    moto::create_table(&dynamo, &table).await;
    let (topic, alerts) =
        moto::create_topic_with_queue(&config, &moto::unique("redrive-reaper")).await;
    let queues = dead_letter_queue(&config).await;
    // Session Manager lists an open shell session that CloudTrail never reported, started an
    // hour before the run. moto has no DescribeSessions: the stand-in answers it, behind the
    // fault proxy (no faults) that sends everything else to moto.
    let ghost = "ghost-0123456789abcdef0";
    let stand_in = http_stub::SsmStandIn::start(vec![json!({
        "SessionId": ghost,
        "Target": "i-0c4d5e6f7a8b90123",
        "Status": "Connected",
        "StartDate": 1_795_906_800.0,
        "DocumentName": "SSM-SessionManagerRunShell",
        "Owner": "arn:aws:sts::111122223333:assumed-role/Admin/ghost",
    })]);
    let proxy = fault_proxy::Proxy::start(&endpoint, Some(&stand_in.url()), 1.0);
    let run = read_json(&format!("{EVENTS}/3-reaper/31-scheduled-event.json"));
    queues
        .send(
            &on_failure(run, "session-reaper", "session directory unavailable"),
            &[],
        )
        .await;

    let dry = lines(&redrive(
        &proxy.url,
        &queues.dead_letters,
        &table,
        &topic,
        &[],
    ));
    assert_eq!(outcomes(&dry), pairs(&[("reaper", "would_redrive")]));
    assert_eq!(
        dry[0]["what"], "reaper run at 2026-11-29T00:00:00Z",
        "{dry:?}"
    );

    let applied = redrive(
        &proxy.url,
        &queues.dead_letters,
        &table,
        &topic,
        &["--apply"],
    );
    let applied_lines = lines(&applied);
    assert!(
        applied.status.success(),
        "{applied_lines:#?}\n{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert_eq!(outcomes(&applied_lines), pairs(&[("reaper", "redriven")]));
    assert!(
        stand_in
            .calls()
            .iter()
            .any(|c| c == "AmazonSSM.DescribeSessions"),
        "{:?}",
        stand_in.calls()
    );
    assert_eq!(queues.depth().await, (0, 0));
    assert_eq!(
        session_items(&dynamo, &table).await,
        BTreeMap::from([(ghost.to_string(), "active".to_string())])
    );
    assert_eq!(
        received(&config, &alerts).await,
        BTreeMap::from([
            (format!("{ghost}/no_transcript"), 1),
            (format!("{ghost}/unrecorded_session"), 1),
        ])
    );
}
