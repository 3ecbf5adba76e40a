//! Every signal that part of Session Warden is off has an alarm in template.yaml that notifies
//! the alert topic: failed invocations, dead letters, rejected inputs and custom rule packs that
//! did not load. docs/reliability.md lists them; this keeps the template to that list.

use std::collections::BTreeSet;

/// The template's top-level resources as (logical id, the lines of its block).
fn resources(template: &str) -> Vec<(String, Vec<&str>)> {
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    let mut in_resources = false;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_resources = line.trim_end() == "Resources:";
            continue;
        }
        if !in_resources {
            continue;
        }
        let name = line.strip_prefix("  ").and_then(|rest| {
            let rest = rest.trim_end();
            (!rest.starts_with([' ', '#']) && rest.ends_with(':'))
                .then(|| rest.trim_end_matches(':').to_string())
        });
        match name {
            Some(name) => blocks.push((name, Vec::new())),
            None => {
                if let Some((_, lines)) = blocks.last_mut() {
                    lines.push(line.trim());
                }
            }
        }
    }
    blocks
}

/// (metric name, dimension value) of every metric an alarm that notifies the topic watches.
fn alarmed_metrics(template: &str) -> BTreeSet<(String, String)> {
    let mut alarmed = BTreeSet::new();
    for (_, lines) in resources(template) {
        if !lines.contains(&"Type: AWS::CloudWatch::Alarm") {
            continue;
        }
        let notifies = lines
            .windows(2)
            .any(|w| w[0] == "AlarmActions:" && w[1] == "- !Ref AlertTopic");
        if !notifies {
            continue;
        }
        let mut metric = None;
        for line in &lines {
            if let Some(name) = line.strip_prefix("MetricName: ") {
                metric = Some(name.to_string());
            } else if let (Some(value), Some(name)) = (line.strip_prefix("Value: "), &metric) {
                alarmed.insert((name.clone(), value.to_string()));
            }
        }
    }
    alarmed
}

#[test]
fn every_sign_that_something_is_off_raises_an_alarm_to_the_topic() {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml");
    let alarmed = alarmed_metrics(&template);
    let mut required = Vec::new();
    for function in [
        "SessionRecorderFunction",
        "TranscriptScannerFunction",
        "SessionReaperFunction",
    ] {
        required.push(("Errors", format!("!Ref {function}")));
    }
    for queue in ["Recorder", "Scanner", "Reaper"] {
        required.push((
            "ApproximateNumberOfMessagesVisible",
            format!("!GetAtt {queue}DeadLetterQueue.QueueName"),
        ));
    }
    for function in ["session-recorder", "transcript-scanner", "session-reaper"] {
        required.push(("RejectedInputs", function.to_string()));
    }
    required.push(("RulePackErrors", "transcript-scanner".to_string()));
    let missing: Vec<_> = required
        .iter()
        .filter(|(metric, value)| !alarmed.contains(&(metric.to_string(), value.clone())))
        .collect();
    assert!(
        missing.is_empty(),
        "no alarm notifying AlertTopic watches {missing:?}; alarmed: {alarmed:#?}"
    );
}

#[test]
fn an_alarm_without_the_topic_is_not_counted() {
    let template = "Resources:\n  Quiet:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      \
                    MetricName: RulePackErrors\n      Dimensions:\n        - Name: Function\n          \
                    Value: transcript-scanner\n  Loud:\n    Type: AWS::CloudWatch::Alarm\n    \
                    Properties:\n      MetricName: Errors\n      Dimensions:\n        - Name: F\n          \
                    Value: x\n      AlarmActions:\n        - !Ref AlertTopic\n";
    assert_eq!(
        alarmed_metrics(template),
        BTreeSet::from([("Errors".to_string(), "x".to_string())])
    );
}
