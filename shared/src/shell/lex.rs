//! Splits a line into words, operators and redirections as bash's tokenizer does. Quotes and
//! escapes are removed here; variables and substitutions stay as pieces for expansion.

use super::escape::{self, Dialect};
use super::{MAX_DEPTH, is_name, lossy, lossy_owned};

/// Unquoted brace characters remembered for one word.
const MAX_BRACE_MARKS: usize = 64;

#[derive(Debug, Clone)]
pub(super) enum Piece {
    /// Literal text, quotes and escapes removed. Empty for `''`, which still makes a word.
    Lit(String),
    /// `$NAME`, `${NAME}`, or a parameter never known here (`$1`, `${x:-y}`).
    Var {
        name: String,
        raw: String,
        quoted: bool,
    },
    Subst(Box<Subst>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SubstKind {
    /// `$( )` or backticks.
    Command,
    /// `<( )` or `>( )`.
    Process,
}

#[derive(Debug, Clone)]
pub(super) struct Subst {
    /// As written, delimiters included.
    pub raw: String,
    pub kind: SubstKind,
    /// The body's tokens; None beyond the depth limit.
    pub tokens: Option<Vec<Token>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Word {
    pub pieces: Vec<Piece>,
    /// Bytes at the start typed without quotes or escapes: where `NAME=` and keywords must be.
    pub plain: usize,
    /// Offsets of the unquoted `{`, `,` and `}` in a word of one literal piece.
    pub braces: Vec<usize>,
}

impl Word {
    /// The text with variables and substitutions as written (heredoc delimiters, `env -S`).
    pub fn literal(&self) -> String {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(t) => text.push_str(t),
                Piece::Var { raw, .. } => text.push_str(raw),
                Piece::Subst(sub) => text.push_str(&sub.raw),
            }
        }
        text
    }

    pub fn plain_text(&self) -> &str {
        match self.pieces.first() {
            Some(Piece::Lit(text)) => text.get(..self.plain).unwrap_or(""),
            _ => "",
        }
    }

    /// The word, when all of it was typed without quotes, escapes or expansions.
    pub fn plain_word(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Lit(text)] if text.len() == self.plain => Some(text),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// `;`, `;;`, `;&`: a list separator.
    Semi,
    Amp,
    And,
    Or,
    /// `|` or `|&`.
    Pipe,
    Newline,
    LParen,
    RParen,
}

#[derive(Debug, Clone)]
pub(super) struct Redir {
    /// With its descriptor, as written: `>`, `2>>`, `&>`, `<<<`, `>&`.
    pub op: String,
    /// For `<<` and `<<-`: the lines that followed, up to the delimiter.
    pub heredoc: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) enum Token {
    Word(Word),
    Op(Op),
    Redir(Redir),
}

/// Tokens of `src`, a script read at `depth` (substitutions inside are one level deeper).
pub(super) fn tokenize(src: &str, depth: usize) -> Vec<Token> {
    Lexer {
        src: src.as_bytes(),
        pos: 0,
        depth,
    }
    .tokens(false)
}

/// Bytes that end an unquoted word.
/// Bytes that stand for themselves in a word wherever they are: not a metacharacter, quote,
/// escape or expansion, and not a brace-expansion mark (those are tracked one by one).
pub(super) const PLAIN_RUN: [bool; 256] = {
    let mut table = [true; 256];
    let special = b" \t\r\n;&|()<>\\'\"`${,}";
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = false;
        i += 1;
    }
    table
};

fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
    )
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn rest(&self) -> &[u8] {
        self.src.get(self.pos..).unwrap_or_default()
    }

    /// Index of the next `c` at or after the cursor, or the end of input.
    fn find(&self, c: u8) -> usize {
        self.rest()
            .iter()
            .position(|&b| b == c)
            .map_or(self.src.len(), |n| self.pos + n)
    }

    fn op(&mut self, len: usize, op: Op) -> Token {
        self.pos += len;
        Token::Op(op)
    }

    /// Tokens to the end of input or, when `nested`, to the `)` that closes a `$(`.
    fn tokens(&mut self, nested: bool) -> Vec<Token> {
        // Room for a typical command line's tokens at once, not grown from one.
        let mut out = Vec::with_capacity(16);
        let mut open = 0usize;
        let mut heredocs = Heredocs::default();
        while let Some(token) = self.next_token() {
            match &token {
                Token::Op(Op::RParen) if nested && open == 0 => break,
                Token::Op(Op::RParen) => open = open.saturating_sub(1),
                Token::Op(Op::LParen) => open += 1,
                Token::Op(Op::Newline) => heredocs.read_bodies(self, &mut out),
                Token::Redir(redir) => heredocs.expect(out.len(), &redir.op),
                Token::Word(word) => heredocs.delimiter(word),
                Token::Op(_) => {}
            }
            out.push(token);
        }
        out
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
                self.pos += 1;
            }
            let next = self.peek_at(1);
            return Some(match self.peek()? {
                b'#' => {
                    self.pos = self.find(b'\n');
                    continue;
                }
                b'\\' if next == Some(b'\n') => {
                    self.pos += 2;
                    continue;
                }
                b'\n' => self.op(1, Op::Newline),
                b';' => {
                    let mut len = 1 + usize::from(next == Some(b';'));
                    len += usize::from(self.peek_at(len) == Some(b'&'));
                    self.op(len, Op::Semi)
                }
                b'&' => match next {
                    Some(b'&') => self.op(2, Op::And),
                    Some(b'>') => self.redirect(),
                    _ => self.op(1, Op::Amp),
                },
                b'|' => match next {
                    Some(b'|') => self.op(2, Op::Or),
                    Some(b'&') => self.op(2, Op::Pipe),
                    _ => self.op(1, Op::Pipe),
                },
                b'(' => self.op(1, Op::LParen),
                b')' => self.op(1, Op::RParen),
                b'<' | b'>' if next != Some(b'(') => self.redirect(),
                c if c.is_ascii_digit() && self.at_io_number() => self.redirect(),
                _ => Token::Word(self.word()),
            });
        }
    }

    /// Digits directly followed by `<` or `>`: the descriptor of a redirection (`2>`).
    fn at_io_number(&self) -> bool {
        let digits = self
            .rest()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        matches!(self.peek_at(digits), Some(b'<' | b'>'))
    }

    fn redirect(&mut self) -> Token {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.eat(b'&');
        if self.eat(b'<') {
            if self.eat(b'<') {
                if !self.eat(b'<') {
                    self.eat(b'-');
                }
            } else if !self.eat(b'&') {
                self.eat(b'>');
            }
        } else if self.eat(b'>') && !self.eat(b'>') && !self.eat(b'&') {
            self.eat(b'|');
        }
        Token::Redir(Redir {
            op: lossy(&self.src[start..self.pos]),
            heredoc: None,
        })
    }

    fn word(&mut self) -> Word {
        let mut w = WordBuilder::default();
        while let Some(c) = self.peek() {
            match c {
                b'<' | b'>' if self.peek_at(1) == Some(b'(') => {
                    self.substitution(&mut w, SubstKind::Process);
                }
                b'(' if w.is_assignment_prefix() => self.array(&mut w),
                c if is_meta(c) => break,
                b'\\' => self.backslash(&mut w),
                b'\'' => self.single_quoted(&mut w),
                b'"' => self.double_quoted(&mut w),
                b'`' => self.backtick(&mut w),
                b'$' => self.dollar(&mut w, false),
                _ => {
                    // Most words are runs of plain bytes: taken as one slice, not byte by byte.
                    let run = self.src[self.pos..]
                        .iter()
                        .take_while(|&&b| PLAIN_RUN[usize::from(b)])
                        .count();
                    if run == 0 {
                        w.plain(c);
                        self.pos += 1;
                    } else {
                        w.plain_run(&self.src[self.pos..self.pos + run]);
                        self.pos += run;
                    }
                }
            }
        }
        w.finish()
    }

    fn backslash(&mut self, w: &mut WordBuilder) {
        self.pos += 1;
        match self.peek() {
            // A line continuation vanishes.
            Some(b'\n') => self.pos += 1,
            Some(c) => {
                w.quoted(&[c]);
                self.pos += 1;
            }
            None => {}
        }
    }

    fn single_quoted(&mut self, w: &mut WordBuilder) {
        self.pos += 1;
        let end = self.find(b'\'');
        w.quoted(&self.src[self.pos..end]);
        w.touch();
        self.pos = (end + 1).min(self.src.len());
    }

    fn double_quoted(&mut self, w: &mut WordBuilder) {
        self.pos += 1;
        w.touch();
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.pos += 1;
                    return;
                }
                b'\\' => match self.peek_at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(e @ (b'$' | b'`' | b'"' | b'\\')) => {
                        w.quoted(&[e]);
                        self.pos += 2;
                    }
                    _ => {
                        w.quoted(b"\\");
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(w, true),
                b'`' => self.backtick(w),
                _ => {
                    w.quoted(&[c]);
                    self.pos += 1;
                }
            }
        }
    }

    fn dollar(&mut self, w: &mut WordBuilder, quoted: bool) {
        match self.peek_at(1) {
            Some(b'\'') if !quoted => self.ansi_c(w),
            Some(b'"') if !quoted => {
                self.pos += 1;
                self.double_quoted(w);
            }
            Some(b'(') if self.peek_at(2) == Some(b'(') => self.arithmetic(w),
            Some(b'(') => self.substitution(w, SubstKind::Command),
            Some(b'{') => self.braced_parameter(w, quoted),
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => self.variable(w, quoted),
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                let raw = lossy(&self.src[self.pos..self.pos + 2]);
                self.pos += 2;
                w.piece(Piece::Var {
                    name: raw.clone(),
                    raw,
                    quoted,
                });
            }
            _ => {
                w.push(b'$', quoted);
                self.pos += 1;
            }
        }
    }

    fn variable(&mut self, w: &mut WordBuilder, quoted: bool) {
        let start = self.pos + 1;
        let len = self.src[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let name = lossy(&self.src[start..start + len]);
        self.pos = start + len;
        w.piece(Piece::Var {
            raw: format!("${name}"),
            name,
            quoted,
        });
    }

    /// `${NAME}` is a variable; anything fancier (`${x:-y}`, `${#x}`) keeps `${…}` as its name, for
    /// [`super::param`] to expand when the values it needs are known.
    fn braced_parameter(&mut self, w: &mut WordBuilder, quoted: bool) {
        let start = self.pos;
        self.pos += 2;
        let mut open = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'{' => open += 1,
                b'}' => {
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        let raw = &self.src[start..self.pos];
        let inner = raw.get(2..raw.len().saturating_sub(1)).unwrap_or_default();
        let positional = !inner.is_empty()
            && (inner.iter().all(u8::is_ascii_digit) || matches!(inner, b"@" | b"*" | b"#"));
        let name = if open == 0 && is_name(inner) {
            lossy(inner)
        } else if open == 0 && positional {
            // `${1}` is `$1`, the name positional parameters are bound under.
            format!("${}", lossy(inner))
        } else {
            lossy(raw)
        };
        w.piece(Piece::Var {
            name,
            raw: lossy(raw),
            quoted,
        });
    }

    fn ansi_c(&mut self, w: &mut WordBuilder) {
        self.pos += 2;
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.pos += 2,
                b'\'' => break,
                _ => self.pos += 1,
            }
        }
        let end = self.pos.min(self.src.len());
        self.pos = (end + 1).min(self.src.len());
        w.quoted(&escape::decode(&self.src[start..end], Dialect::AnsiC).0);
        w.touch();
    }

    /// `$(( … ))` computes a number; it is kept as written.
    fn arithmetic(&mut self, w: &mut WordBuilder) {
        let start = self.pos;
        self.pos += 2;
        self.skip_parens();
        w.quoted(&self.src[start..self.pos]);
    }

    /// `a=(x y)`: an array literal stays part of the assignment word.
    fn array(&mut self, w: &mut WordBuilder) {
        let start = self.pos;
        self.pos += 1;
        self.skip_parens();
        w.quoted(&self.src[start..self.pos]);
    }

    /// `$( … )` or `<( … )`: the body is tokenized by a nested lexer, which stops at the
    /// closing `)`; past the depth limit only its extent is found.
    fn substitution(&mut self, w: &mut WordBuilder, kind: SubstKind) {
        let start = self.pos;
        self.pos += 2;
        let tokens = if self.depth < MAX_DEPTH {
            let mut inner = Lexer {
                src: self.src,
                pos: self.pos,
                depth: self.depth + 1,
            };
            let tokens = inner.tokens(true);
            self.pos = inner.pos;
            Some(tokens)
        } else {
            self.skip_parens();
            None
        };
        w.piece(Piece::Subst(Box::new(Subst {
            raw: lossy(&self.src[start..self.pos]),
            kind,
            tokens,
        })));
    }

    /// Backticks: `\$`, `` \` `` and `\\` are unescaped, then the body is tokenized anew.
    fn backtick(&mut self, w: &mut WordBuilder) {
        let start = self.pos;
        self.pos += 1;
        let mut body = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'`' => break,
                b'\\' => match self.peek() {
                    Some(e @ (b'$' | b'`' | b'\\')) => {
                        body.push(e);
                        self.pos += 1;
                    }
                    _ => body.push(b'\\'),
                },
                _ => body.push(c),
            }
        }
        let tokens = (self.depth < MAX_DEPTH).then(|| tokenize(&lossy(&body), self.depth + 1));
        w.piece(Piece::Subst(Box::new(Subst {
            raw: lossy(&self.src[start..self.pos]),
            kind: SubstKind::Command,
            tokens,
        })));
    }

    /// Moves past the `)` matching an already-consumed `(`, minding quotes and escapes.
    fn skip_parens(&mut self) {
        let mut open = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos = (self.pos + 1).min(self.src.len()),
                b'\'' => self.pos = (self.find(b'\'') + 1).min(self.src.len()),
                b'(' => open += 1,
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// The lines after the current one up to `delimiter`, which is consumed too.
    fn heredoc_body(&mut self, delimiter: &str, strip_tabs: bool) -> String {
        let mut body = Vec::new();
        while self.pos < self.src.len() {
            let end = self.find(b'\n');
            let mut line = &self.src[self.pos..end];
            self.pos = (end + 1).min(self.src.len());
            while strip_tabs && let [b'\t', rest @ ..] = line {
                line = rest;
            }
            if line == delimiter.as_bytes() {
                break;
            }
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        lossy(&body)
    }
}

/// Here-documents announced on the current line; their bodies follow its newline.
#[derive(Default)]
struct Heredocs {
    awaiting_delimiter: Option<(usize, bool)>,
    pending: Vec<(usize, String, bool)>,
}

impl Heredocs {
    fn expect(&mut self, index: usize, op: &str) {
        self.awaiting_delimiter = match op.trim_start_matches(|c: char| c.is_ascii_digit()) {
            "<<" => Some((index, false)),
            "<<-" => Some((index, true)),
            _ => None,
        };
    }

    fn delimiter(&mut self, word: &Word) {
        if let Some((index, strip_tabs)) = self.awaiting_delimiter.take() {
            self.pending.push((index, word.literal(), strip_tabs));
        }
    }

    fn read_bodies(&mut self, lexer: &mut Lexer, tokens: &mut [Token]) {
        for (index, delimiter, strip_tabs) in self.pending.drain(..) {
            let body = lexer.heredoc_body(&delimiter, strip_tabs);
            if let Some(Token::Redir(redir)) = tokens.get_mut(index) {
                redir.heredoc = Some(body);
            }
        }
    }
}

/// Accumulates one word: literal bytes merge into one piece; expansions start new ones.
#[derive(Default)]
struct WordBuilder {
    pieces: Vec<Piece>,
    lit: Vec<u8>,
    plain: usize,
    quoted_yet: bool,
    /// Quotes were seen, so the word exists even if empty.
    touched: bool,
    /// Offsets in `lit` of the `{`, `,` and `}` typed outside quotes: brace expansion only
    /// applies to those (`"/var/lib/"{mysql,postgresql}`).
    braces: Vec<usize>,
    /// Something other than literal text came in: the offsets no longer describe the word.
    mixed: bool,
}

impl WordBuilder {
    fn plain(&mut self, c: u8) {
        if !self.quoted_yet {
            self.plain += 1;
        }
        if matches!(c, b'{' | b',' | b'}') && self.braces.len() < MAX_BRACE_MARKS {
            self.braces.push(self.lit.len());
        }
        self.lit.push(c);
    }

    /// Plain bytes with no brace-expansion mark among them (see [`PLAIN_RUN`]).
    fn plain_run(&mut self, bytes: &[u8]) {
        if !self.quoted_yet {
            self.plain += bytes.len();
        }
        self.lit.extend_from_slice(bytes);
    }

    fn quoted(&mut self, bytes: &[u8]) {
        self.quoted_yet = true;
        self.lit.extend_from_slice(bytes);
    }

    fn push(&mut self, c: u8, quoted: bool) {
        if quoted {
            self.quoted(&[c]);
        } else {
            self.plain(c);
        }
    }

    fn touch(&mut self) {
        self.quoted_yet = true;
        self.touched = true;
    }

    fn piece(&mut self, piece: Piece) {
        self.mixed = true;
        self.flush();
        self.quoted_yet = true;
        self.pieces.push(piece);
    }

    fn flush(&mut self) {
        if !self.lit.is_empty() {
            self.pieces
                .push(Piece::Lit(lossy_owned(std::mem::take(&mut self.lit))));
        }
    }

    fn is_assignment_prefix(&self) -> bool {
        !self.quoted_yet
            && self.pieces.is_empty()
            && self.lit.last() == Some(&b'=')
            && std::str::from_utf8(&self.lit)
                .ok()
                .and_then(super::assignment)
                .is_some()
    }

    fn finish(mut self) -> Word {
        let lit_len = self.lit.len();
        self.flush();
        if self.pieces.is_empty() && self.touched {
            self.pieces.push(Piece::Lit(String::new()));
        }
        // Offsets hold only for one literal piece that kept its bytes (valid UTF-8).
        let exact =
            !self.mixed && matches!(self.pieces.as_slice(), [Piece::Lit(t)] if t.len() == lit_len);
        Word {
            pieces: self.pieces,
            plain: self.plain,
            braces: if exact { self.braces } else { Vec::new() },
        }
    }
}
