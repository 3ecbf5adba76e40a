//! `for` and `while read` loops: the body as written, and, when the values the loop goes through
//! are known, the body once per value. `for c in rm; do $c -rf /; done` runs `rm -rf /`;
//! `echo 'rm -rf /' | while read c; do $c; done` does too.

use super::lex::Word;
use super::normalize::{Ctx, Iteration, Loop, Normalizer, Prepared, PreparedStage, group_text};
use super::parse::{Pipeline, Redirect, Stage};
use super::track::MAX_CALLS;

/// Values a loop's body is run with; a loop over more is read for its first ones only.
const MAX_ITERATIONS: usize = 16;

/// `read` options that take a value (`-d ''`, `-p 'Name: '`).
const READ_OPTIONS_WITH_VALUE: &str = "adinNptu";

impl Normalizer {
    pub(super) fn prepare_for(
        &mut self,
        var: String,
        items: Option<Vec<Word>>,
        body: Vec<Pipeline>,
        depth: usize,
    ) -> PreparedStage {
        let mut substitutions = Vec::new();
        let values = items.and_then(|words| {
            let mut values = Vec::new();
            let mut known = true;
            for word in words {
                for arg in self.expand(word, true, &mut substitutions, depth) {
                    let found = if arg.glob {
                        self.glob(&arg.text)
                    } else {
                        Vec::new()
                    };
                    if found.is_empty() {
                        known &= arg.resolved || arg.evaluated.is_some();
                        values.push(arg.value().to_string());
                    } else {
                        values.extend(found);
                    }
                }
            }
            known.then_some(values)
        });
        // The body as written reads the variable as unknown, whatever it held before.
        self.state.unset_var(&var);
        let mut written = Prepared::default();
        // `for f in $(…)`: the substitution runs before the loop.
        for (_, body) in substitutions {
            written.pipelines.extend(body.pipelines);
        }
        written
            .pipelines
            .extend(self.prepare_list(body.clone(), depth).pipelines);
        loop_stage(written, Iteration::For { var, values }, body, None)
    }

    pub(super) fn prepare_while(
        &mut self,
        condition: Vec<Pipeline>,
        body: Vec<Pipeline>,
        redirects: Vec<Redirect>,
        depth: usize,
    ) -> PreparedStage {
        let vars = read_vars(&condition);
        vars.iter().for_each(|v| {
            self.state.unset_var(v);
        });
        // `while read l; …; done < /etc/shadow`: it is `read` that reads the file.
        let condition = with_redirects(condition, &redirects);
        let mut written = self.prepare_list(condition, depth);
        let input = read_input(&written);
        written
            .pipelines
            .extend(self.prepare_list(body.clone(), depth).pipelines);
        loop_stage(written, Iteration::Read { vars }, body, input)
    }

    /// Reports the loop as written, then its body once per known value.
    pub(super) fn emit_loop(&mut self, lp: Loop, ctx: &Ctx) {
        let Loop {
            written,
            iteration,
            body,
            input,
            ..
        } = lp;
        self.emit(written, ctx);
        let (label, values): (String, Vec<String>) = match &iteration {
            Iteration::For { var, values } => {
                (format!("for {var}"), values.clone().unwrap_or_default())
            }
            Iteration::Read { vars } if !vars.is_empty() => {
                let lines = input.map(|v| v.text.lines().map(str::to_string).collect());
                ("while read".to_string(), lines.unwrap_or_default())
            }
            Iteration::Read { .. } => return,
        };
        let ctx = ctx.child([label]);
        for value in values.into_iter().take(MAX_ITERATIONS) {
            if self.calls >= MAX_CALLS || ctx.depth > super::MAX_DEPTH || self.full() {
                return;
            }
            self.calls += 1;
            let bound = match &iteration {
                Iteration::For { var, .. } => vec![(var.clone(), value)],
                Iteration::Read { vars } => split_read(vars, &value),
            };
            self.with_bindings(bound, |n| {
                let prepared = n.prepare_list(body.clone(), ctx.depth);
                n.emit(prepared, &ctx);
            });
        }
    }

