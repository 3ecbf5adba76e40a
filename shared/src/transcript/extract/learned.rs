//! Prompts learned from the session itself: the value of every `PS1=`, `PROMPT=` or
//! `function fish_prompt` typed in it, turned into a pattern.
//!
//! bash (`\u \h \w \W \$ \t \[ \]`, `\e[…m`) and zsh (`%n %m %~ %c %# %F{…} %(?.a.b)`)
//! prompt escapes become tokens; command substitutions and variables become "some text". A
//! prompt that leaves nothing visible to anchor on (`PS1=''`, only colours, only `$(…)`, or one
//! that ends in a variable part so the command cannot be told from it) is *hidden*.

use super::shapes::{MAX_PROMPT_BYTES, at_boundary};

/// Stand-in for text whose value is unknown when the prompt is assigned (`$(git branch)`,
/// `$HOSTNAME` in double quotes): a private-use char no prompt prints.
const UNKNOWN: char = '\u{e000}';
const MAX_TOKENS: usize = 32;
/// Alternative positions tried for one variable part before giving up (keeps matching linear).
const MAX_TRIES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(String),
    /// A name: user, host, a number; no spaces.
    Word,
    /// Any text: a time, a substitution.
    Text,
    /// The working directory in full (`\w`, `%~`): starts with `/` or `~`, and never holds a
    /// quote, which keeps a printed line (`echo "cost $ 0"`) from matching `\w $ `.
    Path,
    /// `\$` / `%#`: `$`, `#` or `%`.
    Mark,
    /// A variable part that ends the prompt (`%c` in robbyrussell's `➜  dir `): one word,
    /// the command follows the next space.
    TrailingWord,
}

/// A prompt pattern: literals and variable parts, matched at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptPattern {
    tokens: Vec<Token>,
}

/// What a prompt assignment leaves on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptValue {
    Pattern(PromptPattern),
    /// Nothing the scanner can anchor on: commands after it appear without a prompt.
    Hidden,
}

impl PromptPattern {
    /// The end of the prompt when `text` starts with it and a space or the line end follows.
    pub fn match_start(&self, text: &str) -> Option<usize> {
        let end = match_from(&self.tokens, text, 0)?;
        at_boundary(text, end).then_some(end)
    }

    /// The prompt's first literal, when the pattern starts with one: used to look for the
    /// prompt in the middle of a line.
    pub fn leading_literal(&self) -> Option<&str> {
        match self.tokens.first() {
            Some(Token::Lit(l)) => Some(l),
            _ => None,
        }
    }

    /// A bare `$`/`#` prompt (`PS1='\$ '`, `PS1='# '`).
    pub fn is_bare_mark(&self) -> bool {
        match self.tokens.as_slice() {
            [Token::Mark] => true,
            [Token::Lit(l)] => matches!(l.as_str(), "$" | "#" | "%" | ">"),
            _ => false,
        }
    }
}

fn match_from(tokens: &[Token], text: &str, pos: usize) -> Option<usize> {
    let Some((token, rest)) = tokens.split_first() else {
        return Some(pos);
    };
    let here = text.get(pos..)?;
    match token {
        Token::Lit(lit) => here
            .starts_with(lit.as_str())
            .then(|| match_from(rest, text, pos + lit.len()))
            .flatten(),
        Token::Mark => matches!(here.as_bytes().first(), Some(b'$' | b'#' | b'%'))
            .then(|| match_from(rest, text, pos + 1))
            .flatten(),
        Token::TrailingWord => {
            let len = here.find(char::is_whitespace).unwrap_or(here.len());
            (len > 0 && len <= MAX_PROMPT_BYTES).then_some(pos + len)
        }
        Token::Word | Token::Text | Token::Path => {
            let window = here.get(..here.len().min(MAX_PROMPT_BYTES)).unwrap_or(here);
            let valid = |span: &str| match token {
                Token::Word => !span.is_empty() && !span.contains(char::is_whitespace),
                Token::Path => span.starts_with(['/', '~']) && !span.contains(['"', '\'', '`']),
                _ => !span.is_empty(),
            };
            let ends: Vec<usize> = match rest.first() {
                Some(Token::Lit(lit)) => window
                    .match_indices(lit.as_str())
                    .map(|(i, _)| i)
                    .take(MAX_TRIES)
                    .collect(),
                Some(Token::Mark) => window
                    .match_indices(['$', '#', '%'])
                    .map(|(i, _)| i)
                    .take(MAX_TRIES)
                    .collect(),
                // Patterns never end in, or hold two adjacent, variable parts (see `finish`).
                _ => Vec::new(),
            };
            ends.into_iter()
                .filter(|&end| window.get(..end).is_some_and(valid))
                .find_map(|end| match_from(rest, text, pos + end))
        }
    }
}

