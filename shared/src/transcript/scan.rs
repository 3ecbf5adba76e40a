//! The detection pipeline over a transcript: terminal reconstruction → command extraction →
//! shell normalisation → rule matching.

use super::extract::{CommandExtractor, CommandKind, Revision, Signal, TranscriptLine};
use super::payload::TranscriptChunk;
use super::recall::Recall;
use super::terminal::{LogMode, ScreenLine, Terminal};
use crate::rules::{Rule, RuleSet, Scope};
use crate::shell::ShellState;

/// One rule firing on one transcript line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'r> {
    pub rule: &'r Rule,
    /// 1-based line in the reconstructed transcript, counted across records and log events.
    pub line: usize,
    /// The command as typed (or the output line, for output rules).
    pub command: String,
    /// The text the rule matched: the normalised command, or the line itself.
    pub normalized: String,
}

/// The rule raised when the session hides its prompt (see `extract::Signal::PromptHidden`).
pub const PROMPT_HIDDEN_RULE: &str = "defense_evasion.prompt_hidden";

/// How one screen line was read: what `warden scan --lines` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReport {
    pub line: usize,
    /// `command`, `continuation`, `candidate` or `output`.
    pub kind: &'static str,
    pub text: String,
    pub command: Option<String>,
    pub prompt: Option<String>,
    pub why: String,
}

/// How many screen lines a scan has read, and how: what `warden scan` sums up, counted as the
/// lines go by so a transcript of any size is summed up without keeping its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Screen lines rebuilt.
    pub lines: usize,
    /// Lines read at a prompt (or as a candidate for one, or a continuation), even empty.
    pub prompted: usize,
    /// Lines read as commands (`command` or `candidate`) with something typed on them.
    pub commands: usize,
}

/// Scans one session's transcript, chunk by chunk, keeping terminal and prompt state between
/// chunks so a command split across log events is still seen whole.
pub struct TranscriptScanner<'r> {
    rules: &'r RuleSet,
    mode: LogMode,
    terminal: Terminal,
    extractor: CommandExtractor,
    /// What the session's commands so far tell of the shell: `cd /` then `rm -rf *`.
    shell: ShellState,
    /// Commands already read in the current shell state, and what they fired.
    recall: Recall<'r>,
    lines_seen: usize,
    counts: LineCounts,
    screen: Vec<ScreenLine>,
    /// Kept only when asked for (`report_lines`): diagnostics, not the hot path.
    reports: Option<Vec<LineReport>>,
}

impl<'r> TranscriptScanner<'r> {
    pub fn new(rules: &'r RuleSet) -> Self {
        TranscriptScanner {
            rules,
            mode: LogMode::Streaming,
            terminal: Terminal::new(LogMode::Streaming),
            extractor: {
                let mut extractor = CommandExtractor::new();
                extractor.set_streamed(true);
                extractor
            },
            shell: ShellState::new(),
            recall: Recall::default(),
            lines_seen: 0,
            counts: LineCounts::default(),
            screen: Vec::new(),
            reports: None,
        }
    }

    /// Keeps a [`LineReport`] for every line read, for [`Self::take_line_reports`].
    pub fn report_lines(mut self) -> Self {
        self.reports = Some(Vec::new());
        self
    }

