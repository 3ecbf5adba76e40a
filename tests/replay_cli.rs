//! `warden replay` as a user runs it: the real binary on the sample events, no AWS account.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("WARDEN_EXEMPT_PRINCIPALS")
        .output()
        .expect("warden runs")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

fn alerts_by_session(lines: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in of_type(lines, "alert") {
        map.entry(a["session_id"].as_str().unwrap().to_string())
            .or_default()
            .insert(a["kind"].as_str().unwrap().to_string());
    }
    map
}

#[test]
fn replaying_the_samples_shows_each_risky_start() {
    let out = warden(&[
        "replay",
        "--format",
        "json",
        &format!("{EVENTS}/1-cloudtrail"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = alerts_by_session(&json_lines(&out));
    let kinds = |prefix: &str| -> Vec<String> {
        alerts
            .iter()
            .find(|(id, _)| id.starts_with(prefix))
            .map(|(_, k)| k.iter().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(kinds("alice-"), Vec::<String>::new());
    assert_eq!(kinds("bob-"), ["no_mfa"]);
    assert_eq!(kinds("carol-"), ["off_hours"]);
    assert_eq!(kinds("dana@"), Vec::<String>::new());
    assert_eq!(kinds("deploy-bot-"), ["no_mfa"]);
    assert_eq!(kinds("111122223333-"), ["root_user"]);
    assert_eq!(kinds("erin-"), ["tunnel"]);
    assert_eq!(kinds("frank-"), ["tunnel"]);
    assert_eq!(kinds("denied:"), ["denied_start"]);
    assert_eq!(kinds("heidi-"), ["no_mfa"]);
    assert_eq!(kinds("nightly-patching-"), ["no_mfa", "off_hours"]);
}

#[test]
fn sessions_end_in_the_state_their_events_imply() {
    let out = warden(&[
        "replay",
        "--format",
        "json",
        &format!("{EVENTS}/1-cloudtrail"),
    ]);
    let lines = json_lines(&out);
    let sessions: BTreeMap<&str, &Value> = of_type(&lines, "session")
        .into_iter()
        .map(|s| (s["session_id"].as_str().unwrap(), s))
        .collect();
    assert_eq!(sessions.len(), 13);
    let state = |id: &str| sessions[id]["state"].as_str().unwrap();
    assert_eq!(state("alice-ea1181f76f3adcbdc"), "active");
    assert_eq!(state("bob-2731a0ce76f67ca89"), "terminated");
    assert_eq!(state("ivan-e83a5cd9061e6da8e"), "terminated");
    assert_eq!(sessions["alice-ea1181f76f3adcbdc"]["mfa"], true);
    assert_eq!(sessions["bob-2731a0ce76f67ca89"]["mfa"], false);
    assert_eq!(sessions["deploy-bot-e99112cc31280d689"]["mfa"], "unknown");
    assert_eq!(
        sessions["nightly-patching-1668559b165d29e96"]["flags"],
        serde_json::json!(["no_mfa", "off_hours"])
    );
}

#[test]
fn replaying_everything_twice_alerts_once() {
    let once = json_lines(&warden(&["replay", "--format", "json", EVENTS]));
    let twice = json_lines(&warden(&["replay", "--format", "json", EVENTS, EVENTS]));
    assert_eq!(
        of_type(&once, "alert").len(),
        of_type(&twice, "alert").len()
    );
    assert_eq!(of_type(&once, "session"), of_type(&twice, "session"));
}

#[test]
fn a_terminate_action_is_reported_as_a_dry_run() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "replay",
            "--format",
            "json",
            &format!("{EVENTS}/1-cloudtrail/08-start-root.json"),
        ])
        .env("WARDEN_FLAG_ACTIONS", "root_user=terminate")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    let lines = json_lines(&out);
    let terminations = of_type(&lines, "termination");
    assert_eq!(terminations.len(), 1);
    assert_eq!(terminations[0]["reason"], "root_user");
    assert_eq!(terminations[0]["dry_run"], true);
    assert_eq!(of_type(&lines, "session")[0]["state"], "active");
}

#[test]
fn exempt_principals_are_silenced_by_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "replay",
            "--format",
            "json",
            &format!("{EVENTS}/1-cloudtrail/13-start-scheduled-automation.json"),
        ])
        .env(
            "WARDEN_EXEMPT_PRINCIPALS",
            "arn:aws:sts::111122223333:assumed-role/Batch/*",
        )
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(of_type(&json_lines(&out), "alert").is_empty());
}

