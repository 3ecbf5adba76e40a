//! Groups tokens into pipelines of simple commands and `( )` / `{ }` groups. Control flow
//! (`if`, `while`, `for`, `case`, functions) is flattened: only the commands inside matter.

use super::lex::{Op, Token, Word};

/// Groups nested deeper than this are read as if their parentheses were not there.
const MAX_GROUP_DEPTH: usize = 16;
/// Loops nested deeper than this are read flat, as before loops were kept: each loop level keeps
/// its body to run it again, so deep nesting would cost the line's length once per level.
const MAX_LOOP_DEPTH: usize = 4;

#[derive(Debug, Clone)]
pub(super) struct Pipeline {
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone)]
pub(super) enum Stage {
    Simple(Simple),
    Group {
        brace: bool,
        body: Vec<Pipeline>,
    },
    /// `name() { … }` or `function name { … }`: the body, to run where the name is called.
    Function {
        name: String,
        body: Vec<Pipeline>,
    },
    /// `for NAME in WORDS; do …; done` (`select` too); no words for `for NAME; do`.
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: Vec<Pipeline>,
    },
    /// `while …; do …; done < FILE` (`until` too): the condition, the body, and what feeds the
    /// loop's standard input, which the condition's `read` reads.
    While {
        condition: Vec<Pipeline>,
        body: Vec<Pipeline>,
        redirects: Vec<Redirect>,
    },
}

