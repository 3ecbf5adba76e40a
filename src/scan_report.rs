//! What `warden scan` read, and whether it was a transcript at all: "0 findings" is only said
//! of input that held commands to look at.

use serde_json::{Value, json};
use warden_core::transcript::scan::LineCounts;

/// The shapes `warden scan` reads, for messages about input that is none of them.
pub const EXPECTED: &str = "expected a plain text transcript (an upload-at-end log, an S3 \
     session log, a `script` typescript), streaming records (one JSON object per line, with \
     \"sessionData\") or a CloudWatch Logs subscription event (with \"awslogs\" or \"logEvents\")";

/// A share of characters above which input without findings is called binary, not text:
/// invalid UTF-8 and control codes a terminal does not use. Random bytes have about half;
/// a transcript has a few (a `cat` of a binary file) among its text.
const NOT_TEXT_PERCENT: usize = 10;

/// How a scan went, beyond its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Lines were read at a shell prompt: the findings (or their absence) mean something.
    Scanned,
    /// Nothing but blank space, or nothing at all.
    Empty,
    /// Mostly bytes that are not text.
    NotText,
    /// A CloudWatch Logs control message: no transcript in it.
    ControlMessage,
    /// Text (or JSON of another shape), but no line at a shell prompt.
    NoCommands,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scanned => "scanned",
            Status::Empty => "empty",
            Status::NotText => "not_text",
            Status::ControlMessage => "control_message",
            Status::NoCommands => "no_commands",
        }
    }
}

/// What was read, counted from the scanner's line reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The shape the input was read as (`plain transcript`, …).
    pub shape: &'static str,
    /// Screen lines rebuilt.
    pub lines: usize,
    /// Lines read as commands (at a prompt, or candidates where the prompt is hidden), not
    /// counting an empty prompt.
    pub commands: usize,
    pub findings: usize,
    pub rules: usize,
    pub status: Status,
    /// Characters that are not text (invalid UTF-8, control codes a terminal does not use),
    /// and all characters.
    pub not_text: usize,
    pub chars: usize,
    /// The input parses as JSON, but as neither of the JSON shapes a transcript comes in.
    pub other_json: bool,
}

/// What `warden scan` read, for its summary: the shape, whether it was a control message, and
/// what the text of the input holds, counted as it is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Input {
    pub shape: &'static str,
    pub control_message: bool,
    pub text: TextStats,
    /// The input parses as JSON, but as neither of the JSON shapes a transcript comes in.
    pub other_json: bool,
}

/// Characters of the input, as read (invalid UTF-8 shown as U+FFFD), counted a piece at a
/// time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    /// Characters that are not text: invalid UTF-8, control codes a terminal does not use.
    pub not_text: usize,
    pub chars: usize,
    /// Something other than white space was read.
    pub printed: bool,
}

impl TextStats {
    /// Counts the next piece of the input. The characters that are not text are the C0
    /// controls a terminal does not use, DEL, the C1 controls (`C2 80`…`C2 9F`) and U+FFFD
    /// (`EF BF BD`).
    pub fn add(&mut self, text: &str) {
        if !self.printed {
            self.printed = !text.trim().is_empty();
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Printable ASCII, most of any transcript, eight bytes at a time.
            if let Some(word) = bytes
                .get(i..i + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                && all_printable_ascii(u64::from_le_bytes(word))
            {
                self.chars += 8;
                i += 8;
                continue;
            }
            let (at, b) = (i, bytes[i]);
            i += 1;
            // A character is counted at its first byte (continuation bytes are 10xxxxxx).
            self.chars += usize::from(b & 0xc0 != 0x80);
            if (0x20..0x7f).contains(&b) || (b >= 0x80 && b != 0xc2 && b != 0xef) {
                continue;
            }
            let bad = match b {
                b'\t' | b'\n' | b'\r' | 0x07 | 0x08 | 0x0b | 0x0c | 0x0e | 0x0f | 0x1b => false,
                0x00..=0x1f | 0x7f => true,
                0xc2 => matches!(bytes.get(at + 1), Some(0x80..=0x9f)),
                0xef => bytes.get(at + 1..at + 3) == Some(&[0xbf, 0xbd]),
                _ => false,
            };
            self.not_text += usize::from(bad);
        }
    }
}

/// Whether every byte of `word` is printable ASCII (0x20 to 0x7E), without looking at them one
/// by one: a byte below 0x20 borrows when 0x20 is taken from it, and a byte of 0x7F or more
/// reaches the high bit when 1 is added to it (or has it already).
fn all_printable_ascii(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let del_or_beyond = (word.wrapping_add(ONES) | word) & HIGH;
    below_space | del_or_beyond == 0
}

impl Summary {
    pub fn new(input: &Input, counts: LineCounts, findings: usize, rules: usize) -> Summary {
        let LineCounts {
            lines,
            prompted,
            commands,
        } = counts;
        let TextStats {
            not_text,
            chars,
            printed,
        } = input.text;
        // Findings are always reported. Binary input is called so even when a few of its
        // lines happen to look like a prompt (`# ` followed by bytes), as they do in random
        // data or an executable.
        let status = if findings > 0 {
            Status::Scanned
        } else if !printed {
            Status::Empty
        } else if input.control_message {
            Status::ControlMessage
        } else if not_text * 100 > chars * NOT_TEXT_PERCENT {
            Status::NotText
        } else if prompted > 0 {
            Status::Scanned
        } else {
            Status::NoCommands
        };
        Summary {
            shape: input.shape,
            lines,
            commands,
            findings,
            rules,
            status,
            not_text,
            chars,
            other_json: input.other_json,
        }
    }

