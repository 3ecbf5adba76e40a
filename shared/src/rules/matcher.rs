//! All patterns of all rules in one `RegexSet` per scope, so each text is scanned once whatever
//! the number of rules; exceptions run only for rules that matched.

use super::engine::{Engine, Prebuilt, PrebuiltError};
use super::nfa_blob;
use super::pack::{Rule, RuleError, RulePack, Scope};
use regex::{Regex, RegexSetBuilder};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Compiled regexes are bounded so a hostile pattern in a custom pack cannot take the memory.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;
const DFA_CACHE_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// The pack each rule came from, for error messages.
    sources: Vec<String>,
    command: ScopeMatcher,
    output: ScopeMatcher,
    /// Per rule, compiled up front for packs compiled at start (which validates them), or on
    /// the rule's first match for the prebuilt default pack: exceptions run only after a
    /// match, and most rules never match in a container's life.
    exceptions: Vec<Vec<Exception>>,
}

#[derive(Debug, Clone)]
struct ScopeMatcher {
    engine: Engine,
    /// Pattern index in `engine` → rule index.
    owner: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Exception {
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Exception {
    fn compiled(pattern: &str, regex: Regex) -> Exception {
        Exception {
            pattern: pattern.to_string(),
            compiled: OnceLock::from(Some(regex)),
        }
    }

    fn lazy(pattern: &str) -> Exception {
        Exception {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        }
    }

    fn is_match(&self, rule: &Rule, text: &str) -> bool {
        let regex = self.compiled.get_or_init(|| {
            match compile_one(&self.pattern, rule, "(embedded)", "exceptions") {
                Ok(regex) => Some(regex),
                // Cannot happen for the embedded pack (a test compiles every exception); if it
                // did, the rule fires without its exception rather than not at all.
                Err(error) => {
                    tracing::error!(%error, "exception ignored: it does not compile");
                    None
                }
            }
        });
        regex.as_ref().is_some_and(|r| r.is_match(text))
    }
}

/// The default pack's NFAs, compiled and deflated by `build.rs`.
static DEFAULT_COMMAND_NFA: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/default_pack_command.nfa.deflate"
));
static DEFAULT_OUTPUT_NFA: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/default_pack_output.nfa.deflate"));

/// One rule that fired on one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMatch<'a> {
    pub rule: &'a Rule,
}

impl RuleSet {
    /// Compiles packs in order: a later pack may `disable` rules of an earlier one, or disable
    /// and redefine them.
    pub fn compile(packs: Vec<RulePack>) -> Result<RuleSet, RuleError> {
        let (sources, rules): (Vec<String>, Vec<Rule>) = merge(packs)?.into_iter().unzip();
        let mut exceptions = Vec::with_capacity(rules.len());
        for (rule, source) in rules.iter().zip(&sources) {
            let compiled = rule
                .exceptions
                .iter()
                .map(|p| {
                    compile_one(p, rule, source, "exceptions").map(|r| Exception::compiled(p, r))
                })
                .collect::<Result<Vec<_>, _>>()?;
            exceptions.push(compiled);
        }
        Ok(RuleSet {
            command: ScopeMatcher::build(&rules, &sources, Scope::Command)?,
            output: ScopeMatcher::build(&rules, &sources, Scope::Output)?,
            exceptions,
            rules,
            sources,
        })
    }

    /// The embedded default pack alone, from the automata `build.rs` compiled: a few
    /// milliseconds where compiling it takes about 80. Falls back to compiling should the
    /// automata not fit the pack (a build bug, which the tests catch).
    pub(crate) fn prebuilt_default(pack: RulePack) -> Result<RuleSet, RuleError> {
        let (sources, rules): (Vec<String>, Vec<Rule>) = merge(vec![pack])?.into_iter().unzip();
        let exceptions = rules
            .iter()
            .map(|rule| rule.exceptions.iter().map(|p| Exception::lazy(p)).collect())
            .collect();
        Ok(RuleSet {
            command: ScopeMatcher::prebuilt(&rules, &sources, Scope::Command, DEFAULT_COMMAND_NFA)?,
            output: ScopeMatcher::prebuilt(&rules, &sources, Scope::Output, DEFAULT_OUTPUT_NFA)?,
            exceptions,
            rules,
            sources,
        })
    }