#[derive(Debug, Clone, Default)]
pub(super) struct Simple {
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

#[derive(Debug, Clone)]
pub(super) struct Redirect {
    pub op: String,
    pub target: Option<Word>,
    pub heredoc: Option<String>,
}

pub(super) fn parse(tokens: Vec<Token>) -> Vec<Pipeline> {
    Parser {
        tokens: tokens.into_iter().peekable(),
        open_cases: 0,
        open_loops: 0,
    }
    .list(0, Closer::End)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closer {
    End,
    Paren,
    Brace,
    /// A loop's condition, ended by `do`.
    Do,
    /// A loop's body, ended by `done`.
    Done,
}

/// Reserved words, recognised only as the first word of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    /// `!`, `if`, `then`, `else`, `elif`: the command follows.
    Prefix,
    /// `while`, `until`: a condition, then `do`.
    While,
    /// `for`, `select`: a name, maybe `in` and words, then `do`.
    For,
    Do,
    Done,
    /// `fi`.
    End,
    Esac,
    OpenBrace,
    CloseBrace,
    /// `case WORD in`: no command here.
    Header,
    /// `function NAME`.
    Function,
}

pub(super) fn keyword(word: &Word) -> Option<Keyword> {
    Some(match word.plain_word()? {
        "!" | "if" | "then" | "else" | "elif" => Keyword::Prefix,
        "while" | "until" => Keyword::While,
        "for" | "select" => Keyword::For,
        "do" => Keyword::Do,
        "done" => Keyword::Done,
        "fi" => Keyword::End,
        "esac" => Keyword::Esac,
        "{" => Keyword::OpenBrace,
        "}" => Keyword::CloseBrace,
        "case" => Keyword::Header,
        "function" => Keyword::Function,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    End,
    Separator,
    Pipe,
    Open,
    Close,
    Keyword(Keyword),
    Command,
}

enum Parsed {
    Command(Simple),
    /// `name()`: a function definition; its body follows.
    FunctionName(String),
}

struct Parser {
    tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
    /// `case … in` not yet closed by `esac`: a `)` may end a pattern there.
    open_cases: usize,
    /// Loops being read, outermost included.
    open_loops: usize,
}

impl Parser {
    fn next_kind(&mut self) -> Next {
        match self.tokens.peek() {
            None => Next::End,
            Some(Token::Op(Op::LParen)) => Next::Open,
            Some(Token::Op(Op::RParen)) => Next::Close,
            Some(Token::Op(Op::Pipe)) => Next::Pipe,
            Some(Token::Op(_)) => Next::Separator,
            Some(Token::Redir(_)) => Next::Command,
            Some(Token::Word(word)) => keyword(word).map_or(Next::Command, Next::Keyword),
        }
    }

    fn skip(&mut self) {
        self.tokens.next();
    }

    fn list(&mut self, depth: usize, closer: Closer) -> Vec<Pipeline> {
        let mut list = Vec::new();
        loop {
            match self.next_kind() {
                Next::End => break,
                Next::Close => {
                    self.skip();
                    if closer == Closer::Paren {
                        break;
                    }
                }
                Next::Keyword(Keyword::CloseBrace) if closer == Closer::Brace => {
                    self.skip();
                    break;
                }
                Next::Keyword(Keyword::Do) if closer == Closer::Do => {
                    self.skip();
                    break;
                }
                Next::Keyword(Keyword::Done) if closer == Closer::Done => {
                    self.skip();
                    break;
                }
                Next::Separator | Next::Pipe => self.skip(),
                _ => {
                    let pipeline = self.pipeline(depth);
                    // `start|restart)` in a case: patterns, not commands.
                    let pattern = closer != Closer::Paren
                        && self.open_cases > 0
                        && self.next_kind() == Next::Close;
                    if pattern {
                        self.skip();
                    } else {
                        list.extend(pipeline);
                    }
                }
            }
        }
        list
    }

    fn pipeline(&mut self, depth: usize) -> Option<Pipeline> {
        let mut stages = Vec::new();
        loop {
            stages.extend(self.stage(depth));
            if self.next_kind() != Next::Pipe {
                break;
            }
            self.skip();
        }
        (!stages.is_empty()).then_some(Pipeline { stages })
    }

    /// One stage; consumes at least one token when the next one can start a command.
    fn stage(&mut self, depth: usize) -> Option<Stage> {
        loop {
            match self.next_kind() {
                next @ (Next::Open | Next::Keyword(Keyword::OpenBrace)) => {
                    self.skip();
                    let brace = next != Next::Open;
                    if depth < MAX_GROUP_DEPTH {
                        let closer = if brace { Closer::Brace } else { Closer::Paren };
                        let body = self.list(depth + 1, closer);
                        return Some(Stage::Group { brace, body });
                    }
                }
                Next::Keyword(Keyword::Prefix | Keyword::Do) => self.skip(),
                Next::Keyword(Keyword::While)
                    if depth < MAX_GROUP_DEPTH && self.open_loops < MAX_LOOP_DEPTH =>
                {
                    self.skip();
                    self.open_loops += 1;
                    let condition = self.list(depth + 1, Closer::Do);
                    let body = self.list(depth + 1, Closer::Done);
                    self.open_loops -= 1;
                    let redirects = self.take_redirects();
                    return Some(Stage::While {
                        condition,
                        body,
                        redirects,
                    });
                }
                Next::Keyword(Keyword::For)
                    if depth < MAX_GROUP_DEPTH && self.open_loops < MAX_LOOP_DEPTH =>
                {
                    if let Some(stage) = self.for_loop(depth) {
                        return Some(stage);
                    }
                }
                Next::Keyword(Keyword::While) => self.skip(),
                Next::Keyword(Keyword::For) => self.skip_header(),
                next @ Next::Keyword(
                    Keyword::End | Keyword::Done | Keyword::Esac | Keyword::CloseBrace,
                ) => {
                    if next == Next::Keyword(Keyword::Esac) {
                        self.open_cases = self.open_cases.saturating_sub(1);
                    }
                    self.skip();
                    self.skip_redirects();
                    return None;
                }
                Next::Keyword(Keyword::Header) => self.skip_header(),
                Next::Keyword(Keyword::Function) => {
                    self.skip();
                    let name = self.take_word().map(|w| w.literal());
                    self.skip_empty_parens();
                    if let Some(name) = name {
                        return Some(self.function(name, depth));
                    }
                }
                Next::Command => match self.simple() {
                    Parsed::Command(simple) => return Some(Stage::Simple(simple)),
                    Parsed::FunctionName(name) => return Some(self.function(name, depth)),
                },
                Next::End | Next::Separator | Next::Pipe | Next::Close => return None,
            }
        }
    }

    /// `for NAME [in WORDS]; do BODY; done`; None (the header skipped) for forms read as
    /// flat commands, like `for ((i = 0; …))`.
    fn for_loop(&mut self, depth: usize) -> Option<Stage> {
        self.skip();
        let named = match self.tokens.peek() {
            Some(Token::Word(word)) => word
                .plain_word()
                .is_some_and(|w| super::is_name(w.as_bytes())),
            _ => false,
        };
        if !named {
            self.skip_header();
            return None;
        }
        let var = self.take_word()?.literal();
        let items = match self.tokens.peek() {
            Some(Token::Word(word)) if word.plain_word() == Some("in") => {
                self.skip();
                let mut items = Vec::new();
                while let Some(word) = self.take_word() {
                    items.push(word);
                }
                Some(items)
            }
            _ => None,
        };
        while self.next_kind() == Next::Separator {
            self.skip();
        }
        if self.next_kind() == Next::Keyword(Keyword::Do) {
            self.skip();
        }
        self.open_loops += 1;
        let body = self.list(depth + 1, Closer::Done);
        self.open_loops -= 1;
        self.skip_redirects();
        Some(Stage::For { var, items, body })
    }

    /// The body after a function's name: the next stage, usually a `{ … }` group.
    fn function(&mut self, name: String, depth: usize) -> Stage {
        // `f() g() h() …` nests each definition in the next: bounded like groups.
        if depth >= MAX_GROUP_DEPTH {
            return Stage::Function {
                name,
                body: Vec::new(),
            };
        }
        let body = match self.stage(depth + 1) {
            Some(Stage::Group { body, .. }) => body,
            Some(stage) => vec![Pipeline {
                stages: vec![stage],
            }],
            None => Vec::new(),
        };
        Stage::Function { name, body }
    }

    fn simple(&mut self) -> Parsed {
        let mut simple = Simple::default();
        loop {
            match self.tokens.peek() {
                Some(Token::Word(_)) => {
                    if let Some(Token::Word(word)) = self.tokens.next() {
                        simple.words.push(word);
                    }
                }
                Some(Token::Redir(_)) => {
                    if let Some(Token::Redir(redir)) = self.tokens.next() {
                        let target = self.take_word();
                        simple.redirects.push(Redirect {
                            op: redir.op,
                            target,
                            heredoc: redir.heredoc,
                        });
                    }
                }
                Some(Token::Op(Op::LParen))
                    if simple.words.len() == 1 && simple.redirects.is_empty() =>
                {
                    self.skip_empty_parens();
                    let name = simple.words.pop().map(|w| w.literal()).unwrap_or_default();
                    return Parsed::FunctionName(name);
                }
                _ => return Parsed::Command(simple),
            }
        }
    }

    fn take_word(&mut self) -> Option<Word> {
        match self.tokens.peek() {
            Some(Token::Word(_)) => match self.tokens.next() {
                Some(Token::Word(word)) => Some(word),
                _ => None,
            },
            _ => None,
        }
    }

    /// Redirections after a compound command (`done < file`).
    fn take_redirects(&mut self) -> Vec<Redirect> {
        let mut redirects = Vec::new();
        while matches!(self.tokens.peek(), Some(Token::Redir(_))) {
            if let Some(Token::Redir(redir)) = self.tokens.next() {
                let target = self.take_word();
                redirects.push(Redirect {
                    op: redir.op,
                    target,
                    heredoc: redir.heredoc,
                });
            }
        }
        redirects
    }

    /// `fi > log`: redirections of a construct read as flat commands belong to none of them.
    fn skip_redirects(&mut self) {
        while matches!(self.tokens.peek(), Some(Token::Redir(_))) {
            self.skip();
            self.take_word();
        }
    }

    /// `for ((…))`, `case $x in`: skipped up to the separator (or `in` for `case`).
    fn skip_header(&mut self) {
        let header = self.take_word();
        let is_case = header.is_some_and(|w| w.plain_word() == Some("case"));
        while let Some(word) = self.take_word() {
            if is_case && word.plain_word() == Some("in") {
                self.open_cases += 1;
                break;
            }
        }
    }

    fn skip_empty_parens(&mut self) {
        if matches!(self.tokens.peek(), Some(Token::Op(Op::LParen))) {
            self.skip();
            if matches!(self.tokens.peek(), Some(Token::Op(Op::RParen))) {
                self.skip();
            }
        }
    }
}