    /// The last line of a scan's human output: `2 findings in a plain transcript: 12 lines, 5
    /// commands read (85 rules)`.
    pub fn line(&self) -> String {
        format!(
            "{} finding{} in a {}: {} line{}, {} command{} read ({} rules)",
            self.findings,
            plural(self.findings),
            self.shape,
            self.lines,
            plural(self.lines),
            self.commands,
            plural(self.commands),
            self.rules
        )
    }

    /// Why nothing was scanned, naming the input; `None` when it was.
    pub fn problem(&self, name: &str) -> Option<String> {
        let read = format!(
            "{} line{}, {} command{} read",
            self.lines,
            plural(self.lines),
            self.commands,
            plural(self.commands)
        );
        let why = match self.status {
            Status::Scanned => return None,
            Status::Empty if self.chars == 0 => format!("{name} is empty ({read})"),
            Status::Empty => format!("{name} holds only blank space ({read})"),
            Status::NotText => format!(
                "{name} is not text: {} of its {} characters are invalid UTF-8 or control \
                 codes ({read})",
                self.not_text, self.chars
            ),
            Status::ControlMessage => format!(
                "{name} is a CloudWatch Logs control message, which holds no transcript ({read})"
            ),
            Status::NoCommands if self.other_json => format!(
                "{name} is JSON, but neither streaming records nor a CloudWatch Logs \
                 subscription event ({read}, no command at a shell prompt)"
            ),
            Status::NoCommands => format!(
                "{name} holds no command typed at a shell prompt, read as {} ({read}): not a \
                 transcript, or a session where nothing was typed",
                article(self.shape)
            ),
        };
        Some(match self.status {
            Status::ControlMessage => format!("nothing scanned: {why}"),
            _ => format!("nothing scanned: {why}; {EXPECTED}"),
        })
    }

    /// The closing `{"type":"summary",…}` object of `--format json`, printed whatever happened.
    pub fn json(&self, name: &str) -> Value {
        json!({
            "type": "summary",
            "status": self.status.as_str(),
            "input": self.shape,
            "lines": self.lines,
            "commands": self.commands,
            "findings": self.findings,
            "rules": self.rules,
            "problem": self.problem(name),
        })
    }
}

/// One JSON document, or one JSON value per non-blank line.
pub fn is_json(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return false;
    }
    serde_json::from_str::<Value>(trimmed).is_ok()
        || trimmed
            .lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
}

