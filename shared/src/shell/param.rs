//! Parameter expansion beyond `$NAME`: `${NAME:offset:length}`, defaults, prefix and suffix
//! removal, replacement, case changes, length and indirection, on values known on the line or in
//! the session. `${HOME:0:1}etc${HOME:0:1}shadow` is `/etc/shadow` whoever is logged in: a home
//! directory, like `PATH` and `SHELL`, always starts with `/`.

/// What is known of a variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Known {
    Full(String),
    /// Only the start is known (`HOME` starts with `/`).
    Prefix(String),
}

/// Variables every login shell has whose first character is `/`.
const ROOTED: &[&str] = &["HOME", "PATH", "SHELL", "PWD", "OLDPWD", "MAIL"];

/// What is known of `name` from the environment alone.
pub(super) fn environment(name: &str) -> Option<Known> {
    ROOTED
        .contains(&name)
        .then(|| Known::Prefix("/".to_string()))
}

/// Expands the inside of `${…}` (without the braces) when the result is known.
pub(super) fn expand(inner: &str, lookup: &dyn Fn(&str) -> Option<Known>) -> Option<String> {
    if let Some(name) = inner.strip_prefix('#')
        && is_parameter(name)
    {
        return match lookup(name)? {
            Known::Full(value) => Some(value.chars().count().to_string()),
            Known::Prefix(_) => None,
        };
    }
    if let Some(name) = inner.strip_prefix('!')
        && is_parameter(name)
    {
        let Known::Full(target) = lookup(name)? else {
            return None;
        };
        return full(lookup(&target)?);
    }
    let name_len = parameter_len(inner);
    if name_len == 0 {
        return None;
    }
    let (name, op) = inner.split_at(name_len);
    let value = lookup(name);
    if op.is_empty() {
        return full(value?);
    }
    if let Some(word) = default_word(op) {
        let (colon, kind, word) = word;
        let set = match &value {
            Some(Known::Full(v)) => !(colon && v.is_empty()),
            Some(Known::Prefix(_)) => true,
            None => false,
        };
        return match (kind, set) {
            // `${x:-w}`, `${x:=w}`, `${x:?w}`: an unknown x is taken as unset, the case the
            // word is there for.
            ('-' | '=' | '?', false) => literal(word),
            ('-' | '=' | '?', true) => full(value?),
            ('+', true) => literal(word),
            ('+', false) => Some(String::new()),
            _ => None,
        };
    }
    if let Some(rest) = op.strip_prefix(':') {
        return substring(value?, rest);
    }
    let Known::Full(value) = value? else {
        return None;
    };
    transform(&value, op)
}

/// `:-w`, `-w`, `:=w`, `=w`, `:+w`, `+w`, `:?w`, `?w`: whether a colon came first, the kind, and
/// the word.
fn default_word(op: &str) -> Option<(bool, char, &str)> {
    let (colon, rest) = match op.strip_prefix(':') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    let kind = rest.chars().next()?;
    matches!(kind, '-' | '=' | '+' | '?').then(|| (colon, kind, &rest[1..]))
}

/// `${x:offset}` and `${x:offset:length}`, negative values counting from the end as bash does.
fn substring(value: Known, spec: &str) -> Option<String> {
    let (offset, length) = match spec.split_once(':') {
        Some((offset, length)) => (offset, Some(length)),
        None => (spec, None),
    };
    let offset = number(offset)?;
    let length = match length {
        Some(length) => Some(number(length)?),
        None => None,
    };
    match value {
        Known::Full(value) => {
            let chars: Vec<char> = value.chars().collect();
            let len = chars.len() as i64;
            let start = if offset < 0 { len + offset } else { offset };
            if !(0..=len).contains(&start) {
                return Some(String::new());
            }
            let end = match length {
                None => len,
                Some(l) if l < 0 => len + l,
                Some(l) => (start + l).min(len),
            };
            if end < start {
                return None;
            }
            Some(chars[start as usize..end as usize].iter().collect())
        }
        Known::Prefix(prefix) => {
            let (start, length) = (
                usize::try_from(offset).ok()?,
                usize::try_from(length?).ok()?,
            );
            let chars: Vec<char> = prefix.chars().collect();
            (start + length <= chars.len()).then(|| chars[start..start + length].iter().collect())
        }
    }
}

