//! `warden scan`: the scanner's detection pipeline, offline, on a transcript file.

use crate::Format;
use crate::progress::{Counted, Progress};
use crate::scan_report::Summary;
use serde_json::json;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use warden_core::rules::RuleSet;
use warden_core::transcript::scan::{Hit, LineReport};

mod input;

pub fn run(
    rules: &[PathBuf],
    format: Format,
    lines: bool,
    input: Option<&Path>,
) -> Result<ExitCode, String> {
    let rules = load_rules(rules)?;
    let max_bytes = warden_core::config::max_transcript_bytes_from_env()
        .map_err(|e| format!("configuration: {e}"))?;
    let (name, reader) = open_input(input)?;
    let mut found = 0;
    // Buffered, flushed once per piece scanned: a finding per line would otherwise be a write
    // per line (standard output is line-buffered), the cost of a command-dense transcript.
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed: Option<std::io::Error> = None;
    // Lines and the findings on them, in transcript order, as the scan reaches them.
    let (read, counts) = input::scan(&rules, reader, &name, max_bytes, lines, |reports, hits| {
        found += hits.len();
        if failed.is_some() {
            return;
        }
        let mut pending = hits.iter().peekable();
        let print = || -> std::io::Result<()> {
            for report in reports {
                print_line(&mut out, format, report)?;
                while let Some(hit) = pending.next_if(|h| h.line <= report.line) {
                    print_hit(&mut out, format, hit)?;
                }
            }
            for hit in pending {
                print_hit(&mut out, format, hit)?;
            }
            out.flush()
        };
        failed = print().err();
    })
    .map_err(|e| e.to_string())?;
    if let Some(error) = failed {
        return Err(format!("writing the findings: {error}"));
    }
    drop(out);
    let summary = Summary::new(&read, counts, found, rules.rules().len());
    // Input with nothing to scan is said to be so, never summed up as "0 findings".
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

fn print_line(out: &mut impl Write, format: Format, report: &LineReport) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(
            out,
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
        Format::Human => writeln!(
            out,
            "{:>5}  {:<12}  {}\n{:>21}{}",
            report.line, report.kind, report.text, "", report.why
        ),
    }
}

fn print_hit(out: &mut impl Write, format: Format, hit: &Hit) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(
            out,
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
        Format::Human => writeln!(
            out,
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

/// The transcript file, or standard input for `-` or none, with its name for messages.
fn open_input(input: Option<&Path>) -> Result<(String, Box<dyn Read>), String> {
    match input {
        Some(path) if path.as_os_str() != "-" => {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            // A regular file's size gives the percentage; a pipe or device has none.
            let size = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            let progress = Progress::bytes("scanning", size);
            Ok((
                path.display().to_string(),
                Box::new(Counted::new(file, progress)),
            ))
        }
        _ => Ok((
            "standard input".to_string(),
            Box::new(Counted::new(
                std::io::stdin().lock(),
                Progress::bytes("scanning", None),
            )),
        )),
    }
}