/// The prompt set by a command line, if it assigns one: `PS1=…`, `export PS1=…`, `PROMPT=…`,
/// `PS1=$'…'`, `unset PS1`, `function fish_prompt; …; end`.
pub fn assigned_prompt(command: &str) -> Option<PromptValue> {
    // Every command comes here; few mention a prompt at all. Each name holds a `P` or a `_`:
    // a byte scan rules out most commands before any substring search.
    if !command.bytes().any(|b| b == b'P' || b == b'_') {
        return None;
    }
    if !(command.contains("PS1") || command.contains("PROMPT") || command.contains("fish_prompt")) {
        return None;
    }
    if let Some(body) = fish_prompt_body(command) {
        return Some(fish_prompt(body));
    }
    let words = command_words(command);
    let mut at_command = true;
    let mut unsetting = false;
    for word in words {
        match word {
            Word::Separator => {
                at_command = true;
                unsetting = false;
            }
            Word::Text(text) if unsetting => {
                if text == "PS1" || text == "PROMPT" {
                    return Some(PromptValue::Hidden);
                }
            }
            Word::Text(text) if at_command => {
                if let Some(value) = ["PS1=", "PROMPT="]
                    .iter()
                    .find_map(|name| text.strip_prefix(name))
                {
                    return Some(prompt_value(&shell_word(value)));
                }
                match text {
                    "unset" => unsetting = true,
                    // Builtins that take assignments; their options keep the position.
                    "export" | "declare" | "typeset" | "local" | "readonly" => {}
                    t if t.starts_with('-') => {}
                    t if t.contains('=') => {}
                    _ => at_command = false,
                }
            }
            Word::Text(_) => {}
        }
    }
    None
}

enum Word<'a> {
    Text(&'a str),
    Separator,
}

/// Words of a command line with quotes kept (good enough for finding assignments), and the
/// list and pipeline separators between commands.
fn command_words(command: &str) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut quote: Option<char> = None;
    let mut start: Option<usize> = None;
    for (i, c) in command.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let separator = ";&|()".contains(c);
        if c.is_whitespace() || separator {
            if let Some(from) = start.take() {
                words.push(Word::Text(&command[from..i]));
            }
            if separator {
                words.push(Word::Separator);
            }
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
        start.get_or_insert(i);
    }
    if let Some(from) = start {
        words.push(Word::Text(&command[from..]));
    }
    words
}

/// One shell word as the shell reads it at assignment time: quotes removed, `$'…'` escapes
/// decoded, expansions in double quotes or bare words replaced by `UNKNOWN`. Single-quoted
/// `$(…)` stays, for the prompt-time expansion `prompt_value` reads.
fn shell_word(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() || ";&|".contains(c) => break,
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                ansi_c(&mut chars, &mut out);
            }
            '"' => double_quoted(&mut chars, &mut out),
            '\\' => out.extend(chars.next()),
            '$' => {
                skip_expansion(&mut chars);
                out.push(UNKNOWN);
            }
            c => out.push(c),
        }
    }
    out
}

fn double_quoted(chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    while let Some(c) = chars.next() {
        match c {
            '"' => return,
            '\\' => match chars.peek() {
                Some(&e @ ('$' | '`' | '"' | '\\')) => {
                    chars.next();
                    out.push(e);
                }
                _ => out.push('\\'),
            },
            '$' | '`' => {
                if c == '`' {
                    chars.by_ref().take_while(|&c| c != '`').for_each(drop);
                } else {
                    skip_expansion(chars);
                }
                out.push(UNKNOWN);
            }
            c => out.push(c),
        }
    }
}

/// Skips what follows a `$`: `{…}`, `(…)` (nested), or a name.
fn skip_expansion(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.peek() {
        Some('{') | Some('(') => {
            let (open, close) = if chars.peek() == Some(&'{') {
                ('{', '}')
            } else {
                ('(', ')')
            };
            let mut depth = 0usize;
            for c in chars.by_ref() {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
            }
        }
        _ => {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || "?#!@*$-".contains(*c))
            {
                chars.next();
            }
        }
    }
}

