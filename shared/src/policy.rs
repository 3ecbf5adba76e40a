//! Start-of-session policy: which starts are risky, how risky, and what to do about them.

use crate::business_hours::BusinessHours;
use crate::cloudtrail::{SessionApiEvent, SessionCall};
use crate::glob::{Glob, any_matches};
use crate::identity::{MfaAssessment, MfaEvidence, Principal, assess_mfa};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Documents that open a tunnel rather than a shell: Session Manager writes no transcript for them.
pub const DEFAULT_TUNNEL_DOCUMENTS: &str = "AWS-StartSSHSession,AWS-StartPortForwardingSession,\
AWS-StartPortForwardingSessionToRemoteHost,AWS-StartPortForwardingSessionToSocket";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    NoMfa,
    OffHours,
    RootUser,
    Tunnel,
    DeniedStart,
    /// No change ticket (or one not matching `WARDEN_REASON_PATTERN`) where the policy asks
    /// for one.
    NoReason,
}

impl FlagKind {
    pub const ALL: [FlagKind; 6] = [
        FlagKind::NoMfa,
        FlagKind::OffHours,
        FlagKind::RootUser,
        FlagKind::Tunnel,
        FlagKind::DeniedStart,
        FlagKind::NoReason,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::NoMfa => "no_mfa",
            FlagKind::OffHours => "off_hours",
            FlagKind::RootUser => "root_user",
            FlagKind::Tunnel => "tunnel",
            FlagKind::DeniedStart => "denied_start",
            FlagKind::NoReason => "no_reason",
        }
    }

    pub fn parse(text: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Root is the account itself; missing MFA is the classic stolen-key path; off-hours and
    /// tunnels are unusual but often legitimate; a denied start did nothing.
    pub fn severity(self) -> Severity {
        match self {
            FlagKind::RootUser => Severity::Critical,
            FlagKind::NoMfa => Severity::High,
            FlagKind::OffHours | FlagKind::Tunnel | FlagKind::NoReason => Severity::Medium,
            FlagKind::DeniedStart => Severity::Low,
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlagAction {
    #[default]
    Alert,
    Terminate,
    /// Kept with the session, never alerted: a flag a valid change ticket excuses.
    Record,
}

impl FlagAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagAction::Alert => "alert",
            FlagAction::Terminate => "terminate",
            FlagAction::Record => "record",
        }
    }
}

/// One reason a session start is risky.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    pub action: FlagAction,
    /// A sentence for the on-call engineer.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct StartPolicy {
    pub business_hours: BusinessHours,
    pub idp_mfa_roles: Vec<Glob>,
    pub exempt_principals: Vec<Glob>,
    pub tunnel_documents: Vec<Glob>,
    pub actions: BTreeMap<FlagKind, FlagAction>,
    pub tickets: TicketPolicy,
}

/// When a start must carry a change ticket in its reason (`aws ssm start-session --reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReasonPolicy {
    #[default]
    Off,
    /// Only starts outside business hours need a ticket.
    OffHours,
    Always,
}

/// `WARDEN_REASON_POLICY`, `WARDEN_REASON_PATTERN` and `WARDEN_REASON_EXCUSES`.
#[derive(Debug, Clone, Default)]
pub struct TicketPolicy {
    pub policy: ReasonPolicy,
    /// What a valid ticket looks like; any non-empty reason when None.
    pub pattern: Option<regex::Regex>,
    /// Flags a valid ticket turns from alert into record.
    pub excuses: Vec<FlagKind>,
}

impl TicketPolicy {
    /// Whether `reason` is a ticket the policy accepts.
    pub fn accepts(&self, reason: Option<&str>) -> bool {
        let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
            return false;
        };
        self.pattern.as_ref().is_none_or(|p| p.is_match(reason))
    }
}

/// What the policy concluded about one session API call.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub principal: Principal,
    pub mfa: MfaAssessment,
    pub flags: Vec<Flag>,
    /// Exempt principals are recorded with their flags but never alerted on or terminated.
    pub exempt: bool,
}

impl StartPolicy {
    pub fn action_for(&self, kind: FlagKind) -> FlagAction {
        self.actions.get(&kind).copied().unwrap_or_default()
    }

