//! `warden rules`: list, explain, test and check the forbidden-command rules.

use crate::Format;
use clap::Subcommand;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use warden_core::rules::check::{PackCheck, check_packs};
use warden_core::rules::load::{default_with_files, read_pack_file};
use warden_core::rules::selftest::{run, run_where};
use warden_core::rules::{DEFAULT_PACK_NAME, Rule, RuleAction, RulePack, RuleSet, Scope};

/// `warden rules --help`, after the subcommands.
pub const PACKS_HELP: &str = r#"Rule packs are TOML files. The default pack (rules/default.toml) is compiled into every
binary; custom packs are applied after it, in order: the FILE arguments of these commands and
of `warden scan --rules`; in the transcript-scanner function, WARDEN_RULES_FILE (a pack file
bundled with the deployment) and then WARDEN_RULES_PARAMETER (an SSM parameter, String or
SecureString, whose value is a pack: at most 4 KB, 8 KB for an advanced parameter), both read
once when a container starts. A custom pack that does not load is skipped: the default rules
stay in force and a `rules_load_failed` alert is sent.

To switch a default rule off, name its id in `disable`. To change one (its action, severity or
patterns), disable it and define a rule with the same id. For example, to only alert where the
default pack terminates:

    disable = ["destructive.disk_wipe"]

    [[rule]]
    id = "destructive.disk_wipe"
    title = "Filesystem created or data wiped on a block device"
    category = "destructive"
    severity = "critical"
    action = "alert"
    attack = ["T1561.002"]
    patterns = ['^(?:mkfs(?:\.\w+)?|wipefs)\s.*/dev/']
    [rule.examples]
    must_match = ["mkfs.ext4 /dev/xvdf"]
    must_not_match = ["man mkfs"]

Every rule needs examples that must match and near misses that must not; they run through the
whole detection pipeline. `warden rules check FILE` validates a pack before it is deployed.

Exit status: 0 when all is well; 1 when `test` or `check` finds a problem; 2 for unusable
arguments or pack files (and an unknown id for `explain`); 3 when `check` finds a pack that
defines no rules and disables none (an empty file), and no other problem."#;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Run every rule's examples through the whole detection pipeline; exits 1 if any fails.
    ///
    /// The default pack, then the given packs in order. Each failure is printed with the rule
    /// id and the example, then a summary: `N rules, M examples: K failed`.
    Test {
        /// Custom packs, applied after the default pack in order.
        packs: Vec<PathBuf>,
    },
    /// The rules in force: id, category, severity, action, title.
    List {
        /// Custom packs, applied after the default pack in order.
        packs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Everything about one rule, with its examples run.
    Explain {
        /// The rule id, e.g. `destructive.rm_system_path`.
        id: String,
        /// Custom packs, applied after the default pack in order.
        packs: Vec<PathBuf>,
    },
    /// Check custom packs before deploying them; exits 1 on any problem.
    ///
    /// Each pack on its own (format, unknown fields, ids, regexes, examples on both sides), then
    /// against the default pack and the packs before it (`disable` naming an unknown id, an id
    /// defined again without being disabled), then its examples through the whole pipeline.
    /// Prints every problem, naming the file, the rule and the field, or `ok: N rules`. A pack
    /// that defines no rules and disables none is an error (exit 3), not `ok: 0 rules`.
    Check {
        #[arg(required = true)]
        packs: Vec<PathBuf>,
    },
}

pub fn run_command(command: RulesCommand) -> Result<ExitCode, String> {
    let mut out = String::new();
    let code = match command {
        RulesCommand::Test { packs } => test(&mut out, &load(&packs)?),
        RulesCommand::List { packs, format } => {
            list(&mut out, &load(&packs)?, format);
            ExitCode::SUCCESS
        }
        RulesCommand::Explain { id, packs } => explain(&mut out, &load(&packs)?, &id)?,
        RulesCommand::Check { packs } => check(&mut out, &packs)?,
    };
    emit(&out)?;
    Ok(code)
}

/// Writes the output; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Appends one line to the output.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

fn load(packs: &[PathBuf]) -> Result<RuleSet, String> {
    default_with_files(packs).map_err(|e| e.to_string())
}

