//! `warden events`: the events it makes are the ones the functions take, replayed end to end.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("WARDEN_EXEMPT_PRINCIPALS")
        .env_remove("WARDEN_ALERT_FORMAT")
        .output()
        .expect("warden runs")
}

/// Runs `warden events ARGS` and writes what it printed to `dir/name`.
fn make(dir: &Path, name: &str, args: &[&str]) {
    let mut full = vec!["events"];
    full.extend_from_slice(args);
    let out = warden(&full);
    assert!(
        out.status.success(),
        "{full:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join(name), &out.stdout).unwrap();
}

/// A fresh folder for one test's events.
fn folder(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-events-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lines_of_type(out: &Output, kind: &str) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == kind)
        .collect()
}

#[test]
fn a_session_made_to_order_is_recorded_flagged_and_ended() {
    let dir = folder("session");
    let d = dir.as_path();
    let id = "zoe-0a1b2c3d4e5f60718";
    make(
        d,
        "1-start.json",
        &[
            "session",
            "--name",
            "zoe",
            "--session-id",
            id,
            "--mfa",
            "false",
            "--time",
            "2026-11-28T23:30:00Z",
            "--reason",
            "INC-9",
        ],
    );
    make(
        d,
        "2-terminate.json",
        &[
            "session",
            "--call",
            "terminate",
            "--name",
            "zoe",
            "--session-id",
            id,
            "--time",
            "2026-11-28T23:45:00Z",
        ],
    );
    let out = warden(&["replay", "--format", "json", d.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sessions = lines_of_type(&out, "session");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["session_id"], id);
    assert_eq!(sessions[0]["state"], "terminated");
    assert_eq!(sessions[0]["reason"], "INC-9");
    assert_eq!(
        sessions[0]["flags"],
        serde_json::json!(["no_mfa", "off_hours"])
    );
}

#[test]
fn a_reaper_run_made_to_order_finds_a_session_cloudtrail_never_showed() {
    let dir = folder("reaper");
    let d = dir.as_path();
    make(
        d,
        "1-directory.json",
        &[
            "describe-sessions",
            "--session",
            "yuri-0123456789abcdef0,i-0c4d5e6f7a8b90123,arn:aws:sts::111122223333:assumed-role/Admin/yuri,2026-11-28T22:00:00Z",
        ],
    );
    make(
        d,
        "2-schedule.json",
        &["schedule", "--time", "2026-11-29T00:00:00Z"],
    );
    let out = warden(&["replay", "--format", "json", d.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kinds: Vec<String> = lines_of_type(&out, "alert")
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.contains(&"unrecorded_session".to_string()),
        "{kinds:?}"
    );
}

#[test]
fn a_bad_describe_sessions_spec_says_what_it_expected() {
    let out = warden(&["events", "describe-sessions", "--session", "yuri-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SESSION_ID,TARGET,OWNER_ARN,START_TIME"),
        "{err}"
    );
}
