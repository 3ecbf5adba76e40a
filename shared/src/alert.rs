//! Alerts for on-call: what is sent through the notifier, rendered for people and for filters.

use crate::identity::Principal;
use crate::policy::Severity;
use crate::session::{SessionRecord, TerminationOutcome};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// SNS rejects subjects of 100 characters or more, and its API reference asks for ASCII
/// without line breaks or control characters: a rejected subject would lose the alert.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// Longest labelled value (a command, its normalised form) shown in full in an alert body. The
/// finding keeps the whole text; SNS refuses messages over 256 KB, and a page is read by people.
pub const MAX_EXTRA_CHARS: usize = 2_000;

/// The de-duplication key: one alert per session and kind, however often the event is delivered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AlertKey {
    pub session_id: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub key: AlertKey,
    pub severity: Severity,
    pub rule_id: Option<String>,
    pub subject: String,
    pub body: String,
    /// SNS message attributes, for subscription filter policies.
    pub attributes: BTreeMap<String, String>,
}

/// What Session Warden did about the risk, told in the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTaken {
    AlertOnly,
    Exempt,
    Termination(TerminationOutcome, Option<String>),
}

impl ActionTaken {
    fn describe(&self) -> String {
        match self {
            ActionTaken::AlertOnly => "alert only (configured action: alert)".to_string(),
            ActionTaken::Exempt => "none: principal is exempt".to_string(),
            ActionTaken::Termination(outcome, detail) => {
                let text = match outcome {
                    TerminationOutcome::Terminated => "session terminated",
                    TerminationOutcome::AlreadyEnded => {
                        "termination requested; the session had already ended"
                    }
                    TerminationOutcome::WouldTerminate => {
                        "would terminate the session (dry run: WARDEN_ENFORCE=false)"
                    }
                    TerminationOutcome::Failed => "termination FAILED",
                };
                match detail {
                    Some(d) => format!("{text} ({d})"),
                    None => text.to_string(),
                }
            }
        }
    }
}

/// Everything an alert about one risk on one session needs.
pub struct AlertContext<'a> {
    pub session: &'a SessionRecord,
    /// The alert's kind for subscribers' filters: a flag name, or `finding`.
    pub kind: &'a str,
    /// What makes this alert unique within the session (de-duplication).
    pub alert_key: &'a str,
    pub severity: Severity,
    pub rule_id: Option<&'a str>,
    pub title: &'a str,
    pub why: &'a str,
    /// More labelled lines after the reason, such as the command that matched.
    pub extra: Vec<(&'static str, String)>,
    pub action: ActionTaken,
    pub event_id: Option<&'a str>,
    pub local_zone: &'a TimeZone,
}

