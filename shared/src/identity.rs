//! Who started a session, and what CloudTrail can tell about their MFA.

use crate::cloudtrail::UserIdentity;
use crate::glob::{Glob, any_matches};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Principal {
    /// `IAMUser`, `AssumedRole`, `FederatedUser`, `Root`, …, as CloudTrail names it.
    pub identity_type: String,
    pub arn: Option<String>,
    pub principal_id: Option<String>,
    pub account_id: Option<String>,
    /// The person or workload: IAM user name, role session name, federated user name.
    pub display_name: String,
    /// The role behind an assumed-role session (for IAM Identity Center, the permission set role).
    pub role_name: Option<String>,
    pub access_key_id: Option<String>,
}

/// MFA as far as AWS can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mfa {
    True,
    False,
    #[default]
    Unknown,
}

impl Mfa {
    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::True => "true",
            Mfa::False => "false",
            Mfa::Unknown => "unknown",
        }
    }
}

/// Where the MFA answer came from: decides whether an unknown answer is risky.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaEvidence {
    /// CloudTrail reported `mfaAuthenticated`.
    #[default]
    Reported,
    /// No `sessionContext`: long-term access keys, which cannot carry MFA.
    LongTermKeys,
    /// A federated role whose identity provider is trusted to enforce MFA: AWS reports `"false"`
    /// because it never sees the IdP's MFA.
    DelegatedToIdp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaAssessment {
    pub mfa: Mfa,
    pub evidence: MfaEvidence,
}

impl MfaAssessment {
    /// No MFA, or credentials that cannot have had it.
    pub fn lacks_mfa(&self) -> bool {
        match self.evidence {
            MfaEvidence::DelegatedToIdp => false,
            MfaEvidence::LongTermKeys => true,
            MfaEvidence::Reported => self.mfa != Mfa::True,
        }
    }
}

impl Principal {
    pub fn from_identity(identity: &UserIdentity) -> Principal {
        let identity_type = identity
            .identity_type
            .clone()
            .unwrap_or_else(|| "Unknown".to_string());
        let issuer = identity
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref());
        let role_name = match identity_type.as_str() {
            "AssumedRole" => issuer
                .and_then(|i| i.user_name.clone())
                .or_else(|| identity.arn.as_deref().and_then(role_from_assumed_role_arn)),
            _ => None,
        };
        let last_arn_segment = identity
            .arn
            .as_deref()
            .and_then(|arn| arn.rsplit('/').next());
        let display_name = match identity_type.as_str() {
            "Root" => Some(match &identity.user_name {
                Some(alias) => format!("root ({alias})"),
                None => "root".to_string(),
            }),
            "IAMUser" => identity
                .user_name
                .clone()
                .or(last_arn_segment.map(str::to_string)),
            _ => last_arn_segment.map(str::to_string),
        }
        .or_else(|| identity.principal_id.clone())
        .unwrap_or_else(|| "unknown".to_string());
        Principal {
            identity_type,
            arn: identity.arn.clone(),
            principal_id: identity.principal_id.clone(),
            account_id: identity.account_id.clone(),
            display_name,
            role_name,
            access_key_id: identity.access_key_id.clone(),
        }
    }

    /// What an ARN alone tells about its principal (for sessions known only from
    /// `DescribeSessions` or a transcript's stream record).
    pub fn from_arn(arn: &str) -> Principal {
        let resource = arn.split(':').nth(5).unwrap_or("");
        let mut parts = resource.split('/');
        let kind = parts.next().unwrap_or("");
        let identity_type = match kind {
            "assumed-role" => "AssumedRole",
            "user" => "IAMUser",
            "federated-user" => "FederatedUser",
            "root" => "Root",
            _ => "Unknown",
        };
        let display_name = match identity_type {
            "Root" => "root".to_string(),
            _ => arn.rsplit('/').next().unwrap_or(arn).to_string(),
        };
        Principal {
            identity_type: identity_type.to_string(),
            arn: Some(arn.to_string()),
            account_id: arn
                .split(':')
                .nth(4)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            display_name,
            role_name: role_from_assumed_role_arn(arn),
            ..Principal::default()
        }
    }

    pub fn is_root(&self) -> bool {
        self.identity_type == "Root" || self.arn.as_deref().is_some_and(|a| a.ends_with(":root"))
    }

    /// The ARN if known, else the principal id: the key operators match exemptions against.
    pub fn key(&self) -> &str {
        self.arn
            .as_deref()
            .or(self.principal_id.as_deref())
            .unwrap_or(&self.display_name)
    }
}

/// `arn:aws:sts::123:assumed-role/Role/session` → `Role`.
fn role_from_assumed_role_arn(arn: &str) -> Option<String> {
    let resource = arn.split(':').nth(5)?;
    let mut parts = resource.split('/');
    (parts.next()? == "assumed-role").then_some(())?;
    parts.next().map(str::to_string)
}

