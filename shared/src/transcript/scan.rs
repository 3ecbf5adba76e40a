//! The detection pipeline over a transcript: terminal reconstruction → command extraction →
//! shell normalisation → rule matching.

use super::extract::{CommandExtractor, TranscriptLine};
use super::payload::TranscriptChunk;
use super::terminal::{LogMode, ScreenLine, Terminal};
use crate::rules::{Rule, RuleSet, Scope};
use crate::shell::normalize;

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

/// Scans one session's transcript, chunk by chunk, keeping terminal and prompt state between
/// chunks so a command split across log events is still seen whole.
pub struct TranscriptScanner<'r> {
    rules: &'r RuleSet,
    mode: LogMode,
    terminal: Terminal,
    extractor: CommandExtractor,
    lines_seen: usize,
    screen: Vec<ScreenLine>,
}

impl<'r> TranscriptScanner<'r> {
    pub fn new(rules: &'r RuleSet) -> Self {
        TranscriptScanner {
            rules,
            mode: LogMode::Streaming,
            terminal: Terminal::new(LogMode::Streaming),
            extractor: CommandExtractor::new(),
            lines_seen: 0,
            screen: Vec::new(),
        }
    }

    pub fn lines_seen(&self) -> usize {
        self.lines_seen
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
        }
    }

    fn drain(&mut self, out: &mut Vec<Hit<'r>>) {
        for screen_line in std::mem::take(&mut self.screen) {
            self.lines_seen += 1;
            let line = self.lines_seen;
            match self.extractor.classify(&screen_line) {
                TranscriptLine::Command {
                    command,
                    alternatives,
                    ..
                } => {
                    for (rule, normalized) in match_command(self.rules, &command, &alternatives) {
                        out.push(Hit {
                            rule,
                            line,
                            command: command.clone(),
                            normalized,
                        });
                    }
                }
                TranscriptLine::Output(text) => {
                    for m in self.rules.matches(Scope::Output, &text) {
                        out.push(Hit {
                            rule: m.rule,
                            line,
                            command: text.clone(),
                            normalized: text.clone(),
                        });
                    }
                }
            }
        }
    }
}

/// Every command rule that fires on a typed command, once per rule, with the text it matched.
/// The normalised forms are tried first; the command as typed (and its other readings) last,
/// for rules about its literal shape.
pub fn match_command<'r>(
    rules: &'r RuleSet,
    typed: &str,
    alternatives: &[String],
) -> Vec<(&'r Rule, String)> {
    let mut candidates: Vec<String> = Vec::new();
    for reading in std::iter::once(typed).chain(alternatives.iter().map(String::as_str)) {
        candidates.extend(normalize(reading).into_iter().map(|n| n.text));
    }
    candidates.push(typed.to_string());
    candidates.extend(alternatives.iter().cloned());
    let mut fired: Vec<(&Rule, String)> = Vec::new();
    for candidate in candidates {
        for m in rules.matches(Scope::Command, &candidate) {
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
    let mut scanner = TranscriptScanner::new(rules);
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
    hits
}