#[test]
fn json_output_ends_with_a_summary_that_adds_up_the_lines_before_it() {
    let lines = json_lines(&warden(&["replay", "--format", "json", EVENTS]));
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(of_type(&lines, "summary").len(), 1);
    let count = |kind: &str| of_type(&lines, kind).len();
    let applied = of_type(&lines, "recorded")
        .iter()
        .filter(|r| r["applied"] == true)
        .count();
    assert_eq!(summary["events"], 25);
    assert_eq!(summary["recorded"], applied);
    assert_eq!(summary["duplicates"], count("recorded") - applied);
    assert_eq!(summary["transcript_batches"], count("scanned"));
    assert_eq!(summary["findings"], count("finding"));
    assert_eq!(summary["reaper_runs"], count("reaper_run"));
    assert_eq!(summary["ignored"], count("ignored"));
    assert_eq!(summary["rejected"], count("rejected"));
    assert_eq!(summary["alerts"], count("alert"));
    assert_eq!(summary["terminations"], count("termination"));
    assert_eq!(summary["sessions"], count("session"));
    assert_eq!(summary["unread"], count("unread"));
    assert_eq!(summary["dry_run"], true);
}

#[test]
fn human_output_has_a_line_per_event_and_a_summary() {
    let out = warden(&["replay", EVENTS]);
    let text = String::from_utf8_lossy(&out.stdout);
    // The finding, alert and termination counts follow the rule pack; the event counts do not.
    assert!(
        text.contains("25 events: 17 recorded, 0 duplicates, 6 transcript batches ("),
        "{text}"
    );
    assert!(
        text.contains("1 reaper runs, 0 ignored, 0 rejected;"),
        "{text}"
    );
    assert!(text.contains("terminations (dry run)"), "{text}");
    assert!(
        text.contains("ALERT [CRITICAL] Root user started a session"),
        "{text}"
    );
}

