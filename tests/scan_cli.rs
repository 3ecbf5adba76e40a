//! `warden scan` and `warden events` as a user runs them.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn warden(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The objects `--format json` printed before its closing summary, which says it scanned.
fn findings(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut objects = json_lines(output);
    let summary = objects.pop().expect("a closing summary");
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(summary["status"], "scanned", "{summary}");
    objects
}

/// Exit status for input read but holding nothing recognisable.
const NOTHING_RECOGNISED: i32 = 3;

fn rule_ids(findings: &[Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect()
}

#[test]
fn a_plain_transcript_on_standard_input_is_scanned_with_line_numbers() {
    let text =
        b"[ec2-user@ip-10-0-0-1 ~]$ ls\nREADME.md\n[ec2-user@ip-10-0-0-1 ~]$ sudo rm -rf /\n";
    let found = findings(&warden(&["scan", "--format", "json", "-"], Some(text)));
    assert_eq!(rule_ids(&found), ["destructive.rm_system_path"]);
    let f = &found[0];
    assert_eq!(f["line"], 3);
    assert_eq!(f["command"], "sudo rm -rf /");
    assert_eq!(f["normalized"], "rm -rf /");
    assert_eq!(f["category"], "destructive");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["action"], "terminate");
}

#[test]
fn a_subscription_event_counts_lines_across_its_log_events() {
    let path = format!("{EVENTS}/2-transcripts/22-obfuscated-stream.json");
    let found = findings(&warden(&["scan", "--format", "json", &path], None));
    let lines: Vec<u64> = found.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5], "{found:#?}");
    assert_eq!(
        rule_ids(&found),
        [
            "defense_evasion.shell_history",
            "remote_exec_c2.download_execute",
            "defense_evasion.log_wipe",
            "destructive.rm_system_path",
            "destructive.rm_system_path",
        ]
    );
}

#[test]
fn streaming_records_one_per_line_are_recognised() {
    let record =
        std::fs::read_to_string(format!("{FIXTURES}/ssm-session-stream-record-linux.json"))
            .unwrap();
    let compact: Value = serde_json::from_str(&record).unwrap();
    let input = format!(
        "{compact}\n{}\n",
        compact
            .to_string()
            .replace("sh-4.2$ date", "sh-4.2$ history -c")
    );
    let output = warden(&["scan", "-"], Some(input.as_bytes()));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 finding in a streaming records"), "{text}");
    assert!(text.contains("defense_evasion.shell_history"), "{text}");
}

#[test]
fn the_benign_sample_is_quiet() {
    let path = format!("{EVENTS}/2-transcripts/20-benign-admin-stream.json");
    assert!(findings(&warden(&["scan", "--format", "json", &path], None)).is_empty());
}

#[test]
fn an_upload_at_end_transcript_with_escapes_is_scanned() {
    let path = format!("{EVENTS}/2-transcripts/src/upload-at-end.txt");
    let found = findings(&warden(&["scan", "--format", "json", &path], None));
    assert_eq!(
        rule_ids(&found),
        [
            "privilege_escalation.root_shell",
            "credential_access.shadow_file",
            "defense_evasion.stop_ssm_agent"
        ]
    );
}

