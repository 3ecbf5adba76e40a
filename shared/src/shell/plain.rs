//! Most lines typed at a prompt are plain: words of plain bytes, joined by `|`, `&&`, `||` or
//! `;` (`ls -la /var/www`, `cat /etc/os-release | head -n 2`). For such a line the lexer and
//! the parser give one word per run of bytes and one pipeline per separator, and that is built
//! here in one pass, with no token list in between. Anything else (a quote, an escape, an
//! expansion, a redirection, a group, a keyword where a command starts, an operator without a
//! command on each side) goes to the lexer and the parser. Debug builds check every line read
//! this way against them.

use super::lex::{PLAIN_RUN, Piece, Word};
use super::parse::{Pipeline, Simple, Stage, keyword};

const WORDS: usize = 8;

/// The pipelines of `script` when it is a plain line, as `parse(tokenize(script))` gives them.
pub(super) fn pipelines(script: &str) -> Option<Vec<Pipeline>> {
    let bytes = script.as_bytes();
    let mut pipelines = Vec::new();
    let mut stages = Vec::new();
    // Room for the words of most commands at once, not grown one by one.
    let mut words: Vec<Word> = Vec::with_capacity(WORDS);
    let mut at = 0;
    loop {
        while matches!(bytes.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        let Some(&byte) = bytes.get(at) else {
            break;
        };
        if is_word_byte(byte) {
            let len = bytes[at..].iter().take_while(|&&b| is_word_byte(b)).count();
            // Cut between ASCII bytes: always at a char boundary.
            let text = script.get(at..at + len)?;
            words.push(Word {
                pieces: vec![Piece::Lit(text.to_string())],
                plain: len,
                braces: Vec::new(),
            });
            at += len;
            continue;
        }
        let (len, ends_pipeline) = match (byte, bytes.get(at + 1)) {
            (b'|', Some(b'|')) | (b'&', Some(b'&')) => (2, true),
            (b'|', Some(b'&')) | (b'&', _) => return None,
            (b'|', _) => (1, false),
            (b';', Some(b';' | b'&')) => return None,
            (b';', _) => (1, true),
            _ => return None,
        };
        stages.push(stage(std::mem::replace(
            &mut words,
            Vec::with_capacity(WORDS),
        ))?);
        if ends_pipeline {
            pipelines.push(Pipeline {
                stages: std::mem::take(&mut stages),
            });
        }
        at += len;
    }
    // None for an empty line, or one ending with an operator.
    stages.push(stage(words)?);
    pipelines.push(Pipeline { stages });
    Some(pipelines)
}

/// A simple command of these words; None when there are none or the first is a keyword, which
/// the parser reads otherwise.
fn stage(words: Vec<Word>) -> Option<Stage> {
    if keyword(words.first()?).is_some() {
        return None;
    }
    Some(Stage::Simple(Simple {
        words,
        redirects: Vec::new(),
    }))
}

/// Bytes the lexer takes into a word as they are, wherever they are, less `#` (a comment at the
/// start of a word).
fn is_word_byte(byte: u8) -> bool {
    PLAIN_RUN[usize::from(byte)] && byte != b'#'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{lex, parse};

    fn both(line: &str) -> (Option<String>, String) {
        let fast = pipelines(line).map(|p| format!("{p:?}"));
        let full = format!("{:?}", parse::parse(lex::tokenize(line, 0)));
        (fast, full)
    }

    #[test]
    fn plain_lines_are_read_as_the_lexer_and_parser_read_them() {
        for line in [
            "ls -la /var/www/html",
            "cat /etc/os-release | head -n 2",
            "rm -rf ./build && make build",
            "make || echo failed; date",
            "  sudo   dnf install -y htop  ",
            "A=1 env",
            "cp *.log /tmp/[ab]? ~/backup",
            "echo done then fi",
            "wget http://example.com/x.sh:8080/a=b+c%20@d^e",
            "echo héllo wörld",
        ] {
            let (fast, full) = both(line);
            assert_eq!(fast.as_ref(), Some(&full), "{line}");
        }
    }

    #[test]
    fn lines_the_lexer_must_read_are_left_to_it() {
        for line in [
            "",
            "   ",
            "echo 'quoted'",
            "echo \"$HOME\"",
            "echo a\\ b",
            "echo $(id)",
            "echo `id`",
            "echo hi > /tmp/x",
            "cat < /etc/passwd",
            "(cd /tmp)",
            "f() ls",
            "echo {a,b}",
            "echo a,b",
            "sleep 1 &",
            "ls |& cat",
            "case x in",
            "ls ;; ls",
            "ls ;& ls",
            "ls # comment",
            "ls\nrm -rf /",
            "ls |",
            "| ls",
            "ls && && ls",
            "ls;",
            "if true",
            "ls | while read x",
            "echo a | for x",
            "! ls",
            "{ ls",
        ] {
            assert_eq!(pipelines(line).map(|p| format!("{p:?}")), None, "{line:?}");
        }
    }
}