    /// Whether both scopes run the automata compiled at build time.
    pub fn is_prebuilt(&self) -> bool {
        [&self.command, &self.output]
            .iter()
            .all(|m| matches!(m.engine, Engine::Prebuilt(_)))
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The pack a rule came from.
    pub fn source_of(&self, id: &str) -> Option<&str> {
        self.rules
            .iter()
            .position(|r| r.id == id)
            .map(|i| self.sources[i].as_str())
    }

    pub fn find(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Each rule with the pack it came from, in rule order.
    pub fn rules_with_sources(&self) -> impl Iterator<Item = (&Rule, &str)> {
        self.rules
            .iter()
            .zip(self.sources.iter().map(String::as_str))
    }

    /// The packs that contributed rules, in order.
    pub fn packs(&self) -> Vec<&str> {
        let mut packs: Vec<&str> = Vec::new();
        for source in &self.sources {
            if !packs.contains(&source.as_str()) {
                packs.push(source);
            }
        }
        packs
    }

    /// Ids close to `id` (a typo, or part of an id), closest first, for "did you mean".
    pub fn similar_ids(&self, id: &str) -> Vec<&str> {
        let wanted = id.to_ascii_lowercase();
        let mut scored: Vec<(usize, &str)> = self
            .rules
            .iter()
            .filter_map(|rule| {
                let candidate = rule.id.to_ascii_lowercase();
                // The part after the category alone (`reverse_shell`) is close too.
                let name = candidate.rsplit('.').next().unwrap_or(&candidate);
                let distance = edit_distance(&wanted, &candidate).min(edit_distance(&wanted, name));
                let close = distance <= (wanted.chars().count() / 4).max(2);
                let contains = wanted.chars().count() >= 3 && candidate.contains(&wanted);
                (close || contains).then_some((distance, rule.id.as_str()))
            })
            .collect();
        scored.sort();
        scored.into_iter().map(|(_, id)| id).take(5).collect()
    }

    /// Rules of `scope` that match `text`, in rule order.
    pub fn matches(&self, scope: Scope, text: &str) -> Vec<RuleMatch<'_>> {
        let matcher = match scope {
            Scope::Command => &self.command,
            Scope::Output => &self.output,
        };
        // A scope without patterns matches nothing (the default pack has no output rules, and
        // most screen lines are output). Most text matches nothing either: one early-exit pass
        // first, the full match set only on a hit.
        if matcher.owner.is_empty() || !matcher.engine.is_match(text) {
            return Vec::new();
        }
        let hit: BTreeSet<usize> = matcher
            .engine
            .matching(text)
            .into_iter()
            .map(|i| matcher.owner[i])
            .collect();
        hit.into_iter()
            .filter(|&i| {
                let rule = &self.rules[i];
                !self.exceptions[i].iter().any(|e| e.is_match(rule, text))
            })
            .map(|i| RuleMatch {
                rule: &self.rules[i],
            })
            .collect()
    }
}

/// The patterns of `scope`'s rules in rule order, each with its rule's index.
fn scope_patterns(rules: &[Rule], scope: Scope) -> (Vec<&str>, Vec<usize>) {
    let mut patterns = Vec::new();
    let mut owner = Vec::new();
    for (index, rule) in rules.iter().enumerate().filter(|(_, r)| r.scope == scope) {
        for pattern in &rule.patterns {
            patterns.push(pattern.as_str());
            owner.push(index);
        }
    }
    (patterns, owner)
}

impl ScopeMatcher {
    fn prebuilt(
        rules: &[Rule],
        sources: &[String],
        scope: Scope,
        deflated: &[u8],
    ) -> Result<ScopeMatcher, RuleError> {
        let (patterns, owner) = scope_patterns(rules, scope);
        let loaded = nfa_blob::inflate(deflated)
            .map_err(PrebuiltError::from)
            .and_then(|blob| Prebuilt::load(&blob, &patterns, DFA_CACHE_LIMIT));
        match loaded {
            Ok(prebuilt) => Ok(ScopeMatcher {
                engine: Engine::Prebuilt(std::sync::Arc::new(prebuilt)),
                owner,
            }),
            Err(error) => {
                tracing::warn!(%error, scope = scope.as_str(), "compiling the default pack instead");
                ScopeMatcher::build(rules, sources, scope)
            }
        }
    }