fn article(shape: &str) -> String {
    match shape {
        "streaming records" => shape.to_string(),
        _ => format!("a {shape}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::rules::default_rules;
    use warden_core::transcript::scan::{TranscriptInput, TranscriptScanner};

    #[test]
    fn a_word_is_printable_ascii_only_when_each_of_its_bytes_is() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut word = *b"plain ok";
                word[position] = byte;
                assert_eq!(
                    all_printable_ascii(u64::from_le_bytes(word)),
                    word.iter().all(|b| (0x20..0x7f).contains(b)),
                    "byte {byte:#04x} at {position}"
                );
            }
        }
    }

    fn summary(text: &str) -> Summary {
        let rules = default_rules();
        let transcript = TranscriptInput::detect(text, 1 << 20).unwrap();
        let mut scanner = TranscriptScanner::new(&rules);
        let mut hits = Vec::new();
        let TranscriptInput::Text(text) = &transcript else {
            panic!("plain text expected: {transcript:?}");
        };
        scanner.feed_text(
            warden_core::transcript::terminal::LogMode::Raw,
            text,
            &mut hits,
        );
        scanner.finish(&mut hits);
        let mut stats = TextStats::default();
        stats.add(text);
        let input = Input {
            shape: transcript.describe(),
            control_message: false,
            text: stats,
            other_json: is_json(text),
        };
        Summary::new(&input, scanner.counts(), hits.len(), rules.rules().len())
    }

    #[test]
    fn text_stats_count_what_the_characters_are() {
        let text = "a\u{0}\u{1}\u{fffd}é\u{85}\u{7f}\t\x1b[0m✓\n";
        let mut stats = TextStats::default();
        stats.add(text);
        let expected_bad = text
            .chars()
            .filter(|&c| {
                c == char::REPLACEMENT_CHARACTER
                    || (c.is_control()
                        && !matches!(
                            c,
                            '\t' | '\n'
                                | '\r'
                                | '\x07'
                                | '\x08'
                                | '\x0b'
                                | '\x0c'
                                | '\x0e'
                                | '\x0f'
                                | '\x1b'
                        ))
            })
            .count();
        assert_eq!(
            (stats.not_text, stats.chars, stats.printed),
            (expected_bad, text.chars().count(), true)
        );
        let mut blank = TextStats::default();
        blank.add(" \n");
        blank.add("\t");
        assert!(!blank.printed);
    }

    #[test]
    fn a_transcript_counts_its_lines_and_commands() {
        let s = summary("sh-5.2$ ls\nREADME.md\nsh-5.2$ \nsh-5.2$ sudo rm -rf /\n");
        assert_eq!(s.status, Status::Scanned);
        assert_eq!((s.lines, s.commands, s.findings), (4, 2, 1));
        assert!(
            s.line()
                .starts_with("1 finding in a plain transcript: 4 lines, 2 commands read")
        );
        assert_eq!(s.problem("x"), None);
    }

    #[test]
    fn a_session_where_nothing_was_typed_has_nothing_to_scan() {
        let s = summary("sh-5.2$ \n");
        assert_eq!((s.status, s.lines, s.commands), (Status::NoCommands, 1, 0));
        let problem = s.problem("x").unwrap();
        assert!(
            problem.contains("or a session where nothing was typed"),
            "{problem}"
        );
    }

    #[test]
    fn nothing_recognisable_is_named_for_what_it_is() {
        assert_eq!(summary("").status, Status::Empty);
        assert_eq!(summary(" \n\n\t\n").status, Status::Empty);
        assert_eq!(
            summary("a\u{0}\u{1}\u{fffd}\u{fffd}\u{2}b\n").status,
            Status::NotText
        );
        assert_eq!(
            summary("Dear diary,\nnothing happened.\n").status,
            Status::NoCommands
        );
        let json = summary("{\"detail-type\": \"AWS API Call via CloudTrail\"}");
        assert_eq!((json.status, json.other_json), (Status::NoCommands, true));
        assert!(
            json.problem("e.json")
                .unwrap()
                .contains("is JSON, but neither")
        );
    }

    #[test]
    fn binary_input_is_not_text_even_where_a_line_looks_like_a_prompt() {
        let garbage: String = std::iter::repeat_n('\u{fffd}', 50).collect();
        let s = summary(&format!("{garbage}\n$ ls\n{garbage}\n"));
        assert_eq!((s.status, s.commands), (Status::NotText, 1));
        let problem = s.problem("x.bin").unwrap();
        assert!(
            problem.contains("x.bin is not text: 100 of its 107 characters"),
            "{problem}"
        );
        assert!(problem.contains("(3 lines, 1 command read)"), "{problem}");
    }

    #[test]
    fn binary_output_inside_a_session_does_not_hide_its_findings() {
        let garbage: String = std::iter::repeat_n('\u{fffd}', 500).collect();
        let s = summary(&format!(
            "sh-5.2$ cat /bin/ls\n{garbage}\nsh-5.2$ history -c\n"
        ));
        assert_eq!(s.status, Status::Scanned);
        assert_eq!(s.findings, 1);
    }
}
