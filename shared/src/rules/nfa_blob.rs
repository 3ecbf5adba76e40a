//! The default pack's patterns as Thompson NFAs, compiled when the crate is built (`build.rs`)
//! and rebuilt at start-up from the embedded bytes.
//!
//! Compiling the default pack's ~500 patterns costs about 80 ms and 50 MB of peak memory at
//! start-up, most of it parsing, Unicode class translation and building a forward and a reverse
//! NFA; rebuilding the forward NFA from its states costs a few milliseconds. Serialising the
//! NFA, not a DFA: a full DFA of the pack does not determinise in reasonable time or space
//! (the `(?:[^ \t]+[ \t]+)*?` word loops of patterns sharing a command interleave), while the
//! lazy DFA the `regex` crate runs anyway is built from the NFA at no cost. Before it is
//! written, states with the same future are merged (`representatives`): 17 % fewer states for
//! the default pack, each one less to rebuild.
//!
//! This file is also compiled into `build.rs` (`#[path]`), so the writer and the reader cannot
//! drift apart. The format is private to one build: a sequence of LEB128 varints (state
//! references as the zigzag difference from the state being written, since most point at a
//! neighbour: a third of the size of plain `u32`s, which every binary carries) and, for a byte
//! range, its two bytes as they are (a range as one varint took two or three bytes anyway, and
//! decoding it was a third of the rebuild's varint reads),
//!
//! ```text
//! MAGIC VERSION fingerprint_lo fingerprint_hi utf8 start_anchored start_unanchored
//! pattern_len start[pattern_len] state_len state*
//! ```
//!
//! where each state is a tag and its fields (see `RANGE` and the tags after it).
#![allow(dead_code)]

use regex_automata::nfa::thompson::{self, Builder, NFA, State, Transition, WhichCaptures};
use regex_automata::util::look::Look;
use regex_automata::util::primitives::{PatternID, StateID};
use regex_automata::util::syntax;

const MAGIC: u32 = u32::from_le_bytes(*b"WNFA");
/// Bumped whenever the layout changes.
const VERSION: u32 = 3;

/// The NFA size limit `RuleSet` gives a scope's `RegexSet` (`REGEX_SIZE_LIMIT * 8`).
pub const NFA_SIZE_LIMIT: usize = 32 * 1024 * 1024;

// State tags, each followed by its fields:
/// the bytes `lo` and `hi`, next
const RANGE: u32 = 0;
/// count, then the bytes `lo` and `hi` and next for each transition
const SPARSE: u32 = 1;
/// look repr, next
const LOOK: u32 = 2;
/// count, then each alternate
const UNION: u32 = 3;
const FAIL: u32 = 4;
/// pattern id
const MATCH: u32 = 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    #[error("the embedded rule automaton is truncated")]
    Truncated,
    #[error("the embedded rule automaton has a bad header (built by another version?)")]
    Header,
    #[error("the embedded rule automaton has an unknown state tag {0}")]
    Tag(u32),
    #[error("the embedded rule automaton refers to state {0}, which does not exist")]
    State(u32),
    #[error("the embedded rule automaton has bytes after its last state")]
    Trailing,
    #[error("the embedded rule automaton has a number longer than 32 bits")]
    Varint,
    #[error("the embedded rule automaton has a bad byte range {0:#x}")]
    Range(u32),
    #[error("the embedded rule automaton has overlapping or unsorted byte ranges")]
    Sparse,
    #[error("the embedded rule automaton has an unknown look-around {0}")]
    Look(u32),
    #[error("the embedded rule automaton's patterns are out of order at {0}")]
    Pattern(u32),
    #[error("the embedded rule automaton does not rebuild: {0}")]
    Build(String),
    #[error("embedded rule data does not inflate: {0}")]
    Inflate(String),
}

