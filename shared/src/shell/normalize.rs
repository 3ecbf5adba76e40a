//! The walk over a line: each pipeline prepared (words expanded, launchers unwrapped, payloads
//! followed), then reported with everything it runs.

use std::collections::HashSet;

use super::expand::{Fields, brace_expansion};
use super::launch::{Nested, Unwrapped, unwrap};
use super::lex::{self, Piece, Subst, SubstKind, Word};
use super::parse::{self, Pipeline, Redirect, Simple, Stage};
use super::payload::flow;
use super::state::ShellState;
use super::{
    EXPANSION_BUDGET, MAX_DECODED_BYTES, MAX_DEPTH, MAX_ENTRIES, MAX_VALUE_BYTES,
    NormalizedCommand, PARSE_BUDGET, PAYLOAD_BUDGET, assignment, basename, join, join_words,
    truncate, truncated,
};
use super::{param, paths, plain};

/// Text a pipeline stage is known to produce, and the steps that produced it (`echo`, `base64`).
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub(super) text: String,
    pub(super) steps: Vec<&'static str>,
}

impl Value {
    pub(super) fn new(text: String, step: &'static str) -> Self {
        Value {
            text: truncated(text, MAX_DECODED_BYTES),
            steps: vec![step],
        }
    }

    pub(super) fn then(&self, text: String, step: &'static str) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Value {
            text: truncated(text, MAX_DECODED_BYTES),
            steps,
        }
    }

    /// What `$( )` makes of it: trailing newlines removed.
    pub(super) fn substituted(mut self) -> Self {
        let kept = self.text.trim_end_matches('\n').len();
        self.text.truncate(kept);
        self
    }

    /// The labels for `via`: the decoders, or the source when the text went through unchanged.
    pub(super) fn labels(&self) -> Vec<String> {
        let skip = usize::from(self.steps.len() > 1);
        self.steps[skip..].iter().map(|s| s.to_string()).collect()
    }
}

/// One word after expansion.
#[derive(Debug, Clone)]
pub(super) struct Arg {
    pub(super) text: String,
    /// Only literals and variables known on this line went into it, so its value can be remembered.
    pub(super) resolved: bool,
    /// The word is exactly one substitution whose output is known (`"$(echo … | base64 -d)"`).
    pub(super) output: Option<Value>,
    /// The word is exactly one substitution whose output is only known at run time (`$(curl …)`).
    pub(super) opaque: bool,
    /// The word with the known outputs of its substitutions put in (`$(echo cm0= | base64 -d)`
    /// is `rm`); None when it has no substitution or anything in it is unknown.
    pub(super) evaluated: Option<String>,
    /// An unquoted word with `*`, `?` or `[…]`: the shell replaces it by the paths it names.
    pub(super) glob: bool,
}

impl Arg {
    pub(super) fn literal(text: String) -> Self {
        Arg {
            text,
            resolved: true,
            output: None,
            opaque: false,
            evaluated: None,
            glob: false,
        }
    }

    /// The best known value: with substitution outputs when known.
    pub(super) fn value(&self) -> &str {
        self.evaluated.as_deref().unwrap_or(&self.text)
    }
}

/// Where a script is being read: the chain that led to it and how deep that is.
#[derive(Debug, Clone, Default)]
pub(super) struct Ctx {
    pub(super) via: Vec<String>,
    pub(super) depth: usize,
}

impl Ctx {
    pub(super) fn child(&self, labels: impl IntoIterator<Item = String>) -> Ctx {
        let mut via = self.via.clone();
        via.extend(labels);
        Ctx {
            via,
            depth: self.depth + 1,
        }
    }

    pub(super) fn via_with(&self, more: &[String]) -> Vec<String> {
        self.via.iter().chain(more).cloned().collect()
    }
}

