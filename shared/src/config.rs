//! Configuration from `WARDEN_*` environment variables, checked once at start-up.

use crate::alert::AlertFormat;
use crate::aws::TrustRoots;
use crate::business_hours::{BusinessHours, HoursError};
use crate::glob::parse_list;
use crate::handlers::actions::ALERT_CLAIM_LEASE;
use crate::policy::{
    DEFAULT_TUNNEL_DOCUMENTS, FlagAction, FlagKind, ReasonPolicy, StartPolicy, TicketPolicy,
};
use crate::transcript::payload::DEFAULT_MAX_DECOMPRESSED_BYTES;
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_TIMEZONE: &str = "UTC";
pub const DEFAULT_BUSINESS_HOURS: &str = "Mon-Fri 08:00-18:00";
/// IAM Identity Center enforces MFA at sign-in in most organisations, and AWS reports
/// `mfaAuthenticated: "false"` for every such session; flagging them all would bury real alerts.
pub const DEFAULT_IDP_MFA_ROLES: &str = "AWSReservedSSO_*";
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

#[derive(Debug, Clone)]
pub struct WardenConfig {
    pub table: Option<String>,
    pub topic_arn: Option<String>,
    pub policy: StartPolicy,
    /// False is dry run: terminations are reported as "would terminate", never made.
    pub enforce: bool,
    pub retention_days: u32,
    /// Cap on a decompressed CloudWatch Logs batch (`WARDEN_MAX_TRANSCRIPT_BYTES`).
    pub max_transcript_bytes: usize,
    /// The function's region (`AWS_REGION`), for console links when an event names none.
    pub region: Option<String>,
    pub reaper: ReaperConfig,
    /// How long a delivery may hold an alert's claim while it publishes: the functions'
    /// invocation limit ([`ALERT_CLAIM_LEASE`]). Not read from the environment: only tests that
    /// stand in for Lambda's minute-long retry delay shorten it.
    pub alert_claim_lease: jiff::SignedDuration,
    /// How alert messages are written (`WARDEN_ALERT_FORMAT`: text, json or chat).
    pub alert_format: AlertFormat,
    /// The accounts the stack watches and how it acts in them.
    pub accounts: AccountsConfig,
    /// The root certificates AWS calls trust (`WARDEN_TLS_ROOTS`: amazon or system).
    pub tls_roots: TrustRoots,
}

/// Why Session Warden cannot act in a member account.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MemberAccessError {
    #[error(
        "account {account} is not this stack's and no member role is configured to act in it \
         (set WARDEN_MEMBER_ROLE_NAME and list the account in WARDEN_MEMBER_ACCOUNTS)"
    )]
    NoRole { account: String },
    #[error("account {account} is not in WARDEN_MEMBER_ACCOUNTS: role {role} is not assumed there")]
    NotAMember { account: String, role: String },
    #[error("assuming role {role_arn} was refused: {reason}")]
    AssumeRefused { role_arn: String, reason: String },
    #[error("assuming role {role_arn} failed: {reason}")]
    AssumeUnavailable { role_arn: String, reason: String },
}

impl MemberAccessError {
    /// STS could not be reached or throttled: worth retrying. Every other case needs a person.
    pub fn is_transient(&self) -> bool {
        matches!(self, MemberAccessError::AssumeUnavailable { .. })
    }
}

/// The stack's own account and the member accounts it may act in (organization mode).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountsConfig {
    /// The account the functions run in (`WARDEN_HOME_ACCOUNT`; the template sets it). Its
    /// sessions are stored under their id alone, other accounts' under `<account>/<id>`
    /// (`crate::session::session_key`). Unset: one account is watched and every session is
    /// keyed by its id, as before accounts were told apart.
    pub home: Option<String>,
    /// The role assumed in a member account to terminate and describe its sessions
    /// (`WARDEN_MEMBER_ROLE_NAME`). Unset: nothing is done in other accounts.
    pub member_role_name: Option<String>,
    /// The external id the member role's trust policy requires (`WARDEN_MEMBER_EXTERNAL_ID`).
    pub member_external_id: Option<String>,
    /// The member accounts the role may be assumed in (`WARDEN_MEMBER_ACCOUNTS`); any other
    /// account is refused. The reaper also visits each of them.
    pub members: BTreeSet<String>,
    /// The regions the reaper visits in each member account besides those the table has
    /// sessions in (`WARDEN_MEMBER_REGIONS`; unset: the function's own region).
    pub member_regions: Vec<String>,
    /// Names people know accounts by (`WARDEN_ACCOUNT_NAMES`, `id=name,…`: their aliases or
    /// organization names), shown beside the account id in alerts.
    pub names: BTreeMap<String, String>,
}