/// Deflates what `build.rs` embeds: the varint NFA and the pack's JSON shrink about 10 and 4
/// times, 860 KB off every binary that holds the default pack, for about a millisecond of
/// inflating at start. The inflated length goes first (four bytes, little-endian), so the
/// reader allocates once, at the right size.
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let len = u32::try_from(bytes.len()).expect("embedded data is far below 4 GiB");
    let mut encoder =
        flate2::write::DeflateEncoder::new(len.to_le_bytes().to_vec(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The largest inflated length `inflate` accepts; the embedded data is a few hundred KB.
const INFLATE_ROOM: usize = 16 << 20;

/// Inflates what [`deflate`] wrote, in one call into a buffer of the length written first:
/// with the whole output in one slice, the decoder copies matches straight from it instead of
/// going through the 32 KB window a streaming inflater keeps.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>, BlobError> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    let Some((len, bytes)) = bytes.split_first_chunk::<4>() else {
        return Err(BlobError::Inflate("no length".into()));
    };
    let len = u32::from_le_bytes(*len) as usize;
    if len > INFLATE_ROOM {
        return Err(BlobError::Inflate(format!("{len} bytes is too long")));
    }
    let mut out = vec![0; len];
    let mut decompressor = Box::<DecompressorOxide>::default();
    let (status, _, written) = decompress(
        &mut decompressor,
        bytes,
        &mut out,
        0,
        inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
    );
    match status {
        TINFLStatus::Done if written == len => Ok(out),
        TINFLStatus::Done => Err(BlobError::Inflate(format!(
            "{written} bytes where {len} were written"
        ))),
        TINFLStatus::HasMoreOutput => Err(BlobError::Inflate(format!(
            "more than the {len} bytes written"
        ))),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
            Err(BlobError::Inflate("the data ends early".into()))
        }
        other => Err(BlobError::Inflate(format!("corrupt data ({other:?})"))),
    }
}

/// Identifies a list of patterns, so an automaton is only used for the patterns it was built
/// from. FNV-1a over each pattern and a separator byte no UTF-8 text contains.
pub fn fingerprint<'a>(patterns: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for pattern in patterns {
        pattern.bytes().for_each(&mut eat);
        eat(0xff);
    }
    hash
}

/// The NFA `regex::RegexSet` builds for these patterns (a `RegexSetBuilder` with the default
/// syntax, `MatchKind::All`, no captures): the same syntax and Thompson settings, so the
/// automaton matches exactly what the set would.
pub fn compile(patterns: &[&str]) -> Result<NFA, String> {
    let syntax = syntax::Config::new().utf8(true);
    let mut hirs = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        hirs.push(syntax::parse_with(pattern, &syntax).map_err(|e| e.to_string())?);
    }
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(true)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .shrink(false)
                .which_captures(WhichCaptures::None),
        )
        .build_many_from_hir(&hirs)
        .map_err(|e| e.to_string())
}