#[test]
fn a_broken_event_file_is_reported_and_fails_the_run_without_stopping_it() {
    let dir = std::env::temp_dir().join(format!("warden-replay-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a-broken.json"), "{\"detail\": ").unwrap();
    std::fs::write(
        dir.join("b-wrong-shape.json"),
        "{\"detail\": {\"eventName\": \"StartSession\"}}",
    )
    .unwrap();
    std::fs::copy(
        format!("{EVENTS}/1-cloudtrail/03-start-role-without-mfa.json"),
        dir.join("c-good.json"),
    )
    .unwrap();
    let out = warden(&["replay", "--format", "json", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    let rejected = of_type(&lines, "rejected");
    assert_eq!(rejected.len(), 2);
    assert!(rejected[0]["error"].as_str().unwrap().contains("not JSON"));
    assert!(
        rejected[1]["error"].as_str().unwrap().contains("eventID"),
        "{}",
        rejected[1]
    );
    assert_eq!(of_type(&lines, "alert").len(), 1);
}

#[test]
fn a_missing_path_is_a_clear_error() {
    let out = warden(&["replay", "/no/such/events"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/no/such/events: no such file or folder")
    );
}

#[test]
fn bad_configuration_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["replay", EVENTS])
        .env("WARDEN_BUSINESS_HOURS", "weekdays")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARDEN_BUSINESS_HOURS"));
}

#[test]
fn state_file_lets_sessions_be_listed_and_shown_after_a_replay() {
    let state = std::env::temp_dir().join(format!("warden-state-cli-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let out = warden(&["replay", "--state", state.to_str().unwrap(), EVENTS]);
    assert!(out.status.success());
    let listed = warden(&[
        "sessions",
        "list",
        "--active",
        "--format",
        "json",
        "--state",
        state.to_str().unwrap(),
    ]);
    let active = json_lines(&listed);
    assert!(active.iter().all(|s| s["state"] == "active"));
    // After the reaper run: carol, dana, erin and mallory are still open, and judy and oscar
    // (a member account's session, events/4-organization) started after it ran.
    assert_eq!(active.len(), 6);
    let shown = warden(&[
        "sessions",
        "show",
        "bob-2731a0ce76f67ca89",
        "--state",
        state.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&shown.stdout);
    // Text only: labelled lines, not the record's JSON.
    assert!(
        text.starts_with("session     bob-2731a0ce76f67ca89\n"),
        "{text}"
    );
    assert!(text.contains("\nstate       terminated\n"), "{text}");
    assert!(!text.contains('{'), "{text}");
    // Whether each alert went out: bob's no_mfa alert was sent during the replay.
    assert!(text.contains("ALERTS\n  no_mfa "), "{text}");
    assert!(text.contains(" sent 2"), "{text}");
    let shown = warden(&[
        "sessions",
        "show",
        "bob-2731a0ce76f67ca89",
        "--format",
        "json",
        "--state",
        state.to_str().unwrap(),
    ]);
    // JSON only: one object, nothing after it.
    let value: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(value["state"], "terminated");
    assert_eq!(value["alerts"][0]["kind"], "no_mfa");
    assert_eq!(value["alerts"][0]["state"], "sent");
    assert!(value["alerts"][0]["at"].as_str().is_some(), "{value}");
    let quiet = warden(&[
        "sessions",
        "show",
        "alice-ea1181f76f3adcbdc",
        "--state",
        state.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("\n\nno alerts"));
    let missing = warden(&[
        "sessions",
        "show",
        "nobody-1",
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    std::fs::remove_file(&state).unwrap();
}

#[test]
fn sessions_from_a_state_file_that_does_not_exist_is_an_error() {
    let missing =
        std::env::temp_dir().join(format!("warden-no-such-state-{}.json", std::process::id()));
    let missing = missing.to_str().unwrap();
    for args in [
        &["sessions", "list", "--state", missing][..],
        &["sessions", "list", "--format", "json", "--state", missing][..],
        &["sessions", "show", "alice-0", "--state", missing][..],
    ] {
        let out = warden(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no empty table");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "warden: {missing}: no such state file (`warden replay --state FILE` writes one)"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn a_dead_lettered_invocation_record_replays_its_event() {
    let dir = std::env::temp_dir().join(format!("warden-replay-dlq-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample = format!(
        "{}/tests/fixtures/lambda-async-onfailure-invocation-record.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{EVENTS}/1-cloudtrail/03-start-role-without-mfa.json"
        ))
        .unwrap(),
    )
    .unwrap();
    record["requestPayload"] = event;
    std::fs::write(dir.join("dead-letter.json"), record.to_string()).unwrap();
    let out = warden(&["replay", "--format", "json", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success());
    let alerts = alerts_by_session(&json_lines(&out));
    assert_eq!(
        alerts["bob-2731a0ce76f67ca89"].iter().collect::<Vec<_>>(),
        ["no_mfa"]
    );
}

#[test]
fn replaying_the_transcripts_shows_findings_and_a_dry_run_termination() {
    let lines = json_lines(&warden(&["replay", "--format", "json", EVENTS]));
    let findings = of_type(&lines, "finding");
    let of_session = |prefix: &str| -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f["session_id"].as_str().unwrap().starts_with(prefix))
            .map(|f| f["rule_id"].as_str().unwrap())
            .collect()
    };
    assert!(
        of_session("alice-").is_empty(),
        "the benign session is quiet"
    );
    assert_eq!(
        of_session("carol-"),
        [
            "credential_access.instance_role_credentials",
            "remote_exec_c2.reverse_shell"
        ]
    );
    let terminations = of_type(&lines, "termination");
    let carol = terminations
        .iter()
        .find(|t| t["session_id"] == "carol-5e48b7f8b97acc971")
        .expect("carol's session is terminated");
    assert_eq!(carol["reason"], "rule:remote_exec_c2.reverse_shell");
    assert_eq!(carol["dry_run"], true);
    let alert = of_type(&lines, "alert")
        .into_iter()
        .find(|a| a["rule_id"] == "remote_exec_c2.reverse_shell")
        .expect("an alert names the rule");
    assert_eq!(alert["kind"], "finding");
}

#[test]
fn a_reaper_run_closes_ended_sessions_with_the_api_end_time_and_flags_the_unlogged() {
    let lines = json_lines(&warden(&["replay", "--format", "json", EVENTS]));
    let sessions: BTreeMap<&str, &Value> = of_type(&lines, "session")
        .into_iter()
        .map(|s| (s["session_id"].as_str().unwrap(), s))
        .collect();
    let alice = sessions["alice-ea1181f76f3adcbdc"];
    assert_eq!(alice["state"], "ended");
    assert_eq!(alice["ended_at"], "2026-11-23T10:02:19Z");
    assert_eq!(
        sessions["bob-2731a0ce76f67ca89"]["state"], "terminated",
        "CloudTrail's termination stands"
    );
    assert_eq!(sessions["carol-5e48b7f8b97acc971"]["state"], "active");
    let unrecorded = of_type(&lines, "unrecorded");
    assert_eq!(unrecorded.len(), 1);
    assert_eq!(unrecorded[0]["session_id"], "mallory-5b0c3e1f9a7d24e68");
    let no_transcript: BTreeSet<&str> = of_type(&lines, "alert")
        .into_iter()
        .filter(|a| a["kind"] == "no_transcript")
        .map(|a| a["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        no_transcript,
        BTreeSet::from([
            "dana@example.com-f4ea9117e51cd4d87",
            "mallory-5b0c3e1f9a7d24e68"
        ])
    );
}

#[test]
fn a_describe_sessions_file_needs_an_in_process_replay() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "replay",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--table",
            "t",
            "--topic-arn",
            "arn:aws:sns:eu-west-1:1:t",
            &format!("{EVENTS}/3-reaper/30-describe-sessions.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("only applies to an in-process replay"));
}

#[test]
fn json_output_has_a_line_for_every_event_even_without_alerts() {
    let out = warden(&[
        "replay",
        "--format",
        "json",
        &format!("{EVENTS}/1-cloudtrail/01-start-role-with-mfa.json"),
        &format!("{EVENTS}/2-transcripts/20-benign-admin-stream.json"),
        &format!("{EVENTS}/2-transcripts/24-control-message.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert!(of_type(&lines, "alert").is_empty());
    let recorded = of_type(&lines, "recorded");
    assert_eq!(recorded.len(), 1, "{lines:?}");
    assert_eq!(recorded[0]["session_id"], "alice-ea1181f76f3adcbdc");
    assert_eq!(recorded[0]["call"], "StartSession");
    assert_eq!(recorded[0]["applied"], true);
    assert_eq!(recorded[0]["state"], "active");
    assert_eq!(recorded[0]["alerts"], 0);
    assert!(
        recorded[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("01-start-role-with-mfa.json")
    );
    let scanned = of_type(&lines, "scanned");
    assert_eq!(scanned.len(), 2, "{lines:?}");
    assert_eq!(scanned[0]["control_message"], false);
    assert_eq!(scanned[0]["findings"], 0);
    assert!(scanned[0]["lines"].as_u64().unwrap() > 0);
    assert_eq!(scanned[1]["control_message"], true);
    assert_eq!(scanned[1]["session_id"], Value::Null);
}

#[test]
fn replay_draws_no_progress_line_into_a_pipe() {
    let out = warden(&["replay", EVENTS]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\r') && !err.contains("replaying "), "{err}");
}