/// `$'…'`: the escapes that matter for prompts (`\e`, `\033`, `\n`, `\\`, `\'`).
fn ansi_c(chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    while let Some(c) = chars.next() {
        match c {
            '\'' => return,
            '\\' => match chars.next() {
                Some('e' | 'E') => out.push('\x1b'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('a') => out.push('\x07'),
                Some('0') => {
                    let octal: String = std::iter::from_fn(|| chars.next_if(|c| c.is_digit(8)))
                        .take(3)
                        .collect();
                    if let Some(byte) = u32::from_str_radix(&octal, 8).ok().and_then(char::from_u32)
                    {
                        out.push(byte);
                    }
                }
                Some(other) => {
                    // `\$`, `\u`, `\w` stay for the prompt-escape reader.
                    if !matches!(other, '\\' | '\'') {
                        out.push('\\');
                    }
                    out.push(other);
                }
                None => {}
            },
            c => out.push(c),
        }
    }
}

/// Reads a prompt string (after shell quoting) into a pattern: bash `\x` and zsh `%x` escapes.
pub fn prompt_value(value: &str) -> PromptValue {
    parse(value).finish()
}

fn parse(value: &str) -> Builder {
    let mut builder = Builder::default();
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        i = match chars[i] {
            '\\' => builder.bash_escape(&chars, i + 1),
            '%' => builder.zsh_escape(&chars, i + 1),
            '\x1b' => skip_escape_sequence(&chars, i + 1),
            '$' if matches!(chars.get(i + 1), Some('(' | '{')) => {
                builder.var(Token::Text);
                skip_balanced(&chars, i + 1)
            }
            '$' if chars
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_') =>
            {
                builder.var(Token::Text);
                i + 1
                    + chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .count()
            }
            '`' => {
                builder.var(Token::Text);
                i + 2 + chars[i + 1..].iter().take_while(|c| **c != '`').count()
            }
            UNKNOWN => {
                builder.var(Token::Text);
                i + 1
            }
            '\n' => {
                // A multi-line prompt: the command follows the last line.
                builder = Builder::default();
                i + 1
            }
            c if c.is_control() => i + 1,
            c => {
                builder.lit(c);
                i + 1
            }
        };
    }
    builder
}

/// The index after the escape at `i` and its optional `{…}` argument (`\D{%H}`, `%F{red}`).
/// A zsh prompt string printed as it is, by a shell that does not read zsh's escapes (a bash
/// started from zsh with `PS1` exported): `%F{green}➜%f  %F{cyan}%c%f git:(main) ls`. Its
/// colour and style escapes taken out, the prompt reads as the one zsh drew, with `%c`, `%~`
/// and the like left as words. None unless the line starts with such an escape.
pub fn without_raw_zsh_styles(text: &str) -> Option<String> {
    const STYLES: &[char] = &['F', 'f', 'K', 'k', 'B', 'b', 'U', 'u', 'S', 's', '{', '}'];
    // Every screen line comes here: the first two chars are looked at before any allocation.
    let mut start = text.chars();
    if start.next() != Some('%') || !start.next().is_some_and(|c| STYLES.contains(&c)) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('%', Some(&c)) if STYLES.contains(&c) => {
                i = if matches!(c, 'F' | 'K') {
                    past_argument(&chars, i + 1)
                } else {
                    i + 2
                };
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

fn past_argument(chars: &[char], i: usize) -> usize {
    if chars.get(i + 1) == Some(&'{') {
        skip_balanced(chars, i + 1)
    } else {
        i + 1
    }
}

/// Skips `(…)` or `{…}` starting at `open`; returns the index after the closing char.
fn skip_balanced(chars: &[char], open: usize) -> usize {
    let (o, c) = match chars.get(open) {
        Some('{') => ('{', '}'),
        _ => ('(', ')'),
    };
    let mut depth = 0usize;
    for (offset, &ch) in chars[open..].iter().enumerate() {
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return open + offset + 1;
            }
        }
    }
    chars.len()
}

/// An escape sequence in a prompt changes colours, never text: skip `[…m`-style CSI.
fn skip_escape_sequence(chars: &[char], from: usize) -> usize {
    if chars.get(from) != Some(&'[') {
        return from + 1;
    }
    let body = chars[from + 1..]
        .iter()
        .take_while(|c| !('\x40'..='\x7e').contains(*c))
        .count();
    (from + 2 + body).min(chars.len())
}

