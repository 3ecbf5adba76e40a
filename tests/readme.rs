//! The README against the program: runs the commands it documents and compares what they print
//! with what it shows, so neither can change without the other.
//!
//! - the first command, `cargo run -- replay events/`, taken from the README's "Two commands"
//!   block: every line of the README's sample output appears in the output, in order (`...`
//!   stands for lines left out), and the summary line is the same;
//! - `replay --format json`: the JSON line types and their fields are those of the README's table;
//! - `scan --format json`: its closing summary object has the fields the README lists;
//! - the subcommands, the size of the default rule pack and the Rust version it names.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md")
}

/// The warden binary, from the repository root (where the README's commands run), with no
/// configuration from the environment that would change what the samples print.
fn warden(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.args(args).current_dir(ROOT);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("WARDEN_") || name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command.output().expect("warden runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text of the first fenced block that follows `after` in the README.
fn block_after<'a>(readme: &'a str, after: &str) -> &'a str {
    let start = readme
        .find(after)
        .unwrap_or_else(|| panic!("README.md no longer says {after:?}"));
    let rest = &readme[start..];
    let open = rest.find("\n```").expect("a fenced block follows") + 4;
    let body = rest[open..].find('\n').unwrap() + open + 1;
    let close = rest[body..].find("```").unwrap() + body;
    &rest[body..close]
}

/// The README's first command: the arguments after `cargo run --` on the `replay` line of its
/// "Two commands" section.
fn replay_command(readme: &str) -> Vec<String> {
    let start = readme
        .find("## Two commands\n")
        .expect("README.md has its Two commands section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let line = section
        .lines()
        .find(|l| l.starts_with("cargo run -- replay "))
        .unwrap_or_else(|| panic!("no `cargo run -- replay` line in:\n{section}"));
    let command = line.split('#').next().unwrap();
    command
        .split_whitespace()
        .skip(3)
        .map(str::to_string)
        .collect()
}

fn run_replay(args: &[String], extra: &[&str]) -> Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.splice(1..1, extra.iter().copied());
    warden(&all)
}

const SUMMARY_SHAPE: &str = " events: ";

#[test]
fn the_first_command_prints_what_the_readme_shows() {
    let readme = readme();
    let args = replay_command(&readme);
    assert_eq!(args, ["replay", "events/"], "the README's first command");
    let output = run_replay(&args, &[]);
    assert!(output.status.success(), "{output:?}");
    let printed = stdout(&output);
    let sample = block_after(&readme, "`replay` prints a line for each event");

    // The summary line, exactly.
    let summary = |text: &str| -> String {
        text.lines()
            .find(|l| l.contains(SUMMARY_SHAPE))
            .unwrap_or_else(|| panic!("no summary line in:\n{text}"))
            .to_string()
    };
    assert_eq!(
        summary(sample),
        summary(&printed),
        "README.md shows the first summary line, `cargo run -- replay events/` prints the second: \
         update the README's sample (or the program)"
    );

    // Every other line of the sample, in order.
    let mut lines = printed.lines();
    for shown in sample
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "...")
    {
        assert!(
            lines.any(|l| l.trim_end() == shown.trim_end()),
            "README.md's sample of `cargo run -- replay events/` shows\n{shown}\nwhich the \
             program does not print (or not in this order); it prints:\n{printed}"
        );
    }
}

/// `type` → fields, from the table under "`--format json` prints one object per line".
fn documented_json_lines(readme: &str) -> BTreeMap<String, BTreeSet<String>> {
    let start = readme
        .find("- `--format json` prints one object per line")
        .expect("README.md documents replay --format json");
    let mut table = BTreeMap::new();
    for row in readme[start..]
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("| `type`"))
        .skip(2)
        .take_while(|l| l.trim_start().starts_with('|'))
    {
        let cells: Vec<&str> = row.trim().trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 3, "{row}");
        // Parenthesised notes (the values `mfa` takes) are not fields.
        let mut fields_cell = String::new();
        let mut depth = 0;
        for c in cells[2].chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => fields_cell.push(c),
                _ => {}
            }
        }
        let fields = backticked(&fields_cell);
        for kind in backticked(cells[0]) {
            table.insert(kind, fields.clone());
        }
    }
    assert!(!table.is_empty(), "no JSON line table found in README.md");
    table
}