pub fn render(ctx: &AlertContext<'_>) -> Alert {
    let s = ctx.session;
    // A transcript can arrive before its session's StartSession: its stream records name the
    // owner, so the alert says who it is rather than "unknown principal".
    let from_transcript = match (&s.principal, &s.transcript) {
        (None, Some(seen)) => seen.owner_arn.as_deref().map(Principal::from_arn),
        _ => None,
    };
    let principal = s.principal.as_ref().or(from_transcript.as_ref());
    let who = principal
        .map(|p| p.display_name.as_str())
        .unwrap_or("unknown principal");
    let target = s.target.as_deref().unwrap_or("unknown target");
    let subject = sns_subject(
        &format!(
            "[{}] {}: {who} on {target}",
            ctx.severity.as_str().to_uppercase(),
            ctx.title
        ),
        MAX_SUBJECT_CHARS,
    );
    let mut body = String::new();
    let line = |body: &mut String, label: &str, value: &str| {
        let _ = writeln!(body, "{label:<14}{value}");
    };
    let _ = writeln!(body, "{}\n", ctx.title);
    line(&mut body, "Why:", ctx.why);
    for (label, value) in &ctx.extra {
        line(&mut body, label, &clip(value, MAX_EXTRA_CHARS));
    }
    line(&mut body, "Action:", &ctx.action.describe());
    body.push('\n');
    line(&mut body, "Who:", who);
    if let Some(p) = principal {
        line(
            &mut body,
            "Principal:",
            p.arn.as_deref().unwrap_or("(no ARN)"),
        );
        if from_transcript.is_some() {
            line(
                &mut body,
                "Identity:",
                &format!(
                    "{} (from the transcript: StartSession not recorded yet)",
                    p.identity_type
                ),
            );
        } else {
            line(&mut body, "Identity:", &p.identity_type);
        }
    }
    line(&mut body, "MFA:", s.mfa.as_str());
    line(
        &mut body,
        "Source IP:",
        s.source_ip.as_deref().unwrap_or("unknown"),
    );
    line(
        &mut body,
        "User agent:",
        s.user_agent.as_deref().unwrap_or("unknown"),
    );
    line(&mut body, "Instance:", target);
    line(
        &mut body,
        "Document:",
        s.document.as_deref().unwrap_or("unknown"),
    );
    line(&mut body, "Session:", &s.session_id);
    line(&mut body, "State:", s.state.as_str());
    let account = s.account.as_deref().unwrap_or("unknown");
    let region = s.region.as_deref().unwrap_or("unknown");
    line(&mut body, "Account:", &format!("{account} ({region})"));
    if let Some(started) = s.started_at {
        line(&mut body, "Started:", &format_time(started, ctx.local_zone));
    }
    if let Some(ended) = s.ended_at {
        line(&mut body, "Ended:", &format_time(ended, ctx.local_zone));
    }
    if let Some(region) = s.region.as_deref() {
        body.push('\n');
        line(
            &mut body,
            "Sessions:",
            &format!(
                "https://{region}.console.aws.amazon.com/systems-manager/session-manager/sessions?region={region}"
            ),
        );
        if let Some(event_id) = ctx.event_id {
            line(
                &mut body,
                "CloudTrail:",
                &format!(
                    "https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{event_id}"
                ),
            );
        }
    }
    let mut attributes = BTreeMap::from([
        ("severity".to_string(), ctx.severity.as_str().to_string()),
        ("kind".to_string(), ctx.kind.to_string()),
        ("session_id".to_string(), s.session_id.clone()),
        // The same for every delivery of this alert: subscribers drop repeats by it (SNS
        // standard topics deliver at least once, and a publish whose reply was lost is sent
        // again by the retry).
        (
            "alert_id".to_string(),
            format!("{}/{}", s.session_id, ctx.alert_key),
        ),
    ]);
    if let Some(rule) = ctx.rule_id {
        attributes.insert("rule_id".to_string(), rule.to_string());
    }
    Alert {
        key: AlertKey {
            session_id: s.session_id.clone(),
            kind: ctx.alert_key.to_string(),
        },
        severity: ctx.severity,
        rule_id: ctx.rule_id.map(str::to_string),
        subject,
        body,
        attributes,
    }
}

/// `2026-11-24 10:21:48 UTC (11:21:48 CET)`
pub fn format_time(at: Timestamp, zone: &TimeZone) -> String {
    let utc = at.strftime("%Y-%m-%d %H:%M:%S UTC");
    let local = at.to_zoned(zone.clone());
    format!("{utc} ({})", local.strftime("%Y-%m-%d %H:%M:%S %Z"))
}

/// `text`, or its first `max_chars` characters and how many were left out.
fn clip(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => {
            let left_out = text[end..].chars().count();
            std::borrow::Cow::Owned(format!(
                "{}… ({left_out} more characters; the finding has the whole text)",
                &text[..end]
            ))
        }
    }
}