    fn build(rules: &[Rule], sources: &[String], scope: Scope) -> Result<ScopeMatcher, RuleError> {
        let (patterns, owner) = scope_patterns(rules, scope);
        let built = RegexSetBuilder::new(&patterns)
            .size_limit(REGEX_SIZE_LIMIT * 8)
            // The lazy DFA's cache: at the 2 MiB default, a pack this size evicts states for
            // every few hundred distinct commands and rebuilds them; 8 MiB per scope keeps them,
            // well inside a 128 MB function.
            .dfa_size_limit(DFA_CACHE_LIMIT)
            .build();
        match built {
            Ok(set) => Ok(ScopeMatcher {
                engine: Engine::Compiled(set),
                owner,
            }),
            // Only now compile the patterns one by one, so the error names the rule and the
            // pattern: doing it up front would double the scanner's start-up work.
            Err(set_error) => {
                for (pattern, &index) in patterns.iter().zip(&owner) {
                    compile_one(pattern, &rules[index], &sources[index], "patterns")?;
                }
                Err(RuleError::Parse {
                    pack: "(compiled rule set)".into(),
                    message: set_error.to_string(),
                })
            }
        }
    }
}

/// Every pattern and exception of `rule` that does not compile, each named with its field.
pub(crate) fn regex_problems(rule: &Rule, source: &str) -> Vec<RuleError> {
    let patterns = rule.patterns.iter().map(|p| (p, "patterns"));
    let exceptions = rule.exceptions.iter().map(|p| (p, "exceptions"));
    patterns
        .chain(exceptions)
        .filter_map(|(pattern, field)| compile_one(pattern, rule, source, field).err())
        .collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn compile_one(
    pattern: &str,
    rule: &Rule,
    source: &str,
    field: &'static str,
) -> Result<Regex, RuleError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| RuleError::Invalid {
            pack: source.to_string(),
            id: rule.id.clone(),
            field,
            message: format!("bad regex `{pattern}`: {e}"),
        })
}

