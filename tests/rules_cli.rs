//! `warden rules` as a user runs it, with small pack files in a temporary folder.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const GOOD: &str = r#"
[[rule]]
id = "custom.kubectl_delete_namespace"
title = "Kubernetes namespace deleted"
category = "destructive"
severity = "high"
action = "alert"
attack = ["T1485"]
description = "Deleting a namespace deletes everything in it."
patterns = ['^kubectl\s+delete\s+(ns|namespace)\s']
exceptions = ['\s--dry-run']
[rule.examples]
must_match = ["kubectl delete namespace prod"]
must_not_match = ["kubectl get namespace prod"]
"#;

const ID: &str = "custom.kubectl_delete_namespace";

/// A folder of its own for each test, removed when the test ends.
struct Packs {
    dir: PathBuf,
}

impl Packs {
    fn new() -> Packs {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "warden-rules-cli-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Packs { dir }
    }

    /// Writes `name` and returns its path as the command line will show it.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Packs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .output()
        .expect("warden runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// The first rule of the default pack, whatever it holds.
fn a_default_id() -> String {
    let output = warden(&["rules", "list", "--format", "json"]);
    let first = stdout(&output).lines().next().unwrap().to_string();
    let rule: Value = serde_json::from_str(&first).unwrap();
    rule["id"].as_str().unwrap().to_string()
}

/// `warden rules check FILE`: the exit code and the output, for a pack with one problem.
fn check_one(text: &str) -> (i32, String, String) {
    let packs = Packs::new();
    let path = packs.write("custom.toml", text);
    let output = warden(&["rules", "check", &path]);
    (code(&output), stdout(&output), path)
}

#[test]
fn test_runs_every_example_of_the_default_pack_and_prints_a_summary() {
    let output = warden(&["rules", "test"]);
    let text = stdout(&output);
    assert_eq!(code(&output), 0, "{text}{}", stderr(&output));
    let summary = text.lines().last().unwrap();
    let (counts, failed) = summary.split_once(": ").unwrap();
    assert_eq!(failed, "0 failed", "{summary}");
    let parts: Vec<&str> = counts.split(' ').collect();
    assert!(
        matches!(parts.as_slice(), [_, "rules,", _, "examples"]),
        "{summary}"
    );
    assert!(parts[0].parse::<usize>().unwrap() > 0);
    assert!(parts[2].parse::<usize>().unwrap() > parts[0].parse::<usize>().unwrap());
}

#[test]
fn test_prints_each_failure_with_its_rule_and_example_and_exits_1() {
    let packs = Packs::new();
    let wrong = GOOD
        .replace(
            "must_match = [\"kubectl delete namespace prod\"]",
            "must_match = [\"kubectl delete namespace prod\", \"kubectl get pods\"]",
        )
        .replace("\"kubectl get namespace prod\"", "\"kubectl delete ns x\"");
    let path = packs.write("wrong.toml", &wrong);
    let output = warden(&["rules", "test", &path]);
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "{text}");
    let failures: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(
        failures,
        [
            format!("FAIL {ID}: should match but does not: \"kubectl get pods\" ({path})"),
            format!("FAIL {ID}: should not match but does: \"kubectl delete ns x\" ({path})"),
        ]
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .ends_with(" examples: 2 failed"),
        "{text}"
    );
}

#[test]
fn test_exits_2_on_a_pack_it_cannot_use() {
    let packs = Packs::new();
    let path = packs.write("broken.toml", "[[rule]]\nid = ");
    let output = warden(&["rules", "test", &path]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).starts_with(&format!("warden: {path}: rule #1: TOML parse error")),
        "{}",
        stderr(&output)
    );

    let missing = packs.dir.join("missing.toml").display().to_string();
    let output = warden(&["rules", "test", &missing]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).starts_with(&format!("warden: {missing}: ")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn list_shows_a_table_with_the_scope_of_output_rules_and_where_rules_come_from() {
    let packs = Packs::new();
    let output_rule = GOOD.replace(ID, "custom.token_printed").replace(
        "action = \"alert\"",
        "action = \"alert\"\nscope = \"output\"",
    );
    let path = packs.write("custom.toml", &output_rule);
    let output = warden(&["rules", "list", &path]);
    let text = stdout(&output);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["ID", "CATEGORY", "SEVERITY", "ACTION", "TITLE"]);
    let custom = lines
        .iter()
        .find(|l| l.starts_with("custom.token_printed "))
        .unwrap();
    let cells: Vec<&str> = custom.split_whitespace().collect();
    assert_eq!(cells[1..4], ["destructive", "high", "alert"]);
    assert!(
        custom.ends_with("Kubernetes namespace deleted [scope: output]"),
        "{custom}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{} ", a_default_id())))
    );
    let footer = lines.last().unwrap();
    assert!(
        footer.contains(" from rules/default.toml, 1 from ") && footer.ends_with(&path),
        "{footer}"
    );
}

