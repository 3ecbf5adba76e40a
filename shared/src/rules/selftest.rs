//! Rule self-tests: every example of every rule through the whole detection pipeline.

use super::{Rule, RuleSet};
use crate::transcript::scan::rules_firing_on_example;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub example: String,
    /// True: the rule should have fired and did not. False: it fired on a near miss.
    pub expected_match: bool,
}

impl ExampleFailure {
    /// The pack field the example is in.
    pub fn field(&self) -> &'static str {
        if self.expected_match {
            "examples.must_match"
        } else {
            "examples.must_not_match"
        }
    }
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.expected_match {
            "should match but does not"
        } else {
            "should not match but does"
        };
        write!(f, "{}: {what}: {:?}", self.rule_id, self.example)
    }
}

#[derive(Debug, Default)]
pub struct SelfTestReport {
    pub rules_run: usize,
    pub examples_run: usize,
    pub failures: Vec<ExampleFailure>,
}

impl SelfTestReport {
    /// `14 rules, 120 examples: 0 failed`
    pub fn summary(&self) -> String {
        format!(
            "{} rule{}, {} example{}: {} failed",
            self.rules_run,
            plural(self.rules_run),
            self.examples_run,
            plural(self.examples_run),
            self.failures.len()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Every example of every rule.
pub fn run(rules: &RuleSet) -> SelfTestReport {
    run_where(rules, |_, _| true)
}

/// The examples of the rules `wanted(rule, pack)` selects, each through the whole pipeline with
/// every rule of the set loaded (an example only counts for its own rule).
pub fn run_where(rules: &RuleSet, wanted: impl Fn(&Rule, &str) -> bool) -> SelfTestReport {
    let mut report = SelfTestReport::default();
    for (rule, source) in rules.rules_with_sources() {
        if !wanted(rule, source) {
            continue;
        }
        report.rules_run += 1;
        let cases = rule
            .examples
            .must_match
            .iter()
            .map(|e| (e, true))
            .chain(rule.examples.must_not_match.iter().map(|e| (e, false)));
        for (example, expected_match) in cases {
            report.examples_run += 1;
            let fired = rules_firing_on_example(rules, rule.scope, example).contains(&rule.id);
            if fired != expected_match {
                report.failures.push(ExampleFailure {
                    rule_id: rule.id.clone(),
                    example: example.clone(),
                    expected_match,
                });
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::default_rules;

    #[test]
    fn every_example_of_the_default_pack_passes() {
        let report = run(&default_rules());
        let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert!(
            failures.is_empty(),
            "{} failing examples:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(report.examples_run > 50);
        assert_eq!(report.rules_run, default_rules().rules().len());
    }

    #[test]
    fn a_wrong_example_is_reported_with_its_rule() {
        let text = r#"
[[rule]]
id = "t.ls"
title = "ls"
category = "test"
severity = "low"
action = "alert"
patterns = ['^ls\b']
[rule.examples]
must_match = ["ls -la", "dir"]
must_not_match = ["lsblk", "ls /"]
"#;
        let rules =
            RuleSet::compile(vec![super::super::RulePack::parse(text, "t").unwrap()]).unwrap();
        let report = run(&rules);
        let shown: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "t.ls: should match but does not: \"dir\"",
                "t.ls: should not match but does: \"ls /\""
            ]
        );
        assert_eq!(report.summary(), "1 rule, 4 examples: 2 failed");
        assert_eq!(
            report
                .failures
                .iter()
                .map(|f| f.field())
                .collect::<Vec<_>>(),
            ["examples.must_match", "examples.must_not_match"]
        );
        let none = run_where(&rules, |rule, _| rule.id != "t.ls");
        assert_eq!(none.summary(), "0 rules, 0 examples: 0 failed");
    }
}