/// Appends `value` as a LEB128 varint.
fn put(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A reference to state `to` from state `from`: zigzag-encoded difference.
fn put_state(out: &mut Vec<u8>, from: usize, to: StateID) {
    let delta = to.as_usize() as i64 - from as i64;
    put(out, ((delta << 1) ^ (delta >> 63)) as u32);
}

/// What a state is without its successors: two states can only share a future if they agree
/// on this.
#[derive(PartialEq, Eq, Hash)]
enum Label {
    Range(u8, u8),
    Sparse(Vec<(u8, u8)>),
    Look(u32),
    Union,
    Fail,
    Match(u32),
}

fn label_and_successors(state: &State) -> (Label, Vec<StateID>) {
    match state {
        State::ByteRange { trans } => (Label::Range(trans.start, trans.end), vec![trans.next]),
        State::Sparse(sparse) => (
            Label::Sparse(
                sparse
                    .transitions
                    .iter()
                    .map(|t| (t.start, t.end))
                    .collect(),
            ),
            sparse.transitions.iter().map(|t| t.next).collect(),
        ),
        State::Look { look, next } => (Label::Look(look.as_repr()), vec![*next]),
        State::Union { alternates } => (Label::Union, alternates.to_vec()),
        State::BinaryUnion { alt1, alt2 } => (Label::Union, vec![*alt1, *alt2]),
        State::Fail => (Label::Fail, Vec::new()),
        State::Match { pattern_id } => (Label::Match(pattern_id.as_u32()), Vec::new()),
        // Compiled without captures; the builder never leaves dense states.
        State::Capture { .. } | State::Dense(_) => {
            unreachable!("no capture or dense states in a capture-free NFA")
        }
    }
}

/// For each state, the first state with the same future: the same label, and successors that
/// in turn have the same futures, in the same order (the coarsest bisimulation, by partition
/// refinement). Such states accept the same continuations for the same patterns, so one can
/// stand for all of them: the Thompson compiler writes each place a sub-expression occurs as
/// states of its own (every branch of a literal alternation ends in its own states, a bounded
/// repetition repeats its body), and merging them leaves a sixth fewer states to rebuild at
/// start-up, with the same matches.
fn representatives(states: &[(Label, Vec<StateID>)]) -> Vec<usize> {
    use std::collections::HashMap;
    let mut labels: HashMap<&Label, u32> = HashMap::new();
    let mut class: Vec<u32> = states
        .iter()
        .map(|(label, _)| {
            let next = labels.len() as u32;
            *labels.entry(label).or_insert(next)
        })
        .collect();
    let mut classes = labels.len();
    loop {
        let mut signatures: HashMap<(u32, Vec<u32>), u32> = HashMap::new();
        let refined: Vec<u32> = states
            .iter()
            .zip(&class)
            .map(|((_, successors), &own)| {
                let key = (
                    own,
                    successors.iter().map(|s| class[s.as_usize()]).collect(),
                );
                let next = signatures.len() as u32;
                *signatures.entry(key).or_insert(next)
            })
            .collect();
        // Refinement only splits classes: no new class means no further split.
        let refined_classes = signatures.len();
        class = refined;
        if refined_classes == classes {
            break;
        }
        classes = refined_classes;
    }
    let mut first: HashMap<u32, usize> = HashMap::new();
    class
        .iter()
        .enumerate()
        .map(|(at, c)| *first.entry(*c).or_insert(at))
        .collect()
}

/// `nfa` with states that share a future merged ([`representatives`]), written in the order of
/// the states kept: match states are never merged (each names its pattern), so they keep the
/// ascending pattern order `decode` checks.
pub fn encode(nfa: &NFA, fingerprint: u64) -> Vec<u8> {
    let states: Vec<(Label, Vec<StateID>)> =
        nfa.states().iter().map(label_and_successors).collect();
    let keep = representatives(&states);
    let mut renumbered = vec![u32::MAX; keep.len()];
    let mut kept = 0u32;
    for (at, &rep) in keep.iter().enumerate() {
        if rep == at {
            renumbered[at] = kept;
            kept += 1;
        }
    }
    let id = |state: StateID| StateID::must(renumbered[keep[state.as_usize()]] as usize);
    let mut out = Vec::new();
    for word in [
        MAGIC,
        VERSION,
        fingerprint as u32,
        (fingerprint >> 32) as u32,
        u32::from(nfa.is_utf8()),
        id(nfa.start_anchored()).as_u32(),
        id(nfa.start_unanchored()).as_u32(),
        nfa.pattern_len() as u32,
    ] {
        put(&mut out, word);
    }
    for pid in nfa.patterns() {
        put(
            &mut out,
            id(nfa.start_pattern(pid).expect("a pattern of this NFA")).as_u32(),
        );
    }
    put(&mut out, kept);
    let written = states
        .into_iter()
        .enumerate()
        .filter(|&(at, _)| keep[at] == at);
    for (at, (label, successors)) in written.map(|(old, state)| (renumbered[old] as usize, state)) {
        let successors: Vec<StateID> = successors.into_iter().map(id).collect();
        match label {
            Label::Range(start, end) => {
                put(&mut out, RANGE);
                out.extend([start, end]);
                put_state(&mut out, at, successors[0]);
            }
            Label::Sparse(ranges) => {
                put(&mut out, SPARSE);
                put(&mut out, ranges.len() as u32);
                for ((start, end), next) in ranges.into_iter().zip(successors) {
                    out.extend([start, end]);
                    put_state(&mut out, at, next);
                }
            }
            Label::Look(repr) => {
                put(&mut out, LOOK);
                put(&mut out, repr);
                put_state(&mut out, at, successors[0]);
            }
            Label::Union => {
                // Two alternates may now be one state: the later is redundant in any order of
                // preference.
                let mut alternates: Vec<StateID> = Vec::with_capacity(successors.len());
                for alternate in successors {
                    if !alternates.contains(&alternate) {
                        alternates.push(alternate);
                    }
                }
                put(&mut out, UNION);
                put(&mut out, alternates.len() as u32);
                alternates.iter().for_each(|&a| put_state(&mut out, at, a));
            }
            Label::Fail => put(&mut out, FAIL),
            Label::Match(pattern) => {
                put(&mut out, MATCH);
                put(&mut out, pattern);
            }
        }
    }
    out
}

struct Words<'a> {
    bytes: &'a [u8],
    states: u32,
    /// The state being read, which its references are relative to.
    at: u32,
}