#[derive(Default)]
struct Builder {
    tokens: Vec<Token>,
    /// Inside zsh `%{…%}` or bash `\[…\]`: text there prints nothing.
    invisible: bool,
}

impl Builder {
    fn lit(&mut self, c: char) {
        if self.invisible || self.tokens.len() >= MAX_TOKENS {
            return;
        }
        if let Some(Token::Lit(l)) = self.tokens.last_mut() {
            l.push(c);
        } else {
            self.tokens.push(Token::Lit(c.to_string()));
        }
    }

    fn var(&mut self, kind: Token) {
        if self.invisible || self.tokens.len() >= MAX_TOKENS {
            return;
        }
        match (self.tokens.last_mut(), &kind) {
            // Two variable parts in a row read as one stretch of text.
            (Some(last @ (Token::Word | Token::Text | Token::Path)), _) => *last = Token::Text,
            _ => self.tokens.push(kind),
        }
    }

    fn mark(&mut self) {
        if !self.invisible && self.tokens.len() < MAX_TOKENS {
            self.tokens.push(Token::Mark);
        }
    }

    /// bash prompt escapes after a backslash at `i`; returns the next index.
    fn bash_escape(&mut self, chars: &[char], i: usize) -> usize {
        let Some(&c) = chars.get(i) else {
            self.lit('\\');
            return i;
        };
        match c {
            'u' | 'h' | 'H' | 's' | 'j' | 'l' | 'v' | 'V' | '#' | '!' => self.var(Token::Word),
            'w' => self.var(Token::Path),
            'W' | 't' | 'T' | '@' | 'A' | 'd' => self.var(Token::Text),
            'D' => {
                self.var(Token::Text);
                return past_argument(chars, i);
            }
            // `\$?`: meant as the exit status (`$?` after the escape); some text either way.
            '$' if chars.get(i + 1) == Some(&'?') => {
                self.var(Token::Word);
                return i + 2;
            }
            '$' => self.mark(),
            '[' => self.invisible = true,
            ']' => self.invisible = false,
            'e' | 'E' => return skip_escape_sequence(chars, i + 1),
            'a' | 'r' => {}
            'n' => *self = Builder::default(),
            '0'..='7' => {
                let digits = chars[i..]
                    .iter()
                    .take(3)
                    .take_while(|c| c.is_digit(8))
                    .count();
                let code: String = chars[i..i + digits].iter().collect();
                if code == "033" {
                    return skip_escape_sequence(chars, i + digits);
                }
                if let Some(ch) = u32::from_str_radix(&code, 8).ok().and_then(char::from_u32) {
                    self.lit(ch);
                }
                return i + digits;
            }
            '\\' => self.lit('\\'),
            other => {
                self.lit('\\');
                self.lit(other);
            }
        }
        i + 1
    }