impl AccountsConfig {
    /// The name `account` is known by, if one was given.
    pub fn name_of(&self, account: Option<&str>) -> Option<&str> {
        account.and_then(|a| self.names.get(a)).map(String::as_str)
    }

    /// The store key of session `id` in `account` ([`crate::session::session_key`]).
    pub fn key(&self, account: Option<&str>, id: &str) -> String {
        crate::session::session_key(self.home.as_deref(), account, id)
    }

    /// The role to assume to act in `account`: `Ok(None)` for the functions' own account (their
    /// own credentials), the role's ARN for an allowed member account, and an error naming the
    /// account (and role) for any other.
    pub fn role_for(&self, account: Option<&str>) -> Result<Option<String>, MemberAccessError> {
        let Some(account) = account.filter(|a| !self.is_home(Some(a))) else {
            return Ok(None);
        };
        let Some(role) = self.member_role_name.as_deref() else {
            return Err(MemberAccessError::NoRole {
                account: account.to_string(),
            });
        };
        if !self.members.contains(account) {
            return Err(MemberAccessError::NotAMember {
                account: account.to_string(),
                role: role.to_string(),
            });
        }
        Ok(Some(format!("arn:aws:iam::{account}:role/{role}")))
    }

    /// Whether `account` is the functions' own: an unknown account counts as their own (there
    /// is nobody else to ask); a named one only when it is `WARDEN_HOME_ACCOUNT`.
    pub fn is_home(&self, account: Option<&str>) -> bool {
        match (self.home.as_deref(), account) {
            (_, None) => true,
            (Some(home), Some(account)) => home == account,
            (None, Some(_)) => false,
        }
    }
}

/// What the reaper enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaperConfig {
    /// Sessions older than this are terminated (`WARDEN_MAX_SESSION_MINUTES`; unset: no limit).
    pub max_session_minutes: Option<u32>,
    /// A shell session with no transcript after this long is alerted (`WARDEN_TRANSCRIPT_GRACE_MINUTES`; 0 turns the check off).
    pub transcript_grace_minutes: u32,
    /// A shell session Session Manager lists as connected whose transcript's last log event is
    /// older than this is alerted as `transcript_stopped` (`WARDEN_TRANSCRIPT_SILENCE_MINUTES`;
    /// 0 turns the check off). Session Manager ends a session idle for its idle timeout (20
    /// minutes by default, 60 at most), so a connected session silent for longer is working
    /// unrecorded or running a command that prints nothing for that long.
    pub transcript_silence_minutes: u32,
    /// How long a session may lack its CloudTrail `StartSession` before it counts as
    /// unrecorded (`WARDEN_UNRECORDED_GRACE_MINUTES`): CloudTrail delivers within minutes, not at once.
    pub unrecorded_grace_minutes: u32,
    pub fail_mode: FailMode,
    /// Active sessions examined per run (`WARDEN_REAPER_BATCH`): the rest wait for the next run.
    pub batch: usize,
    /// Seconds a run may spend before it leaves the member accounts and regions it has not
    /// visited yet to the next run (`WARDEN_REAPER_BUDGET_SECONDS`; the reaper's timeout is
    /// 120 s). The functions' own account is always visited.
    pub budget_seconds: u32,
}

/// What to do about a shell session whose transcript never arrives or cannot be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Alert only: an outage of logging never locks people out.
    Open,
    /// Terminate: nobody works unrecorded.
    Closed,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var}: {source}")]
    Hours {
        var: &'static str,
        source: HoursError,
    },
    #[error("{var}=`{value}`: {reason}")]
    Invalid {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0} must be set")]
    Missing(&'static str),
}

