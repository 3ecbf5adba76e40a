//! Property: whatever a session prints, the scanner reads it to the end without panicking, in
//! both logging modes and however the text is cut into log events. The lines are built from
//! pieces the extractor treats specially (prompts, wide and multi-byte white space, cursor moves,
//! backspaces, fish's padding, words long enough to be split at a common terminal width), so the
//! generated sessions reach the wrap, redraw and prompt-learning paths that random bytes rarely
//! do. `PROPTEST_CASES` sets the number of cases (512 by default).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::LazyLock;
use warden_core::rules::{RuleSet, default_rules};
use warden_core::transcript::payload::{StreamRecord, TranscriptChunk};
use warden_core::transcript::scan::TranscriptScanner;

const PIECES: &[&str] = &[
    "$ ",
    "# ",
    "bash-5.2$ ",
    "[ec2-user@ip-10-0-0-1 ~]$ ",
    "% ",
    "❯ ",
    "/home/app # ",
    "sh-4.2$ ",
    "echo ",
    "rm -rf /etc",
    "cat /etc/shadow",
    "curl http://169.254.169.254/latest/meta-data/",
    "wrap-0123456789",
    "0123456789abcdef",
    "'",
    "\"",
    "\\",
    "$(",
    ")",
    " ",
    "  ",
    "\u{a0}",
    "\u{3000}",
    "\t",
    "é",
    "日本語",
    "⏎",
    "\r",
    "\u{8}",
    "\u{7f}",
    "\u{1b}[C",
    "\u{1b}[D",
    "\u{1b}[A",
    "\u{1b}[B",
    "\u{1b}[K",
    "\u{1b}[2J",
    "\u{1b}[1;32m",
    "\u{1b}[0m",
    "\u{1b}[?2004h",
    "\u{1b}]0;user@host: ~\u{7}",
    "\u{1b}[80C",
    "\u{1b}[5D",
    "\u{7}",
    "\u{0}",
    "\u{fffd}",
];

static RULES: LazyLock<RuleSet> = LazyLock::new(default_rules);

/// A session: lines of pieces, some long enough to pass the common widths (80, 100, ...).
fn session() -> impl Strategy<Value = Vec<String>> {
    let piece = prop::sample::select(PIECES);
    let filler = (1usize..120).prop_map(|n| "x".repeat(n));
    let part = prop_oneof![4 => piece.prop_map(str::to_string), 1 => filler];
    let line = prop::collection::vec(part, 0..24).prop_map(|parts| parts.concat());
    prop::collection::vec(line, 0..40)
}

/// Feeds the session as upload-at-end text cut into `cuts` events, and as streaming records of
/// `per_record` lines, reading every line report (the CLI's path) along the way.
fn scan_both_ways(lines: &[String], cuts: usize, per_record: usize) {
    let rules = &*RULES;
    let text: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
    let mut scanner = TranscriptScanner::new(rules).report_lines();
    let mut hits = Vec::new();
    let cut = text.len() / cuts.max(1) + 1;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut end = cut.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, after) = rest.split_at(end);
        scanner.feed_chunk(&TranscriptChunk::Raw(piece.to_string()), &mut hits);
        scanner.take_settled_line_reports();
        rest = after;
    }
    scanner.finish(&mut hits);
    scanner.take_line_reports();

    let mut scanner = TranscriptScanner::new(rules).report_lines();
    for record in lines.chunks(per_record.max(1)) {
        let record = StreamRecord {
            session_data: record.to_vec(),
            ..StreamRecord::default()
        };
        scanner.feed_chunk(&TranscriptChunk::Stream(record), &mut hits);
        scanner.take_settled_line_reports();
    }
    scanner.finish(&mut hits);
    scanner.take_line_reports();
}

#[test]
fn any_session_is_read_to_the_end_in_both_logging_modes() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(session(), 1usize..6, 1usize..4),
            |(lines, cuts, per_record)| {
                scan_both_ways(&lines, cuts, per_record);
                Ok(())
            },
        )
        .unwrap();
}