    pub fn assess(&self, event: &SessionApiEvent) -> Assessment {
        let principal = Principal::from_identity(&event.identity);
        let mfa = assess_mfa(&event.identity, &principal, &self.idp_mfa_roles);
        let exempt = any_matches(&self.exempt_principals, principal.key());
        let mut flags = Vec::new();
        let mut flag = |kind: FlagKind, reason: String| {
            flags.push(Flag {
                kind,
                severity: kind.severity(),
                action: self.action_for(kind),
                reason,
            })
        };
        if event.call != SessionCall::Start {
            return Assessment {
                principal,
                mfa,
                flags,
                exempt,
            };
        }
        if let Some(failure) = &event.failure {
            flag(
                FlagKind::DeniedStart,
                format!(
                    "StartSession was refused with {}: {}",
                    failure.code,
                    failure.message.as_deref().unwrap_or("no message")
                ),
            );
            return Assessment {
                principal,
                mfa,
                flags,
                exempt,
            };
        }
        if principal.is_root() {
            flag(
                FlagKind::RootUser,
                "the account root user started a session".to_string(),
            );
        }
        if mfa.lacks_mfa() {
            let reason = match mfa.evidence {
                MfaEvidence::LongTermKeys => {
                    "long-term access keys were used, which cannot carry MFA".to_string()
                }
                _ => "the credentials were not authenticated with MFA (mfaAuthenticated is false)"
                    .to_string(),
            };
            flag(FlagKind::NoMfa, reason);
        }
        if !self.business_hours.is_business_time(event.event_time) {
            let local = event
                .event_time
                .to_zoned(self.business_hours.zone().clone());
            flag(
                FlagKind::OffHours,
                format!(
                    "started {} ({}) outside business hours",
                    local.strftime("%a %Y-%m-%d %H:%M %Z"),
                    self.business_hours.zone_name()
                ),
            );
        }
        if let Some(document) = event
            .document
            .as_deref()
            .filter(|d| any_matches(&self.tunnel_documents, d))
        {
            let forwarded = event
                .document_parameters
                .get("portNumber")
                .map(|p| format!(" to port {}", first_value(p)))
                .unwrap_or_default();
            let host = event
                .document_parameters
                .get("host")
                .map(|h| format!(" on {}", first_value(h)))
                .unwrap_or_default();
            flag(
                FlagKind::Tunnel,
                format!(
                    "{document} opens a tunnel{forwarded}{host}; Session Manager records no transcript for it"
                ),
            );
        }
        let tickets = &self.tickets;
        let ticket = tickets.accepts(event.reason.as_deref());
        let off_hours = flags.iter().any(|f| f.kind == FlagKind::OffHours);
        let wanted = match tickets.policy {
            ReasonPolicy::Off => false,
            ReasonPolicy::OffHours => off_hours,
            ReasonPolicy::Always => true,
        };
        if wanted && !ticket {
            let reason = match event.reason.as_deref().map(str::trim) {
                None | Some("") => "the start gave no reason (change ticket)".to_string(),
                Some(given) => format!(
                    "the reason `{}` is not a change ticket (expected {})",
                    given.chars().take(120).collect::<String>(),
                    tickets.pattern.as_ref().map_or("any text", |p| p.as_str())
                ),
            };
            flags.push(Flag {
                kind: FlagKind::NoReason,
                severity: FlagKind::NoReason.severity(),
                action: self.action_for(FlagKind::NoReason),
                reason,
            });
        }
        if ticket {
            for f in flags.iter_mut() {
                if tickets.excuses.contains(&f.kind) && f.action == FlagAction::Alert {
                    f.action = FlagAction::Record;
                    f.reason.push_str(&format!(
                        " (excused by change ticket `{}`)",
                        event.reason.as_deref().unwrap_or_default().trim()
                    ));
                }
            }
        }
        Assessment {
            principal,
            mfa,
            flags,
            exempt,
        }
    }
}