impl WardenConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_string());
        let zone = get("WARDEN_TIMEZONE", DEFAULT_TIMEZONE);
        let hours = get("WARDEN_BUSINESS_HOURS", DEFAULT_BUSINESS_HOURS);
        let holidays = get("WARDEN_HOLIDAYS", "");
        let business_hours = BusinessHours::parse(&zone, &hours, &holidays).map_err(|source| {
            let var = match source {
                HoursError::UnknownZone(_) | HoursError::NoZoneDatabase(_) => "WARDEN_TIMEZONE",
                HoursError::BadHours { .. } => "WARDEN_BUSINESS_HOURS",
                HoursError::BadHoliday(_) => "WARDEN_HOLIDAYS",
            };
            ConfigError::Hours { var, source }
        })?;
        let policy = StartPolicy {
            business_hours,
            idp_mfa_roles: parse_list(&get("WARDEN_IDP_MFA_ROLES", DEFAULT_IDP_MFA_ROLES)),
            exempt_principals: parse_list(&get("WARDEN_EXEMPT_PRINCIPALS", "")),
            tunnel_documents: parse_list(&get("WARDEN_TUNNEL_DOCUMENTS", DEFAULT_TUNNEL_DOCUMENTS)),
            actions: parse_flag_actions(&get("WARDEN_FLAG_ACTIONS", ""))?,
            tickets: parse_tickets(&get)?,
        };
        Ok(WardenConfig {
            table: lookup("WARDEN_TABLE").filter(|t| !t.is_empty()),
            topic_arn: lookup("WARDEN_TOPIC_ARN").filter(|t| !t.is_empty()),
            policy,
            enforce: parse_bool("WARDEN_ENFORCE", &get("WARDEN_ENFORCE", "true"))?,
            retention_days: parse_days(&get(
                "WARDEN_RETENTION_DAYS",
                &DEFAULT_RETENTION_DAYS.to_string(),
            ))?,
            max_transcript_bytes: max_transcript_bytes(&lookup)?,
            region: lookup("AWS_REGION").filter(|r| !r.is_empty()),
            reaper: ReaperConfig {
                max_session_minutes: match lookup("WARDEN_MAX_SESSION_MINUTES")
                    .filter(|v| !v.trim().is_empty())
                {
                    Some(v) => Some(parse_minutes("WARDEN_MAX_SESSION_MINUTES", &v, 1)?),
                    None => None,
                },
                transcript_grace_minutes: parse_minutes(
                    "WARDEN_TRANSCRIPT_GRACE_MINUTES",
                    &get("WARDEN_TRANSCRIPT_GRACE_MINUTES", "10"),
                    0,
                )?,
                transcript_silence_minutes: parse_minutes(
                    "WARDEN_TRANSCRIPT_SILENCE_MINUTES",
                    &get("WARDEN_TRANSCRIPT_SILENCE_MINUTES", "70"),
                    0,
                )?,
                unrecorded_grace_minutes: parse_minutes(
                    "WARDEN_UNRECORDED_GRACE_MINUTES",
                    &get("WARDEN_UNRECORDED_GRACE_MINUTES", "15"),
                    0,
                )?,
                fail_mode: match get("WARDEN_FAIL_MODE", "open").trim() {
                    "open" => FailMode::Open,
                    "closed" => FailMode::Closed,
                    other => {
                        return Err(ConfigError::Invalid {
                            var: "WARDEN_FAIL_MODE",
                            value: other.to_string(),
                            reason: "expected open or closed".to_string(),
                        });
                    }
                },
                batch: parse_minutes("WARDEN_REAPER_BATCH", &get("WARDEN_REAPER_BATCH", "500"), 1)?
                    as usize,
                budget_seconds: parse_minutes(
                    "WARDEN_REAPER_BUDGET_SECONDS",
                    &get("WARDEN_REAPER_BUDGET_SECONDS", "90"),
                    0,
                )?,
            },
            alert_claim_lease: ALERT_CLAIM_LEASE,
            alert_format: parse_choice(
                "WARDEN_ALERT_FORMAT",
                &get("WARDEN_ALERT_FORMAT", "text"),
                AlertFormat::parse,
                "text, json or chat",
            )?,
            accounts: parse_accounts(&lookup)?,
            tls_roots: parse_choice(
                "WARDEN_TLS_ROOTS",
                &get("WARDEN_TLS_ROOTS", "amazon"),
                TrustRoots::parse,
                "amazon (Amazon Trust Services' roots) or system",
            )?,
        })
    }

    pub fn require_table(&self) -> Result<&str, ConfigError> {
        self.table
            .as_deref()
            .ok_or(ConfigError::Missing("WARDEN_TABLE"))
    }

    pub fn require_topic(&self) -> Result<&str, ConfigError> {
        self.topic_arn
            .as_deref()
            .ok_or(ConfigError::Missing("WARDEN_TOPIC_ARN"))
    }
}

