//! Checking custom packs before they are deployed (`warden rules check`): every problem at once,
//! each naming the pack, the rule and the field, then the pack's own examples.

use super::matcher::regex_problems;
use super::selftest::{SelfTestReport, run_where};
use super::{RuleError, RulePack, RuleSet};
use std::collections::BTreeMap;

/// What checking one pack found.
#[derive(Debug)]
pub struct PackCheck {
    pub source: String,
    /// Rules the pack defines.
    pub rules: usize,
    pub errors: Vec<RuleError>,
    /// The pack's own examples through the whole pipeline; run only when there are no errors.
    pub examples: Option<SelfTestReport>,
}

impl PackCheck {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
            && self
                .examples
                .as_ref()
                .is_some_and(|r| r.failures.is_empty())
    }
}

/// Checks packs (source, text) in order: each on its own, then after the default pack and the
/// packs before it that passed, as the functions and `warden scan --rules` apply them.
pub fn check_packs(packs: &[(String, String)]) -> Vec<PackCheck> {
    // The embedded JSON form, the same pack (tested): the TOML text is not in any binary.
    let default = super::default_pack().expect("the embedded default pack parses (tested)");
    let mut earlier = vec![default];
    packs
        .iter()
        .map(|(source, text)| {
            let (check, pack) = check_one(&earlier, source, text);
            earlier.extend(pack);
            check
        })
        .collect()
}

/// The check, and the pack when it may be applied after `earlier`.
fn check_one(earlier: &[RulePack], source: &str, text: &str) -> (PackCheck, Option<RulePack>) {
    let mut check = PackCheck {
        source: source.to_string(),
        rules: 0,
        errors: Vec::new(),
        examples: None,
    };
    let pack = match RulePack::parse_unvalidated(text, source) {
        Ok(pack) => pack,
        Err(error) => {
            check.errors.push(error);
            return (check, None);
        }
    };
    check.rules = pack.rules.len();
    check.errors.extend(pack.problems());
    for rule in &pack.rules {
        check.errors.extend(regex_problems(rule, source));
    }
    check.errors.extend(conflicts(earlier, &pack));
    if !check.errors.is_empty() {
        return (check, None);
    }
    let mut packs = earlier.to_vec();
    packs.push(pack.clone());
    match RuleSet::compile(packs) {
        Ok(rules) => {
            check.examples = Some(run_where(&rules, |_, from| from == source));
            (check, Some(pack))
        }
        Err(error) => {
            check.errors.push(error);
            (check, None)
        }
    }
}

/// Ids the pack disables that no earlier pack defines, and ids it defines that an earlier pack
/// already does (and it does not disable).
fn conflicts(earlier: &[RulePack], pack: &RulePack) -> Vec<RuleError> {
    // Id → the pack that defines it, after every earlier pack's disables.
    let mut defined: BTreeMap<&str, &str> = BTreeMap::new();
    for before in earlier {
        for id in &before.disable {
            defined.remove(id.as_str());
        }
        for rule in &before.rules {
            defined.insert(&rule.id, &before.source);
        }
    }
    let mut errors = Vec::new();
    for id in &pack.disable {
        if defined.remove(id.as_str()).is_none() {
            errors.push(RuleError::UnknownDisable {
                pack: pack.source.clone(),
                id: id.clone(),
            });
        }
    }
    for rule in &pack.rules {
        if let Some(source) = defined.get(rule.id.as_str()) {
            errors.push(RuleError::Redefined {
                pack: pack.source.clone(),
                id: rule.id.clone(),
                earlier: source.to_string(),
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::KUBECTL_RULE as RULE;

    fn check(text: &str) -> PackCheck {
        check_packs(&[("custom.toml".to_string(), text.to_string())])
            .pop()
            .unwrap()
    }

    fn errors(check: &PackCheck) -> Vec<String> {
        check.errors.iter().map(ToString::to_string).collect()
    }

    fn default_id() -> String {
        super::super::default_rules().rules()[0].id.clone()
    }

    #[test]
    fn a_good_pack_passes_with_its_examples_run() {
        let check = check(RULE);
        assert!(check.is_ok(), "{:?}", errors(&check));
        assert_eq!(check.rules, 1);
        let examples = check.examples.unwrap();
        assert_eq!((examples.rules_run, examples.examples_run), (1, 2));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = format!(
            "disable = [\"no.such_rule\"]\n{}{}",
            RULE.replace("'^kubectl", "'^kubectl(("),
            RULE.replace("custom.kubectl_delete_namespace", &default_id())
                .replace("must_not_match = [\"kubectl get namespace prod\"]", "")
        );
        let shown = errors(&check(&text));
        let id = default_id();
        let expected = [
            format!("custom.toml: rule `{id}`, field `examples.must_not_match`: "),
            "custom.toml: rule `custom.kubectl_delete_namespace`, field `patterns`: bad regex `^kubectl((".into(),
            "custom.toml: `disable` names `no.such_rule`, which no earlier pack defines".into(),
            format!("custom.toml: rule `{id}`, field `id`: already defined by rules/default.toml"),
        ];
        assert_eq!(shown.len(), expected.len(), "{shown:#?}");
        for (shown, expected) in shown.iter().zip(&expected) {
            assert!(
                shown.starts_with(expected.as_str()),
                "{shown}\nexpected {expected}"
            );
        }
    }

    #[test]
    fn an_unknown_field_names_the_rule_and_the_field() {
        let shown = errors(&check(&RULE.replace("category =", "categroy =")));
        assert_eq!(shown.len(), 1);
        assert!(
            shown[0].starts_with("custom.toml: rule `custom.kubectl_delete_namespace`: ")
                && shown[0].contains("unknown field `categroy`"),
            "{}",
            shown[0]
        );
    }

    #[test]
    fn failing_examples_are_reported_for_the_pack_only() {
        let text = RULE.replace("\"kubectl get namespace prod\"", "\"kubectl delete ns x\"");
        let check = check(&text);
        assert!(check.errors.is_empty());
        assert!(!check.is_ok());
        let failures: Vec<String> = check
            .examples
            .unwrap()
            .failures
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            failures,
            ["custom.kubectl_delete_namespace: should not match but does: \"kubectl delete ns x\""]
        );
    }

    #[test]
    fn a_later_pack_is_checked_after_the_earlier_ones() {
        let second = format!("disable = [\"custom.kubectl_delete_namespace\"]\n{RULE}");
        let checks = check_packs(&[
            ("first.toml".to_string(), RULE.to_string()),
            ("second.toml".to_string(), second),
        ]);
        assert!(checks.iter().all(PackCheck::is_ok), "{checks:?}");
    }
}