    /// Runs `f` with variables bound, then puts back what they held.
    pub(super) fn with_bindings(
        &mut self,
        bound: Vec<(String, String)>,
        f: impl FnOnce(&mut Self),
    ) {
        let saved: Vec<(String, Option<String>)> = bound
            .into_iter()
            .map(|(key, value)| {
                let old = self.state.unset_var(&key);
                self.state.set_var(&key, value);
                (key, old)
            })
            .collect();
        f(self);
        for (key, old) in saved {
            self.state.unset_var(&key);
            if let Some(old) = old {
                self.state.set_var(&key, old);
            }
        }
    }
}

fn loop_stage(
    written: Prepared,
    iteration: Iteration,
    body: Vec<Pipeline>,
    input: Option<super::normalize::Value>,
) -> PreparedStage {
    PreparedStage::Loop(Box::new(Loop {
        text: group_text(&written, true),
        written,
        iteration,
        body,
        input,
    }))
}

/// The variables of the condition's `read` (`read -r -d '' a b` reads `a` and `b`).
fn read_vars(condition: &[Pipeline]) -> Vec<String> {
    let Some(read) = condition
        .iter()
        .flat_map(|p| &p.stages)
        .find_map(|stage| match stage {
            Stage::Simple(simple) => read_command(&simple.words),
            _ => None,
        })
    else {
        return Vec::new();
    };
    let mut vars = Vec::new();
    let mut words = read.iter().skip(1);
    while let Some(word) = words.next() {
        let text = word.literal();
        if let Some(options) = text.strip_prefix('-') {
            if options
                .chars()
                .last()
                .is_some_and(|c| READ_OPTIONS_WITH_VALUE.contains(c))
            {
                words.next();
            }
            continue;
        }
        if super::is_name(text.as_bytes()) {
            vars.push(text);
        }
    }
    vars
}

/// `read …` or `IFS= read …`: the words from `read` on.
fn read_command(words: &[Word]) -> Option<&[Word]> {
    let start = words
        .iter()
        .position(|w| super::assignment(w.plain_text()).is_none())?;
    (words[start].plain_word() == Some("read")).then(|| &words[start..])
}

fn is_read(words: &[Word]) -> bool {
    read_command(words).is_some()
}

/// The loop's redirections given to the condition's `read`.
fn with_redirects(mut condition: Vec<Pipeline>, redirects: &[Redirect]) -> Vec<Pipeline> {
    if redirects.is_empty() {
        return condition;
    }
    for stage in condition.iter_mut().flat_map(|p| p.stages.iter_mut()) {
        if let Stage::Simple(simple) = stage
            && is_read(&simple.words)
        {
            simple.redirects.extend(redirects.iter().cloned());
        }
    }
    condition
}

/// What the prepared `read` is known to be fed by its redirections.
fn read_input(condition: &Prepared) -> Option<super::normalize::Value> {
    condition
        .pipelines
        .iter()
        .flat_map(|p| &p.stages)
        .find_map(|stage| match stage {
            PreparedStage::Command(cmd) if cmd.args.first().is_some_and(|a| a.text == "read") => {
                cmd.stdin.clone()
            }
            _ => None,
        })
}

/// One input line split as `read a b` does: a word per variable, the rest to the last.
fn split_read(vars: &[String], line: &str) -> Vec<(String, String)> {
    let mut rest = line.trim_matches([' ', '\t']);
    let mut bound = Vec::new();
    for (i, var) in vars.iter().enumerate() {
        if i + 1 == vars.len() {
            bound.push((var.clone(), rest.to_string()));
            break;
        }
        let (word, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        bound.push((var.clone(), word.to_string()));
        rest = after.trim_start_matches([' ', '\t']);
    }
    bound
}
