//! The default pack measured against the policy on lines written from it alone
//! (`tests/policy_eval/`, see its README): the share of attacks that raise an alert, and the
//! share of ordinary lines that do, each line typed in a session logged both ways (streaming
//! records and upload-at-end text).
//!
//! The corpus is split in two by line number: the odd lines are the *development* half, which
//! may point at whole classes the pack or the normaliser miss; the even lines are the *held-out*
//! half, only ever measured (its misses are counted, never listed). The floors below are on the
//! held-out half and hold what the pack reaches now, so a regression fails; the policy's goal is
//! 95 % of attacks and at most 1 % of ordinary lines.
//!
//! `cargo test --test policy_eval -- --nocapture` prints the table and the development half's
//! misses.

use std::collections::BTreeMap;
use warden_core::rules::{RuleAction, RuleSet, default_rules};
use warden_core::transcript::payload::StreamRecord;
use warden_core::transcript::scan::{TranscriptInput, scan_input};

const ATTACKS: &str = include_str!("policy_eval/attacks.tsv");
const BENIGN: &str = include_str!("policy_eval/benign.tsv");
const PROMPT: &str = "[ssm-user@ip-10-0-1-5 ~]$ ";

/// Floors on the held-out half, in percent: attacks caught at least, ordinary lines alerted at
/// most (the policy's own ceiling). Measured when the corpus was added: 96.8 % caught, 0 %
/// alerted; after the classes the development half pointed at were covered: 100 % and 0 %.
const MIN_HELD_OUT_CAUGHT: f64 = 98.0;
const MAX_HELD_OUT_ALERTED: f64 = 1.0;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Half {
    Development,
    HeldOut,
}

struct Line<'a> {
    half: Half,
    category: &'a str,
    command: &'a str,
}

fn lines(tsv: &str) -> Vec<Line<'_>> {
    tsv.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let (category, command) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("line {}: no tab in {l:?}", i + 1));
            let half = if i % 2 == 0 {
                Half::Development
            } else {
                Half::HeldOut
            };
            Line {
                half,
                category,
                command,
            }
        })
        .collect()
}

/// The line typed in a session, in both logging forms.
fn sessions(command: &str) -> [TranscriptInput; 2] {
    let typed = format!("{PROMPT}{command}");
    [
        TranscriptInput::Text(format!("{typed}\n{PROMPT}\n")),
        TranscriptInput::Records(vec![StreamRecord {
            session_data: vec![typed, PROMPT.to_string()],
            ..StreamRecord::default()
        }]),
    ]
}

/// The alerting rules (alert or terminate) that fire on the line, in the form that raises the
/// fewest: a line counts as caught only when both forms raise something.
fn alerting(rules: &RuleSet, command: &str) -> Vec<String> {
    let per_form: Vec<Vec<String>> = sessions(command)
        .iter()
        .map(|input| {
            let mut ids: Vec<String> = scan_input(rules, input)
                .into_iter()
                .filter(|h| h.rule.action != RuleAction::Record)
                .map(|h| h.rule.id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        })
        .collect();
    per_form
        .into_iter()
        .min_by_key(Vec::len)
        .unwrap_or_default()
}

#[derive(Default)]
struct Tally {
    total: usize,
    fired: usize,
}

impl Tally {
    fn pct(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.fired as f64 / self.total as f64
        }
    }
}

#[test]
fn the_default_pack_against_the_policy_corpus() {
    let rules = default_rules();
    let mut attacks: BTreeMap<(Half, String), Tally> = BTreeMap::new();
    let mut benign: BTreeMap<Half, Tally> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut false_alerts = Vec::new();
    for line in lines(ATTACKS) {
        let fired = alerting(&rules, line.command);
        for key in [
            (line.half, line.category.to_string()),
            (line.half, "all".to_string()),
        ] {
            let tally = attacks.entry(key).or_default();
            tally.total += 1;
            tally.fired += usize::from(!fired.is_empty());
        }
        // Only the development half is ever shown line by line: the held-out half stays blind.
        if fired.is_empty() && line.half == Half::Development {
            missed.push(format!("{}: {}", line.category, line.command));
        }
    }
    for line in lines(BENIGN) {
        let fired = alerting(&rules, line.command);
        let tally = benign.entry(line.half).or_default();
        tally.total += 1;
        tally.fired += usize::from(!fired.is_empty());
        if !fired.is_empty() && line.half == Half::Development {
            false_alerts.push(format!("{} -> {}", line.command, fired.join(", ")));
        }
    }
    println!("attacks caught (alert or terminate in both logging forms):");
    println!(
        "  {:22} {:>16} {:>16}",
        "category", "development", "held out"
    );
    let categories: Vec<String> = {
        let mut c: Vec<String> = attacks.keys().map(|(_, c)| c.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    for category in &categories {
        let cell = |half| {
            attacks
                .get(&(half, category.clone()))
                .map(|t| format!("{:>4}/{:<4} {:5.1}%", t.fired, t.total, t.pct()))
                .unwrap_or_default()
        };
        println!(
            "  {:22} {:>16} {:>16}",
            category,
            cell(Half::Development),
            cell(Half::HeldOut)
        );
    }
    for half in [Half::Development, Half::HeldOut] {
        let t = benign
            .get(&half)
            .map_or((0, 0, 0.0), |t| (t.fired, t.total, t.pct()));
        println!(
            "ordinary lines alerted, {half:?}: {}/{} ({:.1}%)",
            t.0, t.1, t.2
        );
    }
    println!("missed attacks (development half):");
    missed.iter().for_each(|m| println!("  {m}"));
    println!("alerts on ordinary lines (development half):");
    false_alerts.iter().for_each(|m| println!("  {m}"));

    let held_out = &attacks[&(Half::HeldOut, "all".to_string())];
    let held_out_benign = &benign[&Half::HeldOut];
    assert!(
        held_out.pct() >= MIN_HELD_OUT_CAUGHT,
        "held-out attacks caught fell to {:.1}% (floor {MIN_HELD_OUT_CAUGHT}%)",
        held_out.pct()
    );
    assert!(
        held_out_benign.pct() <= MAX_HELD_OUT_ALERTED,
        "held-out ordinary lines alerted rose to {:.1}% (ceiling {MAX_HELD_OUT_ALERTED}%)",
        held_out_benign.pct()
    );
}