/// Rules of all packs in order, each with the pack it came from.
fn merge(packs: Vec<RulePack>) -> Result<Vec<(String, Rule)>, RuleError> {
    let mut rules: Vec<(String, Rule)> = Vec::new();
    for pack in packs {
        for id in &pack.disable {
            let before = rules.len();
            rules.retain(|(_, r)| &r.id != id);
            if rules.len() == before {
                return Err(RuleError::UnknownDisable {
                    pack: pack.source.clone(),
                    id: id.clone(),
                });
            }
        }
        for rule in pack.rules {
            if let Some((earlier, _)) = rules.iter().find(|(_, r)| r.id == rule.id) {
                // Twice in the same pack, or again after an earlier pack defined it.
                return Err(if *earlier == pack.source {
                    RuleError::Duplicate {
                        pack: pack.source.clone(),
                        id: rule.id,
                    }
                } else {
                    RuleError::Redefined {
                        pack: pack.source.clone(),
                        id: rule.id,
                        earlier: earlier.clone(),
                    }
                });
            }
            rules.push((pack.source.clone(), rule));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(text: &str, source: &str) -> RulePack {
        RulePack::parse(text, source).unwrap()
    }

    const PACK: &str = r#"
[[rule]]
id = "a.rm_root"
title = "rm of /"
category = "destructive"
severity = "critical"
action = "terminate"
patterns = ['^rm\s+(-\w+\s+)*/$', '^rm\s+--no-preserve-root']
exceptions = ['--dry-run']
[rule.examples]
must_match = ["rm -rf /"]
must_not_match = ["rm -rf ./build"]

[[rule]]
id = "b.shadow_output"
title = "shadow hashes printed"
category = "credential_access"
severity = "high"
action = "alert"
scope = "output"
patterns = ['^root:\$6\$']
[rule.examples]
must_match = ["root:$6$abc:19000:0:99999:7:::"]
must_not_match = ["root:x:0:0:root:/root:/bin/bash"]
"#;

    #[test]
    fn matches_by_scope_and_applies_exceptions() {
        let set = RuleSet::compile(vec![pack(PACK, "p")]).unwrap();
        let ids = |scope, text| {
            set.matches(scope, text)
                .iter()
                .map(|m| m.rule.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(Scope::Command, "rm -rf /"), ["a.rm_root"]);
        assert!(ids(Scope::Command, "rm --no-preserve-root --dry-run /").is_empty());
        assert!(ids(Scope::Command, "root:$6$abc").is_empty());
        assert_eq!(ids(Scope::Output, "root:$6$abc:1:2"), ["b.shadow_output"]);
    }

    #[test]
    fn a_bad_regex_names_the_rule_and_the_pattern() {
        let text = PACK.replace(r"'^rm\s+--no-preserve-root'", "'^rm(('");
        let err = RuleSet::compile(vec![pack(&text, "p")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("p: rule `a.rm_root`, field `patterns`: bad regex `^rm((`"),
            "{err}"
        );
    }

    #[test]
    fn a_later_pack_can_disable_and_replace_a_rule() {
        let custom = r#"
disable = ["a.rm_root"]
[[rule]]
id = "a.rm_root"
title = "rm of / (alert only here)"
category = "destructive"
severity = "critical"
action = "alert"
patterns = ['^rm\s']
[rule.examples]
must_match = ["rm x"]
must_not_match = ["ls"]
"#;
        let set = RuleSet::compile(vec![pack(PACK, "default"), pack(custom, "custom")]).unwrap();
        assert_eq!(
            set.find("a.rm_root").unwrap().title,
            "rm of / (alert only here)"
        );
        assert_eq!(set.rules().len(), 2);
    }

    #[test]
    fn redefining_without_disabling_names_the_earlier_pack() {
        let err = RuleSet::compile(vec![pack(PACK, "default"), pack(PACK, "custom")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "custom: rule `a.rm_root`, field `id`: already defined by default; \
             add `a.rm_root` to `disable` to replace that rule"
        );
    }

    #[test]
    fn similar_ids_catch_typos_and_partial_ids() {
        let set = RuleSet::compile(vec![pack(PACK, "p")]).unwrap();
        assert_eq!(set.similar_ids("a.rm_rot"), ["a.rm_root"]);
        assert_eq!(set.similar_ids("shadow_output"), ["b.shadow_output"]);
        assert_eq!(set.similar_ids("rm"), Vec::<&str>::new());
        assert!(set.similar_ids("entirely.different").is_empty());
    }

    #[test]
    fn regex_problems_name_every_bad_pattern_and_exception() {
        let text = PACK
            .replace(r"'^rm\s+--no-preserve-root'", "'^rm(('")
            .replace("'--dry-run'", "'[z-a]'");
        let rule = pack(&text, "p").rules.remove(0);
        let shown: Vec<String> = regex_problems(&rule, "p")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("p: rule `a.rm_root`, field `patterns`: bad regex `^rm((`"));
        assert!(shown[1].starts_with("p: rule `a.rm_root`, field `exceptions`: bad regex `[z-a]`"));
    }

    #[test]
    fn disabling_an_unknown_rule_is_an_error() {
        let err = RuleSet::compile(vec![pack("disable = [\"nope\"]", "custom")]).unwrap_err();
        assert!(err.to_string().contains("`disable` names `nope`"), "{err}");
    }
}

#[cfg(test)]
mod prebuilt_tests {
    use super::super::{DEFAULT_PACK, DEFAULT_PACK_NAME};
    use super::*;

    fn default_pack() -> RulePack {
        RulePack::parse(DEFAULT_PACK, DEFAULT_PACK_NAME).unwrap()
    }

    /// Every example of the pack, and variants that reach the Unicode, case-folding and
    /// separator corners of the patterns.
    fn texts(pack: &RulePack) -> Vec<String> {
        let mut texts = vec![
            String::new(),
            " ".into(),
            "é".into(),
            "rm -rf /\u{301}".into(),
            "rm\u{a0}-rf /".into(),
            "x".repeat(10_000),
            format!("rm -rf {}/", "é".repeat(300)),
        ];
        for rule in &pack.rules {
            for example in rule
                .examples
                .must_match
                .iter()
                .chain(&rule.examples.must_not_match)
            {
                texts.extend([
                    example.clone(),
                    example.to_uppercase(),
                    example.replace(' ', "\t"),
                    example.replace(' ', "\u{a0}"),
                    format!("{example} é"),
                    format!("é{example}"),
                    format!(" {example}"),
                    format!("{example}\n{example}"),
                    example.replace('/', "/é"),
                    example.chars().rev().collect(),
                ]);
                if let Some((head, tail)) = example.split_once(' ') {
                    texts.push(format!("{head}ß {tail}"));
                }
            }
        }
        texts
    }

    #[test]
    fn the_default_pack_runs_on_the_automata_built_with_the_crate() {
        assert!(super::super::default_rules().is_prebuilt());
        let (rules, problems) = super::super::load::assemble(Vec::new());
        assert!(problems.is_empty());
        assert!(rules.is_prebuilt());
    }

    #[test]
    fn the_embedded_nfa_is_the_one_the_patterns_compile_to() {
        // As `build.rs` writes it: compiled, then states with the same future merged
        // (`prebuilt_and_compiled_sets_match_the_same_patterns` checks the matches are kept).
        let pack = default_pack();
        for (scope, blob) in [
            (Scope::Command, DEFAULT_COMMAND_NFA),
            (Scope::Output, DEFAULT_OUTPUT_NFA),
        ] {
            let (patterns, _) = scope_patterns(&pack.rules, scope);
            let (embedded, fingerprint) =
                nfa_blob::decode(&nfa_blob::inflate(blob).unwrap()).unwrap();
            let compiled = nfa_blob::compile(&patterns).unwrap();
            let written = nfa_blob::encode(&compiled, fingerprint);
            let (rebuilt, _) = nfa_blob::decode(&written).unwrap();
            assert_eq!(fingerprint, nfa_blob::fingerprint(patterns.iter().copied()));
            assert_eq!(embedded.pattern_len(), compiled.pattern_len());
            assert_eq!(embedded.start_anchored(), rebuilt.start_anchored());
            assert_eq!(embedded.start_unanchored(), rebuilt.start_unanchored());
            for pid in compiled.patterns() {
                assert_eq!(embedded.start_pattern(pid), rebuilt.start_pattern(pid));
            }
            assert_eq!(embedded.states(), rebuilt.states(), "{scope:?}");
            assert!(embedded.states().len() <= compiled.states().len());
        }
    }

    #[test]
    fn prebuilt_and_compiled_sets_match_the_same_patterns() {
        let pack = default_pack();
        let prebuilt = RuleSet::prebuilt_default(pack.clone()).unwrap();
        let compiled = RuleSet::compile(vec![pack.clone()]).unwrap();
        assert!(prebuilt.is_prebuilt() && !compiled.is_prebuilt());
        let texts = texts(&pack);
        let mut matched = 0;
        for text in &texts {
            for (a, b) in [
                (&prebuilt.command, &compiled.command),
                (&prebuilt.output, &compiled.output),
            ] {
                let found = a.engine.matching(text);
                assert_eq!(found, b.engine.matching(text), "{text:?}");
                assert_eq!(a.engine.is_match(text), b.engine.is_match(text), "{text:?}");
                matched += usize::from(!found.is_empty());
            }
            for scope in [Scope::Command, Scope::Output] {
                assert_eq!(prebuilt.matches(scope, text), compiled.matches(scope, text));
            }
        }
        // The comparison is only worth something if plenty of texts match.
        assert!(matched > texts.len() / 10, "{matched} of {}", texts.len());
    }

    #[test]
    fn a_stale_or_damaged_automaton_is_refused() {
        let pack = default_pack();
        let (patterns, _) = scope_patterns(&pack.rules, Scope::Command);
        let load = |blob: &[u8], patterns: &[&str]| Prebuilt::load(blob, patterns, 1 << 20);
        let command_nfa = nfa_blob::inflate(DEFAULT_COMMAND_NFA).unwrap();
        assert!(matches!(
            load(&command_nfa, &patterns[1..]),
            Err(super::super::engine::PrebuiltError::Stale)
        ));
        for cut in [0, 3, 40, command_nfa.len() / 2, command_nfa.len() - 1] {
            assert!(
                load(&command_nfa[..cut], &patterns).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = command_nfa.clone();
        bad[0] ^= 1;
        assert_eq!(
            nfa_blob::decode(&bad).unwrap_err(),
            nfa_blob::BlobError::Header
        );
    }

    #[test]
    fn every_default_exception_compiles() {
        let pack = default_pack();
        let mut count = 0;
        for rule in &pack.rules {
            for pattern in &rule.exceptions {
                compile_one(pattern, rule, DEFAULT_PACK_NAME, "exceptions").unwrap();
                count += 1;
            }
        }
        assert!(count > 0);
    }

    #[test]
    fn lazy_exceptions_still_suppress_their_rules() {
        let set = RuleSet::prebuilt_default(default_pack()).unwrap();
        assert!(
            set.exceptions
                .iter()
                .flatten()
                .all(|e| e.compiled.get().is_none()),
            "exceptions are compiled on a rule's first match, not at load"
        );
        // Counter-examples a pattern of the rule matches but an exception takes back.
        let mut suppressed = 0;
        for (index, rule) in set.rules().iter().enumerate() {
            let matcher = match rule.scope {
                Scope::Command => &set.command,
                Scope::Output => &set.output,
            };
            for text in &rule.examples.must_not_match {
                let pattern_hit = matcher
                    .engine
                    .matching(text)
                    .iter()
                    .any(|&p| matcher.owner[p] == index);
                let reported = set
                    .matches(rule.scope, text)
                    .iter()
                    .any(|m| m.rule.id == rule.id);
                if pattern_hit {
                    assert!(!reported, "{}: {text:?}", rule.id);
                    suppressed += 1;
                }
            }
        }
        assert!(suppressed > 0, "no example exercises an exception");
        assert!(
            set.exceptions
                .iter()
                .flatten()
                .any(|e| e.compiled.get().is_some())
        );
    }
}