    /// zsh prompt escapes after a `%` at `i`; returns the next index.
    fn zsh_escape(&mut self, chars: &[char], mut i: usize) -> usize {
        // `%1~`, `%2d`, `%-1~`: an optional count.
        while chars
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == '-')
        {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            self.lit('%');
            return i;
        };
        match c {
            'n' | 'm' | 'M' | 'l' | 'y' | 'j' | 'L' | 'h' | '!' | 'i' | 'N' | '?' | 'e' => {
                self.var(Token::Word)
            }
            '~' | '/' | 'd' => self.var(Token::Path),
            'c' | 'C' | '.' | 'T' | 't' | '*' | '@' | 'w' | 'W' => self.var(Token::Text),
            'D' => {
                self.var(Token::Text);
                return past_argument(chars, i);
            }
            '#' => self.mark(),
            '%' => self.lit('%'),
            ')' => self.lit(')'),
            '{' => self.invisible = true,
            '}' => self.invisible = false,
            'F' | 'K' => return past_argument(chars, i),
            'f' | 'k' | 'B' | 'b' | 'U' | 'u' | 'S' | 's' | 'E' => {}
            '(' => return self.zsh_conditional(chars, i + 1),
            other => {
                self.lit('%');
                self.lit(other);
            }
        }
        i + 1
    }

    /// `%(?.true.false)`: the true branch is read (`robbyrussell`'s green `➜`); a different
    /// false branch is usually the same symbol in another colour.
    fn zsh_conditional(&mut self, chars: &[char], mut i: usize) -> usize {
        while chars
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || "?#!".contains(*c))
        {
            i += 1;
        }
        let Some(&separator) = chars.get(i) else {
            return i;
        };
        let branch_start = i + 1;
        let mut depth = 0usize;
        let mut j = branch_start;
        let mut true_end = None;
        while let Some(&c) = chars.get(j) {
            match c {
                '%' => j += 1,
                '(' => depth += 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                c if c == separator && depth == 0 && true_end.is_none() => true_end = Some(j),
                _ => {}
            }
            j += 1;
        }
        let branch: String = chars[branch_start..true_end.unwrap_or(j).min(chars.len())]
            .iter()
            .collect();
        for token in parse(&branch).tokens {
            match token {
                Token::Lit(l) => l.chars().for_each(|c| self.lit(c)),
                Token::Mark => self.mark(),
                kind => self.var(kind),
            }
        }
        (j + 1).min(chars.len())
    }

    fn finish(mut self) -> PromptValue {
        // The line is trimmed and the command follows a space: trailing blanks are not kept.
        while let Some(Token::Lit(l)) = self.tokens.last_mut() {
            let trimmed = l.trim_end().len();
            l.truncate(trimmed);
            if l.is_empty() {
                self.tokens.pop();
            } else {
                break;
            }
        }
        // `PS1="…\$ "` in double quotes stores a plain `$`: bash then shows `$` even for root,
        // but people meant `\$`; either mark is accepted.
        if let Some(Token::Lit(l)) = self.tokens.last_mut()
            && l.len() > 1
            && l.ends_with(['$', '#'])
        {
            l.pop();
            self.tokens.push(Token::Mark);
        }
        let visible = self.tokens.iter().any(|t| match t {
            Token::Lit(l) => l.chars().any(|c| !c.is_whitespace()),
            Token::Mark => true,
            _ => false,
        });
        let delimited = match self.tokens.last_mut() {
            Some(Token::Lit(_) | Token::Mark) => true,
            Some(last @ (Token::Word | Token::Text | Token::Path)) if visible => {
                *last = Token::TrailingWord;
                true
            }
            _ => false,
        };
        if visible && delimited {
            PromptValue::Pattern(PromptPattern {
                tokens: self.tokens,
            })
        } else {
            PromptValue::Hidden
        }
    }
}

/// The body of `function fish_prompt; …; end` typed on one line; `""` for an empty one.
fn fish_prompt_body(command: &str) -> Option<&str> {
    let rest = command.trim_start().strip_prefix("function fish_prompt")?;
    let rest = rest.trim_start_matches([' ', ';']);
    let body = rest
        .strip_suffix("end")
        .map(|b| b.trim_end_matches([' ', ';']))
        .unwrap_or(rest);
    Some(body)
}

/// What a one-line fish prompt function prints: `echo`/`printf` arguments, with `(…)` command
/// substitutions and `$variables` as text and `set_color` as nothing.
fn fish_prompt(body: &str) -> PromptValue {
    let mut value = String::new();
    for statement in body.split(';') {
        let statement = statement.trim();
        let Some(args) = statement
            .strip_prefix("echo")
            .or_else(|| statement.strip_prefix("printf"))
        else {
            continue;
        };
        let args = args.trim_start();
        let args = args.strip_prefix("-n ").unwrap_or(args);
        value.push_str(&fish_words(args));
    }
    prompt_value(&value)
}

