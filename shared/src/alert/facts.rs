//! What an alert says, gathered once from the session and the context, for every format.

use super::{AlertContext, MAX_EXTRA_CHARS, clip};
use crate::identity::Principal;
use crate::policy::Severity;
use crate::session::SessionRecord;
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub struct Facts {
    pub alert_id: String,
    pub kind: String,
    pub severity: Severity,
    pub rule_id: Option<String>,
    pub title: String,
    pub why: String,
    /// Labelled details (`Command:`), each clipped to what a page can hold.
    pub details: Vec<(&'static str, String)>,
    pub action: String,
    pub action_code: &'static str,
    pub who: String,
    pub principal: Option<PrincipalFacts>,
    pub mfa: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The instance id, or "unknown target".
    pub instance: String,
    pub document: Option<String>,
    /// The start's reason (a change ticket), as given.
    pub reason: Option<String>,
    pub session_id: String,
    pub state: String,
    pub account: Option<String>,
    /// The name people know the account by, when one was configured.
    pub account_name: Option<String>,
    pub region: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub zone: TimeZone,
    pub links: Vec<Link>,
}

pub struct PrincipalFacts {
    pub arn: Option<String>,
    pub identity_type: String,
    /// Named by the transcript's stream records, before StartSession was recorded.
    pub from_transcript: bool,
}

/// A console page about the session or the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Label in text alerts.
    pub label: &'static str,
    /// Key in JSON alerts.
    pub key: &'static str,
    pub url: String,
}

impl Facts {
    pub fn gather(ctx: &AlertContext<'_>) -> Facts {
        let s = ctx.session;
        // A transcript can arrive before its session's StartSession: its stream records name
        // the owner, so the alert says who it is rather than "unknown principal".
        let from_transcript = match (&s.principal, &s.transcript) {
            (None, Some(seen)) => seen.owner_arn.as_deref().map(Principal::from_arn),
            _ => None,
        };
        let principal = s.principal.as_ref().or(from_transcript.as_ref());
        let region = s
            .region
            .clone()
            .or_else(|| s.transcript.as_ref().and_then(|t| t.region.clone()));
        Facts {
            alert_id: format!("{}/{}", s.session_id, ctx.alert_key),
            kind: ctx.kind.to_string(),
            severity: ctx.severity,
            rule_id: ctx.rule_id.map(str::to_string),
            title: ctx.title.to_string(),
            why: ctx.why.to_string(),
            details: ctx
                .extra
                .iter()
                .map(|(label, value)| (*label, clip(value, MAX_EXTRA_CHARS).into_owned()))
                .collect(),
            action: ctx.action.describe(),
            action_code: ctx.action.code(),
            who: principal
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| "unknown principal".to_string()),
            principal: principal.map(|p| PrincipalFacts {
                arn: p.arn.clone(),
                identity_type: p.identity_type.clone(),
                from_transcript: from_transcript.is_some(),
            }),
            mfa: s.mfa.as_str().to_string(),
            source_ip: s.source_ip.clone(),
            user_agent: s.user_agent.clone(),
            instance: s
                .target
                .clone()
                .unwrap_or_else(|| "unknown target".to_string()),
            document: s.document.clone(),
            reason: s.reason.clone().filter(|r| !r.trim().is_empty()),
            session_id: s.session_id.clone(),
            state: s.state.as_str().to_string(),
            account: s.account.clone(),
            account_name: ctx.account_name.map(str::to_string),
            links: session_links(s, ctx.event_id),
            region,
            started_at: s.started_at,
            ended_at: s.ended_at,
            zone: ctx.local_zone.clone(),
        }
    }
}

/// The session history, the transcript's log stream and the CloudTrail event (`event_id`, or the
/// session's start event), where known: the links alerts carry and `warden sessions show` prints.
/// None without a region (from CloudTrail, or the transcript's stream records).
pub fn session_links(s: &SessionRecord, event_id: Option<&str>) -> Vec<Link> {
    let region = s
        .region
        .as_deref()
        .or_else(|| s.transcript.as_ref().and_then(|t| t.region.as_deref()));
    let Some(region) = region else {
        return Vec::new();
    };
    let console = format!("https://{region}.console.aws.amazon.com");
    let mut links = vec![Link {
        label: "Sessions:",
        key: "session_history",
        url: format!(
            "{console}/systems-manager/session-manager/sessions?region={region}&tab=history"
        ),
    }];
    if let Some(group) = s.transcript.as_ref().and_then(|t| t.log_group.as_deref()) {
        // The console wants `/` inside names encoded twice (`$252F`); Session Manager names the
        // stream after the session.
        let encode = |name: &str| name.replace('/', "$252F");
        links.push(Link {
            label: "Transcript:",
            key: "transcript",
            url: format!(
                "{console}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
                encode(group),
                encode(&s.session_id)
            ),
        });
    }
    if let Some(event_id) = event_id.or(s.start_event_id.as_deref()) {
        links.push(Link {
            label: "CloudTrail:",
            key: "cloudtrail_event",
            url: format!("{console}/cloudtrailv2/home?region={region}#/events/{event_id}"),
        });
    }
    links
}