#[test]
fn list_as_json_gives_one_object_per_rule() {
    let packs = Packs::new();
    let path = packs.write("custom.toml", GOOD);
    let output = warden(&["rules", "list", &path, "--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rules: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(rules.len() > 1);
    let custom = rules.last().unwrap();
    assert_eq!(custom["id"], ID);
    assert_eq!(custom["category"], "destructive");
    assert_eq!(custom["severity"], "high");
    assert_eq!(custom["action"], "alert");
    assert_eq!(custom["scope"], "command");
    assert_eq!(custom["attack"], serde_json::json!(["T1485"]));
    assert_eq!(custom["pack"], path);
    assert_eq!(
        custom["examples"]["must_not_match"],
        serde_json::json!(["kubectl get namespace prod"])
    );
    assert!(
        rules
            .iter()
            .all(|r| r["pack"].is_string() && r["title"].is_string())
    );
}

#[test]
fn explain_tells_everything_about_a_rule_with_its_examples_run() {
    let packs = Packs::new();
    let path = packs.write("custom.toml", GOOD);
    let output = warden(&["rules", "explain", ID, &path]);
    let text = stdout(&output);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    for needle in [
        "Title:       Kubernetes namespace deleted",
        "Category:    destructive",
        "Severity:    high",
        "Action:      alert",
        "Scope:       command",
        "ATT&CK:      T1485",
        &format!("Pack:        {path}"),
        "Description: Deleting a namespace deletes everything in it.",
        r"  ^kubectl\s+delete\s+(ns|namespace)\s",
        r"  \s--dry-run",
        "Examples that must match:\n  ok    kubectl delete namespace prod",
        "Examples that must not match:\n  ok    kubectl get namespace prod",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn explain_an_unknown_id_exits_2_suggesting_close_ids() {
    let id = a_default_id();
    let typo = format!("{}x", &id[..id.len() - 1]);
    let output = warden(&["rules", "explain", &typo]);
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output).trim(),
        format!("warden: no rule `{typo}` in rules/default.toml; did you mean `{id}`?")
    );

    let output = warden(&["rules", "explain", "zzzz.nothing_like_it"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("`warden rules list` shows every id"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_accepts_a_good_pack_and_runs_its_examples() {
    let (code, out, path) = check_one(GOOD);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("ok: 1 rule, 2 examples ({path})"));
}

#[test]
fn check_names_the_file_rule_and_field_of_a_bad_regex() {
    let (code, out, path) = check_one(&GOOD.replace("(ns|namespace)", "((ns"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: rule `{ID}`, field `patterns`: bad regex `^kubectl\\s+delete\\s+((ns\\s`: "
        )),
        "{out}"
    );
    assert!(
        out.trim_end().ends_with(&format!("{path}: 1 problem")),
        "{out}"
    );
}

#[test]
fn check_names_the_file_rule_and_field_of_a_bad_exception() {
    let (code, out, path) = check_one(&GOOD.replace(r"'\s--dry-run'", "'[z-a]'"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: rule `{ID}`, field `exceptions`: bad regex `[z-a]`"
        )),
        "{out}"
    );
}

#[test]
fn check_names_the_file_rule_and_an_unknown_field() {
    let (code, out, path) = check_one(&GOOD.replace("severity =", "severty ="));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("error: {path}: rule `{ID}`: TOML parse error")),
        "{out}"
    );
    assert!(out.contains("unknown field `severty`"), "{out}");
}

#[test]
fn check_names_an_unknown_field_at_the_top_of_the_pack() {
    let (code, out, path) = check_one(&format!("disabled = [\"x\"]\n{GOOD}"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("error: {path}: TOML parse error")),
        "{out}"
    );
    assert!(out.contains("unknown field `disabled`"), "{out}");
}

#[test]
fn check_reports_an_id_the_default_pack_already_defines() {
    let id = a_default_id();
    let (code, out, path) = check_one(&GOOD.replace(ID, &id));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: rule `{id}`, field `id`: already defined by rules/default.toml; add `{id}` to `disable` to replace that rule\n"
        )),
        "{out}"
    );
}

#[test]
fn check_accepts_a_default_rule_disabled_and_redefined() {
    let id = a_default_id();
    let (code, out, _) = check_one(&format!("disable = [\"{id}\"]\n{}", GOOD.replace(ID, &id)));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: 1 rule, 2 examples"), "{out}");
}

