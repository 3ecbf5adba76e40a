//! The rule pack format (TOML). Rules are data: a security team reads, tests and extends them
//! without touching code.

use crate::policy::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// Where the pack came from, for error messages (not part of the file).
    #[serde(skip)]
    pub source: String,
    /// Ids of rules from earlier packs (such as the default pack) to switch off.
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub action: RuleAction,
    #[serde(default)]
    pub scope: Scope,
    /// MITRE ATT&CK technique ids.
    #[serde(default)]
    pub attack: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// Regular expressions (Rust `regex` syntax) over the normalised command (or output line).
    pub patterns: Vec<String>,
    /// A match is dropped when any of these also matches the same text.
    #[serde(default)]
    pub exceptions: Vec<String>,
    #[serde(default)]
    pub examples: Examples,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Context worth keeping with the session, not worth a page: stored as a finding, shown by
    /// `warden scan` and `sessions show`, never alerted.
    Record,
    Alert,
    Terminate,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Record => "record",
            RuleAction::Alert => "alert",
            RuleAction::Terminate => "terminate",
        }
    }
}

/// What a rule looks at: lines typed at a prompt, or what programs printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Command,
    Output,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Command => "command",
            Scope::Output => "output",
        }
    }
}

/// Examples are tests: each `must_match` line must fire the rule, each `must_not_match` must not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub must_match: Vec<String>,
    #[serde(default)]
    pub must_not_match: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("{pack}: {message}")]
    Parse { pack: String, message: String },
    /// A format error (unknown field, wrong type, missing field) inside one rule.
    #[error("{pack}: {rule}: {message}")]
    InRule {
        pack: String,
        /// "rule `id`", or "rule #N" when it has no readable id.
        rule: String,
        message: String,
    },
    #[error("{pack}: rule `{id}`, field `{field}`: {message}")]
    Invalid {
        pack: String,
        id: String,
        field: &'static str,
        message: String,
    },
    #[error(
        "{pack}: rule id `{id}` is defined twice (disable it first to replace a rule from an earlier pack)"
    )]
    Duplicate { pack: String, id: String },
    #[error(
        "{pack}: rule `{id}`, field `id`: already defined by {earlier}; add `{id}` to `disable` to replace that rule"
    )]
    Redefined {
        pack: String,
        id: String,
        earlier: String,
    },
    #[error("{pack}: `disable` names `{id}`, which no earlier pack defines")]
    UnknownDisable { pack: String, id: String },
}

impl RulePack {
    /// Parses and validates a pack; the first problem found is the error.
    pub fn parse(text: &str, source: &str) -> Result<RulePack, RuleError> {
        let pack = RulePack::parse_unvalidated(text, source)?;
        match pack.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(pack),
        }
    }

    /// A pack `build.rs` converted from TOML to JSON (the same fields, through the same serde
    /// definitions), with the same checks as [`RulePack::parse`].
    pub(crate) fn parse_json(json: &[u8], source: &str) -> Result<RulePack, RuleError> {
        let mut pack: RulePack = serde_json::from_slice(json).map_err(|e| RuleError::Parse {
            pack: source.to_string(),
            message: e.to_string(),
        })?;
        pack.source = source.to_string();
        match pack.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(pack),
        }
    }

    /// The TOML format alone (field names and types); [`RulePack::problems`] checks the rest.
    pub fn parse_unvalidated(text: &str, source: &str) -> Result<RulePack, RuleError> {
        let mut pack: RulePack = toml::from_str(text).map_err(|e| {
            let message = e.to_string().trim().to_string();
            match e.span().and_then(|span| rule_at(text, span.start)) {
                Some(rule) => RuleError::InRule {
                    pack: source.to_string(),
                    rule,
                    message,
                },
                None => RuleError::Parse {
                    pack: source.to_string(),
                    message,
                },
            }
        })?;
        pack.source = source.to_string();
        Ok(pack)
    }

    /// Everything the format alone cannot check, every problem at once: ids, non-empty fields,
    /// examples on both sides. Regexes are checked when the pack is compiled.
    pub fn problems(&self) -> Vec<RuleError> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for rule in &self.rules {
            let invalid = |field: &'static str, message: &str| RuleError::Invalid {
                pack: self.source.clone(),
                id: rule.id.clone(),
                field,
                message: message.to_string(),
            };
            let id_ok = !rule.id.is_empty()
                && rule
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !id_ok {
                problems.push(invalid("id", "use letters, digits, `.`, `_` and `-` only"));
            }
            if !seen.insert(rule.id.as_str()) {
                problems.push(RuleError::Duplicate {
                    pack: self.source.clone(),
                    id: rule.id.clone(),
                });
            }
            if rule.title.trim().is_empty() {
                problems.push(invalid("title", "must not be empty"));
            }
            if rule.category.trim().is_empty() {
                problems.push(invalid("category", "must not be empty"));
            }
            if rule.patterns.is_empty() {
                problems.push(invalid("patterns", "needs at least one pattern"));
            }
            if rule.examples.must_match.is_empty() {
                problems.push(invalid(
                    "examples.must_match",
                    "needs at least one example that must match",
                ));
            }
            if rule.examples.must_not_match.is_empty() {
                problems.push(invalid(
                    "examples.must_not_match",
                    "needs at least one near-miss example that must not match",
                ));
            }
        }
        problems
    }
}