/// An arithmetic offset as people write them: `0`, `-3`, ` -3`, `(-3)`, or empty for 0.
fn number(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    if text.is_empty() {
        return Some(0);
    }
    let number: i64 = text.parse().ok()?;
    (number.abs() <= 1 << 20).then_some(number)
}

/// Prefix and suffix removal, replacement and case changes of a fully known value.
fn transform(value: &str, op: &str) -> Option<String> {
    let pattern = |p: &str| literal(p).map(|p| crate::glob::Glob::new(&p));
    if let Some(p) = op.strip_prefix("##") {
        let glob = pattern(p)?;
        let cut = boundaries(value)
            .rev()
            .find(|&i| glob.matches(&value[..i]))?;
        return Some(value[cut..].to_string());
    }
    if let Some(p) = op.strip_prefix('#') {
        let glob = pattern(p)?;
        let cut = boundaries(value).find(|&i| glob.matches(&value[..i]));
        return Some(cut.map_or(value, |i| &value[i..]).to_string());
    }
    if let Some(p) = op.strip_prefix("%%") {
        let glob = pattern(p)?;
        let cut = boundaries(value).find(|&i| glob.matches(&value[i..]))?;
        return Some(value[..cut].to_string());
    }
    if let Some(p) = op.strip_prefix('%') {
        let glob = pattern(p)?;
        let cut = boundaries(value).rev().find(|&i| glob.matches(&value[i..]));
        return Some(cut.map_or(value, |i| &value[..i]).to_string());
    }
    if let Some(spec) = op.strip_prefix('/') {
        return replace(value, spec);
    }
    match op {
        "^^" => Some(value.to_uppercase()),
        ",," => Some(value.to_lowercase()),
        "^" => Some(change_first(value, true)),
        "," => Some(change_first(value, false)),
        _ => None,
    }
}

/// `${x/p/r}` (first), `${x//p/r}` (all), `${x/#p/r}` (at the start), `${x/%p/r}` (at the end),
/// for literal patterns.
fn replace(value: &str, spec: &str) -> Option<String> {
    let (all, anchor, spec) = match spec.chars().next() {
        Some('/') => (true, None, &spec[1..]),
        Some('#') => (false, Some('#'), &spec[1..]),
        Some('%') => (false, Some('%'), &spec[1..]),
        _ => (false, None, spec),
    };
    let (pattern, replacement) = spec.split_once('/').unwrap_or((spec, ""));
    let (pattern, replacement) = (literal(pattern)?, literal(replacement)?);
    if pattern.contains(['*', '?', '[']) || pattern.is_empty() {
        return None;
    }
    Some(match anchor {
        Some('#') => match value.strip_prefix(pattern.as_str()) {
            Some(rest) => format!("{replacement}{rest}"),
            None => value.to_string(),
        },
        Some(_) => match value.strip_suffix(pattern.as_str()) {
            Some(rest) => format!("{rest}{replacement}"),
            None => value.to_string(),
        },
        None if all => value.replace(&pattern, &replacement),
        None => value.replacen(&pattern, &replacement, 1),
    })
}

fn change_first(value: &str, upper: bool) -> String {
    let mut chars = value.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = if upper {
        first.to_uppercase().collect()
    } else {
        first.to_lowercase().collect()
    };
    out.extend(chars);
    out
}

/// Byte offsets of every character boundary, both ends included.
fn boundaries(value: &str) -> impl DoubleEndedIterator<Item = usize> + '_ {
    (0..=value.len()).filter(|&i| value.is_char_boundary(i))
}

/// A word inside `${…}` that needs no further expansion: quotes removed, nothing to substitute.
fn literal(word: &str) -> Option<String> {
    if word.contains(['$', '`', '\\']) {
        return None;
    }
    Some(word.replace(['\'', '"'], ""))
}

fn full(value: Known) -> Option<String> {
    match value {
        Known::Full(value) => Some(value),
        Known::Prefix(_) => None,
    }
}

/// A name, a positional parameter or a special one (`@`, `*`, `#`).
fn is_parameter(text: &str) -> bool {
    parameter_len(text) == text.len() && !text.is_empty()
}