    pub fn take_line_reports(&mut self) -> Vec<LineReport> {
        self.reports
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The line reports whose reading is final, leaving those a later line may still revise
    /// (a wrap the next output may confirm) for a later call or [`Self::take_line_reports`]
    /// after [`Self::finish`].
    pub fn take_settled_line_reports(&mut self) -> Vec<LineReport> {
        let settled = self.settled_lines();
        let Some(reports) = self.reports.as_mut() else {
            return Vec::new();
        };
        let unsettled = reports.partition_point(|r| r.line <= settled);
        let rest = reports.split_off(unsettled);
        std::mem::replace(reports, rest)
    }

    /// Lines up to this one are read for good: no later line can revise them or their hits.
    pub fn settled_lines(&self) -> usize {
        self.lines_seen
            .saturating_sub(self.extractor.unsettled_lines())
    }

    pub fn lines_seen(&self) -> usize {
        self.lines_seen
    }

    /// The lines read so far, by how they were read.
    pub fn counts(&self) -> LineCounts {
        LineCounts {
            lines: self.lines_seen,
            ..self.counts
        }
    }

    /// Feeds one log event's content; hits on the lines it completes are appended to `out`.
    pub fn feed_chunk(&mut self, chunk: &TranscriptChunk, out: &mut Vec<Hit<'r>>) {
        match chunk {
            TranscriptChunk::Stream(record) => {
                self.switch_mode(LogMode::Streaming, out);
                for line in &record.session_data {
                    self.terminal.feed(line, &mut self.screen);
                    self.terminal.feed("\n", &mut self.screen);
                }
            }
            TranscriptChunk::Raw(text) => {
                self.switch_mode(LogMode::Raw, out);
                self.terminal.feed(text, &mut self.screen);
                // Upload-at-end events hold whole lines: the event boundary ends the last one.
                if !text.ends_with('\n') {
                    self.terminal.feed("\n", &mut self.screen);
                }
            }
        }
        self.drain(out);
    }

    /// Feeds raw terminal text (a plain transcript file), without implying a line end.
    pub fn feed_text(&mut self, mode: LogMode, text: &str, out: &mut Vec<Hit<'r>>) {
        self.switch_mode(mode, out);
        self.terminal.feed(text, &mut self.screen);
        self.drain(out);
    }

    pub fn finish(&mut self, out: &mut Vec<Hit<'r>>) {
        self.terminal.finish(&mut self.screen);
        self.drain(out);
    }

    fn switch_mode(&mut self, mode: LogMode, out: &mut Vec<Hit<'r>>) {
        if mode != self.mode {
            self.finish(out);
            self.mode = mode;
            self.terminal = Terminal::new(mode);
            self.extractor.set_streamed(mode == LogMode::Streaming);
        }
    }

    fn drain(&mut self, out: &mut Vec<Hit<'r>>) {
        if let Some(width) = self.terminal.take_fish_width() {
            self.extractor.fish_seen(width);
        }
        // The buffer goes back afterwards, its room kept for the next chunk's lines.
        let mut screen = std::mem::take(&mut self.screen);
        for screen_line in screen.drain(..) {
            self.lines_seen += 1;
            let line = self.lines_seen;
            let (read, reading) = self.extractor.read(&screen_line);
            let first_hit = out.len();
            if let TranscriptLine::Command { kind, command, .. } = &read {
                self.counts.prompted += 1;
                if matches!(kind, CommandKind::Prompted | CommandKind::Candidate)
                    && !command.trim().is_empty()
                {
                    self.counts.commands += 1;
                }
            }
            match &read {
                TranscriptLine::Command {
                    command,
                    alternatives,
                    ..
                } => {
                    let fired = if alternatives.is_empty() {
                        self.recall
                            .match_typed(self.rules, &mut self.shell, command)
                    } else {
                        match_command(self.rules, &mut self.shell, command, alternatives)
                    };
                    for (rule, normalized) in fired {
                        out.push(Hit {
                            rule,
                            line,
                            command: command.clone(),
                            normalized,
                        });
                    }
                }
                TranscriptLine::Output(text) => {
                    for m in self.rules.matches(Scope::Output, text) {
                        out.push(Hit {
                            rule: m.rule,
                            line,
                            command: text.clone(),
                            normalized: text.clone(),
                        });
                    }
                }
            }
            if let Some(Signal::PromptHidden { .. }) = self.extractor.take_signal()
                && let Some(rule) = self.rules.find(PROMPT_HIDDEN_RULE)
                && !out[first_hit..].iter().any(|h| h.rule.id == rule.id)
            {
                let text = match &read {
                    TranscriptLine::Command { command, .. } => command.clone(),
                    TranscriptLine::Output(text) => text.clone(),
                };
                out.push(Hit {
                    rule,
                    line,
                    command: text.clone(),
                    normalized: text,
                });
            }
            if let Some(reports) = self.reports.as_mut() {
                reports.push(report(line, &screen_line, read, reading.to_string()));
            }
            if let Some(revision) = self.extractor.take_revision() {
                self.revise(line.saturating_sub(revision.lines_back), revision, out);
            }
        }
        self.screen = screen;
    }
}

impl<'r> TranscriptScanner<'r> {
    /// A command line read earlier is better read otherwise: what was found on it and its line
    /// report say so (its rules already ran on that reading, one of its alternatives).
    fn revise(&mut self, line: usize, revision: Revision, out: &mut Vec<Hit<'r>>) {
        for hit in out.iter_mut().filter(|h| h.line == line) {
            hit.command.clone_from(&revision.command);
        }
        if revision.rematch {
            for (rule, normalized) in
                self.recall
                    .match_typed(self.rules, &mut self.shell, &revision.command)
            {
                if !out.iter().any(|h| h.line == line && h.rule.id == rule.id) {
                    out.push(Hit {
                        rule,
                        line,
                        command: revision.command.clone(),
                        normalized,
                    });
                }
            }
        }
        if let Some(report) = self
            .reports
            .as_mut()
            .and_then(|r| r.iter_mut().rev().find(|r| r.line == line))
            && report.command.is_some()
        {
            report.command = Some(revision.command);
            report.why = format!("{}; {}", report.why, revision.why);
        }
    }
}

fn report(line: usize, screen: &ScreenLine, read: TranscriptLine, why: String) -> LineReport {
    match read {
        TranscriptLine::Command {
            kind,
            prompt,
            command,
            ..
        } => LineReport {
            line,
            kind: kind.as_str(),
            text: screen.text.clone(),
            command: Some(command),
            prompt: Some(prompt.trim_end().to_string()).filter(|p| !p.is_empty()),
            why,
        },
        TranscriptLine::Output(text) => LineReport {
            line,
            kind: "output",
            text,
            command: None,
            prompt: None,
            why,
        },
    }
}

/// Every command rule that fires on a typed command, once per rule, with the text it matched.
/// The normalised forms are tried first; the command as typed (and its other readings) last,
/// for rules about its literal shape. The command as typed moves `shell` on; other readings of
/// the same line are read in it without changing it.
pub fn match_command<'r>(
    rules: &'r RuleSet,
    shell: &mut ShellState,
    typed: &str,
    alternatives: &[String],
) -> Vec<(&'r Rule, String)> {
    // Alternatives are read against the state before the line (a clone), the line as typed
    // last of all, so that what it leaves (a `cd`, an assignment) is what the next line sees.
    let mut alternative_texts: Vec<String> = Vec::new();
    for alternative in alternatives {
        alternative_texts.extend(shell.clone().normalize_texts(alternative));
    }
    let mut candidates = shell.normalize_texts(typed);
    candidates.append(&mut alternative_texts);
    candidates.push(typed.to_string());
    candidates.extend(alternatives.iter().cloned());
    let mut fired: Vec<(&Rule, String)> = Vec::new();
    for (i, candidate) in candidates.iter().enumerate() {
        // A text already tried (the command as typed is often its own normal form) fires the
        // same rules, each already kept with the first text it fired on.
        if candidates[..i].contains(candidate) {
            continue;
        }
        for m in rules.matches(Scope::Command, candidate) {
            if !fired.iter().any(|(r, _)| r.id == m.rule.id) {
                fired.push((m.rule, candidate.clone()));
            }
        }
    }
    fired
}