/// An AWS account id: twelve digits.
fn parse_account(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err(ConfigError::Invalid {
            var,
            value: value.to_string(),
            reason: "expected a 12-digit AWS account id".to_string(),
        })
    }
}

/// The items of a comma-separated setting, trimmed, empty ones left out.
fn comma_separated(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|i| !i.is_empty())
}

/// `WARDEN_HOME_ACCOUNT`, `WARDEN_MEMBER_ROLE_NAME`, `WARDEN_MEMBER_EXTERNAL_ID`,
/// `WARDEN_MEMBER_ACCOUNTS`, `WARDEN_MEMBER_REGIONS` and `WARDEN_ACCOUNT_NAMES`.
fn parse_accounts(lookup: &impl Fn(&str) -> Option<String>) -> Result<AccountsConfig, ConfigError> {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let home = match set("WARDEN_HOME_ACCOUNT") {
        Some(v) => Some(parse_account("WARDEN_HOME_ACCOUNT", &v)?),
        None => None,
    };
    let member_role_name = match set("WARDEN_MEMBER_ROLE_NAME") {
        Some(v) => {
            let name = v.trim();
            // IAM role names: 1 to 64 of [A-Za-z0-9+=,.@_-] (a path is not part of the name).
            let valid = name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !valid {
                return Err(ConfigError::Invalid {
                    var: "WARDEN_MEMBER_ROLE_NAME",
                    value: name.to_string(),
                    reason: "expected an IAM role name: up to 64 letters, digits or +=,.@_-"
                        .to_string(),
                });
            }
            Some(name.to_string())
        }
        None => None,
    };
    let mut members = BTreeSet::new();
    for item in comma_separated(&set("WARDEN_MEMBER_ACCOUNTS").unwrap_or_default()) {
        members.insert(parse_account("WARDEN_MEMBER_ACCOUNTS", item)?);
    }
    let mut member_regions = Vec::new();
    for item in comma_separated(&set("WARDEN_MEMBER_REGIONS").unwrap_or_default()) {
        let valid = item
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(ConfigError::Invalid {
                var: "WARDEN_MEMBER_REGIONS",
                value: item.to_string(),
                reason: "expected region names such as eu-west-1, comma-separated".to_string(),
            });
        }
        if !member_regions.iter().any(|r| r == item) {
            member_regions.push(item.to_string());
        }
    }
    let mut names = BTreeMap::new();
    for item in comma_separated(&set("WARDEN_ACCOUNT_NAMES").unwrap_or_default()) {
        let Some((account, name)) = item.split_once('=') else {
            return Err(ConfigError::Invalid {
                var: "WARDEN_ACCOUNT_NAMES",
                value: item.to_string(),
                reason: "expected account=name pairs, comma-separated".to_string(),
            });
        };
        // A name goes into alert bodies: printable, short, no markup of its own.
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > 64
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || " .-_@()".contains(c))
        {
            return Err(ConfigError::Invalid {
                var: "WARDEN_ACCOUNT_NAMES",
                value: item.to_string(),
                reason: "expected a name of up to 64 letters, digits, spaces or .-_@()".to_string(),
            });
        }
        names.insert(
            parse_account("WARDEN_ACCOUNT_NAMES", account.trim())?,
            name.to_string(),
        );
    }
    Ok(AccountsConfig {
        home,
        member_role_name,
        member_external_id: set("WARDEN_MEMBER_EXTERNAL_ID").map(|v| v.trim().to_string()),
        members,
        member_regions,
        names,
    })
}

