//! Rule self-tests: every example of every rule through the whole detection pipeline.

use super::RuleSet;
use crate::transcript::scan::rules_firing_on_example;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub example: String,
    /// True: the rule should have fired and did not. False: it fired on a near miss.
    pub expected_match: bool,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.expected_match {
            "does not match"
        } else {
            "matches near miss"
        };
        write!(f, "{}: {what}: {:?}", self.rule_id, self.example)
    }
}

#[derive(Debug, Default)]
pub struct SelfTestReport {
    pub examples_run: usize,
    pub failures: Vec<ExampleFailure>,
}

pub fn run(rules: &RuleSet) -> SelfTestReport {
    let mut report = SelfTestReport::default();
    for rule in rules.rules() {
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
                "t.ls: does not match: \"dir\"",
                "t.ls: matches near miss: \"ls /\""
            ]
        );
    }
}