/// Runs a single example line through the whole pipeline, as if typed at a prompt in a streamed
/// session (or printed, for output rules), and returns the ids of the rules that fire.
pub fn rules_firing_on_example(rules: &RuleSet, scope: Scope, example: &str) -> Vec<String> {
    let mut scanner = TranscriptScanner::new(rules);
    let mut hits = Vec::new();
    let text = match scope {
        Scope::Command => format!("sh-5.2$ {example}"),
        Scope::Output => example.to_string(),
    };
    let record = super::payload::StreamRecord {
        session_data: vec![text],
        ..Default::default()
    };
    scanner.feed_chunk(&TranscriptChunk::Stream(record), &mut hits);
    scanner.finish(&mut hits);
    hits.into_iter().map(|h| h.rule.id.clone()).collect()
}

/// A transcript as a person may hand it to `warden scan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptInput {
    /// A CloudWatch Logs subscription event (or its decoded batch).
    Subscription(super::payload::LogsBatch),
    /// Streaming records, one JSON object per line.
    Records(Vec<super::payload::StreamRecord>),
    /// Plain terminal text: an upload-at-end log, an S3 session log, a `script` typescript.
    Text(String),
}

impl TranscriptInput {
    /// Recognises the format from the content.
    pub fn detect(
        text: &str,
        max_decompressed: usize,
    ) -> Result<TranscriptInput, super::payload::PayloadError> {
        use super::payload::{LogsBatch, StreamRecord, decode_subscription};
        let trimmed = text.trim_start();
        if trimmed.starts_with('{')
            && let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed)
        {
            if value.get("awslogs").is_some() {
                return decode_subscription(&value, max_decompressed)
                    .map(TranscriptInput::Subscription);
            }
            if value.get("logEvents").is_some()
                && let Ok(batch) = serde_json::from_value::<LogsBatch>(value)
            {
                return Ok(TranscriptInput::Subscription(batch));
            }
        }
        let records: Option<Vec<StreamRecord>> = trimmed
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<StreamRecord>(l).ok())
            .collect();
        match records {
            Some(records) if !records.is_empty() => Ok(TranscriptInput::Records(records)),
            _ => Ok(TranscriptInput::Text(text.to_string())),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            TranscriptInput::Subscription(_) => "CloudWatch Logs subscription event",
            TranscriptInput::Records(_) => "streaming records",
            TranscriptInput::Text(_) => "plain transcript",
        }
    }
}

