//! Forbidden-command rules: the pack format, loading, and the compiled matcher.

pub mod check;
pub mod load;
mod matcher;
mod pack;
pub mod selftest;

pub use matcher::{RuleMatch, RuleSet};
pub use pack::{Examples, Rule, RuleAction, RuleError, RulePack, Scope};

/// The default pack, compiled into every binary so a function never runs without rules.
pub const DEFAULT_PACK: &str = include_str!("../../../rules/default.toml");
pub const DEFAULT_PACK_NAME: &str = "rules/default.toml";

/// The default pack followed by custom packs (each may disable or redefine default rules).
pub fn default_with(custom: Vec<RulePack>) -> Result<RuleSet, RuleError> {
    let default = RulePack::parse(DEFAULT_PACK, DEFAULT_PACK_NAME)?;
    RuleSet::compile(std::iter::once(default).chain(custom).collect())
}

/// The embedded default rules, compiled.
pub fn default_rules() -> RuleSet {
    let pack =
        RulePack::parse(DEFAULT_PACK, DEFAULT_PACK_NAME).expect("the embedded default pack parses");
    RuleSet::compile(vec![pack]).expect("the embedded default pack compiles")
}