fn test(out: &mut String, rules: &RuleSet) -> ExitCode {
    let report = run(rules);
    for failure in &report.failures {
        match rules.source_of(&failure.rule_id) {
            Some(source) if source != DEFAULT_PACK_NAME => say!(out, "FAIL {failure} ({source})"),
            _ => say!(out, "FAIL {failure}"),
        }
    }
    say!(out, "{}", report.summary());
    exit_code(report.failures.is_empty())
}

fn list(out: &mut String, rules: &RuleSet, format: Format) {
    match format {
        Format::Json => {
            for (rule, source) in rules.rules_with_sources() {
                say!(out, "{}", rule_json(rule, source));
            }
        }
        Format::Human => {
            let rows: Vec<[String; 5]> = rules
                .rules()
                .iter()
                .map(|r| {
                    let title = match r.scope {
                        Scope::Command => r.title.clone(),
                        scope => format!("{} [scope: {}]", r.title, scope.as_str()),
                    };
                    [
                        r.id.clone(),
                        r.category.clone(),
                        r.severity.as_str().to_string(),
                        r.action.as_str().to_string(),
                        title,
                    ]
                })
                .collect();
            let header = ["ID", "CATEGORY", "SEVERITY", "ACTION", "TITLE"].map(String::from);
            let mut widths = [0; 4];
            for row in std::iter::once(&header).chain(&rows) {
                for (width, cell) in widths.iter_mut().zip(row) {
                    *width = (*width).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let mut line = String::new();
                for (width, cell) in widths.iter().zip(row) {
                    line.push_str(&format!("{cell:<width$}  "));
                }
                line.push_str(&row[4]);
                say!(out, "{line}");
            }
            say!(out, "{}", pack_summary(rules));
        }
    }
}

/// `14 rules from rules/default.toml` or `15 rules: 13 from rules/default.toml, 2 from x.toml`
fn pack_summary(rules: &RuleSet) -> String {
    let packs = rules.packs();
    let count = |pack: &str| {
        rules
            .rules_with_sources()
            .filter(|(_, source)| *source == pack)
            .count()
    };
    let total = rules.rules().len();
    match packs.as_slice() {
        [] => "0 rules".to_string(),
        [only] => format!("{total} rule{} from {only}", plural(total)),
        _ => format!(
            "{total} rules: {}",
            packs
                .iter()
                .map(|p| format!("{} from {p}", count(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn rule_json(rule: &Rule, source: &str) -> serde_json::Value {
    json!({
        "id": rule.id,
        "title": rule.title,
        "category": rule.category,
        "severity": rule.severity.as_str(),
        "action": rule.action.as_str(),
        "scope": rule.scope.as_str(),
        "attack": rule.attack,
        "description": rule.description,
        "pack": source,
        "patterns": rule.patterns,
        "exceptions": rule.exceptions,
        "examples": {
            "must_match": rule.examples.must_match,
            "must_not_match": rule.examples.must_not_match,
        },
    })
}

fn explain(out: &mut String, rules: &RuleSet, id: &str) -> Result<ExitCode, String> {
    let Some(rule) = rules.find(id) else {
        let similar = rules.similar_ids(id);
        let hint = if similar.is_empty() {
            "`warden rules list` shows every id".to_string()
        } else {
            format!(
                "did you mean {}?",
                similar
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(format!(
            "no rule `{id}` in {}; {hint}",
            rules.packs().join(", ")
        ));
    };
    let source = rules.source_of(id).unwrap_or(DEFAULT_PACK_NAME);
    let scope = match rule.scope {
        Scope::Command => "command (commands typed at a shell prompt, as a shell reads them)",
        Scope::Output => "output (lines programs printed)",
    };
    say!(out, "{}\n", rule.id);
    field(out, "Title:", &rule.title);
    field(out, "Category:", &rule.category);
    field(out, "Severity:", rule.severity.as_str());
    field(
        out,
        "Action:",
        match rule.action {
            RuleAction::Record => "record with the session (a finding, never an alert)",
            RuleAction::Alert => "alert",
            RuleAction::Terminate => {
                "terminate the session and alert (with WARDEN_ENFORCE=false the termination is only reported)"
            }
        },
    );
    field(out, "Scope:", scope);
    field(
        out,
        "ATT&CK:",
        &if rule.attack.is_empty() {
            "(none)".to_string()
        } else {
            rule.attack.join(", ")
        },
    );
    field(out, "Pack:", source);
    if !rule.description.trim().is_empty() {
        field(out, "Description:", rule.description.trim());
    }
    section(
        out,
        "Patterns (Rust regex; any one fires the rule):",
        &mut rule.patterns.iter().cloned(),
    );
    section(
        out,
        "Exceptions (a match is dropped when one of these also matches):",
        &mut rule.exceptions.iter().cloned(),
    );
    // The examples, each run through the pipeline as `warden rules test` does.
    let report = run_where(rules, |r, _| r.id == rule.id);
    let verdict = |example: &String, expected: bool| {
        let failed = report
            .failures
            .iter()
            .any(|f| &f.example == example && f.expected_match == expected);
        format!(
            "{}  {}",
            if failed { "FAIL" } else { "ok  " },
            visible(example)
        )
    };
    section(
        out,
        "Examples that must match:",
        &mut rule.examples.must_match.iter().map(|e| verdict(e, true)),
    );
    section(
        out,
        "Examples that must not match:",
        &mut rule
            .examples
            .must_not_match
            .iter()
            .map(|e| verdict(e, false)),
    );
    Ok(ExitCode::SUCCESS)
}

fn check(out: &mut String, paths: &[PathBuf]) -> Result<ExitCode, String> {
    let texts = paths
        .iter()
        .map(|p| read_pack_file(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let checks = check_packs(&texts);
    let mut empty = 0;
    for (check, (source, text)) in checks.iter().zip(&texts) {
        // How many default rules the pack disables, when it parses.
        let disabled = RulePack::parse_unvalidated(text, source).map(|p| p.disable.len());
        if check.is_ok() && check.rules == 0 && disabled == Ok(0) {
            // An empty file (or one of comments only) passes every check and does nothing:
            // "ok: 0 rules" would tell its author that their rules are fine.
            say!(
                out,
                "error: {source}: no rules and nothing disabled: the pack does nothing (an \
                 empty file? each rule is a [[rule]] table, see `warden rules --help`)"
            );
            empty += 1;
            continue;
        }
        print_check(out, check, disabled.unwrap_or(0));
    }
    Ok(if !checks.iter().all(PackCheck::is_ok) {
        ExitCode::from(1)
    } else if empty > 0 {
        ExitCode::from(crate::EXIT_NOTHING_RECOGNISED)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_check(out: &mut String, check: &PackCheck, disabled: usize) {
    for error in &check.errors {
        say!(out, "error: {error}");
    }
    let mut problems = check.errors.len();
    if let Some(examples) = &check.examples {
        for failure in &examples.failures {
            say!(
                out,
                "error: {}: rule `{}`, field `{}`: {}",
                check.source,
                failure.rule_id,
                failure.field(),
                if failure.expected_match {
                    format!("should match but does not: {:?}", failure.example)
                } else {
                    format!("should not match but does: {:?}", failure.example)
                }
            );
        }
        problems += examples.failures.len();
        if problems == 0 {
            let disabled = match disabled {
                0 => String::new(),
                n => format!(", {n} disabled"),
            };
            say!(
                out,
                "ok: {} rule{}, {} example{}{disabled} ({})",
                check.rules,
                plural(check.rules),
                examples.examples_run,
                plural(examples.examples_run),
                check.source
            );
            return;
        }
    }
    say!(
        out,
        "{}: {problems} problem{}",
        check.source,
        plural(problems)
    );
}

fn field(out: &mut String, label: &str, value: &str) {
    say!(out, "{label:<13}{value}");
}

fn section(out: &mut String, title: &str, items: &mut dyn Iterator<Item = String>) {
    say!(out, "\n{title}");
    let mut any = false;
    for item in items {
        any = true;
        say!(out, "  {item}");
    }
    if !any {
        say!(out, "  (none)");
    }
}

/// Control characters (an example may hold a backspace) escaped, the rest as written.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
