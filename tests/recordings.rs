//! Command extraction and false positives on real terminal recordings made by people outside
//! this project (asciicast files kept beside the repository, never copied into it).
//!
//! `scripts/test` runs this with `WARDEN_RECORDINGS` set when `../shared/recordings/` exists and
//! prints one "skipped" line when it does not. Each recording is rendered as Session Manager
//! would log it, in both modes (`transcript::agent`), scanned, and compared with
//! `tests/recordings/expected.json`: the commands a person can see typed in it. A benign
//! recording may raise no finding except what its manifest's `expect` column allows.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use warden_core::rules::default_rules;
use warden_core::transcript::agent::{streaming_lines, upload_text};
use warden_core::transcript::payload::StreamRecord;
use warden_core::transcript::scan::{TranscriptInput, scan_input_with_lines};

/// Share of the visible commands that must be extracted, over all recordings and both modes.
const MIN_RECOVERED: f64 = 0.90;
/// Lines per streaming record (the agent uploads what arrived in one second).
const LINES_PER_RECORD: usize = 8;

struct Recording {
    file: String,
    label: String,
    expect: Option<Regex>,
}

#[derive(Default)]
struct Tally {
    visible: usize,
    recovered: usize,
    extra: usize,
    candidates: usize,
}

#[test]
#[ignore = "needs WARDEN_RECORDINGS=<dir of .cast files>; scripts/test sets it when ../shared/recordings exists"]
fn real_recordings_extract_commands_without_false_positives() {
    let dir = PathBuf::from(
        std::env::var("WARDEN_RECORDINGS").expect("WARDEN_RECORDINGS names the recordings folder"),
    );
    let expected: BTreeMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/recordings/expected.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let rules = default_rules();
    let mut total = Tally::default();
    let mut false_positives = Vec::new();
    println!(
        "{:<48} {:<6} {:>7} {:>9} {:>6} {:>10}",
        "recording", "mode", "visible", "extracted", "extra", "candidates"
    );
    for recording in manifest(&dir) {
        let pty = output_of(&dir.join(&recording.file));
        let want: Vec<String> = expected[&recording.file]["commands"]
            .as_array()
            .unwrap_or_else(|| panic!("{} has no expected commands", recording.file))
            .iter()
            .map(|c| squash(c.as_str().unwrap()))
            .collect();
        for (mode, input) in [("upload", upload(&pty)), ("stream", stream(&pty))] {
            keep(&recording.file, mode, &input);
            let (hits, reports) = scan_input_with_lines(&rules, &input);
            let extracted: Vec<(String, bool)> = reports
                .iter()
                .filter_map(|r| {
                    let command = r.command.as_deref()?;
                    Some((squash(command), r.kind == "candidate"))
                })
                .collect();
            let recovered = recovered(&want, &extracted);
            let tally = Tally {
                visible: want.len(),
                recovered,
                extra: extracted.len() - recovered,
                candidates: extracted.iter().filter(|(_, c)| *c).count(),
            };
            println!(
                "{:<48} {:<6} {:>7} {:>9} {:>6} {:>10}",
                recording.file, mode, tally.visible, tally.recovered, tally.extra, tally.candidates
            );
            total.visible += tally.visible;
            total.recovered += tally.recovered;
            total.extra += tally.extra;
            total.candidates += tally.candidates;
            if recording.label == "benign" {
                for hit in hits {
                    let allowed = recording
                        .expect
                        .as_ref()
                        .is_some_and(|re| re.is_match(&hit.command));
                    if !allowed {
                        false_positives.push(format!(
                            "{} ({mode}) line {}: {} on `{}`",
                            recording.file, hit.line, hit.rule.id, hit.command
                        ));
                    }
                }
            }
        }
    }
    let share = total.recovered as f64 / total.visible.max(1) as f64;
    println!(
        "recordings: {} of {} visible commands extracted ({:.1} %), {} extra, {} candidates, {} false positives",
        total.recovered,
        total.visible,
        share * 100.0,
        total.extra,
        total.candidates,
        false_positives.len()
    );
    assert!(
        false_positives.is_empty(),
        "findings on benign recordings:\n{}",
        false_positives.join("\n")
    );
    assert!(
        share >= MIN_RECOVERED,
        "only {:.1} % of visible commands extracted (at least {:.0} % expected)",
        share * 100.0,
        MIN_RECOVERED * 100.0
    );
}

/// How many expected commands were extracted, in order: the longest common subsequence, so a
/// command missed early cannot pair with a repeat of it much later and hide what lies between.
fn recovered(want: &[String], extracted: &[(String, bool)]) -> usize {
    let mut row = vec![0usize; extracted.len() + 1];
    for command in want {
        let mut diagonal = 0;
        for (j, (got, _)) in extracted.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if got == command {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[extracted.len()]
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn manifest(dir: &Path) -> Vec<Recording> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            Recording {
                file: columns[0].to_string(),
                label: columns.get(1).copied().unwrap_or_default().to_string(),
                expect: columns
                    .get(2)
                    .filter(|e| !e.is_empty())
                    .map(|e| Regex::new(e).expect("expect column is a regex")),
            }
        })
        .collect()
}

/// The terminal output of an asciicast (v2 `[time, "o", data]`, v3 `[interval, "o", data]`).
fn output_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event[1] == "o")
        .filter_map(|event| event[2].as_str().map(str::to_string))
        .collect()
}

/// With `WARDEN_RECORDINGS_KEEP=DIR`, writes each rendered transcript there, for
/// `warden scan --lines` to show how its lines were read.
fn keep(file: &str, mode: &str, input: &TranscriptInput) {
    let Some(dir) = std::env::var_os("WARDEN_RECORDINGS_KEEP") else {
        return;
    };
    let text = match input {
        TranscriptInput::Text(text) => text.clone(),
        TranscriptInput::Records(records) => records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect(),
        TranscriptInput::Subscription(_) => return,
    };
    let path = Path::new(&dir).join(format!("{file}.{mode}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(path, text).unwrap();
}

fn upload(pty: &str) -> TranscriptInput {
    TranscriptInput::Text(upload_text(
        pty,
        "2026-11-30 10:00:00+00:00",
        "2026-11-30 11:00:00+00:00",
    ))
}

fn stream(pty: &str) -> TranscriptInput {
    let lines = streaming_lines(pty);
    TranscriptInput::Records(
        lines
            .chunks(LINES_PER_RECORD)
            .map(|chunk| StreamRecord {
                session_data: chunk.to_vec(),
                ..StreamRecord::default()
            })
            .collect(),
    )
}