/// `root_user=terminate,no_mfa=alert`
fn parse_flag_actions(value: &str) -> Result<BTreeMap<FlagKind, FlagAction>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var: "WARDEN_FLAG_ACTIONS",
        value: value.to_string(),
        reason,
    };
    let mut actions = BTreeMap::new();
    for item in comma_separated(value) {
        let (flag, action) = item
            .split_once('=')
            .ok_or_else(|| invalid(format!("`{item}` is not flag=action")))?;
        let kind = FlagKind::parse(flag.trim()).ok_or_else(|| {
            let known: Vec<_> = FlagKind::ALL.iter().map(|k| k.as_str()).collect();
            invalid(format!(
                "unknown flag `{}` (known: {})",
                flag.trim(),
                known.join(", ")
            ))
        })?;
        let action = match action.trim() {
            "alert" => FlagAction::Alert,
            "terminate" => FlagAction::Terminate,
            "record" => FlagAction::Record,
            other => {
                return Err(invalid(format!(
                    "unknown action `{other}` (alert, terminate or record)"
                )));
            }
        };
        if kind == FlagKind::DeniedStart && action == FlagAction::Terminate {
            return Err(invalid(
                "a denied start has no session to terminate".to_string(),
            ));
        }
        actions.insert(kind, action);
    }
    Ok(actions)
}

/// `WARDEN_REASON_POLICY` (off, off_hours, always), `WARDEN_REASON_PATTERN` (a regular
/// expression a ticket must match) and `WARDEN_REASON_EXCUSES` (flags a ticket downgrades).
fn parse_tickets(get: &impl Fn(&str, &str) -> String) -> Result<TicketPolicy, ConfigError> {
    let policy_text = get("WARDEN_REASON_POLICY", "off");
    let policy = match policy_text.trim() {
        "off" => ReasonPolicy::Off,
        "off_hours" => ReasonPolicy::OffHours,
        "always" => ReasonPolicy::Always,
        other => {
            return Err(ConfigError::Invalid {
                var: "WARDEN_REASON_POLICY",
                value: other.to_string(),
                reason: "expected off, off_hours or always".to_string(),
            });
        }
    };
    let pattern_text = get("WARDEN_REASON_PATTERN", "");
    let pattern = match pattern_text.trim() {
        "" => None,
        text => Some(
            regex::RegexBuilder::new(text)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| ConfigError::Invalid {
                    var: "WARDEN_REASON_PATTERN",
                    value: text.to_string(),
                    reason: e.to_string(),
                })?,
        ),
    };
    let excuses_text = get("WARDEN_REASON_EXCUSES", "");
    let mut excuses = Vec::new();
    for name in comma_separated(&excuses_text) {
        match FlagKind::parse(name) {
            Some(FlagKind::NoReason) | None => {
                let known: Vec<_> = FlagKind::ALL
                    .iter()
                    .filter(|k| **k != FlagKind::NoReason)
                    .map(|k| k.as_str())
                    .collect();
                return Err(ConfigError::Invalid {
                    var: "WARDEN_REASON_EXCUSES",
                    value: excuses_text.clone(),
                    reason: format!(
                        "`{name}` is not a flag a ticket can excuse (known: {})",
                        known.join(", ")
                    ),
                });
            }
            Some(kind) => excuses.push(kind),
        }
    }
    Ok(TicketPolicy {
        policy,
        pattern,
        excuses,
    })
}

/// One of a fixed set of words; `expected` lists them for the error.
fn parse_choice<T>(
    var: &'static str,
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<T, ConfigError> {
    parse(value).ok_or_else(|| ConfigError::Invalid {
        var,
        value: value.trim().to_string(),
        reason: format!("expected {expected}"),
    })
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            var,
            value: value.to_string(),
            reason: "expected true or false".to_string(),
        }),
    }
}