pub fn assess_mfa(
    identity: &UserIdentity,
    principal: &Principal,
    idp_mfa_roles: &[Glob],
) -> MfaAssessment {
    let reported = identity
        .session_context
        .as_ref()
        .and_then(|c| c.attributes.as_ref())
        .and_then(|a| a.mfa_authenticated.as_deref());
    match reported {
        Some(value) if value.eq_ignore_ascii_case("true") => MfaAssessment {
            mfa: Mfa::True,
            evidence: MfaEvidence::Reported,
        },
        Some(_) => {
            let delegated = principal
                .role_name
                .as_deref()
                .is_some_and(|role| any_matches(idp_mfa_roles, role));
            if delegated {
                MfaAssessment {
                    mfa: Mfa::Unknown,
                    evidence: MfaEvidence::DelegatedToIdp,
                }
            } else {
                MfaAssessment {
                    mfa: Mfa::False,
                    evidence: MfaEvidence::Reported,
                }
            }
        }
        None if identity.session_context.is_none()
            && identity.identity_type.as_deref() == Some("IAMUser") =>
        {
            MfaAssessment {
                mfa: Mfa::Unknown,
                evidence: MfaEvidence::LongTermKeys,
            }
        }
        None => MfaAssessment {
            mfa: Mfa::Unknown,
            evidence: MfaEvidence::Reported,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::parse_list;

    fn identity_of(file: &str) -> UserIdentity {
        crate::test_support::event(file).identity
    }

    fn assess(file: &str, idp: &str) -> (Principal, MfaAssessment) {
        let identity = identity_of(file);
        let principal = Principal::from_identity(&identity);
        let mfa = assess_mfa(&identity, &principal, &parse_list(idp));
        (principal, mfa)
    }

    #[test]
    fn assumed_role_with_mfa_is_true_and_named_by_session() {
        let (p, mfa) = assess("01-start-role-with-mfa.json", "");
        assert_eq!(p.display_name, "alice");
        assert_eq!(p.role_name.as_deref(), Some("Operator"));
        assert_eq!(mfa.mfa, Mfa::True);
        assert!(!mfa.lacks_mfa());
    }

    #[test]
    fn assumed_role_without_mfa_lacks_mfa() {
        let (_, mfa) = assess("03-start-role-without-mfa.json", "AWSReservedSSO_*");
        assert_eq!(mfa.mfa, Mfa::False);
        assert!(mfa.lacks_mfa());
    }

    #[test]
    fn iam_user_with_long_term_keys_is_unknown_but_lacks_mfa() {
        let (p, mfa) = assess("07-start-iam-user-access-keys.json", "");
        assert_eq!(p.display_name, "deploy-bot");
        assert_eq!(
            mfa,
            MfaAssessment {
                mfa: Mfa::Unknown,
                evidence: MfaEvidence::LongTermKeys
            }
        );
        assert!(mfa.lacks_mfa());
    }

    #[test]
    fn sso_role_is_delegated_to_the_idp_when_trusted() {
        let (p, mfa) = assess("06-start-sso-permission-set.json", "AWSReservedSSO_*");
        assert_eq!(p.display_name, "dana@example.com");
        assert_eq!(mfa.evidence, MfaEvidence::DelegatedToIdp);
        assert_eq!(mfa.mfa, Mfa::Unknown);
        assert!(!mfa.lacks_mfa());
    }

    #[test]
    fn sso_role_lacks_mfa_when_the_idp_is_not_trusted() {
        let (_, mfa) = assess("06-start-sso-permission-set.json", "");
        assert_eq!(mfa.mfa, Mfa::False);
        assert!(mfa.lacks_mfa());
    }

    #[test]
    fn root_is_recognised() {
        let (p, _) = assess("08-start-root.json", "");
        assert!(p.is_root());
        assert!(p.display_name.starts_with("root"));
    }

    #[test]
    fn federated_user_reports_false() {
        let (p, mfa) = assess("12-start-federated-user.json", "AWSReservedSSO_*");
        assert_eq!(p.identity_type, "FederatedUser");
        assert_eq!(p.display_name, "heidi");
        assert_eq!(p.role_name, None);
        assert!(mfa.lacks_mfa());
    }

    #[test]
    fn an_arn_alone_gives_type_name_and_role() {
        let p = Principal::from_arn("arn:aws:sts::111122223333:assumed-role/Admin/mallory");
        assert_eq!(
            (p.identity_type.as_str(), p.display_name.as_str()),
            ("AssumedRole", "mallory")
        );
        assert_eq!(p.role_name.as_deref(), Some("Admin"));
        assert_eq!(p.account_id.as_deref(), Some("111122223333"));
        assert!(Principal::from_arn("arn:aws:iam::111122223333:root").is_root());
        assert_eq!(
            Principal::from_arn("arn:aws:iam::1:user/deploy-bot").identity_type,
            "IAMUser"
        );
        assert_eq!(Principal::from_arn("garbage").identity_type, "Unknown");
    }

    #[test]
    fn role_name_falls_back_to_the_arn_when_the_issuer_is_missing() {
        assert_eq!(
            role_from_assumed_role_arn("arn:aws:sts::1:assumed-role/AWSReservedSSO_X_1/me@x.com")
                .as_deref(),
            Some("AWSReservedSSO_X_1")
        );
        assert_eq!(role_from_assumed_role_arn("arn:aws:iam::1:user/bob"), None);
    }
}