/// The rule (`[[rule]]` table) an error at byte `offset` falls in, named by its id when the text
/// is well-formed TOML with a string id there.
fn rule_at(text: &str, offset: usize) -> Option<String> {
    // Up to the end of the error's line: a header on that line is the rule the error is about.
    let rest = text.get(offset..)?;
    let end = offset + rest.find('\n').unwrap_or(rest.len());
    let headers = text[..end]
        .lines()
        .filter(|line| {
            let squeezed: String = line.split_whitespace().collect();
            squeezed.starts_with("[[rule]]")
        })
        .count();
    let index = headers.checked_sub(1)?;
    let id = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|table| {
            let rule = table.get("rule")?.as_array()?.get(index)?;
            rule.get("id")?.as_str().map(str::to_string)
        })
        .filter(|id| !id.is_empty());
    Some(match id {
        Some(id) => format!("rule `{id}`"),
        None => format!("rule #{}", index + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_RULE: &str = r#"
[[rule]]
id = "destructive.mkfs"
title = "Filesystem created over a device"
category = "destructive"
severity = "critical"
action = "terminate"
attack = ["T1561.002"]
patterns = ['^mkfs(\.\w+)?\s']
[rule.examples]
must_match = ["mkfs.ext4 /dev/xvda1"]
must_not_match = ["man mkfs"]
"#;

    #[test]
    fn parses_a_rule_with_defaults() {
        let pack = RulePack::parse(ONE_RULE, "test.toml").unwrap();
        let rule = &pack.rules[0];
        assert_eq!(rule.scope, Scope::Command);
        assert_eq!(rule.severity, Severity::Critical);
        assert_eq!(rule.action, RuleAction::Terminate);
        assert!(rule.exceptions.is_empty());
    }

    #[test]
    fn an_unknown_field_is_named() {
        let text = ONE_RULE.replace("attack =", "atack =");
        let err = RulePack::parse(&text, "custom.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("custom.toml:") && err.contains("atack"),
            "{err}"
        );
    }

    #[test]
    fn a_duplicate_id_is_an_error() {
        let text = format!("{ONE_RULE}{ONE_RULE}");
        let err = RulePack::parse(&text, "p.toml").unwrap_err();
        assert!(
            matches!(err, RuleError::Duplicate { ref id, .. } if id == "destructive.mkfs"),
            "{err}"
        );
    }

    #[test]
    fn a_rule_without_near_miss_examples_is_an_error() {
        let text = ONE_RULE.replace("must_not_match = [\"man mkfs\"]", "");
        let err = RulePack::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(
            err.contains("rule `destructive.mkfs`, field `examples.must_not_match`"),
            "{err}"
        );
    }

    #[test]
    fn an_error_inside_a_rule_names_the_rule() {
        let second = ONE_RULE
            .replace("destructive.mkfs", "destructive.other")
            .replace("severity = \"critical\"", "severity = 3");
        let err = RulePack::parse(&format!("{ONE_RULE}{second}"), "p.toml").unwrap_err();
        assert!(
            matches!(&err, RuleError::InRule { rule, .. } if rule == "rule `destructive.other`"),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("p.toml: rule `destructive.other`: TOML parse error"),
            "{err}"
        );
    }

    #[test]
    fn problems_lists_every_problem_of_every_rule() {
        let text = format!(
            "{}{}",
            ONE_RULE.replace(
                "title = \"Filesystem created over a device\"",
                "title = \" \""
            ),
            ONE_RULE
                .replace("destructive.mkfs", "bad id")
                .replace("must_match = [\"mkfs.ext4 /dev/xvda1\"]", "")
        );
        let pack = RulePack::parse_unvalidated(&text, "p.toml").unwrap();
        let shown: Vec<String> = pack.problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "p.toml: rule `destructive.mkfs`, field `title`: must not be empty",
                "p.toml: rule `bad id`, field `id`: use letters, digits, `.`, `_` and `-` only",
                "p.toml: rule `bad id`, field `examples.must_match`: needs at least one example that must match",
            ]
        );
        assert_eq!(
            RulePack::parse(&text, "p.toml").unwrap_err().to_string(),
            shown[0]
        );
    }

    #[test]
    fn a_bad_severity_is_named() {
        let text = ONE_RULE.replace("\"critical\"", "\"catastrophic\"");
        let err = RulePack::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(err.contains("catastrophic"), "{err}");
    }
}