/// Document parameters arrive as lists of strings (`{"portNumber":["22"]}`).
fn first_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => items.first().map(first_value).unwrap_or_default(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::parse_list;
    use crate::test_support::event;

    fn policy() -> StartPolicy {
        StartPolicy {
            business_hours: BusinessHours::parse("UTC", "Mon-Fri 08:00-18:00", "").unwrap(),
            idp_mfa_roles: parse_list("AWSReservedSSO_*"),
            exempt_principals: vec![],
            tunnel_documents: parse_list(DEFAULT_TUNNEL_DOCUMENTS),
            actions: BTreeMap::new(),
            tickets: Default::default(),
        }
    }

    fn ticketed(when: ReasonPolicy, pattern: &str, excuses: &[FlagKind]) -> StartPolicy {
        StartPolicy {
            tickets: TicketPolicy {
                policy: when,
                pattern: Some(regex::Regex::new(pattern).unwrap()),
                excuses: excuses.to_vec(),
            },
            ..policy()
        }
    }

    fn flag_of(policy: &StartPolicy, file: &str, kind: FlagKind) -> Option<Flag> {
        policy
            .assess(&event(file))
            .flags
            .into_iter()
            .find(|f| f.kind == kind)
    }

    #[test]
    fn without_a_reason_policy_nobody_is_asked_for_a_ticket() {
        assert!(!kinds(&policy(), "05-start-off-hours.json").contains(&FlagKind::NoReason));
    }

    #[test]
    fn an_off_hours_start_without_a_ticket_raises_no_reason() {
        let p = ticketed(ReasonPolicy::OffHours, "^(CHG|INC)-[0-9]+", &[]);
        let flag = flag_of(&p, "05-start-off-hours.json", FlagKind::NoReason).unwrap();
        assert_eq!(flag.severity, Severity::Medium);
        assert!(flag.reason.contains("no reason"), "{}", flag.reason);
        // In business hours the off_hours policy asks nothing.
        assert!(!kinds(&p, "01-start-role-with-mfa.json").contains(&FlagKind::NoReason));
    }

    #[test]
    fn a_matching_ticket_satisfies_the_policy() {
        let p = ticketed(ReasonPolicy::Always, "^(CHG|INC)-[0-9]+", &[]);
        assert!(flag_of(&p, "16-start-with-change-ticket.json", FlagKind::NoReason).is_none());
        assert!(flag_of(&p, "01-start-role-with-mfa.json", FlagKind::NoReason).is_some());
    }

    #[test]
    fn a_reason_that_is_no_ticket_is_named_in_the_flag() {
        let p = ticketed(ReasonPolicy::Always, "^INC-[0-9]+$", &[]);
        let flag = flag_of(&p, "16-start-with-change-ticket.json", FlagKind::NoReason).unwrap();
        assert!(flag.reason.contains("CHG-4821"), "{}", flag.reason);
        assert!(flag.reason.contains("^INC-[0-9]+$"), "{}", flag.reason);
    }

    #[test]
    fn a_valid_ticket_turns_an_excused_flag_into_a_record() {
        let p = ticketed(ReasonPolicy::Off, "^CHG-[0-9]+", &[FlagKind::OffHours]);
        let flag = flag_of(&p, "16-start-with-change-ticket.json", FlagKind::OffHours).unwrap();
        assert_eq!(flag.action, FlagAction::Record);
        assert!(
            flag.reason.contains("excused by change ticket `CHG-4821"),
            "{}",
            flag.reason
        );
        // Without a ticket the same flag still alerts.
        let carol = flag_of(&p, "05-start-off-hours.json", FlagKind::OffHours).unwrap();
        assert_eq!(carol.action, FlagAction::Alert);
    }

    fn kinds(policy: &StartPolicy, file: &str) -> Vec<FlagKind> {
        policy
            .assess(&event(file))
            .flags
            .into_iter()
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn start_with_mfa_in_business_hours_raises_nothing() {
        assert_eq!(kinds(&policy(), "01-start-role-with-mfa.json"), vec![]);
    }

    #[test]
    fn start_without_mfa_is_no_mfa() {
        assert_eq!(
            kinds(&policy(), "03-start-role-without-mfa.json"),
            vec![FlagKind::NoMfa]
        );
    }

    #[test]
    fn saturday_night_start_is_off_hours() {
        assert_eq!(
            kinds(&policy(), "05-start-off-hours.json"),
            vec![FlagKind::OffHours]
        );
    }

    #[test]
    fn sso_start_is_quiet_when_the_idp_is_trusted() {
        assert_eq!(kinds(&policy(), "06-start-sso-permission-set.json"), vec![]);
    }

    #[test]
    fn iam_user_access_keys_are_no_mfa() {
        assert_eq!(
            kinds(&policy(), "07-start-iam-user-access-keys.json"),
            vec![FlagKind::NoMfa]
        );
    }

    #[test]
    fn root_start_is_root_user() {
        assert_eq!(
            kinds(&policy(), "08-start-root.json"),
            vec![FlagKind::RootUser]
        );
    }

    #[test]
    fn ssh_and_port_forwarding_documents_are_tunnels() {
        assert_eq!(
            kinds(&policy(), "09-start-ssh-tunnel.json"),
            vec![FlagKind::Tunnel]
        );
        assert_eq!(
            kinds(&policy(), "10-start-port-forwarding-remote-host.json"),
            vec![FlagKind::Tunnel]
        );
    }

    #[test]
    fn tunnel_reason_names_the_port_and_host() {
        let flags = policy()
            .assess(&event("10-start-port-forwarding-remote-host.json"))
            .flags;
        assert!(
            flags[0].reason.contains("port 5432 on mydb."),
            "{}",
            flags[0].reason
        );
    }

    #[test]
    fn refused_start_is_only_denied_start() {
        assert_eq!(
            kinds(&policy(), "11-start-denied.json"),
            vec![FlagKind::DeniedStart]
        );
    }

    #[test]
    fn night_automation_without_mfa_raises_both() {
        assert_eq!(
            kinds(&policy(), "13-start-scheduled-automation.json"),
            vec![FlagKind::NoMfa, FlagKind::OffHours]
        );
    }

    #[test]
    fn resume_and_terminate_are_not_assessed() {
        assert_eq!(kinds(&policy(), "02-resume-role-with-mfa.json"), vec![]);
        assert_eq!(kinds(&policy(), "14-terminate-before-start.json"), vec![]);
    }

    #[test]
    fn exempt_principals_are_marked_but_keep_their_flags() {
        let mut policy = policy();
        policy.exempt_principals = parse_list("arn:aws:sts::111122223333:assumed-role/Batch/*");
        let assessment = policy.assess(&event("13-start-scheduled-automation.json"));
        assert!(assessment.exempt);
        assert_eq!(assessment.flags.len(), 2);
    }

    #[test]
    fn configured_action_and_fixed_severity_are_attached() {
        let mut policy = policy();
        policy
            .actions
            .insert(FlagKind::RootUser, FlagAction::Terminate);
        let flag = &policy.assess(&event("08-start-root.json")).flags[0];
        assert_eq!(
            (flag.severity, flag.action),
            (Severity::Critical, FlagAction::Terminate)
        );
    }
}
