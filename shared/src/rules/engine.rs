//! The automaton a scope's patterns run in: a `RegexSet` compiled at start (custom packs), or
//! the default pack's NFA, compiled by `build.rs` and only rebuilt here.
//!
//! The prebuilt engine searches the way `regex::RegexSet` does for the same NFA: a lazy DFA
//! with `MatchKind::All` and the same cache limits, falling back to the PikeVM for a search the
//! lazy DFA gives up on. So a text matches the same patterns either way; the tests compare the
//! two on every example of the pack.

use super::nfa_blob::{self, BlobError};
use regex::RegexSet;
use regex_automata::hybrid::dfa::{Cache as DfaCache, DFA};
use regex_automata::nfa::thompson::pikevm::{Cache as PikeCache, PikeVM};
use regex_automata::util::pool::Pool;
use regex_automata::{Input, MatchKind, PatternSet};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Compiled(RegexSet),
    Prebuilt(Arc<Prebuilt>),
}

impl Engine {
    /// Whether any pattern matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            Engine::Compiled(set) => set.is_match(text),
            Engine::Prebuilt(prebuilt) => prebuilt.is_match(text),
        }
    }

    /// Indices of every pattern that matches anywhere in `text`, ascending.
    pub(crate) fn matching(&self, text: &str) -> Vec<usize> {
        match self {
            Engine::Compiled(set) => set.matches(text).into_iter().collect(),
            Engine::Prebuilt(prebuilt) => prebuilt.matching(text),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PrebuiltError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the embedded rule automaton was built from other patterns")]
    Stale,
    #[error("the embedded rule automaton's matcher does not build: {0}")]
    Matcher(String),
}

struct Automata {
    dfa: DFA,
    pikevm: PikeVM,
}

struct Caches {
    dfa: DfaCache,
    pikevm: PikeCache,
}

type CreateCaches = Box<dyn Fn() -> Caches + Send + Sync + UnwindSafe + RefUnwindSafe>;

pub(crate) struct Prebuilt {
    automata: Arc<Automata>,
    /// Search state, one per thread searching at once (the pool `regex` itself uses).
    caches: Pool<Caches, CreateCaches>,
}

impl std::fmt::Debug for Prebuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prebuilt")
            .field("patterns", &self.automata.dfa.pattern_len())
            .finish_non_exhaustive()
    }
}

impl Prebuilt {
    /// Rebuilds the automaton in `blob` for `patterns`, which must be the patterns it was
    /// compiled from, in the same order. `dfa_cache` is the lazy DFA's memory limit.
    pub(crate) fn load(
        blob: &[u8],
        patterns: &[&str],
        dfa_cache: usize,
    ) -> Result<Prebuilt, PrebuiltError> {
        let (nfa, fingerprint) = nfa_blob::decode(blob)?;
        if fingerprint != nfa_blob::fingerprint(patterns.iter().copied())
            || nfa.pattern_len() != patterns.len()
        {
            return Err(PrebuiltError::Stale);
        }
        let matcher = |e: &dyn std::fmt::Display| PrebuiltError::Matcher(e.to_string());
        // The settings `regex`'s meta engine gives its lazy DFA for a `RegexSet`.
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .byte_classes(true)
                    .unicode_word_boundary(true)
                    .cache_capacity(dfa_cache)
                    .skip_cache_capacity_check(false)
                    .minimum_cache_clear_count(Some(3))
                    .minimum_bytes_per_state(Some(10)),
            )
            .build_from_nfa(nfa.clone())
            .map_err(|e| matcher(&e))?;
        let pikevm = PikeVM::builder()
            .configure(PikeVM::config().match_kind(MatchKind::All))
            .build_from_nfa(nfa)
            .map_err(|e| matcher(&e))?;
        let automata = Arc::new(Automata { dfa, pikevm });
        let create = {
            let automata = Arc::clone(&automata);
            Box::new(move || Caches {
                dfa: automata.dfa.create_cache(),
                pikevm: automata.pikevm.create_cache(),
            }) as CreateCaches
        };
        Ok(Prebuilt {
            automata,
            caches: Pool::new(create),
        })
    }

    fn is_match(&self, text: &str) -> bool {
        let input = Input::new(text).earliest(true);
        let mut caches = self.caches.get();
        match self.automata.dfa.try_search_fwd(&mut caches.dfa, &input) {
            Ok(found) => found.is_some(),
            // The lazy DFA gave up (its cache thrashed): the PikeVM always answers.
            Err(_) => self.automata.pikevm.is_match(&mut caches.pikevm, input),
        }
    }

    fn matching(&self, text: &str) -> Vec<usize> {
        let input = Input::new(text);
        let mut found = PatternSet::new(self.automata.dfa.pattern_len());
        let mut caches = self.caches.get();
        let dfa =
            self.automata
                .dfa
                .try_which_overlapping_matches(&mut caches.dfa, &input, &mut found);
        if dfa.is_err() {
            found.clear();
            self.automata
                .pikevm
                .which_overlapping_matches(&mut caches.pikevm, &input, &mut found);
        }
        found.iter().map(|p| p.as_usize()).collect()
    }
}