/// Command and process substitutions met in a command's words, in order, with their `via` label.
pub(super) type Substitutions = Vec<(&'static str, Prepared)>;

/// A simple command ready to report: expanded, unwrapped, with what it hands on.
pub(super) struct Command {
    /// The command that finally runs; the first word is already a bare name.
    pub(super) args: Vec<Arg>,
    /// Launchers removed in front of it, outermost first.
    pub(super) via: Vec<String>,
    pub(super) text: String,
    /// What a here-string, here-document or `< <(…)` feeds it, when known.
    pub(super) stdin: Option<Value>,
    pub(super) substitutions: Substitutions,
    /// Command strings and argument lists it hands to another command.
    pub(super) nested: Vec<Nested>,
    /// The command line with known substitution outputs put in, when it has any
    /// (`$(echo cm0= | base64 -d) -rf /` runs `rm -rf /`).
    pub(super) evaluated: Option<String>,
    /// The text with relative paths resolved against the working directory, and that directory
    /// (`cd /; rm -rf *` runs `rm -rf /*`).
    pub(super) in_cwd: Option<(String, String)>,
    /// The whole command (launchers included) once for each combination of known paths its
    /// globs name (`/???/??t /???/?h?d?w` runs `cat /etc/shadow`).
    pub(super) glob_variants: Vec<Vec<Arg>>,
    /// A function or alias of the session that this command calls, with its arguments.
    pub(super) call: Option<Call>,
    /// A file downloaded earlier that this command runs, and the download.
    pub(super) runs_download: Option<(String, String)>,
    /// The command again with a file made earlier from others replaced by them, and as the
    /// command that made it piped in (`curl -T /tmp/d.sql URL` after `pg_dump app > /tmp/d.sql`).
    pub(super) derived_uses: Vec<(String, String)>,
    /// For a command run through `sudo`, `doas` or `pkexec`: the whole command line, launcher
    /// and options included, with quotes removed and variables put in (`S=bash; sudo $S` is
    /// `sudo bash`; `sudo -u '#-1' sh` is `sudo -u #-1 sh`), for rules about how privileges
    /// were taken.
    pub(super) as_launched: Option<String>,
}

/// A function or alias called by a command.
pub(super) enum Call {
    Function { name: String, args: Vec<String> },
    Alias { name: String, text: String },
}

impl Command {
    pub(super) fn new(args: Vec<Arg>, via: Vec<String>, redirects: &[Redirection]) -> Self {
        let rendered: Vec<String> = redirects.iter().map(Redirection::render).collect();
        let words = args.iter().map(|a| a.text.as_str());
        let text = join_words(words.chain(rendered.iter().map(String::as_str)), " ");
        Command {
            args,
            via,
            text,
            stdin: None,
            substitutions: Vec::new(),
            nested: Vec::new(),
            evaluated: None,
            in_cwd: None,
            glob_variants: Vec::new(),
            call: None,
            runs_download: None,
            derived_uses: Vec::new(),
            as_launched: None,
        }
    }

    pub(super) fn argv(&self) -> Vec<String> {
        self.args.iter().map(|a| a.text.clone()).collect()
    }
}

pub(super) enum PreparedStage {
    // Boxed: a command carries far more than a group, and stages move through several passes.
    Command(Box<Command>),
    Group { text: String, body: Prepared },
    Loop(Box<Loop>),
}

/// A `for` or `while` loop: its commands as written, and what is needed to run its body once
/// per value when the values are known.
pub(super) struct Loop {
    pub(super) text: String,
    /// The condition and body as written, reported like a group's commands.
    pub(super) written: Prepared,
    pub(super) iteration: Iteration,
    pub(super) body: Vec<Pipeline>,
    /// What the loop reads on standard input, when known: its own redirection, or what the
    /// pipeline stage before it prints.
    pub(super) input: Option<Value>,
}

pub(super) enum Iteration {
    /// `for var in …`: the words, when every one is known.
    For {
        var: String,
        values: Option<Vec<String>>,
    },
    /// `while read a b; do`: the variables each input line is read into.
    Read { vars: Vec<String> },
}

impl PreparedStage {
    pub(super) fn text(&self) -> &str {
        match self {
            PreparedStage::Command(cmd) => &cmd.text,
            PreparedStage::Group { text, .. } => text,
            PreparedStage::Loop(l) => &l.text,
        }
    }

    /// The text with paths resolved in the working directory, when that changes it.
    pub(super) fn text_in_cwd(&self) -> Option<&(String, String)> {
        match self {
            PreparedStage::Command(cmd) => cmd.in_cwd.as_ref(),
            PreparedStage::Group { .. } | PreparedStage::Loop(_) => None,
        }
    }

    pub(super) fn argv(&self) -> Vec<String> {
        match self {
            PreparedStage::Command(cmd) => cmd.argv(),
            PreparedStage::Group { .. } | PreparedStage::Loop(_) => Vec::new(),
        }
    }

    pub(super) fn via(&self) -> &[String] {
        match self {
            PreparedStage::Command(cmd) => &cmd.via,
            PreparedStage::Group { .. } | PreparedStage::Loop(_) => &[],
        }
    }
}

pub(super) struct PreparedPipeline {
    pub(super) stages: Vec<PreparedStage>,
    /// Known payloads that a stage runs as a script.
    pub(super) feeds: Vec<Feed>,
    /// What the pipeline prints, when known: the value of a `$( )` around it.
    pub(super) output: Option<Value>,
}

#[derive(Default)]
pub(super) struct Prepared {
    pub(super) pipelines: Vec<PreparedPipeline>,
}

impl Prepared {
    pub(super) fn output(&self) -> Option<Value> {
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

/// A redirection as the command sees it: the operator and the expanded target.
pub(super) struct Redirection {
    pub(super) op: String,
    pub(super) target: Option<Arg>,
}

impl Redirection {
    pub(super) fn render(&self) -> String {
        render_redirect(&self.op, self.target.as_ref().map(|t| t.text.as_str()))
    }
}

/// A known payload run by a shell (parsed as commands) or an interpreter (`python3 -c …`).
pub(super) struct Feed {
    /// Relative to the pipeline: the stage's launchers, then the payload's decoders.
    pub(super) via: Vec<String>,
    pub(super) value: Value,
    pub(super) interpreter: Option<(String, &'static str)>,
}

/// Entries of a line checked for a repeat one by one; beyond this many, in a hash set.
const LINEAR_SEEN: usize = 16;

/// Walks a line: prepares each pipeline (expansion, unwrapping, payload flow), then reports it and
/// everything it runs. Variables assigned on the line are remembered across the walk.
pub(super) struct Normalizer {
    pub(super) out: Vec<NormalizedCommand>,
    /// The texts of `out`, once there are more than [`LINEAR_SEEN`] of them; until then `out`
    /// is searched in turn, which is cheaper than hashing for the few entries of most lines.
    pub(super) seen: Option<HashSet<String>>,
    /// Only the texts of entries are wanted: their `argv` and `via` are left empty.
    pub(super) texts_only: bool,
    pub(super) state: ShellState,
    /// Function bodies run on this line so far: `f(){ f; f; }; f` must stay cheap.
    pub(super) calls: usize,
    /// Globs matched on this line so far.
    pub(super) globs: usize,
    /// What is left of [`EXPANSION_BUDGET`].
    pub(super) expansion_budget: usize,
    /// What is left of [`PAYLOAD_BUDGET`].
    pub(super) payload_budget: usize,
    /// What is left of [`PARSE_BUDGET`].
    pub(super) parse_budget: usize,
}

impl Normalizer {
    pub(super) fn new(state: ShellState) -> Self {
        Normalizer {
            out: Vec::new(),
            seen: None,
            texts_only: false,
            state,
            calls: 0,
            globs: 0,
            expansion_budget: EXPANSION_BUDGET,
            payload_budget: PAYLOAD_BUDGET,
            parse_budget: PARSE_BUDGET,
        }
    }

    pub(super) fn full(&self) -> bool {
        self.out.len() >= MAX_ENTRIES
    }

    /// Whether an entry with this text would be kept: checked before building one.
    pub(super) fn wants(&self, text: &str) -> bool {
        !self.full() && !text.is_empty() && !self.reported(text)
    }

    fn reported(&self, text: &str) -> bool {
        match &self.seen {
            Some(seen) => seen.contains(text),
            None => self.out.iter().any(|entry| entry.text == text),
        }
    }

    /// Reports `text`, with its words and how it was reached when they are wanted (building
    /// them costs more than the rest of most entries, and the scanner matches texts only).
    pub(super) fn push(
        &mut self,
        text: String,
        argv: impl FnOnce() -> Vec<String>,
        via: impl FnOnce() -> Vec<String>,
    ) {
        if !self.wants(&text) {
            return;
        }
        let (argv, via) = if self.texts_only {
            (Vec::new(), Vec::new())
        } else {
            (argv(), via())
        };
        if let Some(seen) = &mut self.seen {
            seen.insert(text.clone());
        } else if self.out.len() >= LINEAR_SEEN {
            let texts = self.out.iter().map(|entry| entry.text.clone());
            self.seen = Some(texts.chain([text.clone()]).collect());
        }
        self.out.push(NormalizedCommand { text, argv, via });
    }

    /// Parses `script` and reports every command in it, pipeline by pipeline.
    pub(super) fn run_script(&mut self, script: &str, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH || self.full() || self.parse_budget == 0 {
            return;
        }
        let script = truncate(script, MAX_DECODED_BYTES.min(self.parse_budget));
        self.parse_budget -= script.len();
        let pipelines = match plain::pipelines(script) {
            Some(pipelines) => {
                debug_assert_eq!(
                    format!("{pipelines:?}"),
                    format!("{:?}", parse::parse(lex::tokenize(script, ctx.depth))),
                    "{script:?}"
                );
                pipelines
            }
            None => parse::parse(lex::tokenize(script, ctx.depth)),
        };
        for pipeline in pipelines {
            if self.full() {
                return;
            }
            let prepared = self.prepare_pipeline(pipeline, ctx.depth);
            self.emit_pipeline(prepared, ctx);
        }
    }

    /// Reports a command given as an argument list (`docker exec web sh -c …`, `find -exec`).
    pub(super) fn run_argv(&mut self, args: Vec<Arg>, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH || self.full() {
            return;
        }
        let mut stages = vec![PreparedStage::Command(Box::new(self.command(args, &[])))];
        let (output, feeds) = flow(&mut stages);
        let pipeline = PreparedPipeline {
            stages,
            feeds,
            output,
        };
        self.emit_pipeline(pipeline, ctx);
    }

    pub(super) fn prepare_list(&mut self, list: Vec<Pipeline>, depth: usize) -> Prepared {
        Prepared {
            pipelines: list
                .into_iter()
                .map(|p| self.prepare_pipeline(p, depth))
                .collect(),
        }
    }

    pub(super) fn prepare_pipeline(
        &mut self,
        pipeline: Pipeline,
        depth: usize,
    ) -> PreparedPipeline {
        let mut stages: Vec<PreparedStage> = pipeline
            .stages
            .into_iter()
            .map(|stage| match stage {
                Stage::Simple(simple) => {
                    PreparedStage::Command(Box::new(self.prepare_simple(simple, depth)))
                }
                Stage::Group { brace, body } => {
                    // A `( … )` subshell's `cd` is forgotten when it ends.
                    let saved = (!brace).then(|| self.state.save_cwd());
                    let body = self.prepare_list(body, depth);
                    if let Some((cwd, oldpwd)) = saved {
                        self.state.restore_cwd(cwd, oldpwd);
                    }
                    let text = group_text(&body, brace);
                    PreparedStage::Group { text, body }
                }
                Stage::Function { name, body } => {
                    self.state.define_function(name, body.clone());
                    // The body is reported as written, `$1` and all, when defined.
                    let body = self.prepare_list(body, depth);
                    let text = group_text(&body, true);
                    PreparedStage::Group { text, body }
                }
                Stage::For { var, items, body } => self.prepare_for(var, items, body, depth),
                Stage::While {
                    condition,
                    body,
                    redirects,
                } => self.prepare_while(condition, body, redirects, depth),
            })
            .collect();
        let (output, feeds) = flow(&mut stages);
        PreparedPipeline {
            stages,
            feeds,
            output,
        }
    }

    pub(super) fn prepare_simple(&mut self, simple: Simple, depth: usize) -> Command {
        let mut substitutions = Vec::new();
        let mut words = simple.words;
        let first_word = words
            .iter()
            .position(|w| assignment(w.plain_text()).is_none())
            .unwrap_or(words.len());
        let plain = words.iter().all(|w| w.plain_word().is_some());
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
        let call = args.first().and_then(|name| self.call(name, &args[1..]));
        // Typed plainly at the prompt, the line as typed already shows all of it.
        let privileged = (depth > 0 || !plain)
            && args
                .first()
                .is_some_and(|a| matches!(basename(&a.text), "sudo" | "doas" | "pkexec" | "run0"));
        let as_launched = privileged.then(|| {
            let rendered = redirects.iter().map(Redirection::render);
            let words = args.iter().map(|a| a.value().to_string());
            join_words(
                words
                    .chain(rendered)
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
                " ",
            )
        });
        let glob_variants = self.glob_variants(&args);
        let mut cmd = if args.is_empty() {
            Command::new(assignments, Vec::new(), &redirects)
        } else {
            self.command(args, &redirects)
        };
        cmd.stdin = stdin;
        cmd.substitutions = substitutions;
        cmd.glob_variants = glob_variants;
        cmd.call = call;
        cmd.as_launched = as_launched;
        cmd
    }

    /// Unwraps launchers and names the command by its basename; notes what it assigns or unsets.
    pub(super) fn command(&mut self, args: Vec<Arg>, redirects: &[Redirection]) -> Command {
        let Unwrapped {
            mut args,
            via,
            nested,
        } = unwrap(args);
        // The program as written matters only to find a downloaded file run by its path.
        let program = (self.state.has_downloads())
            .then(|| args.first().map(|a| a.text.clone()))
            .flatten();
        if let Some(first) = args.first_mut() {
            first.text = basename(&first.text).to_string();
        }
        let runs_download = program.and_then(|p| self.runs_download(&p, &args));
        let derived_uses = self.derived_uses(&args, redirects);
        let in_cwd = self.in_cwd(&args, redirects);
        self.track_variables(&args);
        self.track_cwd(&args);
        self.track_definitions(&args);
        self.track_download(&args, redirects);
        self.track_derived(&args, redirects);
        // A command string already handed on (`bash -c "$(…)"`) is followed as such.
        let evaluated = (nested.is_empty() && args.iter().any(|a| a.evaluated.is_some()))
            .then(|| join_words(args.iter().map(Arg::value), " "));
        let mut cmd = Command::new(args, via, redirects);
        cmd.nested = nested;
        cmd.evaluated = evaluated;
        cmd.in_cwd = in_cwd;
        cmd.runs_download = runs_download;
        cmd.derived_uses = derived_uses;
        cmd
    }

    /// `export A=rm` and friends assign like `A=rm`; `unset A` forgets.
    pub(super) fn track_variables(&mut self, args: &[Arg]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        match name.text.as_str() {
            "export" | "readonly" | "declare" | "typeset" | "local" => {
                rest.iter().for_each(|arg| self.assign(arg));
            }
            "unset" => rest.iter().for_each(|arg| {
                self.state.unset_var(&arg.text);
            }),
            _ => {}
        }
    }

    /// Remembers `NAME=value` when the value is literal; otherwise forgets NAME, whose value is now
    /// unknown.
    pub(super) fn assign(&mut self, arg: &Arg) {
        let Some((name, append, value)) = assignment(arg.value()) else {
            return;
        };
        let resolved = arg.resolved || arg.evaluated.is_some();
        let known = match (append, self.state.var(name)) {
            (false, _) => Some(value.to_string()),
            (true, Some(old)) => Some(format!("{old}{value}")),
            (true, None) => None,
        };
        match known {
            Some(value) if resolved && value.len() <= MAX_VALUE_BYTES => {
                self.state.set_var(name, value);
            }
            _ => {
                self.state.unset_var(name);
            }
        }
    }

    /// Expands one word into the fields the shell would pass: known variables substituted (and
    /// split on IFS when unquoted), substitutions kept as written but prepared for reporting.
    pub(super) fn expand(
        &mut self,
        mut word: Word,
        split: bool,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> Vec<Arg> {
        if let Some(fields) = brace_expansion(&word) {
            return fields.into_iter().map(Arg::literal).collect();
        }
        let glob = word.plain_word().is_some_and(paths::is_glob);
        // Most words are one literal: its text is the field as it is, without copying.
        if let [Piece::Lit(text)] = word.pieces.as_mut_slice() {
            let mut arg = Arg::literal(std::mem::take(text));
            arg.glob = glob;
            return vec![arg];
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
        if glob && let [arg] = args.as_mut_slice() {
            arg.glob = true;
        }
        if whole_substitution && let [arg] = args.as_mut_slice() {
            arg.opaque = output.is_none();
            arg.output = output;
        }
        args
    }

    /// Expands a word that is never split (assignment, redirection target) into one argument.
    pub(super) fn expand_one(
        &mut self,
        word: Word,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> Arg {
        let mut args = self.expand(word, false, substitutions, depth);
        if args.len() == 1 {
            return args.remove(0);
        }
        let mut joined = Arg::literal(join(&args));
        joined.resolved = args.iter().all(|a| a.resolved);
        joined
    }

    /// Whether a payload this long may still be followed; counts it if so.
    pub(super) fn spend_payload(&mut self, text: &str) -> bool {
        match self.payload_budget.checked_sub(text.len()) {
            Some(left) => {
                self.payload_budget = left;
                true
            }
            None => false,
        }
    }

    pub(super) fn lookup(&mut self, name: &str) -> Option<String> {
        let value = match name.strip_prefix("${").and_then(|n| n.strip_suffix('}')) {
            Some(inner) => param::expand(inner, &|n| self.known(n))?,
            None => match self.known(name)? {
                param::Known::Full(value) => value,
                param::Known::Prefix(_) => return None,
            },
        };
        self.expansion_budget = self.expansion_budget.checked_sub(value.len())?;
        Some(value)
    }

    /// What is known of a variable: assigned on the line or in the session, `PWD` while the
    /// working directory is known, or the start of a login shell's `HOME`, `PATH`, ….
    fn known(&self, name: &str) -> Option<param::Known> {
        // Positional and special parameters are kept as `$1`, `$@`: `${1:0:1}` asks for `1`.
        let positional = !name.is_empty()
            && (name.bytes().all(|c| c.is_ascii_digit()) || matches!(name, "@" | "*" | "#"));
        let key = if positional {
            std::borrow::Cow::Owned(format!("${name}"))
        } else {
            std::borrow::Cow::Borrowed(name)
        };
        if let Some(value) = self.state.var(&key) {
            return Some(param::Known::Full(value.clone()));
        }
        match name {
            "PWD" => self.state.cwd().map(|c| param::Known::Full(c.to_string())),
            "OLDPWD" => self
                .state
                .oldpwd()
                .map(|c| param::Known::Full(c.to_string())),
            _ => None,
        }
        .or_else(|| param::environment(name))
    }

    pub(super) fn ifs(&self) -> String {
        self.state
            .var("IFS")
            .cloned()
            .unwrap_or_else(|| " \t\n".to_string())
    }

    /// Prepares the body of `$( )`, `` ` ` `` or `<( )` and returns its output when computable.
    pub(super) fn prepare_substitution(
        &mut self,
        sub: Subst,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> Option<Value> {
        let tokens = sub.tokens?;
        // A substitution runs in a subshell: its `cd` does not last.
        let (cwd, oldpwd) = self.state.save_cwd();
        let body = self.prepare_list(parse::parse(tokens), depth + 1);
        self.state.restore_cwd(cwd, oldpwd);
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
    pub(super) fn prepare_redirects(
        &mut self,
        redirects: Vec<Redirect>,
        substitutions: &mut Substitutions,
        depth: usize,
    ) -> (Vec<Redirection>, Option<Value>) {
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
            rendered.push(Redirection {
                op: redirect.op,
                target,
            });
        }
        (rendered, stdin)
    }

    pub(super) fn emit(&mut self, list: Prepared, ctx: &Ctx) {
        for pipeline in list.pipelines {
            if self.full() {
                return;
            }
            self.emit_pipeline(pipeline, ctx);
        }
    }

    /// Reports the pipeline, its stages, then what each stage runs, then payloads fed to a shell.
    pub(super) fn emit_pipeline(&mut self, pipeline: PreparedPipeline, ctx: &Ctx) {
        let PreparedPipeline { stages, feeds, .. } = pipeline;
        // A bare `( … )` or `{ …; }` is only a container: its commands are what matters.
        if let Some(first) = stages.first()
            && !matches!(
                stages.as_slice(),
                [PreparedStage::Group { .. } | PreparedStage::Loop(_)]
            )
        {
            let text = pipeline_text(&stages);
            if self.wants(&text) {
                self.push(text, || first.argv(), || ctx.via_with(first.via()));
            }
        }
        if stages.len() > 1 {
            for stage in &stages {
                if self.wants(stage.text()) {
                    let text = stage.text().to_string();
                    self.push(text, || stage.argv(), || ctx.via_with(stage.via()));
                }
            }
        }
        self.emit_in_cwd(&stages, ctx);
        for stage in stages {
            self.emit_nested(stage, ctx);
        }
        for feed in feeds {
            self.emit_feed(feed, ctx);
        }
    }

    pub(super) fn emit_nested(&mut self, stage: PreparedStage, ctx: &Ctx) {
        let cmd = match stage {
            PreparedStage::Group { body, .. } => return self.emit(body, ctx),
            PreparedStage::Loop(l) => return self.emit_loop(*l, ctx),
            PreparedStage::Command(cmd) => cmd,
        };
        for (text, file) in &cmd.derived_uses {
            let via = || ctx.via_with(&[format!("made {file}")]);
            self.push(text.clone(), || cmd.argv(), via);
        }
        if let Some((file, download)) = &cmd.runs_download {
            let runner = cmd.args.first().map_or("sh", |a| a.text.as_str());
            let runner = if runner == basename(file) {
                "sh"
            } else {
                runner
            };
            let text = format!("{download} | {runner}");
            let via = || ctx.via_with(&[format!("downloaded {file}")]);
            self.push(text, || cmd.argv(), via);
        }
        for args in cmd.glob_variants {
            self.run_argv(args, &ctx.child(["glob".to_string()]));
        }
        match cmd.call {
            Some(Call::Function { name, args }) => self.call_function(&name, args, ctx),
            Some(Call::Alias { name, text }) => {
                self.run_script(&text, &ctx.child([format!("alias {name}")]));
            }
            None => {}
        }
        // What runs in another process cannot move this shell.
        let saved = self.state.save_cwd();
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
        self.state.restore_cwd(saved.0, saved.1);
        if let Some(text) = cmd.as_launched {
            let argv = || cmd.args.iter().map(|a| a.text.clone()).collect();
            self.push(text, argv, || ctx.via.clone());
        }
    }

    pub(super) fn emit_feed(&mut self, feed: Feed, ctx: &Ctx) {
        if !self.spend_payload(&feed.value.text) {
            return;
        }
        let ctx = ctx.child(feed.via);
        match feed.interpreter {
            None => self.run_script(&feed.value.text, &ctx),
            Some((name, flag)) => {
                let program = feed.value.text.trim_end().to_string();
                let text = format!("{name} {flag} {program}");
                let argv = move || vec![name, flag.to_string(), program];
                self.push(text, argv, move || ctx.via);
            }
        }
    }
}

pub(super) fn render_redirect(op: &str, target: Option<&str>) -> String {
    match target {
        None => op.to_string(),
        // `2>&1`, `>&-`: a descriptor, written attached.
        Some(t) if op.ends_with('&') && (t == "-" || t.bytes().all(|c| c.is_ascii_digit())) => {
            format!("{op}{t}")
        }
        Some(t) => format!("{op} {t}"),
    }
}

pub(super) fn pipeline_text(stages: &[PreparedStage]) -> String {
    let texts = stages.iter().map(PreparedStage::text);
    join_words(texts.filter(|t| !t.is_empty()), " | ")
}

/// `(a; b)` or `{ a; b; }`; a group of one pipeline reads as that pipeline.
pub(super) fn group_text(body: &Prepared, brace: bool) -> String {
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
