//! How sessions and alerts look on a terminal and as JSON lines.

use serde_json::{Value, json};
use warden_core::alert::{Alert, Link};
use warden_core::finding::FindingRecord;
use warden_core::handlers::actions::TerminationReport;
use warden_core::investigation::TimelineEntry;
use warden_core::session::SessionRecord;

pub fn alert_json(alert: &Alert, file: &str) -> Value {
    json!({
        "type": "alert",
        "session_id": alert.key.session_id,
        "kind": alert.attributes.get("kind"),
        "severity": alert.severity.as_str(),
        "rule_id": alert.rule_id,
        "subject": alert.subject,
        // What a subscriber receives, in the configured WARDEN_ALERT_FORMAT, with its attributes.
        "message": alert.body,
        "attributes": alert.attributes,
        "file": file,
    })
}

pub fn termination_json(t: &TerminationReport, file: &str) -> Value {
    json!({
        "type": "termination",
        "session_id": t.session_id,
        "reason": t.reason,
        "outcome": t.outcome.as_str(),
        "dry_run": t.dry_run(),
        "file": file,
    })
}

/// One line per CloudTrail event replayed, whether or not it alerted.
pub fn recorded_json(done: &warden_core::handlers::recorder::Recorded, file: &str) -> Value {
    json!({
        "type": "recorded",
        "session_id": done.session_id,
        "call": done.call.api_name(),
        "event_id": done.event_id,
        "applied": done.applied,
        "state": done.state.as_str(),
        "flags": done.flags.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(),
        "exempt": done.exempt,
        "alerts": done.alerts.len(),
        "file": file,
    })
}

/// One line per transcript batch replayed; its findings follow on their own lines.
pub fn scanned_json(done: &warden_core::handlers::scanner::Scanned, file: &str) -> Value {
    json!({
        "type": "scanned",
        "session_id": (!done.control_message).then_some(&done.session_id),
        "control_message": done.control_message,
        "log_events": done.log_events,
        "lines": done.lines,
        "findings": done.findings.len(),
        "alerts": done.alerts.len(),
        "state": done.state.map(|s| s.as_str()),
        "file": file,
    })
}

/// One line per reaper run replayed; the sessions it ended or recorded follow.
pub fn reaped_json(done: &warden_core::handlers::reaper::Reaped, file: &str) -> Value {
    json!({
        "type": "reaper_run",
        "active_in_table": done.active_in_table,
        "active_in_session_manager": done.active_in_session_manager,
        "ended": done.ended.len(),
        "recorded": done.recorded.len(),
        "alerts": done.alerts.len(),
        "problems": done.problems,
        "more_next_time": done.more_next_time,
        "file": file,
    })
}

pub fn finding_json(f: &FindingRecord, file: &str) -> Value {
    json!({
        "type": "finding",
        "session_id": f.session_id,
        "rule_id": f.rule_id,
        "category": f.category,
        "severity": f.severity.as_str(),
        "action": f.action.as_str(),
        "line": f.line,
        "command": f.command,
        "normalized": f.normalized,
        "file": file,
    })
}

/// `mfa` is `true`, `false` or the string `"unknown"`.
pub fn session_json(s: &SessionRecord) -> Value {
    let mfa = match s.mfa {
        warden_core::identity::Mfa::True => json!(true),
        warden_core::identity::Mfa::False => json!(false),
        warden_core::identity::Mfa::Unknown => json!("unknown"),
    };
    json!({
        "type": "session",
        "session_id": s.session_id,
        "state": s.state.as_str(),
        "mfa": mfa,
        "flags": s.flags.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        "principal": s.principal.as_ref().and_then(|p| p.arn.clone()),
        "who": s.principal.as_ref().map(|p| p.display_name.clone()),
        "target": s.target,
        "document": s.document,
        "reason": s.reason,
        "started_at": s.started_at.map(|t| t.to_string()),
        "ended_at": s.ended_at.map(|t| t.to_string()),
        "exempt": s.exempt,
    })
}

