//! Just enough shell syntax to know when a command line is incomplete: open quotes, a trailing
//! backslash, and heredocs whose bodies follow.

use std::collections::VecDeque;

const MAX_HEREDOCS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quote {
    #[default]
    None,
    Single,
    Double,
    /// `$'…'`: backslash escapes inside single quotes.
    AnsiC,
    Backtick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delimiter: String,
    /// `<<-`: leading tabs (spaces on screen) are stripped from body lines.
    strip_tabs: bool,
}

/// Quote and heredoc state of the pending command, carried from one line to the next.
#[derive(Debug, Default)]
pub struct ShellState {
    pub quote: Quote,
    /// The last line ended with an escaping backslash: the next line joins it directly.
    pub backslash: bool,
    heredocs: VecDeque<Heredoc>,
}

impl ShellState {
    /// A quote is open or the line ended with a backslash: the next line goes on with it.
    pub fn incomplete(&self) -> bool {
        self.quote != Quote::None || self.backslash
    }

    /// Bash reads heredoc bodies once the command line itself is complete.
    pub fn in_heredoc_body(&self) -> bool {
        self.quote == Quote::None && !self.backslash && !self.heredocs.is_empty()
    }

    /// Consumes the current heredoc when `line` is its delimiter.
    pub fn end_heredoc(&mut self, line: &str) -> bool {
        let Some(doc) = self.heredocs.front() else {
            return false;
        };
        let line = if doc.strip_tabs {
            line.trim_start()
        } else {
            line
        };
        let done = line == doc.delimiter;
        if done {
            self.heredocs.pop_front();
        }
        done
    }

    pub fn scan(&mut self, line: &str) {
        // Outside quotes, a line with none of the bytes that open a quote, escape, comment,
        // arithmetic or heredoc leaves the state as it was, the backslash cleared: most
        // command lines, seen without decoding their chars.
        let special = |b: &u8| matches!(b, b'\\' | b'\'' | b'"' | b'`' | b'$' | b'#' | b'(' | b'<');
        if self.quote == Quote::None && !line.as_bytes().iter().any(special) {
            self.backslash = false;
            return;
        }
        let chars: Vec<char> = line.chars().collect();
        self.backslash = false;
        let mut i = 0;
        while i < chars.len() {
            i = match self.quote {
                Quote::None => self.unquoted(&chars, i),
                quote => self.quoted(&chars, i, quote),
            };
        }
    }

    /// Handles the char at `i` inside quotes; returns the next index.
    fn quoted(&mut self, chars: &[char], i: usize, quote: Quote) -> usize {
        let close = match quote {
            Quote::Double => '"',
            Quote::Backtick => '`',
            _ => '\'',
        };
        match chars.get(i) {
            Some('\\') if quote != Quote::Single => {
                if i + 1 == chars.len() {
                    // Backslash-newline is removed inside double quotes and backticks too.
                    self.backslash = quote != Quote::AnsiC;
                }
                i + 2
            }
            Some(&c) if c == close => {
                self.quote = Quote::None;
                i + 1
            }
            _ => i + 1,
        }
    }

    /// Handles the char at `i` outside quotes; returns the next index.
    fn unquoted(&mut self, chars: &[char], i: usize) -> usize {
        let next = chars.get(i + 1).copied();
        let word_start = i == 0 || chars.get(i - 1).is_some_and(|&p| starts_word_after(p));
        match chars.get(i) {
            Some('\\') => {
                self.backslash = next.is_none();
                i + 2
            }
            Some('\'') => self.open(Quote::Single, i + 1),
            Some('"') => self.open(Quote::Double, i + 1),
            Some('`') => self.open(Quote::Backtick, i + 1),
            Some('$') if next == Some('\'') => self.open(Quote::AnsiC, i + 2),
            // A comment runs to the end of the line; quotes in it (`# don't`) mean nothing.
            Some('#') if word_start => chars.len(),
            // `$((1<<4))`: a shift, not a heredoc.
            Some('(') if next == Some('(') => skip_arithmetic(chars, i + 2),
            Some('<') if next == Some('<') => self.heredoc(chars, i + 2),
            _ => i + 1,
        }
    }

    fn open(&mut self, quote: Quote, next: usize) -> usize {
        self.quote = quote;
        next
    }

    /// Parses the delimiter after `<<` (at `i`); returns the index after it.
    fn heredoc(&mut self, chars: &[char], mut i: usize) -> usize {
        if chars.get(i) == Some(&'<') {
            return i + 1; // `<<<` here-string
        }
        let strip_tabs = chars.get(i) == Some(&'-');
        if strip_tabs {
            i += 1;
        }
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        let (delimiter, end) = heredoc_word(chars, i);
        if !delimiter.is_empty() && self.heredocs.len() < MAX_HEREDOCS {
            self.heredocs.push_back(Heredoc {
                delimiter,
                strip_tabs,
            });
        }
        end
    }
}

fn starts_word_after(prev: char) -> bool {
    prev.is_whitespace() || ";&|()".contains(prev)
}

/// Skips an arithmetic `((…))` so `<<` inside it is not read as a heredoc.
fn skip_arithmetic(chars: &[char], from: usize) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '(' => depth += 1,
            ')' if chars.get(i) == Some(&')') && depth == 1 => return i + 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    i
}

/// The heredoc delimiter word starting at `i` with quotes removed (`'EOF'`, `"EOF"`, `\EOF`).
fn heredoc_word(chars: &[char], mut i: usize) -> (String, usize) {
    let mut word = String::new();
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() || ";&|<>()".contains(c) {
            break;
        }
        i += 1;
        match c {
            '\'' | '"' => {
                while let Some(&q) = chars.get(i) {
                    i += 1;
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                if let Some(&escaped) = chars.get(i) {
                    word.push(escaped);
                    i += 1;
                }
            }
            _ => word.push(c),
        }
    }
    (word, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_in_comment_does_not_open() {
        let mut state = ShellState::default();
        state.scan("ls # don't");
        assert_eq!(state.quote, Quote::None);
    }

    #[test]
    fn heredoc_waits_for_its_delimiter() {
        let mut state = ShellState::default();
        state.scan("cat <<'EOF' > /tmp/notes");
        assert!(state.in_heredoc_body());
        assert!(!state.end_heredoc("rm -rf /"));
        assert!(state.end_heredoc("EOF"));
        assert!(!state.in_heredoc_body());
    }
}