#[test]
fn a_custom_pack_can_disable_a_default_rule() {
    let dir = std::env::temp_dir().join(format!("warden-scan-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pack = dir.join("custom.toml");
    std::fs::write(&pack, "disable = [\"destructive.rm_system_path\"]\n").unwrap();
    let found = findings(&warden(
        &[
            "scan",
            "--format",
            "json",
            "--rules",
            pack.to_str().unwrap(),
            "-",
        ],
        Some(b"sh-5.2$ rm -rf /\n"),
    ));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_broken_rule_pack_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("warden-scan-bad-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pack = dir.join("bad.toml");
    std::fs::write(&pack, "[[rule]]\nid = \"x\"\n").unwrap();
    let output = warden(&["scan", "--rules", pack.to_str().unwrap(), "-"], Some(b""));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.toml"));
}

#[test]
fn a_corrupt_subscription_event_is_a_clear_error() {
    let output = warden(
        &["scan", "-"],
        Some(br#"{"awslogs": {"data": "bm90IGd6aXA="}}"#),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid gzip"));
}

#[test]
fn the_transcript_samples_are_what_warden_events_makes_from_their_sources() {
    let out = std::env::temp_dir().join(format!("warden-events-{}", std::process::id()));
    let status = Command::new(format!(
        "{}/scripts/make-transcript-events",
        env!("CARGO_MANIFEST_DIR")
    ))
    .arg(&out)
    .env("WARDEN", env!("CARGO_BIN_EXE_warden"))
    .status()
    .unwrap();
    assert!(status.success());
    for entry in std::fs::read_dir(&out).unwrap() {
        let made = entry.unwrap().path();
        let name = made.file_name().unwrap().to_str().unwrap().to_string();
        let committed = std::fs::read_to_string(format!("{EVENTS}/2-transcripts/{name}")).unwrap();
        // gzip output may differ between library versions: compare what the events decode to.
        let decode = |text: &str| {
            let event: Value = serde_json::from_str(text).unwrap();
            warden_core::transcript::payload::decode_subscription(&event, 1 << 24).unwrap()
        };
        assert_eq!(
            decode(&std::fs::read_to_string(&made).unwrap()),
            decode(&committed),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn lines_says_how_every_line_was_read_between_the_findings() {
    let transcript = "$ ls\nnotes.txt\n$ PS1=''\nrm -rf /\n";
    let output = warden(
        &["scan", "--lines", "--format", "json", "-"],
        Some(transcript.as_bytes()),
    );
    let objects = findings(&output);
    let lines: Vec<(&str, &str)> = objects
        .iter()
        .filter(|o| o["type"] == "line")
        .map(|o| (o["kind"].as_str().unwrap(), o["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            ("command", "$ ls"),
            ("output", "notes.txt"),
            ("command", "$ PS1=''"),
            ("candidate", "rm -rf /"),
        ]
    );
    let fired: Vec<(&str, u64)> = objects
        .iter()
        .filter(|o| o["type"] == "finding")
        .map(|o| (o["rule_id"].as_str().unwrap(), o["line"].as_u64().unwrap()))
        .collect();
    assert!(
        fired.contains(&("defense_evasion.prompt_hidden", 3)),
        "{fired:?}"
    );
    assert!(
        fired.contains(&("destructive.rm_system_path", 4)),
        "{fired:?}"
    );
    let candidate = objects.iter().find(|o| o["kind"] == "candidate").unwrap();
    let why = candidate["why"].as_str().unwrap();
    assert!(why.contains("hidden on line 3"), "{why}");
}

#[test]
fn the_summary_says_how_many_lines_and_commands_were_read() {
    let path = format!("{EVENTS}/2-transcripts/21-forbidden-reverse-shell-stream.json");
    let output = warden(&["scan", &path], None);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(
            "2 findings in a CloudWatch Logs subscription event: 5 lines, 3 commands read ("
        ),
        "{text}"
    );
    assert!(last.ends_with(" rules)"), "{text}");
    let output = warden(&["scan", "--format", "json", &path], None);
    let summary = json_lines(&output).pop().unwrap();
    assert_eq!(summary["lines"], 5);
    assert_eq!(summary["commands"], 3);
    assert_eq!(summary["findings"], 2);
    assert_eq!(summary["input"], "CloudWatch Logs subscription event");
    assert_eq!(summary["problem"], Value::Null);
}

/// Runs `warden scan ARGS` with standard input from /dev/null.
fn warden_from_dev_null(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .stdin(std::fs::File::open("/dev/null").unwrap())
        .output()
        .expect("warden runs")
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-scan-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Exits 3, prints nothing on standard output and says why on standard error.
fn nothing_scanned(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(NOTHING_RECOGNISED), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stderr.starts_with("warden: nothing scanned: "), "{stderr}");
    assert!(!stderr.contains("0 findings"), "{stderr}");
    stderr
}

#[test]
fn an_empty_file_is_not_reported_as_zero_findings() {
    let path = temp_file("empty.txt", b"");
    let stderr = nothing_scanned(&warden(&["scan", path.to_str().unwrap()], None));
    assert!(
        stderr.contains(
            "empty.txt is empty (0 lines, 0 commands read); expected a plain text transcript"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("streaming records (one JSON object per line"),
        "{stderr}"
    );
    assert!(
        stderr.contains("or a CloudWatch Logs subscription event"),
        "{stderr}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn standard_input_from_dev_null_is_not_reported_as_zero_findings() {
    let stderr = nothing_scanned(&warden_from_dev_null(&["scan"]));
    assert!(
        stderr.contains("standard input is empty (0 lines, 0 commands read)"),
        "{stderr}"
    );
    let blank = nothing_scanned(&warden(&["scan", "-"], Some(b"\n \n\t\n")));
    assert!(
        blank.contains("standard input holds only blank space (3 lines, 0 commands read)"),
        "{blank}"
    );
}

/// A fixed pseudo-random sequence, so a test reads the same bytes every time.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_starting_like_json_are_not_text_either() {
    let mut bytes = b"{".to_vec();
    bytes.extend(random_bytes(65536));
    let path = temp_file("random-brace.bin", &bytes);
    let stderr = nothing_scanned(&warden(&["scan", path.to_str().unwrap()], None));
    assert!(
        stderr.contains("random-brace.bin is not text: "),
        "{stderr}"
    );
}

#[test]
fn random_bytes_are_not_text() {
    let path = temp_file("random.bin", &random_bytes(65536));
    let stderr = nothing_scanned(&warden(&["scan", path.to_str().unwrap()], None));
    assert!(stderr.contains("random.bin is not text: "), "{stderr}");
    assert!(
        stderr.contains("characters are invalid UTF-8 or control codes ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected a plain text transcript"),
        "{stderr}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn text_without_a_shell_prompt_is_not_a_transcript() {
    let stderr = nothing_scanned(&warden(
        &["scan", "-"],
        Some(b"Dear diary,\ntoday nothing happened.\n"),
    ));
    assert!(
        stderr.contains(
            "standard input holds no command typed at a shell prompt, read as a plain transcript (2 lines, 0 commands read): not a transcript, or a session where nothing was typed"
        ),
        "{stderr}"
    );
    let path = format!("{EVENTS}/1-cloudtrail/01-start-role-with-mfa.json");
    let stderr = nothing_scanned(&warden(&["scan", &path], None));
    assert!(
        stderr.contains(
            "is JSON, but neither streaming records nor a CloudWatch Logs subscription event"
        ),
        "{stderr}"
    );
}

#[test]
fn a_control_message_holds_no_transcript() {
    let path = format!("{EVENTS}/2-transcripts/24-control-message.json");
    let stderr = nothing_scanned(&warden(&["scan", &path], None));
    assert!(
        stderr.contains("is a CloudWatch Logs control message, which holds no transcript"),
        "{stderr}"
    );
}

#[test]
fn json_output_always_ends_with_a_summary_even_when_nothing_was_read() {
    let output = warden_from_dev_null(&["scan", "--format", "json"]);
    assert_eq!(output.status.code(), Some(NOTHING_RECOGNISED));
    let objects = json_lines(&output);
    assert_eq!(objects.len(), 1, "{objects:?}");
    let summary = &objects[0];
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["status"], "empty");
    assert_eq!(summary["lines"], 0);
    assert_eq!(summary["commands"], 0);
    assert_eq!(summary["findings"], 0);
    assert!(
        summary["problem"]
            .as_str()
            .unwrap()
            .contains("standard input is empty"),
        "{summary}"
    );
    // The reason is on standard error too, for a reader of the terminal.
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing scanned"));
}

/// `warden scan` with extra environment variables.
fn warden_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden runs");
    let mut input = child.stdin.take().unwrap();
    // Written from a thread: warden prints while it reads, so neither side may wait on the other.
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

#[test]
fn a_long_text_transcript_is_read_in_pieces_with_lines_counted_across_them() {
    // Well past one read (256 KiB), with a multi-byte character on every line, so the reads end
    // inside characters and inside lines; and an invalid byte, which is shown, not refused.
    let mut text = Vec::new();
    let mut line = 0;
    while text.len() < 1_200_000 {
        text.extend_from_slice(
            "[ec2-user@ip-10-0-0-1 ~]$ echo héllo wörld ✓\nhéllo wörld ✓\n".as_bytes(),
        );
        line += 2;
    }
    text.extend_from_slice(b"caf\xe9\n[ec2-user@ip-10-0-0-1 ~]$ sudo rm -rf /\n");
    let found = findings(&warden_env(&["scan", "--format", "json", "-"], &text, &[]));
    assert_eq!(rule_ids(&found), ["destructive.rm_system_path"]);
    assert_eq!(found[0]["line"], line + 2);
    assert_eq!(found[0]["command"], "sudo rm -rf /");
}

#[test]
fn streaming_records_are_read_one_line_at_a_time() {
    let record = |lines: &[&str]| serde_json::json!({ "sessionData": lines }).to_string();
    let mut input = String::from("\n");
    for _ in 0..5_000 {
        input.push_str(&record(&["sh-5.2$ ls", "notes.txt"]));
        input.push('\n');
    }
    input.push_str(&record(&["sh-5.2$ history -c"]));
    input.push('\n');
    let output = warden_env(&["scan", "--format", "json", "-"], input.as_bytes(), &[]);
    let found = findings(&output);
    assert_eq!(rule_ids(&found), ["defense_evasion.shell_history"]);
    assert_eq!(found[0]["line"], 10_001);
    let output = warden_env(&["scan", "-"], input.as_bytes(), &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 finding in a streaming records"), "{text}");
}

#[test]
fn a_subscription_event_is_held_to_the_lambdas_decompression_cap() {
    use warden_core::transcript::payload::{LogEvent, LogsBatch, encode_subscription};
    // 300 KB of transcript in one event: within the default cap, over a 64 KiB one.
    let mut message = "sh-5.2$ ls\nnotes.txt\n".repeat(15_000);
    message.push_str("sh-5.2$ history -c\n");
    let batch = LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: "111122223333".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: "alice-0123456789abcdef0".into(),
        subscription_filters: vec!["warden".into()],
        log_events: vec![LogEvent {
            id: "1".into(),
            timestamp: 1_764_000_000_000,
            message,
        }],
    };
    let event = encode_subscription(&batch).to_string();
    let found = findings(&warden_env(
        &["scan", "--format", "json", "-"],
        event.as_bytes(),
        &[],
    ));
    assert_eq!(rule_ids(&found), ["defense_evasion.shell_history"]);

    let capped = [("WARDEN_MAX_TRANSCRIPT_BYTES", "65536")];
    let output = warden_env(&["scan", "-"], event.as_bytes(), &capped);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("inflates beyond the 65536-byte cap"),
        "{stderr}"
    );
    // The decoded batch is held to the same cap.
    let decoded = serde_json::to_string(&batch).unwrap();
    let output = warden_env(&["scan", "-"], decoded.as_bytes(), &capped);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("65536-byte cap"));

    let output = warden_env(
        &["scan", "-"],
        event.as_bytes(),
        &[("WARDEN_MAX_TRANSCRIPT_BYTES", "lots")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("WARDEN_MAX_TRANSCRIPT_BYTES"));
}

#[test]
fn a_streaming_record_longer_than_the_cap_is_refused() {
    let record = serde_json::json!({ "sessionData": ["sh-5.2$ ls"] }).to_string();
    let long = serde_json::json!({ "sessionData": ["x".repeat(70_000)] }).to_string();
    let input = format!("{record}\n{long}\n");
    let output = warden_env(
        &["scan", "-"],
        input.as_bytes(),
        &[("WARDEN_MAX_TRANSCRIPT_BYTES", "65536")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2 is longer than the 65536-byte cap"),
        "{stderr}"
    );
}

/// Standard error on a pseudo-terminal (as when a person runs `warden scan big.log > out`), and
/// everything written there once the scan ended.
fn stderr_on_a_terminal(args: &[&str]) -> (Output, String) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the integers given; nothing else is read.
    let status = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "a pseudo-terminal");
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (leader, follower) =
        unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    let child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(follower))
        .spawn()
        .expect("warden runs");
    let output = child.wait_with_output().unwrap();
    // The child has exited: what it wrote is buffered in the terminal, then reading fails (EIO).
    let mut terminal = std::fs::File::from(leader);
    let mut written = Vec::new();
    let mut buf = [0; 4096];
    while let Ok(n) = terminal.read(&mut buf) {
        if n == 0 {
            break;
        }
        written.extend_from_slice(&buf[..n]);
    }
    (output, String::from_utf8_lossy(&written).into_owned())
}

#[test]
fn a_scan_with_its_output_redirected_shows_progress_on_the_terminal_and_erases_it() {
    let path = format!("{FIXTURES}/ssm-transcript-upload-at-end-linux.txt");
    let (output, terminal) = stderr_on_a_terminal(&["scan", &path]);
    assert!(output.status.success(), "{terminal}");
    let size = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    assert!(
        terminal.contains(&format!("scanning {size:.1}/{size:.1} MB (100%)")),
        "{terminal:?}"
    );
    assert!(
        terminal.ends_with("\r\x1b[K"),
        "erased at the end: {terminal:?}"
    );
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("in a plain transcript"), "{summary}");
}

#[test]
fn a_scan_into_a_pipe_draws_no_progress_line() {
    let path = format!("{FIXTURES}/ssm-transcript-upload-at-end-linux.txt");
    let output = warden(&["scan", &path], None);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains('\r') && !err.contains("scanning "), "{err}");
}