fn backticked(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A folder with an event replay rejects and one it ignores, so those lines are printed too.
fn unusable_events() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a-not-json.json"), "not JSON").unwrap();
    let start = Path::new(ROOT).join("events/1-cloudtrail/01-start-role-with-mfa.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(start).unwrap()).unwrap();
    event["detail"]["eventName"] = "SendCommand".into();
    std::fs::write(dir.join("b-not-a-session-call.json"), event.to_string()).unwrap();
    dir
}

#[test]
fn replay_json_prints_the_line_types_and_fields_the_readme_lists() {
    let readme = readme();
    let documented = documented_json_lines(&readme);
    let args = replay_command(&readme);
    let extra = unusable_events();
    let mut all = args.clone();
    all.push(extra.display().to_string());
    let output = run_replay(&all, &["--format", "json"]);
    std::fs::remove_dir_all(&extra).unwrap();
    let mut printed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let text = stdout(&output);
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let object = value.as_object().unwrap();
        let kind = object["type"].as_str().unwrap().to_string();
        let fields = object.keys().filter(|k| *k != "type").cloned().collect();
        let previous = printed.insert(kind.clone(), fields);
        if let Some(previous) = previous {
            assert_eq!(
                previous, printed[&kind],
                "`{kind}` lines differ in their fields"
            );
        }
    }
    assert_eq!(
        text.lines()
            .last()
            .map(|l| l.contains("\"type\":\"summary\"")),
        Some(true),
        "the last JSON line is the summary"
    );
    for (kind, fields) in &printed {
        let Some(listed) = documented.get(kind) else {
            panic!("replay --format json prints `{kind}` lines, which README.md does not list");
        };
        assert_eq!(
            listed, fields,
            "README.md lists these fields for `{kind}` lines (left); the program prints the right"
        );
    }
    // A session that cannot be read back needs a failing store, which the samples cannot make.
    let not_printed: Vec<&String> = documented
        .keys()
        .filter(|k| !printed.contains_key(*k))
        .collect();
    assert_eq!(
        not_printed,
        ["unread"],
        "README.md lists JSON line types replay does not print"
    );
}

#[test]
fn scan_json_ends_with_the_summary_fields_the_readme_lists() {
    let readme = readme();
    let start = readme
        .find("`{\"type\":\"summary\",")
        .expect("README.md documents scan's summary object");
    let end = readme[start + 1..].find('`').unwrap() + start + 1;
    let listed: BTreeSet<String> = readme[start + 1..end]
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(|f| f.split(':').next().unwrap().trim_matches('"').to_string())
        .collect();
    let output = warden(&[
        "scan",
        "--format",
        "json",
        "events/2-transcripts/21-forbidden-reverse-shell-stream.json",
    ]);
    let summary: Value = serde_json::from_str(stdout(&output).lines().last().unwrap()).unwrap();
    let printed: BTreeSet<String> = summary.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        listed, printed,
        "README.md (left) and scan's summary object"
    );
}

#[test]
fn the_status_table_names_every_subcommand() {
    let readme = readme();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `warden` CLI:"))
        .expect("the status table's CLI row");
    let listed: BTreeSet<String> = backticked(row)
        .into_iter()
        .filter(|c| c != "warden")
        .map(|c| c.split(' ').next().unwrap().to_string())
        .collect();
    let help = stdout(&warden(&["--help"]));
    let commands: BTreeSet<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .filter(|c| c != "help")
        .collect();
    assert_eq!(
        listed, commands,
        "README.md's status table and `warden --help`"
    );
}

#[test]
fn the_rule_count_is_the_default_packs() {
    let list = stdout(&warden(&["rules", "list"]));
    let last = list.lines().last().unwrap();
    let count = last
        .strip_suffix(" rules from rules/default.toml")
        .unwrap_or_else(|| panic!("rules list ends with {last:?}"));
    let readme = readme();
    for phrase in [
        format!("default pack of {count} rules"),
        format!("({count} rules over eight categories"),
    ] {
        assert!(
            readme.contains(&phrase),
            "README.md should say {phrase:?}: the default pack has {count} rules"
        );
    }
}

#[test]
fn the_rust_version_is_cargo_tomls() {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("Cargo.toml sets rust-version")
        .trim_matches('"');
    let readme = readme();
    let phrase = format!("Rust {version} or newer");
    assert!(
        readme.contains(&phrase),
        "README.md should say {phrase:?}, as Cargo.toml's rust-version does"
    );
}
