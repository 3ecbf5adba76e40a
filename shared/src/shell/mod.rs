//! Shell-aware normalisation of one command line.
//!
//! Rules must match what the shell would run, not what was typed: `r''m`, `$'\x72\x6d'`,
//! `/bin/rm`, `sudo -u root rm` and `echo cm0gLXJmIC8K | base64 -d | sh` all have to reach a rule
//! as `rm …`. [`normalize`] reads one line the way bash does (quotes, escapes, operators,
//! substitutions), unwraps launchers (`sudo`, `env`, `nohup`, …), follows command strings handed
//! to another shell (`bash -c`, `su -c`, `eval`, `ssh host CMD`, `docker exec`) and literal
//! payloads decoded into a shell, and returns every command it finds, spelled canonically.
//!
//! Nothing is executed and nothing unknowable is expanded: `$HOME` stays `$HOME`; only variables
//! assigned a literal earlier on the same line are substituted. The line, the nesting, the output
//! and decoded payloads are capped (the `MAX_*` constants), so a hostile line costs linear time
//! and bounded memory.

mod derived;
mod escape;
mod expand;
mod launch;
mod lex;
mod loops;
mod normalize;
mod param;
mod parse;
mod paths;
mod payload;
mod plain;
mod state;
#[cfg(test)]
mod tests;
mod track;

use normalize::{Arg, Ctx, Normalizer};
pub use state::ShellState;

/// Bytes of a line that are read; the rest is ignored.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// How many command strings or substitutions deep a command is still followed.
pub const MAX_DEPTH: usize = 4;
/// Entries returned for one line.
pub const MAX_ENTRIES: usize = 256;
/// Bytes kept of a decoded payload or command string.
pub const MAX_DECODED_BYTES: usize = 64 * 1024;
/// Bytes that variable substitution may add to one line: `b=$a$a$a; c=$b$b$b; …` cannot explode.
const EXPANSION_BUDGET: usize = 64 * 1024;
/// Longest value remembered for a variable.
const MAX_VALUE_BYTES: usize = 4 * 1024;
/// Bytes of known payloads (substitution outputs, decoded scripts) kept for one line: printf can
/// print far more than it is given.
const PAYLOAD_BUDGET: usize = 4 * MAX_DECODED_BYTES;
/// Bytes parsed for one line, the line included: command strings and payloads are parsed again,
/// and without this a line of nested `bash -c` bodies would cost several times its length.
const PARSE_BUDGET: usize = 2 * MAX_LINE_BYTES;
/// Pipeline stages through which a known payload is followed (`| rev | rev | …` stays linear).
const MAX_FOLLOWED_STAGES: usize = 16;
/// Launchers unwrapped from one command (`sudo env nohup …`).
const MAX_LAUNCHERS: usize = 32;
/// Shells: they run a command string given with `-c`, or a script read from standard input.
/// A `match` rather than a list searched in turn: this runs for every command. The one list of
/// shells: the command extractor asks it too (a shell started, a heredoc read as commands).
pub fn is_shell(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash"
            | "dash"
            | "zsh"
            | "ksh"
            | "mksh"
            | "ash"
            | "rbash"
            | "yash"
            | "posh"
            | "fish"
            | "csh"
            | "tcsh"
    )
}

/// One thing the shell would run, in normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedCommand {
    /// Words unquoted and unescaped, wrappers removed, the command name without its directory,
    /// joined by single spaces; redirections kept as words (`echo x >> /etc/passwd`). For a
    /// pipeline entry, the stages' texts joined by " | ".
    pub text: String,
    /// The words of the simple command (for a pipeline entry: of its first stage).
    pub argv: Vec<String>,
    /// How it was reached, outermost first, e.g. ["sudo", "bash -c", "base64"]; empty for a plain
    /// command.
    pub via: Vec<String>,
}

/// Every simple command and pipeline in `line`, normalised. Never panics, whatever the input.
///
/// For each pipeline: one entry with the whole pipeline, then (when it has several stages) one per
/// stage, then what those stages run in turn: substitutions (via `$()`), command strings (via
/// `bash -c`, `ssh`, …) and decoded payloads (via `base64`, …). Texts are reported once, in the
/// order met; at most [`MAX_ENTRIES`] entries.
///
/// Each line is read on its own, as if typed first in a new shell; a session's lines are read
/// with [`ShellState::normalize`], which carries what one line leaves for the next.
pub fn normalize(line: &str) -> Vec<NormalizedCommand> {
    ShellState::new().normalize(line)
}

impl ShellState {
    /// Like [`normalize`], for the next line of a session: variables, the working directory,
    /// functions, aliases and downloads of earlier lines are known, and this line's are kept.
    pub fn normalize(&mut self, line: &str) -> Vec<NormalizedCommand> {
        self.normalize_as(line, false)
    }

    /// Like [`ShellState::normalize`], for the texts alone: each entry's `argv` and `via` are
    /// left empty, which saves building them (the scanner matches texts only).
    pub fn normalize_texts(&mut self, line: &str) -> Vec<String> {
        let entries = self.normalize_as(line, true);
        entries.into_iter().map(|entry| entry.text).collect()
    }

    fn normalize_as(&mut self, line: &str, texts_only: bool) -> Vec<NormalizedCommand> {
        let mut normalizer = Normalizer::new(std::mem::replace(self, ShellState::vacant()));
        normalizer.texts_only = texts_only;
        normalizer.run_script(truncate(line, MAX_LINE_BYTES), &Ctx::default());
        *self = normalizer.state;
        normalizer.out
    }
}

/// `NAME=value` or `NAME+=value`: the name, whether it appends, and the value.
fn assignment(word: &str) -> Option<(&str, bool, &str)> {
    let (lhs, value) = word.split_once('=')?;
    let (name, append) = match lhs.strip_suffix('+') {
        Some(name) => (name, true),
        None => (lhs, false),
    };
    is_name(name.as_bytes()).then_some((name, append, value))
}

fn is_name(s: &[u8]) -> bool {
    match s.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}

/// `/usr/bin/rm` and `./rm` run `rm`.
fn basename(path: &str) -> &str {
    match path.rfind('/') {
        Some(slash) if slash + 1 < path.len() => &path[slash + 1..],
        _ => path,
    }
}

fn join(args: &[Arg]) -> String {
    join_words(args.iter().map(|a| a.text.as_str()), " ")
}

/// Like `[..].join(separator)`, without collecting the pieces first and with one allocation
/// (this runs per command).
fn join_words<'a>(words: impl Iterator<Item = &'a str> + Clone, separator: &str) -> String {
    let (count, bytes) = words.clone().fold((0usize, 0), |(count, bytes), word| {
        (count + 1, bytes + word.len())
    });
    let mut text = String::with_capacity(bytes + separator.len() * count.saturating_sub(1));
    for (i, word) in words.enumerate() {
        if i > 0 {
            text.push_str(separator);
        }
        text.push_str(word);
    }
    text
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn truncated(mut s: String, max: usize) -> String {
    let end = truncate(&s, max).len();
    s.truncate(end);
    s
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Like [`lossy`] but reuses the buffer when it is valid UTF-8, as it nearly always is.
fn lossy_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| lossy(e.as_bytes()))
}
