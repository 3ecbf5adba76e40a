//! Forbidden-command rules: the pack format, loading, and the compiled matcher.

pub mod check;
mod engine;
pub mod load;
mod matcher;
mod nfa_blob;
mod pack;
pub mod selftest;

pub use matcher::{RuleMatch, RuleSet};
pub use pack::{Examples, Rule, RuleAction, RuleError, RulePack, Scope};

/// The default pack, compiled into every binary so a function never runs without rules.
pub const DEFAULT_PACK: &str = include_str!("../../../rules/default.toml");
pub const DEFAULT_PACK_NAME: &str = "rules/default.toml";
/// The same pack as JSON, written (and deflated) by `build.rs`: parsing the TOML took 2 ms of a
/// cold start.
const DEFAULT_PACK_JSON: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/default_pack.json.deflate"));

/// The embedded default pack, parsed and checked.
pub(crate) fn default_pack() -> Result<RulePack, RuleError> {
    let json = nfa_blob::inflate(DEFAULT_PACK_JSON).map_err(|e| RuleError::Parse {
        pack: DEFAULT_PACK_NAME.into(),
        message: e.to_string(),
    })?;
    RulePack::parse_json(&json, DEFAULT_PACK_NAME)
}

/// The default pack followed by custom packs (each may disable or redefine default rules).
/// Without custom packs, the default pack's automata compiled at build time are used.
pub fn default_with(custom: Vec<RulePack>) -> Result<RuleSet, RuleError> {
    let default = default_pack()?;
    if custom.is_empty() {
        return RuleSet::prebuilt_default(default);
    }
    RuleSet::compile(std::iter::once(default).chain(custom).collect())
}

/// The embedded default rules, from the automata compiled at build time.
pub fn default_rules() -> RuleSet {
    let pack = default_pack().expect("the embedded default pack parses");
    RuleSet::prebuilt_default(pack).expect("the embedded default pack compiles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_default_pack_is_the_toml_one() {
        let json = default_pack().unwrap();
        assert_eq!(
            json,
            RulePack::parse(DEFAULT_PACK, DEFAULT_PACK_NAME).unwrap()
        );
        assert!(!json.rules.is_empty());
    }

    #[test]
    fn broken_json_is_an_error_naming_the_pack() {
        let err = RulePack::parse_json(b"{\"rule\": 3}", "p").unwrap_err();
        assert!(err.to_string().starts_with("p:"), "{err}");
    }
}
