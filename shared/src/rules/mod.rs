//! Forbidden-command rules: the pack format, loading, and the compiled matcher.

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

/// The rules a function runs with: the default pack, plus the pack file named by
/// `WARDEN_RULES_FILE` (bundled with the deployment) if set. A custom pack that does not load
/// leaves the default pack in force, with the reason logged: a function never runs without rules.
pub fn load_configured_rules() -> RuleSet {
    let Ok(path) = std::env::var("WARDEN_RULES_FILE") else {
        return default_rules();
    };
    let loaded = std::fs::read_to_string(&path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|text| RulePack::parse(&text, &path).map_err(|e| e.to_string()))
        .and_then(|pack| default_with(vec![pack]).map_err(|e| e.to_string()));
    match loaded {
        Ok(rules) => {
            tracing::info!(rules = rules.rules().len(), pack = %path, "loaded custom rule pack");
            rules
        }
        Err(error) => {
            tracing::error!(%error, "custom rule pack failed to load; running with the default pack");
            default_rules()
        }
    }
}
