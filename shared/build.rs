//! Compiles the default rule pack's patterns into NFAs (`src/rules/nfa_blob.rs`) so the
//! functions rebuild them in milliseconds at start instead of compiling the pack, and writes
//! the pack as JSON, which parses in a fraction of the TOML's time. Both are deflated: they
//! were the largest data in the scanner's binary.

#[path = "src/rules/nfa_blob.rs"]
mod nfa_blob;

use std::path::PathBuf;

const PACK: &str = "../rules/default.toml";

fn main() {
    println!("cargo::rerun-if-changed={PACK}");
    println!("cargo::rerun-if-changed=src/rules/nfa_blob.rs");
    let text = std::fs::read_to_string(PACK).unwrap_or_else(|e| panic!("{PACK}: {e}"));
    // Only the patterns, in rule order, per scope: the order `RuleSet` gives them. The pack's
    // own validation runs in the crate (and its tests); a pack that does not parse here fails
    // the build the same way it would fail every function at start.
    let pack: toml::Table = text.parse().unwrap_or_else(|e| panic!("{PACK}: {e}"));
    let rules = match pack.get("rule") {
        Some(toml::Value::Array(rules)) => rules.as_slice(),
        _ => &[],
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let json = serde_json::to_vec(&pack).expect("a TOML table serialises as JSON");
    let path = out.join("default_pack.json.deflate");
    std::fs::write(&path, nfa_blob::deflate(&json))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for scope in ["command", "output"] {
        let patterns: Vec<&str> = rules
            .iter()
            .filter(|rule| {
                rule.get("scope")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("command")
                    == scope
            })
            .flat_map(|rule| match rule.get("patterns") {
                Some(toml::Value::Array(patterns)) => patterns.as_slice(),
                _ => &[],
            })
            .map(|p| {
                p.as_str()
                    .unwrap_or_else(|| panic!("{PACK}: a pattern is not a string"))
            })
            .collect();
        let nfa = nfa_blob::compile(&patterns)
            .unwrap_or_else(|e| panic!("{PACK}: {scope} patterns do not compile: {e}"));
        let blob = nfa_blob::encode(&nfa, nfa_blob::fingerprint(patterns.iter().copied()));
        let path = out.join(format!("default_pack_{scope}.nfa.deflate"));
        std::fs::write(&path, nfa_blob::deflate(&blob))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