/// A whole number of at least `min`, at most a year of minutes.
fn parse_minutes(var: &'static str, value: &str, min: u32) -> Result<u32, ConfigError> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (min..=525_600).contains(m))
        .ok_or_else(|| ConfigError::Invalid {
            var,
            value: value.to_string(),
            reason: format!("expected a whole number from {min} to 525600"),
        })
}

/// `WARDEN_MAX_TRANSCRIPT_BYTES` alone, read and checked as [`WardenConfig::from_env`] reads
/// it: for `warden scan`, which holds a subscription event to the Lambda's cap and needs no
/// other setting.
pub fn max_transcript_bytes_from_env() -> Result<usize, ConfigError> {
    max_transcript_bytes(&|name: &str| std::env::var(name).ok())
}

fn max_transcript_bytes(lookup: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    match lookup("WARDEN_MAX_TRANSCRIPT_BYTES") {
        Some(value) => parse_bytes(&value),
        None => Ok(DEFAULT_MAX_DECOMPRESSED_BYTES),
    }
}

/// Between 64 KiB and 64 MiB: below, real batches would fail; above, a 128 MB function would.
fn parse_bytes(value: &str) -> Result<usize, ConfigError> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|b| (64 * 1024..=64 * 1024 * 1024).contains(b))
        .ok_or_else(|| ConfigError::Invalid {
            var: "WARDEN_MAX_TRANSCRIPT_BYTES",
            value: value.to_string(),
            reason: "expected a byte count from 65536 to 67108864".to_string(),
        })
}