#[test]
fn check_reports_an_id_defined_twice_in_the_pack() {
    let (code, out, path) = check_one(&format!("{GOOD}{GOOD}"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("error: {path}: rule id `{ID}` is defined twice")),
        "{out}"
    );
}

#[test]
fn check_reports_disable_naming_an_unknown_id() {
    let (code, out, path) = check_one(&format!("disable = [\"no.such_rule\"]\n{GOOD}"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: `disable` names `no.such_rule`, which no earlier pack defines\n"
        )),
        "{out}"
    );
}

#[test]
fn check_requires_examples_that_must_match() {
    let (code, out, path) =
        check_one(&GOOD.replace("must_match = [\"kubectl delete namespace prod\"]", ""));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: rule `{ID}`, field `examples.must_match`: needs at least one example that must match\n"
        )),
        "{out}"
    );
}

#[test]
fn check_requires_examples_that_must_not_match() {
    let (code, out, path) =
        check_one(&GOOD.replace("must_not_match = [\"kubectl get namespace prod\"]", ""));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "error: {path}: rule `{ID}`, field `examples.must_not_match`: needs at least one near-miss example that must not match\n"
        )),
        "{out}"
    );
}

#[test]
fn check_runs_the_pack_examples_through_the_pipeline() {
    let (code, out, path) = check_one(&GOOD.replace(
        "\"kubectl get namespace prod\"",
        "\"sudo kubectl delete ns prod\"",
    ));
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        format!(
            "error: {path}: rule `{ID}`, field `examples.must_not_match`: should not match but does: \"sudo kubectl delete ns prod\"\n{path}: 1 problem\n"
        )
    );
}

#[test]
fn check_reports_every_problem_of_every_pack() {
    let packs = Packs::new();
    let good = packs.write("good.toml", GOOD);
    let bad = packs.write(
        "bad.toml",
        &format!(
            "disable = [\"no.such_rule\"]\n{}",
            GOOD.replace(ID, "custom.other").replace("(ns|", "((ns|")
        ),
    );
    let output = warden(&["rules", "check", &good, &bad]);
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("ok: 1 rule, 2 examples ({good})"));
    assert!(lines[1].starts_with(&format!(
        "error: {bad}: rule `custom.other`, field `patterns`"
    )));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("error: {bad}: `disable` names `no.such_rule`")))
    );
    assert_eq!(*lines.last().unwrap(), format!("{bad}: 2 problems"));
}

#[test]
fn check_refuses_a_pack_that_does_nothing() {
    for text in ["", "\n# only a comment\n"] {
        let (code, out, path) = check_one(text);
        assert_eq!(code, 3, "{text:?}: {out}");
        assert_eq!(
            out,
            format!(
                "error: {path}: no rules and nothing disabled: the pack does nothing (an empty file? each rule is a [[rule]] table, see `warden rules --help`)\n"
            )
        );
        assert!(!out.contains("ok:"), "{out}");
    }
}

#[test]
fn check_accepts_a_pack_that_only_disables_and_says_so() {
    let id = a_default_id();
    let (code, out, path) = check_one(&format!("disable = [\"{id}\"]\n"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        format!("ok: 0 rules, 0 examples, 1 disabled ({path})")
    );
}

#[test]
fn check_reports_a_broken_pack_before_an_empty_one() {
    let packs = Packs::new();
    let empty = packs.write("empty.toml", "");
    let bad = packs.write("bad.toml", &GOOD.replace("(ns|", "((ns|"));
    let output = warden(&["rules", "check", &empty, &bad]);
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "{text}");
    assert!(
        text.starts_with(&format!("error: {empty}: no rules and nothing disabled")),
        "{text}"
    );
}

#[test]
fn check_exits_2_for_a_file_it_cannot_read() {
    let packs = Packs::new();
    let missing = packs.dir.join("missing.toml");
    let output = warden(&["rules", "check", &missing.display().to_string()]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).starts_with(&format!("warden: {}: ", missing.display())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_needs_a_file() {
    let output = warden(&["rules", "check"]);
    assert_eq!(code(&output), 2);
}

/// The help's example of disabling and redefining a default rule is a pack that passes.
#[test]
fn the_help_example_pack_passes_check() {
    let output = warden(&["rules", "--help"]);
    let help = stdout(&output);
    let example: String = help
        .lines()
        .skip_while(|l| !l.starts_with("    disable = "))
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert!(example.contains("[[rule]]"), "no example in\n{help}");
    let packs = Packs::new();
    let path = packs.write("help.toml", &example);
    let output = warden(&["rules", "check", &path]);
    assert_eq!(code(&output), 0, "{}\n{example}", stdout(&output));
    assert!(Path::new(&path).exists());
}
