//! Word expansion: how one word becomes the fields the shell passes.

use super::lex::{Piece, Word};
use super::normalize::{Arg, Value};

/// The fields of one word as expansion splits it.
pub(super) struct Fields {
    pub(super) done: Vec<Arg>,
    pub(super) text: String,
    /// The current field exists even if empty (`''`, or anything at all was added).
    pub(super) live: bool,
    pub(super) resolved: bool,
    /// The whole word with substitution outputs put in, while everything in it is known (only
    /// kept for words with a substitution, and only used when the word stays one field).
    pub(super) evaluated: Option<String>,
}

impl Fields {
    pub(super) fn new(has_substitution: bool) -> Self {
        Fields {
            done: Vec::new(),
            text: String::new(),
            live: false,
            resolved: true,
            evaluated: has_substitution.then(String::new),
        }
    }

    pub(super) fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.live = true;
        if let Some(evaluated) = &mut self.evaluated {
            evaluated.push_str(text);
        }
    }

    pub(super) fn push_unresolved(&mut self, raw: &str) {
        self.text.push_str(raw);
        self.live = true;
        self.resolved = false;
        self.evaluated = None;
    }

    /// Written as is; its output, when known, goes into the evaluated form.
    pub(super) fn push_substitution(&mut self, raw: &str, output: Option<&Value>) {
        let evaluated = self.evaluated.take();
        self.push_unresolved(raw);
        self.evaluated = evaluated.zip(output).map(|(e, v)| e + &v.text);
    }

    /// An unquoted expansion: each IFS character ends a field, and empty fields vanish.
    pub(super) fn push_split(&mut self, value: &str, ifs: &str) {
        if let Some(evaluated) = &mut self.evaluated {
            evaluated.push_str(value);
        }
        let mut parts = value.split(|c: char| ifs.contains(c));
        if let Some(first) = parts.next() {
            self.text.push_str(first);
            self.live |= !first.is_empty();
        }
        for part in parts {
            self.end_field();
            self.text.push_str(part);
            self.live = !part.is_empty();
        }
    }

    pub(super) fn end_field(&mut self) {
        if self.live {
            let mut arg = Arg::literal(std::mem::take(&mut self.text));
            arg.resolved = self.resolved;
            self.done.push(arg);
        }
        self.text.clear();
        self.live = false;
        self.resolved = true;
    }

    pub(super) fn finish(mut self) -> Vec<Arg> {
        self.end_field();
        if let [arg] = self.done.as_mut_slice() {
            arg.evaluated = self.evaluated;
        }
        self.done
    }
}

/// `{cat,/etc/shadow}`, `pre{a,b}post` and `"/var/lib/"{mysql,postgresql}`: bash brace expansion
/// of a comma list whose braces and commas were typed outside quotes (the first group only;
/// sequences like `{1..9}` and nested groups are left alone).
pub(super) fn brace_expansion(word: &Word) -> Option<Vec<String>> {
    let [Piece::Lit(text)] = word.pieces.as_slice() else {
        return None;
    };
    let marks = &word.braces;
    let byte = |i: usize| text.as_bytes()[i];
    let open = *marks.iter().find(|&&i| byte(i) == b'{')?;
    let close = *marks.iter().find(|&&i| i > open && byte(i) == b'}')?;
    let commas: Vec<usize> = marks
        .iter()
        .copied()
        .filter(|&i| i > open && i < close && byte(i) == b',')
        .collect();
    let nested = marks
        .iter()
        .any(|&i| i > open && i < close && byte(i) == b'{');
    if commas.is_empty() || nested {
        return None;
    }
    let (prefix, suffix) = (&text[..open], &text[close + 1..]);
    let bounds = std::iter::once(open)
        .chain(commas)
        .chain(std::iter::once(close))
        .collect::<Vec<_>>();
    Some(
        bounds
            .windows(2)
            .map(|w| format!("{prefix}{}{suffix}", &text[w[0] + 1..w[1]]))
            .filter(|field| !field.is_empty())
            .collect(),
    )
}