/// The subject as SNS accepts it: printable ASCII (a control character or line break becomes a
/// space, any other character `?`), cut to `max_chars` with `...` when longer.
fn sns_subject(text: &str, max_chars: usize) -> String {
    let ascii: String = text
        .chars()
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_control() || c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect();
    if ascii.len() <= max_chars {
        return ascii;
    }
    let mut cut = ascii[..max_chars - 3].to_string();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WardenConfig;
    use crate::session::{SessionRecord, record_id};
    use crate::test_support::event;

    fn session(file: &str) -> SessionRecord {
        let config = WardenConfig::from_lookup(|_| None).unwrap();
        let e = event(file);
        let mut r = SessionRecord::new(record_id(&e));
        r.apply(&e, &config.policy.assess(&e));
        r
    }

    fn alert_for(s: &SessionRecord, action: ActionTaken) -> Alert {
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        render(&AlertContext {
            session: s,
            kind: "no_mfa",
            alert_key: "no_mfa",
            severity: Severity::High,
            extra: Vec::new(),
            rule_id: None,
            title: "Session started without MFA",
            why: "the credentials were not authenticated with MFA",
            action,
            event_id: Some("ev-1"),
            local_zone: &zone,
        })
    }

    #[test]
    fn body_tells_who_where_when_why_and_what_was_done() {
        let s = session("03-start-role-without-mfa.json");
        let alert = alert_for(&s, ActionTaken::AlertOnly);
        for needle in [
            "bob",
            "arn:aws:sts::111122223333:assumed-role/Admin/bob",
            "MFA:          false",
            "Source IP:",
            "i-",
            "SSM-SessionManagerRunShell",
            "2026-11-23 13:02:11 UTC (2026-11-23 14:02:11 CET)",
            "alert only",
            "#/events/ev-1",
        ] {
            assert!(
                alert.body.contains(needle),
                "missing {needle:?} in\n{}",
                alert.body
            );
        }
    }

    #[test]
    fn attributes_carry_severity_kind_and_session() {
        let s = session("03-start-role-without-mfa.json");
        let alert = alert_for(&s, ActionTaken::AlertOnly);
        assert_eq!(alert.attributes["severity"], "high");
        assert_eq!(alert.attributes["kind"], "no_mfa");
        assert_eq!(alert.attributes["session_id"], s.session_id);
        assert_eq!(
            alert.attributes["alert_id"],
            format!("{}/{}", s.session_id, alert.key.kind)
        );
        assert!(!alert.attributes.contains_key("rule_id"));
    }

    #[test]
    fn subject_stays_under_the_sns_limit() {
        let mut s = session("03-start-role-without-mfa.json");
        s.principal.as_mut().unwrap().display_name = "x".repeat(300);
        let alert = alert_for(&s, ActionTaken::AlertOnly);
        assert!(alert.subject.len() < 100);
        assert!(alert.subject.ends_with("..."));
    }

    /// A finding alert for a custom rule with `title`, showing `extra`.
    fn finding_alert(title: &str, extra: Vec<(&'static str, String)>) -> Alert {
        let s = session("03-start-role-without-mfa.json");
        render(&AlertContext {
            session: &s,
            kind: "finding",
            alert_key: "finding:custom.rule",
            severity: Severity::High,
            rule_id: Some("custom.rule"),
            title,
            why: "a custom rule matched",
            extra,
            action: ActionTaken::AlertOnly,
            event_id: None,
            local_zone: &TimeZone::UTC,
        })
    }

    #[test]
    fn a_huge_command_is_clipped_in_the_body_with_what_was_left_out() {
        let command = format!("echo {} | base64 -d | sh", "QUFB".repeat(4_000));
        let alert = finding_alert(
            "Encoded payload piped into a shell",
            vec![("Command:", command.clone())],
        );
        let shown = MAX_EXTRA_CHARS;
        assert!(alert.body.contains(&command[..shown]));
        assert!(!alert.body.contains(&command[..shown + 1]));
        let left_out = command.len() - shown;
        assert!(
            alert
                .body
                .contains(&format!("({left_out} more characters;")),
            "{}",
            alert.body
        );
    }

    #[test]
    fn subject_is_printable_ascii_whatever_a_custom_rule_title_holds() {
        let alert = finding_alert("Löschen der Platte\r\nBcc: someone", vec![]);
        assert!(
            alert.subject.bytes().all(|b| (b' '..=b'~').contains(&b)),
            "{}",
            alert.subject
        );
        assert!(
            alert.subject.contains("L?schen der Platte  Bcc: someone"),
            "{}",
            alert.subject
        );
        assert!(
            alert.body.contains("Löschen"),
            "the body keeps the title as written"
        );
    }

    #[test]
    fn a_transcript_before_its_start_names_the_owner_from_the_stream_records() {
        let mut s = SessionRecord::new("carol-0123456789abcdef0");
        s.note_transcript(&crate::session::TranscriptSeen {
            owner_arn: Some("arn:aws:sts::111122223333:assumed-role/Operator/carol".into()),
            target: Some("i-0a1b2c3d4e5f60718".into()),
            ..Default::default()
        });
        let alert = alert_for(&s, ActionTaken::AlertOnly);
        assert!(
            alert.subject.contains("carol on i-0a1b2c3d4e5f60718"),
            "{}",
            alert.subject
        );
        assert!(!alert.body.contains("unknown principal"), "{}", alert.body);
        for needle in [
            "Who:          carol",
            "Principal:    arn:aws:sts::111122223333:assumed-role/Operator/carol",
            "Identity:     AssumedRole (from the transcript: StartSession not recorded yet)",
        ] {
            assert!(
                alert.body.contains(needle),
                "missing {needle:?} in\n{}",
                alert.body
            );
        }
        // With neither a start nor an owner in the transcript, it still says so.
        let bare = alert_for(&SessionRecord::new("dave-0"), ActionTaken::AlertOnly);
        assert!(
            bare.subject.contains("unknown principal"),
            "{}",
            bare.subject
        );
    }

    #[test]
    fn dry_run_is_spelled_out() {
        let s = session("08-start-root.json");
        let alert = alert_for(
            &s,
            ActionTaken::Termination(TerminationOutcome::WouldTerminate, None),
        );
        assert!(alert.body.contains("would terminate the session (dry run"));
    }

    #[test]
    fn a_denied_start_renders_without_target_or_times_missing() {
        let s = session("11-start-denied.json");
        let alert = alert_for(&s, ActionTaken::AlertOnly);
        assert!(
            alert.body.contains("State:        denied"),
            "{}",
            alert.body
        );
    }
}