pub fn session_table(sessions: &[SessionRecord]) -> String {
    let mut rows = vec![[
        "SESSION".to_string(),
        "STATE".to_string(),
        "WHO".to_string(),
        "MFA".to_string(),
        "TARGET".to_string(),
        "STARTED".to_string(),
        "FLAGS".to_string(),
    ]];
    for s in sessions {
        let flags: Vec<&str> = s.flags.keys().map(|k| k.as_str()).collect();
        rows.push([
            // `<account>/<id>` for a member account's session: what `sessions show` takes.
            s.key(),
            s.state.as_str().to_string(),
            s.principal
                .as_ref()
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| "-".into()),
            s.mfa.as_str().to_string(),
            s.target.clone().unwrap_or_else(|| "-".into()),
            s.started_at
                .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "-".into()),
            if flags.is_empty() {
                "-".into()
            } else {
                flags.join(",")
            },
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The record as labelled lines (what is not known is left out), its timeline, whether each
/// alert went out, one paragraph per finding, then console links. `--format json` prints the
/// record itself.
pub fn session_detail(
    s: &SessionRecord,
    findings: &[FindingRecord],
    alerts: &[warden_core::ports::AlertMark],
    timeline: &[TimelineEntry],
    links: &[Link],
) -> String {
    use warden_core::ports::AlertState;
    let mut text = session_fields(s);
    text.push_str("\n\nTIMELINE");
    for entry in timeline {
        // To the second: the stored times of alerts and terminations carry nanoseconds.
        let at = entry
            .at
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "(time unknown)".to_string());
        text.push_str(&format!(
            "\n  {at:<20}  {:<11}  {}",
            entry.kind.as_str(),
            entry.text
        ));
    }
    if alerts.is_empty() {
        text.push_str("\n\nno alerts");
    } else {
        text.push_str("\n\nALERTS");
    }
    for a in alerts {
        let state = match &a.state {
            AlertState::Sent { at } => format!("sent {at}"),
            AlertState::Claimed { until } => format!(
                "NOT marked sent: claimed until {until}; being published, or published and its \
                 mark failed (a redelivery after then sends it again)"
            ),
            AlertState::Released => {
                "NOT sent: its publish failed; the failed event is retried, then dead-lettered"
                    .to_string()
            }
        };
        text.push_str(&format!("\n  {:<24} {state}", a.kind));
    }
    if findings.is_empty() {
        text.push_str("\n\nno findings");
    }
    for f in findings {
        text.push_str(&format!(
            "\n\nFINDING {} ({}, {}, {})\n  command:    {}\n  normalised: {}\n  log event:  {} line {}",
            f.rule_id,
            f.category,
            f.severity,
            f.action.as_str(),
            f.command,
            f.normalized,
            f.log_event_id,
            f.line
        ));
    }
    if !links.is_empty() {
        text.push_str("\n\nLINKS");
        let width = links.iter().map(|l| l.label.len()).max().unwrap_or(0);
        for link in links {
            text.push_str(&format!("\n  {:<width$}  {}", link.label, link.url));
        }
    }
    text
}

/// `sessions show --format json`: the stored record with its alert marks, findings, timeline
/// and links (`key` → URL) added.
pub fn session_detail_json(
    s: &SessionRecord,
    findings: &[FindingRecord],
    alerts: &[warden_core::ports::AlertMark],
    timeline: &[TimelineEntry],
    links: &[Link],
) -> Value {
    let mut value = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(object) = &mut value {
        object.insert("findings".into(), json!(findings));
        object.insert("alerts".into(), json!(alerts));
        object.insert("timeline".into(), json!(timeline));
        let links: serde_json::Map<String, Value> = links
            .iter()
            .map(|l| (l.key.to_string(), json!(l.url)))
            .collect();
        object.insert("links".into(), Value::Object(links));
    }
    value
}

/// `label  value` lines for the session record.
fn session_fields(s: &SessionRecord) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("session", s.session_id.clone()),
        ("state", s.state.as_str().to_string()),
    ];
    let mut row = |label: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            rows.push((label, value));
        }
    };
    if let Some(p) = &s.principal {
        let mut who = format!("{} ({}", p.display_name, p.identity_type);
        if let Some(role) = &p.role_name {
            who.push_str(&format!(", role {role}"));
        }
        who.push(')');
        row("who", Some(who));
        row("principal", p.arn.clone());
        row("access key", p.access_key_id.clone());
    }
    let evidence = s.mfa_evidence.and_then(|e| {
        serde_json::to_value(e)
            .ok()
            .and_then(|v| v.as_str().map(|v| v.replace('_', " ")))
    });
    row(
        "mfa",
        Some(match evidence {
            Some(evidence) => format!("{} ({evidence})", s.mfa.as_str()),
            None => s.mfa.as_str().to_string(),
        }),
    );
    row(
        "account",
        match (&s.account, &s.region) {
            (Some(a), Some(r)) => Some(format!("{a}, {r}")),
            (a, r) => a.clone().or_else(|| r.clone()),
        },
    );
    row("target", s.target.clone());
    row("document", s.document.clone());
    row("reason", s.reason.clone());
    row("source ip", s.source_ip.clone());
    row("user agent", s.user_agent.clone());
    row("started", s.started_at.map(|t| t.to_string()));
    if s.resume_count > 0 {
        row(
            "resumed",
            Some(format!(
                "{} time{}, last at {}",
                s.resume_count,
                if s.resume_count == 1 { "" } else { "s" },
                s.last_resumed_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "an unknown time".into())
            )),
        );
    }
    if s.ended_at.is_some() || s.ended_by.is_some() || s.end_reason.is_some() {
        let mut ended = s
            .ended_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "at an unknown time".into());
        if let Some(by) = &s.ended_by {
            ended.push_str(&format!(" by {by}"));
        }
        if let Some(reason) = &s.end_reason {
            ended.push_str(&format!(" ({reason})"));
        }
        row("ended", Some(ended));
    }
    row(
        "denied",
        s.denial.as_ref().map(|d| match &d.message {
            Some(message) => format!("{}: {message}", d.code),
            None => d.code.clone(),
        }),
    );
    for (kind, flag) in &s.flags {
        row(
            "flag",
            Some(format!(
                "{} ({}, {}): {}",
                kind.as_str(),
                flag.severity,
                flag.action.as_str(),
                flag.reason
            )),
        );
    }
    if s.exempt {
        row("exempt", Some("yes: never alerted on or terminated".into()));
    }
    if let Some(by) = &s.terminated_by {
        let at = s
            .terminated_at
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        let reason = s.termination_reason.as_deref().unwrap_or("no reason given");
        row(
            "terminated",
            Some(format!("on request by {by}{at}: {reason}")),
        );
    }
    for (reason, t) in &s.terminations {
        let detail = t
            .detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        row(
            "termination",
            Some(format!(
                "{reason}: {} at {}{detail}",
                t.outcome.as_str(),
                t.at
            )),
        );
    }
    if let Some(t) = &s.transcript {
        let mut seen = t.log_group.clone().unwrap_or_else(|| "seen".into());
        if let (Some(first), Some(last)) = (t.first_event_at, t.last_event_at) {
            seen.push_str(&format!(", {first} to {last}"));
        }
        if let Some(user) = &t.run_as_user {
            seen.push_str(&format!(", run as {user}"));
        }
        row("transcript", Some(seen));
        row("processed", t.processed_at.map(|t| t.to_string()));
    }
    row(
        "unprocessable",
        s.transcript_failed_at
            .map(|t| format!("the scanner failed on a batch at {t}")),
    );
    row("findings", Some(s.finding_count.to_string()));
    row("ssm status", s.described_status.clone());
    row("last event", s.last_event_at.map(|t| t.to_string()));
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{label:<width$}  {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}
