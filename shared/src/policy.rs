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
}

impl FlagKind {
    pub const ALL: [FlagKind; 5] = [
        FlagKind::NoMfa,
        FlagKind::OffHours,
        FlagKind::RootUser,
        FlagKind::Tunnel,
        FlagKind::DeniedStart,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::NoMfa => "no_mfa",
            FlagKind::OffHours => "off_hours",
            FlagKind::RootUser => "root_user",
            FlagKind::Tunnel => "tunnel",
            FlagKind::DeniedStart => "denied_start",
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
            FlagKind::OffHours | FlagKind::Tunnel => Severity::Medium,
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
}

impl FlagAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagAction::Alert => "alert",
            FlagAction::Terminate => "terminate",
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
        }
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