/// Scans a whole transcript; hits in transcript order.
pub fn scan_input<'r>(rules: &'r RuleSet, input: &TranscriptInput) -> Vec<Hit<'r>> {
    scan_with(TranscriptScanner::new(rules), input).0
}

/// Scans a whole transcript and reports how every line was read.
pub fn scan_input_with_lines<'r>(
    rules: &'r RuleSet,
    input: &TranscriptInput,
) -> (Vec<Hit<'r>>, Vec<LineReport>) {
    scan_with(TranscriptScanner::new(rules).report_lines(), input)
}

fn scan_with<'r>(
    mut scanner: TranscriptScanner<'r>,
    input: &TranscriptInput,
) -> (Vec<Hit<'r>>, Vec<LineReport>) {
    let mut hits = Vec::new();
    match input {
        TranscriptInput::Subscription(batch) => {
            if !batch.is_control_message() {
                for event in &batch.log_events {
                    scanner.feed_chunk(&super::payload::chunk_of(&event.message), &mut hits);
                }
            }
        }
        TranscriptInput::Records(records) => {
            for record in records {
                scanner.feed_chunk(&TranscriptChunk::Stream(record.clone()), &mut hits);
            }
        }
        TranscriptInput::Text(text) => scanner.feed_text(LogMode::Raw, text, &mut hits),
    }
    scanner.finish(&mut hits);
    let reports = scanner.take_line_reports();
    (hits, reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::default_rules;
    use crate::transcript::payload::StreamRecord;
    use std::sync::LazyLock;

    static RULES: LazyLock<RuleSet> = LazyLock::new(default_rules);

    /// A session transcript in both logging modes: upload-at-end text (pty lines ending in
    /// `\r\n`, turned into `\n`) and streaming records (two lines per record).
    fn both_modes(lines: &[&str]) -> [TranscriptInput; 2] {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let records = lines
            .chunks(2)
            .map(|chunk| StreamRecord {
                session_data: chunk.iter().map(|l| l.to_string()).collect(),
                ..StreamRecord::default()
            })
            .collect();
        [
            TranscriptInput::Text(text),
            TranscriptInput::Records(records),
        ]
    }

    fn fired(input: &TranscriptInput) -> Vec<String> {
        scan_input(&RULES, input)
            .into_iter()
            .map(|h| h.rule.id.clone())
            .collect()
    }

    #[test]
    fn the_same_attack_is_found_behind_every_prompt_shape() {
        let sessions: &[&[&str]] = &[
            &["$ sudo rm -rf /"],
            &["$", "$ sudo rm -rf /"],
            &["# rm -rf /"],
            &["ip-10-0-1-5% rm -rf /"],
            &["ip-10-0-1-5# rm -rf /"],
            &["alice@ip-10-0-1-5 ~ % rm -rf /"],
            &["➜  ~ rm -rf /"],
            &["➜  app git:(main) ✗ rm -rf /"],
            &["ec2-user@ip-10-0-1-5 ~> rm -rf /"],
            &["root@ip-10-0-1-5 /etc# rm -rf /"],
            &["~/app on  main", "❯ rm -rf /"],
            &["λ rm -rf /"],
            &["~ # rm -rf /"],
            &["~/app (main) $ rm -rf /"],
            &["[10:01:02] 0 root@ip-10-0-1-5:~# rm -rf /"],
            &["(⎈ |prod:default) alice@ip-10-0-1-5:~$ sudo rm -rf /"],
            &[
                "sh-5.2$ export PS1='[prod \\W] ops > '",
                "[prod ~] ops > rm -rf /",
            ],
            &["sh-5.2$ PROMPT='%n@%m %1~ %# '", "root@web-1 ~ # rm -rf /"],
            &["sh-5.2$ PS1=''", "rm -rf /"],
            &["sh-5.2$ ls", "notes.txt", "sh-5.2$ sh", "$ rm -rf /"],
            &[
                "sh-5.2$ sudo su -",
                "Last login: Mon Nov 30 03:00:01 UTC 2026",
                "# rm -rf /",
            ],
            &["sh-5.2$ docker exec -i web sh", "rm -rf /"],
        ];
        for session in sessions {
            for input in both_modes(session) {
                assert!(
                    fired(&input).contains(&"destructive.rm_system_path".to_string()),
                    "{session:?} as {}",
                    input.describe()
                );
            }
        }
    }

    #[test]
    fn what_earlier_commands_did_is_known_to_later_ones_in_both_modes() {
        let session = [
            "sh-5.2$ cd /",
            "sh-5.2$ wipe() { rm -rf \"$1\"; }",
            "sh-5.2$ ls",
            "bin  boot  etc",
            "sh-5.2$ rm -rf *",
            "sh-5.2$ wipe /var/lib/mysql",
        ];
        for input in both_modes(&session) {
            let hits = scan_input(&RULES, &input);
            let lines_of = |rule: &str| -> Vec<usize> {
                hits.iter()
                    .filter(|h| h.rule.id == rule)
                    .map(|h| h.line)
                    .collect()
            };
            let about = input.describe();
            assert_eq!(lines_of("destructive.rm_system_path"), [5], "{about}");
            assert_eq!(lines_of("destructive.rm_data_directory"), [6], "{about}");
        }
    }

    #[test]
    fn a_command_typed_again_is_read_again_once_the_shell_has_changed() {
        let session = [
            "sh-5.2$ rm -rf *",
            "sh-5.2$ cd /",
            "sh-5.2$ rm -rf *",
            "sh-5.2$ rm -rf *",
            "sh-5.2$ cd /home/alice",
            "sh-5.2$ rm -rf *",
        ];
        for input in both_modes(&session) {
            let lines: Vec<usize> = scan_input(&RULES, &input)
                .iter()
                .filter(|h| h.rule.id == "destructive.rm_system_path")
                .map(|h| h.line)
                .collect();
            // Typed again in the same directory it fires again, from memory; in another
            // directory it is read anew.
            assert_eq!(lines, [3, 4], "{}", input.describe());
        }
    }

    #[test]
    fn hiding_the_prompt_is_raised_once() {
        let session = [
            "sh-5.2$ PS1=''",
            "echo one",
            "PS1=",
            "export PS1=\"\"",
            "rm -rf /",
        ];
        for input in both_modes(&session) {
            let ids = fired(&input);
            let hidden = ids.iter().filter(|id| *id == PROMPT_HIDDEN_RULE).count();
            // Once by the scanner for the session; the later plain `PS1=` lines are matched by
            // the rule's own patterns on the lines that show them.
            assert!(hidden >= 1, "{ids:?}");
            assert!(ids.contains(&"destructive.rm_system_path".to_string()));
        }
        let unreadable = ["sh-5.2$ PS1='$(tput sgr0)'", "cat /etc/shadow"];
        for input in both_modes(&unreadable) {
            let ids = fired(&input);
            assert_eq!(
                ids.iter().filter(|id| *id == PROMPT_HIDDEN_RULE).count(),
                1,
                "{ids:?}"
            );
            assert!(
                ids.iter().any(|id| id.starts_with("credential_access")),
                "{ids:?}"
            );
        }
    }

    #[test]
    fn output_that_looks_like_prompts_stays_output_once_the_prompt_is_known() {
        let session = [
            "[ec2-user@ip-10-0-0-1 ~]$ cat deploy.sh",
            "#!/bin/bash",
            "# rm -rf /",
            "$ rm -rf /",
            "% rm -rf /",
            "[ec2-user@ip-10-0-0-1 ~]$ ls",
        ];
        for input in both_modes(&session) {
            assert!(fired(&input).is_empty(), "{}", input.describe());
        }
    }

    #[test]
    fn line_reports_say_how_each_line_was_read() {
        let session = ["sh-5.2$ PS1=''", "rm -rf /tmp/scratch", "total 0"];
        let [text, _] = both_modes(&session);
        let (_, reports) = scan_input_with_lines(&RULES, &text);
        let kinds: Vec<&str> = reports.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, ["command", "candidate", "output"]);
        assert_eq!(reports[1].command.as_deref(), Some("rm -rf /tmp/scratch"));
        assert!(
            reports[1].why.contains("hidden on line 1"),
            "{}",
            reports[1].why
        );
        assert_eq!(reports[0].prompt.as_deref(), Some("sh-5.2$"));
    }

    /// busybox at a 100-column terminal: the row ends at the margin with a real line feed.
    fn split_at_the_margin(prompt: &str, command: &str) -> (String, String) {
        let cut = 100 - prompt.len();
        (
            format!("{prompt}{}", &command[..cut]),
            command[cut..].to_string(),
        )
    }

    #[test]
    fn a_command_split_at_the_margin_is_matched_whole_once_its_output_confirms_it() {
        let path = format!("/{}etc/shadow", "./".repeat(38));
        let command = format!("cat {path}");
        let (first, rest) = split_at_the_margin("/home/app # ", &command);
        assert_eq!(rest, "dow");
        let error = format!("cat: can't open '{path}': Permission denied");
        for input in both_modes(&[&first, &rest, &error]) {
            let (hits, reports) = scan_input_with_lines(&RULES, &input);
            assert_eq!(reports[0].command.as_deref(), Some(command.as_str()));
            assert!(
                reports[0].why.contains("joined with the next line"),
                "{}",
                reports[0].why
            );
            assert!(
                hits.iter()
                    .any(|h| h.line == 1 && h.rule.id.contains("shadow") && h.command == command),
                "{:?}",
                hits.iter()
                    .map(|h| (&h.rule.id, &h.command))
                    .collect::<Vec<_>>()
            );
        }
    }

    fn streamed(line: &str) -> TranscriptChunk {
        TranscriptChunk::Stream(StreamRecord {
            session_data: vec![line.to_string()],
            ..StreamRecord::default()
        })
    }

    #[test]
    fn a_line_that_may_still_be_read_again_is_held_back_until_its_output_settles_it() {
        let path = format!("/{}etc/shadow", "./".repeat(38));
        let command = format!("cat {path}");
        let (first, rest) = split_at_the_margin("/home/app # ", &command);
        let error = format!("cat: can't open '{path}': Permission denied");
        let mut scanner = TranscriptScanner::new(&RULES).report_lines();
        let mut hits = Vec::new();
        let mut settled = Vec::new();
        for line in [&first, &rest] {
            scanner.feed_chunk(&streamed(line), &mut hits);
            settled.extend(scanner.take_settled_line_reports());
        }
        assert!(settled.is_empty(), "{settled:?}");
        scanner.feed_chunk(&streamed(&error), &mut hits);
        settled.extend(scanner.take_settled_line_reports());
        assert_eq!(settled[0].command.as_deref(), Some(command.as_str()));
        assert_eq!(scanner.settled_lines(), 3);
    }
}