// The decoder runs once per state and transition (about 100 000 of each for the default
// pack), so its small steps are inlined whatever the crate's `opt-level`, and the rare
// multi-byte varint is read out of line.
impl Words<'_> {
    #[inline(always)]
    fn next(&mut self) -> Result<u32, BlobError> {
        // Most words are one byte (state tags, counts, nearby states).
        match self.bytes.split_first() {
            Some((&byte, rest)) if byte & 0x80 == 0 => {
                self.bytes = rest;
                Ok(u32::from(byte))
            }
            _ => self.next_long(),
        }
    }

    #[inline(never)]
    fn next_long(&mut self) -> Result<u32, BlobError> {
        let mut value: u32 = 0;
        for shift in [0, 7, 14, 21, 28] {
            let (&byte, rest) = self.bytes.split_first().ok_or(BlobError::Truncated)?;
            self.bytes = rest;
            let bits = u32::from(byte & 0x7f);
            if shift == 28 && bits > 0x0f {
                return Err(BlobError::Varint);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(BlobError::Varint)
    }

    #[inline(always)]
    fn state(&mut self) -> Result<StateID, BlobError> {
        let zigzag = self.next()?;
        let delta = i64::from(zigzag >> 1) ^ -i64::from(zigzag & 1);
        let id = i64::from(self.at) + delta;
        if !(0..i64::from(self.states)).contains(&id) {
            return Err(BlobError::State(id.clamp(0, i64::from(u32::MAX)) as u32));
        }
        StateID::new(id as usize).map_err(|_| BlobError::State(id as u32))
    }

    #[inline(always)]
    fn transition(&mut self) -> Result<Transition, BlobError> {
        let Some((&[start, end], rest)) = self.bytes.split_first_chunk::<2>() else {
            return Err(BlobError::Truncated);
        };
        self.bytes = rest;
        if start > end {
            return Err(BlobError::Range(u32::from(start) | (u32::from(end) << 8)));
        }
        Ok(Transition {
            start,
            end,
            next: self.state()?,
        })
    }
}

/// The NFA and the fingerprint of the patterns it was built from. Adds the states back in the
/// order they were written, so every state keeps its id and the rebuilt NFA is the one
/// `build.rs` wrote (the compiled one with states of the same future merged).
pub fn decode(bytes: &[u8]) -> Result<(NFA, u64), BlobError> {
    let mut words = Words {
        bytes,
        states: u32::MAX,
        at: 0,
    };
    if words.next()? != MAGIC || words.next()? != VERSION {
        return Err(BlobError::Header);
    }
    let fingerprint = u64::from(words.next()?) | (u64::from(words.next()?) << 32);
    let utf8 = words.next()? == 1;
    let (anchored, unanchored) = (words.next()?, words.next()?);
    let pattern_len = words.next()?;
    let starts = (0..pattern_len)
        .map(|_| words.next())
        .collect::<Result<Vec<u32>, _>>()?;
    words.states = words.next()?;
    let check = |id: u32| {
        if id < words.states {
            StateID::new(id as usize).map_err(|_| BlobError::State(id))
        } else {
            Err(BlobError::State(id))
        }
    };
    let (anchored, unanchored) = (check(anchored)?, check(unanchored)?);
    let starts = starts
        .into_iter()
        .map(check)
        .collect::<Result<Vec<_>, _>>()?;

    let build = |e: regex_automata::nfa::thompson::BuildError| BlobError::Build(e.to_string());
    let mut builder = Builder::new();
    builder.set_utf8(utf8);
    // Patterns are opened in order, each just before its one match state, and closed at the
    // next: the builder only needs a pattern open when a match state is added.
    let mut open: Option<usize> = None;
    for at in 0..words.states {
        words.at = at;
        match words.next()? {
            RANGE => {
                let trans = words.transition()?;
                builder.add_range(trans).map_err(build)?;
            }
            SPARSE => {
                let count = words.next()?;
                // Room for the ranges at once; more than 256 cannot be valid (they are caught
                // below), and each takes at least three bytes, so no more is reserved.
                let room = count.min(256).min(words.bytes.len() as u32 / 3);
                let mut transitions = Vec::with_capacity(room as usize);
                for _ in 0..count {
                    transitions.push(words.transition()?);
                }
                // Searches assume the order the compiler writes: ascending, disjoint.
                if transitions.windows(2).any(|w| w[0].end >= w[1].start) {
                    return Err(BlobError::Sparse);
                }
                builder.add_sparse(transitions).map_err(build)?;
            }
            LOOK => {
                let repr = words.next()?;
                let look = Look::from_repr(repr).ok_or(BlobError::Look(repr))?;
                builder.add_look(words.state()?, look).map_err(build)?;
            }
            UNION => {
                let count = words.next()?;
                // Each alternate takes at least a byte: no more room than the bytes left.
                let mut alternates =
                    Vec::with_capacity(count.min(words.bytes.len() as u32) as usize);
                for _ in 0..count {
                    alternates.push(words.state()?);
                }
                builder.add_union(alternates).map_err(build)?;
            }
            FAIL => {
                builder.add_fail().map_err(build)?;
            }
            MATCH => {
                let pattern = words.next()?;
                let expected = open.map_or(0, |p| p + 1);
                if pattern as usize != expected || expected >= starts.len() {
                    return Err(BlobError::Pattern(pattern));
                }
                if let Some(previous) = open {
                    builder.finish_pattern(starts[previous]).map_err(build)?;
                }
                let id = builder.start_pattern().map_err(build)?;
                debug_assert_eq!(id, PatternID::must(expected));
                builder.add_match().map_err(build)?;
                open = Some(expected);
            }
            other => return Err(BlobError::Tag(other)),
        }
    }
    if let Some(last) = open {
        builder.finish_pattern(starts[last]).map_err(build)?;
    }
    if builder.pattern_len() != starts.len() {
        return Err(BlobError::Pattern(builder.pattern_len() as u32));
    }
    if !words.bytes.is_empty() {
        return Err(BlobError::Trailing);
    }
    let nfa = builder.build(anchored, unanchored).map_err(build)?;
    Ok((nfa, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    use regex_automata::nfa::thompson::pikevm::PikeVM;
    use regex_automata::{Input, MatchKind, PatternSet};

    /// The patterns of `nfa` that match each haystack, every one of them (`MatchKind::All`,
    /// as the rule set searches).
    fn matches(nfa: &NFA, haystacks: &[&str]) -> Vec<Vec<usize>> {
        let vm = PikeVM::builder()
            .configure(PikeVM::config().match_kind(MatchKind::All))
            .build_from_nfa(nfa.clone())
            .unwrap();
        let mut cache = vm.create_cache();
        haystacks
            .iter()
            .map(|haystack| {
                let mut found = PatternSet::new(nfa.pattern_len());
                vm.which_overlapping_matches(&mut cache, &Input::new(haystack), &mut found);
                found.iter().map(|p| p.as_usize()).collect()
            })
            .collect()
    }

    /// Encodes and decodes the patterns' NFA; the result has at most its states and the same
    /// matches on `haystacks`. Returns the state counts before and after.
    fn round_trip(patterns: &[&str], haystacks: &[&str]) -> (usize, usize) {
        let nfa = compile(patterns).unwrap();
        let fp = fingerprint(patterns.iter().copied());
        let (back, back_fp) = decode(&encode(&nfa, fp)).unwrap();
        assert_eq!(back_fp, fp);
        assert_eq!(back.pattern_len(), patterns.len());
        assert!(back.states().len() <= nfa.states().len());
        assert_eq!(
            matches(&back, haystacks),
            matches(&nfa, haystacks),
            "{patterns:?}"
        );
        (nfa.states().len(), back.states().len())
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, u32::MAX - 1, u32::MAX] {
            let mut out = Vec::new();
            put(&mut out, value);
            let mut words = Words {
                bytes: &out,
                states: 0,
                at: 0,
            };
            assert_eq!(words.next(), Ok(value));
            assert!(words.bytes.is_empty());
        }
        let mut out = Vec::new();
        put_state(&mut out, 10, StateID::must(3));
        put_state(&mut out, 10, StateID::must(17));
        let mut words = Words {
            bytes: &out,
            states: 20,
            at: 10,
        };
        assert_eq!(words.state(), Ok(StateID::must(3)));
        assert_eq!(words.state(), Ok(StateID::must(17)));
        let mut out = Vec::new();
        put_state(&mut out, 10, StateID::must(25));
        let mut words = Words {
            bytes: &out,
            states: 20,
            at: 10,
        };
        assert_eq!(words.state(), Err(BlobError::State(25)));
    }

    #[test]
    fn every_kind_of_state_survives_a_round_trip() {
        round_trip(&[], &["", "a"]);
        round_trip(&["^a"], &["", "a", "ba", "ab"]);
        // Unions, sparse classes, UTF-8 sequences, look-arounds, case folding, empty matches.
        round_trip(
            &[
                r"^(?:ab|cd|e)+[^ \t]*x$",
                r"(?i)straße\b",
                r"(?-u:\b)é.",
                "",
                "z|",
            ],
            &[
                "",
                "abx",
                "abcdeééx",
                "ab cx",
                "STRASSE",
                "straße",
                "straßex",
                "xé!",
                "aé.",
                "zz",
                "é\u{301}",
            ],
        );
    }

    #[test]
    fn states_with_the_same_future_are_written_once() {
        // The trie of the alternation ends each branch in its own `b`, `c` and `d` states.
        let patterns = [
            r"^(?:abcd|xbcd|ybcd)[ \t]+-r",
            r"^(?:abcd|xbcd)[ \t]+-f",
            "^bcd",
        ];
        let haystacks = [
            "abcd -r",
            "xbcd\t-r",
            "ybcd -r",
            "ybcd -f",
            "abcd -f",
            "bcd -r",
            "bcd",
            "zbcd -r",
            "abc -r",
            "xbcd  -f -r",
        ];
        let (before, after) = round_trip(&patterns, &haystacks);
        assert!(after < before, "{after} of {before} states");
        // Each pattern keeps its own match state, and its matches.
        assert_eq!(
            matches(&compile(&patterns).unwrap(), &haystacks),
            [
                vec![0],
                vec![0],
                vec![0],
                vec![],
                vec![1],
                vec![2],
                vec![2],
                vec![],
                vec![],
                vec![1],
            ]
        );
    }

    #[test]
    fn deflated_data_inflates_back_and_damage_is_an_error() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let deflated = deflate(&data);
        assert!(deflated.len() < data.len() / 10);
        assert_eq!(inflate(&deflated).unwrap(), data);
        assert!(matches!(
            inflate(&deflated[..deflated.len() / 2]),
            Err(BlobError::Inflate(_))
        ));
        // The length written first is checked, and too little room is not fatal on its own.
        let mut longer = deflated.clone();
        longer[0] ^= 1;
        assert!(matches!(inflate(&longer), Err(BlobError::Inflate(_))));
        let mut shorter = deflated.clone();
        shorter[..4].copy_from_slice(&1u32.to_le_bytes());
        assert!(matches!(inflate(&shorter), Err(BlobError::Inflate(_))));
        assert!(matches!(
            inflate(&deflated[..3]),
            Err(BlobError::Inflate(_))
        ));
    }

    #[test]
    fn the_fingerprint_tells_pattern_lists_apart() {
        assert_ne!(fingerprint(["ab", "c"]), fingerprint(["a", "bc"]));
        assert_ne!(fingerprint(["a"]), fingerprint(["a", ""]));
        assert_eq!(fingerprint(["a", "b"]), fingerprint(["a", "b"]));
    }

    #[test]
    fn damaged_bytes_give_an_error() {
        let nfa = compile(&["^rm -rf /", "^dd of=/dev/sda"]).unwrap();
        let blob = encode(&nfa, 7);
        assert_eq!(
            decode(&blob[..blob.len() - 1]).unwrap_err(),
            BlobError::Truncated
        );
        let mut longer = blob.clone();
        longer.extend([0, 0, 0, 0]);
        assert_eq!(decode(&longer).unwrap_err(), BlobError::Trailing);
        // MAGIC is five bytes as a varint; VERSION follows.
        let mut bad_version = blob.clone();
        bad_version[5] = 99;
        assert_eq!(decode(&bad_version).unwrap_err(), BlobError::Header);
        let mut endless = blob.clone();
        endless[5..11].fill(0xff);
        assert_eq!(decode(&endless).unwrap_err(), BlobError::Varint);
        // Every single-byte change either decodes or is refused: never a panic.
        for at in 0..blob.len() {
            let mut flipped = blob.clone();
            flipped[at] ^= 0x80;
            let _ = decode(&flipped);
        }
    }
}