fn fish_words(args: &str) -> String {
    let mut out = String::new();
    let mut chars = args.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => out.extend(chars.by_ref().take_while(|&c| c != '"')),
            '(' => {
                let inner: String = chars.by_ref().take_while(|&c| c != ')').collect();
                if !inner.trim_start().starts_with("set_color") {
                    out.push(UNKNOWN);
                }
            }
            '$' => {
                while chars
                    .next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .is_some()
                {}
                out.push(UNKNOWN);
            }
            // Words of `echo` are joined by one space; quotes and substitutions glue.
            ' ' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(command: &str) -> PromptPattern {
        match assigned_prompt(command) {
            Some(PromptValue::Pattern(p)) => p,
            other => panic!("{command}: {other:?}"),
        }
    }

    fn prompt_in(command: &str, line: &str) -> Option<String> {
        pattern(command)
            .match_start(line)
            .map(|end| line[..end].to_string())
    }

    #[test]
    fn a_raw_zsh_prompt_loses_its_styles() {
        let line = "%F{green}➜%f  %F{cyan}%c%f git:(main) echo hi";
        assert_eq!(
            without_raw_zsh_styles(line).as_deref(),
            Some("➜  %c git:(main) echo hi")
        );
        assert_eq!(without_raw_zsh_styles("100% done"), None);
        assert_eq!(
            without_raw_zsh_styles("%s is the format"),
            Some(" is the format".into())
        );
    }

    #[test]
    fn bash_escapes_become_patterns() {
        let cases = [
            (
                r"PS1='[prod \W] ops > '",
                "[prod ~] ops > rm -rf /",
                "[prod ~] ops >",
            ),
            (
                r"export PS1='\u@\h:\w\$ '",
                "alice@web-1:/srv/my app$ ls",
                "alice@web-1:/srv/my app$",
            ),
            (r#"PS1="\u@\h:\w\$ ""#, "root@web-1:~$ ls", "root@web-1:~$"),
            (
                r"PS1='\[\e[01;32m\]\u@\h\[\e[00m\]:\[\e[01;34m\]\w\[\e[00m\]\$ '",
                "alice@web-1:~$ ls",
                "alice@web-1:~$",
            ),
            (
                r"PS1='[\t] \$? \u@\h:\w\$ '",
                "[10:01:02] 0 root@h:~# ls",
                "[10:01:02] 0 root@h:~#",
            ),
            (r"PS1='\w on main\n❯ '", "❯ ls", "❯"),
            (r"PS1=$'\\w \e[32m$\e[0m '", "/tmp $ ls", "/tmp $"),
            (
                r"PS1='$(whoami) at $(hostname) >> '",
                "alice at web-1 >> ls",
                "alice at web-1 >>",
            ),
        ];
        for (command, line, prompt) in cases {
            assert_eq!(
                prompt_in(command, line).as_deref(),
                Some(prompt),
                "{command}"
            );
        }
    }

    #[test]
    fn zsh_escapes_become_patterns() {
        let cases = [
            (
                "PROMPT='%n@%m %1~ %# '",
                "root@web-1 ~ # ls",
                "root@web-1 ~ #",
            ),
            (
                "PROMPT='%(?:%{%F{green}%}➜ :%{%F{red}%}➜ ) %{%F{cyan}%}%c%{%reset_color%} '",
                "➜  app ls",
                "➜  app",
            ),
            ("PROMPT='%F{magenta}λ%f '", "λ ls", "λ"),
            ("export PS1='%m%# '", "ip-10-0-1-5% ls", "ip-10-0-1-5%"),
        ];
        for (command, line, prompt) in cases {
            assert_eq!(
                prompt_in(command, line).as_deref(),
                Some(prompt),
                "{command}"
            );
        }
    }

    #[test]
    fn fish_prompt_functions() {
        let p = "function fish_prompt; echo -n (whoami)'@'(hostname)' '(prompt_pwd)'> '; end";
        assert_eq!(
            prompt_in(p, "alice@web-1 ~/app> ls").as_deref(),
            Some("alice@web-1 ~/app>")
        );
        let coloured = "function fish_prompt; set_color green; echo -n 'ops'; set_color normal; echo -n ' $ '; end";
        assert_eq!(prompt_in(coloured, "ops $ ls").as_deref(), Some("ops $"));
    }

    #[test]
    fn prompts_that_hide_commands() {
        for command in [
            "PS1=''",
            "PS1=",
            "export PS1=\"\"",
            "PROMPT=''",
            "PS1=' '",
            r"PS1='\[\e[8m\]'",
            "PS1='$(printf x)'",
            r"PS1='\w'",
            "unset PS1",
            "function fish_prompt; end",
            "function fish_prompt; set_color normal; end",
        ] {
            assert_eq!(
                assigned_prompt(command),
                Some(PromptValue::Hidden),
                "{command}"
            );
        }
    }

    #[test]
    fn assignments_anywhere_in_the_line() {
        assert!(matches!(
            assigned_prompt("clear; PS1='ops> '"),
            Some(PromptValue::Pattern(_))
        ));
        assert_eq!(assigned_prompt("echo 'PS1=x'"), None);
        assert_eq!(assigned_prompt("grep PS1= ~/.bashrc"), None);
    }

    #[test]
    fn bare_mark_prompts() {
        assert!(pattern(r"PS1='\$ '").is_bare_mark());
        assert!(pattern("PS1='# '").is_bare_mark());
        assert!(!pattern("PS1='ops$ '").is_bare_mark());
    }

    #[test]
    fn matching_stays_bounded_on_long_lines() {
        let p = pattern(r"PS1='\u \w \h > '");
        let line = "a ".repeat(50_000);
        assert_eq!(p.match_start(&line), None);
    }
}