/// The length of the parameter name at the start of `text`.
fn parameter_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => bytes
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
        Some(c) if c.is_ascii_digit() => bytes.iter().take_while(|c| c.is_ascii_digit()).count(),
        Some(b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> impl Fn(&str) -> Option<Known> {
        move |n| {
            if n == name {
                Some(Known::Full(value.to_string()))
            } else {
                environment(n)
            }
        }
    }

    fn ex(inner: &str, name: &'static str, value: &'static str) -> Option<String> {
        expand(inner, &with(name, value))
    }

    #[test]
    fn the_first_character_of_home_is_a_slash() {
        assert_eq!(ex("HOME:0:1", "", ""), Some("/".into()));
        assert_eq!(ex("PATH::1", "", ""), Some("/".into()));
        assert_eq!(ex("HOME:0:2", "", ""), None);
    }

    #[test]
    fn substrings_of_known_values_count_from_either_end() {
        assert_eq!(ex("x:1:3", "x", "/etc/shadow"), Some("etc".into()));
        assert_eq!(ex("x:5", "x", "/etc/shadow"), Some("shadow".into()));
        assert_eq!(ex("x: -6", "x", "/etc/shadow"), Some("shadow".into()));
        assert_eq!(ex("x:(-6):3", "x", "/etc/shadow"), Some("sha".into()));
        assert_eq!(ex("x:0:-7", "x", "/etc/shadow"), Some("/etc".into()));
    }

    #[test]
    fn an_unknown_variable_takes_its_default() {
        assert_eq!(ex("f:-/etc/shadow", "x", ""), Some("/etc/shadow".into()));
        assert_eq!(ex("f:=/etc/shadow", "x", ""), Some("/etc/shadow".into()));
        assert_eq!(ex("x:-/etc/shadow", "x", "/tmp/a"), Some("/tmp/a".into()));
        assert_eq!(ex("x:-/etc/shadow", "x", ""), Some("/etc/shadow".into()));
        assert_eq!(ex("x-/etc/shadow", "x", ""), Some("".into()));
        assert_eq!(ex("x:+rm", "x", "1"), Some("rm".into()));
    }

    #[test]
    fn prefixes_and_suffixes_are_removed_shortest_or_longest() {
        assert_eq!(ex("x#*/", "x", "/etc/shadow"), Some("etc/shadow".into()));
        assert_eq!(ex("x##*/", "x", "/etc/shadow"), Some("shadow".into()));
        assert_eq!(ex("x%/*", "x", "/etc/shadow"), Some("/etc".into()));
        assert_eq!(
            ex("x%%o*", "x", "/etc/shadow.bak"),
            Some("/etc/shad".into())
        );
        assert_eq!(ex("x#zz", "x", "/etc"), Some("/etc".into()));
    }

    #[test]
    fn literal_replacements_apply_once_everywhere_or_at_an_end() {
        assert_eq!(ex("x/X/h", "x", "/etc/sXadow"), Some("/etc/shadow".into()));
        assert_eq!(ex("x//_//", "x", "_etc_shadow"), Some("/etc/shadow".into()));
        assert_eq!(ex("x/#_//", "x", "_etc_shadow"), Some("/etc_shadow".into()));
        assert_eq!(
            ex("x/%.bak", "x", "/etc/shadow.bak"),
            Some("/etc/shadow".into())
        );
    }

    #[test]
    fn case_changes_apply_to_the_value() {
        assert_eq!(ex("x,,", "x", "/ETC/SHADOW"), Some("/etc/shadow".into()));
        assert_eq!(ex("x^^", "x", "rm"), Some("RM".into()));
        assert_eq!(ex("x^", "x", "rm"), Some("Rm".into()));
    }

    #[test]
    fn length_and_indirection_need_the_whole_value() {
        assert_eq!(ex("#x", "x", "shadow"), Some("6".into()));
        assert_eq!(ex("#HOME", "x", ""), None);
        let lookup = |n: &str| match n {
            "p" => Some(Known::Full("q".into())),
            "q" => Some(Known::Full("/etc/shadow".into())),
            _ => None,
        };
        assert_eq!(expand("!p", &lookup), Some("/etc/shadow".into()));
    }

    #[test]
    fn anything_not_known_stays_unknown() {
        assert_eq!(ex("y", "x", "1"), None);
        assert_eq!(ex("y:1:2", "x", "1"), None);
        assert_eq!(ex("x:-$y", "z", ""), None);
        assert_eq!(ex("x@Q", "x", "1"), None);
        assert_eq!(ex("x:99999999999999999999", "x", "abc"), None);
    }
}
