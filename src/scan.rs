//! `warden scan`: the scanner's detection pipeline, offline, on a transcript file.

use crate::Format;
use crate::scan_report::Summary;
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use warden_core::rules::RuleSet;
use warden_core::transcript::scan::{Hit, LineReport, TranscriptInput, scan_input_with_lines};

/// Offline, a transcript may be far larger than one Lambda batch.
const MAX_INPUT_BYTES: u64 = 1024 * 1024 * 1024;

pub fn run(
    rules: &[PathBuf],
    format: Format,
    lines: bool,
    input: Option<&Path>,
) -> Result<ExitCode, String> {
    let rules = load_rules(rules)?;
    let text = read_input(input)?;
    let transcript = TranscriptInput::detect(&text, MAX_INPUT_BYTES as usize)
        .map_err(|e| format!("input: {e}"))?;
    let (hits, reports) = scan_input_with_lines(&rules, &transcript);
    let summary = Summary::new(
        &text,
        &transcript,
        &reports,
        hits.len(),
        rules.rules().len(),
    );
    let reports = if lines { reports } else { Vec::new() };
    // Lines and the findings on them, in transcript order.
    let mut pending = hits.iter().peekable();
    for report in &reports {
        print_line(format, report);
        while let Some(hit) = pending.next_if(|h| h.line <= report.line) {
            print_hit(format, hit);
        }
    }
    pending.for_each(|hit| print_hit(format, hit));
    // Input with nothing to scan is said to be so, never summed up as "0 findings".
    let name = match input {
        Some(path) if path.as_os_str() != "-" => path.display().to_string(),
        _ => "standard input".to_string(),
    };
    if format == Format::Json {
        println!("{}", summary.json(&name));
    }
    if let Some(problem) = summary.problem(&name) {
        eprintln!("warden: {problem}");
        return Ok(ExitCode::from(crate::EXIT_NOTHING_RECOGNISED));
    }
    if format == Format::Human {
        println!("{}", summary.line());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_line(format: Format, report: &LineReport) {
    match format {
        Format::Json => println!(
            "{}",
            json!({
                "type": "line",
                "line": report.line,
                "kind": report.kind,
                "text": report.text,
                "command": report.command,
                "prompt": report.prompt,
                "why": report.why,
            })
        ),
        Format::Human => println!(
            "{:>5}  {:<12}  {}\n{:>21}{}",
            report.line, report.kind, report.text, "", report.why
        ),
    }
}

fn print_hit(format: Format, hit: &Hit) {
    match format {
        Format::Json => println!(
            "{}",
            json!({
                "type": "finding",
                "rule_id": hit.rule.id,
                "category": hit.rule.category,
                "severity": hit.rule.severity.as_str(),
                "action": hit.rule.action.as_str(),
                "line": hit.line,
                "command": hit.command,
                "normalized": hit.normalized,
            })
        ),
        Format::Human => println!(
            "line {:>5}  {:<8}  {:<9}  {}\n             {}\n             normalised: {}",
            hit.line,
            hit.rule.severity.as_str().to_uppercase(),
            hit.rule.action.as_str(),
            hit.rule.id,
            hit.command,
            hit.normalized
        ),
    }
}

/// The default pack plus the given packs, in order.
pub fn load_rules(paths: &[PathBuf]) -> Result<RuleSet, String> {
    warden_core::rules::load::default_with_files(paths).map_err(|e| e.to_string())
}

fn read_input(input: Option<&Path>) -> Result<String, String> {
    let mut bytes = Vec::new();
    let (name, result) = match input {
        None => (
            "standard input".to_string(),
            std::io::stdin()
                .take(MAX_INPUT_BYTES)
                .read_to_end(&mut bytes),
        ),
        Some(path) if path.as_os_str() == "-" => (
            "standard input".to_string(),
            std::io::stdin()
                .take(MAX_INPUT_BYTES)
                .read_to_end(&mut bytes),
        ),
        Some(path) => (
            path.display().to_string(),
            std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT_BYTES).read_to_end(&mut bytes)),
        ),
    };
    result.map_err(|e| format!("{name}: {e}"))?;
    // Transcripts are pty bytes: invalid UTF-8 is shown as U+FFFD rather than refused.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