fn parse_days(value: &str) -> Result<u32, ConfigError> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=36_500).contains(d))
        .ok_or_else(|| ConfigError::Invalid {
            var: "WARDEN_RETENTION_DAYS",
            value: value.to_string(),
            reason: "expected a whole number of days from 1 to 36500".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<WardenConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WardenConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let c = config(&[]).unwrap();
        assert!(c.enforce);
        assert_eq!(c.retention_days, DEFAULT_RETENTION_DAYS);
        assert_eq!(c.policy.business_hours.zone_name(), "UTC");
        assert_eq!(c.policy.idp_mfa_roles.len(), 1);
        assert_eq!(c.policy.action_for(FlagKind::RootUser), FlagAction::Alert);
        assert!(c.require_table().is_err());
    }

    #[test]
    fn member_access_is_read_from_its_variables() {
        let c = config(&[
            ("WARDEN_HOME_ACCOUNT", "111122223333"),
            ("WARDEN_MEMBER_ROLE_NAME", "SessionWardenMember"),
            ("WARDEN_MEMBER_EXTERNAL_ID", "warden-ext"),
            ("WARDEN_MEMBER_ACCOUNTS", "222233334444, 444455556666"),
            ("WARDEN_MEMBER_REGIONS", "eu-west-1,us-east-1,eu-west-1"),
        ])
        .unwrap();
        let a = &c.accounts;
        assert_eq!(a.home.as_deref(), Some("111122223333"));
        assert_eq!(a.member_role_name.as_deref(), Some("SessionWardenMember"));
        assert_eq!(a.member_external_id.as_deref(), Some("warden-ext"));
        assert_eq!(
            a.members.iter().map(String::as_str).collect::<Vec<_>>(),
            ["222233334444", "444455556666"]
        );
        assert_eq!(a.member_regions, ["eu-west-1", "us-east-1"]);
    }

    #[test]
    fn without_member_variables_only_the_home_account_is_watched() {
        let a = config(&[]).unwrap().accounts;
        assert_eq!(a, AccountsConfig::default());
        assert_eq!(a.key(Some("222233334444"), "alice-1"), "alice-1");
        assert!(matches!(
            a.role_for(Some("222233334444")),
            Err(MemberAccessError::NoRole { .. })
        ));
    }

    fn members() -> AccountsConfig {
        config(&[
            ("WARDEN_HOME_ACCOUNT", "111122223333"),
            ("WARDEN_MEMBER_ROLE_NAME", "SessionWardenMember"),
            ("WARDEN_MEMBER_ACCOUNTS", "222233334444"),
        ])
        .unwrap()
        .accounts
    }

    #[test]
    fn accounts_are_named_as_people_know_them() {
        let accounts = config(&[(
            "WARDEN_ACCOUNT_NAMES",
            "111122223333=security, 222233334444 = payments-prod",
        )])
        .unwrap()
        .accounts;
        assert_eq!(
            accounts.name_of(Some("222233334444")),
            Some("payments-prod")
        );
        assert_eq!(accounts.name_of(Some("999988887777")), None);
        assert_eq!(accounts.name_of(None), None);
    }

    #[test]
    fn an_account_name_with_markup_or_without_an_account_is_refused() {
        for value in ["222233334444=<b>prod</b>", "payments-prod", "2222=payments"] {
            let err = config(&[("WARDEN_ACCOUNT_NAMES", value)]).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        var: "WARDEN_ACCOUNT_NAMES",
                        ..
                    }
                ),
                "{value}: {err}"
            );
        }
    }

    #[test]
    fn the_home_account_acts_with_its_own_credentials() {
        assert_eq!(members().role_for(Some("111122223333")), Ok(None));
        assert_eq!(members().role_for(None), Ok(None));
    }

    #[test]
    fn an_allowed_member_account_is_reached_through_the_member_role() {
        assert_eq!(
            members().role_for(Some("222233334444")).unwrap().as_deref(),
            Some("arn:aws:iam::222233334444:role/SessionWardenMember")
        );
    }

    #[test]
    fn an_account_outside_the_allow_list_is_refused_naming_account_and_role() {
        let err = members().role_for(Some("999988887777")).unwrap_err();
        assert_eq!(
            err,
            MemberAccessError::NotAMember {
                account: "999988887777".into(),
                role: "SessionWardenMember".into()
            }
        );
        assert!(err.to_string().contains("999988887777"), "{err}");
    }

    #[test]
    fn without_a_role_name_no_member_account_is_acted_in() {
        let accounts = AccountsConfig {
            member_role_name: None,
            ..members()
        };
        let err = accounts.role_for(Some("222233334444")).unwrap_err();
        assert!(err.to_string().contains("WARDEN_MEMBER_ROLE_NAME"), "{err}");
    }

    #[test]
    fn a_malformed_account_id_names_its_variable() {
        for var in ["WARDEN_HOME_ACCOUNT", "WARDEN_MEMBER_ACCOUNTS"] {
            let err = config(&[(var, "2222-3333-4444")]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { var: v, .. } if v == var),
                "{err}"
            );
        }
    }

    #[test]
    fn a_role_arn_is_not_a_role_name() {
        let err = config(&[(
            "WARDEN_MEMBER_ROLE_NAME",
            "arn:aws:iam::222233334444:role/Warden",
        )])
        .unwrap_err();
        assert!(err.to_string().contains("WARDEN_MEMBER_ROLE_NAME"), "{err}");
    }

    #[test]
    fn flag_actions_are_parsed_per_flag() {
        let c = config(&[("WARDEN_FLAG_ACTIONS", "root_user=terminate, no_mfa=alert")]).unwrap();
        assert_eq!(
            c.policy.action_for(FlagKind::RootUser),
            FlagAction::Terminate
        );
        assert_eq!(c.policy.action_for(FlagKind::NoMfa), FlagAction::Alert);
        assert_eq!(c.policy.action_for(FlagKind::Tunnel), FlagAction::Alert);
    }

    #[test]
    fn reason_policy_settings_are_read_and_checked() {
        let c = config(&[
            ("WARDEN_REASON_POLICY", "off_hours"),
            ("WARDEN_REASON_PATTERN", "^(CHG|INC)-[0-9]+"),
            ("WARDEN_REASON_EXCUSES", "off_hours, no_mfa"),
        ])
        .unwrap();
        assert_eq!(c.policy.tickets.policy, ReasonPolicy::OffHours);
        assert!(c.policy.tickets.accepts(Some("INC-42 disk full")));
        assert!(!c.policy.tickets.accepts(Some("fixing things")));
        assert_eq!(
            c.policy.tickets.excuses,
            [FlagKind::OffHours, FlagKind::NoMfa]
        );
        for (var, value, says) in [
            (
                "WARDEN_REASON_POLICY",
                "sometimes",
                "off, off_hours or always",
            ),
            ("WARDEN_REASON_PATTERN", "(CHG", "unclosed group"),
            (
                "WARDEN_REASON_EXCUSES",
                "no_reason",
                "not a flag a ticket can excuse",
            ),
        ] {
            let err = config(&[(var, value)]).unwrap_err().to_string();
            assert!(err.contains(var) && err.contains(says), "{err}");
        }
    }

    #[test]
    fn alert_format_is_text_unless_set_and_a_typo_is_refused() {
        assert_eq!(config(&[]).unwrap().alert_format, AlertFormat::Text);
        let chat = config(&[("WARDEN_ALERT_FORMAT", "chat")]).unwrap();
        assert_eq!(chat.alert_format, AlertFormat::Chat);
        let err = config(&[("WARDEN_ALERT_FORMAT", "slack")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WARDEN_ALERT_FORMAT") && err.contains("text, json or chat"),
            "{err}"
        );
    }

    #[test]
    fn aws_calls_trust_amazon_roots_unless_told_to_trust_the_system() {
        assert_eq!(config(&[]).unwrap().tls_roots, TrustRoots::Amazon);
        let system = config(&[("WARDEN_TLS_ROOTS", "system")]).unwrap();
        assert_eq!(system.tls_roots, TrustRoots::System);
        let err = config(&[("WARDEN_TLS_ROOTS", "none")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WARDEN_TLS_ROOTS=`none`") && err.contains("amazon"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_variable_and_value() {
        let err = config(&[("WARDEN_FLAG_ACTIONS", "root=terminate")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WARDEN_FLAG_ACTIONS") && err.contains("unknown flag `root`"),
            "{err}"
        );
        let err = config(&[("WARDEN_TIMEZONE", "Europe/Atlantis")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("WARDEN_TIMEZONE") && err.contains("Europe/Atlantis"),
            "{err}"
        );
        let err = config(&[("WARDEN_HOLIDAYS", "2026-12-25,Xmas")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("WARDEN_HOLIDAYS") && err.contains("Xmas"),
            "{err}"
        );
        let err = config(&[("WARDEN_ENFORCE", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WARDEN_ENFORCE=`maybe`"), "{err}");
        assert!(config(&[("WARDEN_RETENTION_DAYS", "0")]).is_err());
    }

    #[test]
    fn denied_start_cannot_terminate() {
        let err = config(&[("WARDEN_FLAG_ACTIONS", "denied_start=terminate")]).unwrap_err();
        assert!(err.to_string().contains("no session to terminate"));
    }

    #[test]
    fn reaper_settings_have_defaults_and_named_errors() {
        let c = config(&[]).unwrap();
        assert_eq!(c.reaper.max_session_minutes, None);
        assert_eq!(c.reaper.transcript_grace_minutes, 10);
        assert_eq!(c.reaper.transcript_silence_minutes, 70);
        assert_eq!(c.reaper.fail_mode, FailMode::Open);
        let c = config(&[
            ("WARDEN_MAX_SESSION_MINUTES", "480"),
            ("WARDEN_FAIL_MODE", "closed"),
        ])
        .unwrap();
        assert_eq!(c.reaper.max_session_minutes, Some(480));
        assert_eq!(c.reaper.fail_mode, FailMode::Closed);
        let err = config(&[("WARDEN_FAIL_MODE", "ajar")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WARDEN_FAIL_MODE=`ajar`"), "{err}");
        assert!(config(&[("WARDEN_MAX_SESSION_MINUTES", "0")]).is_err());
    }

    #[test]
    fn enforce_false_is_dry_run() {
        assert!(!config(&[("WARDEN_ENFORCE", "false")]).unwrap().enforce);
    }
}
