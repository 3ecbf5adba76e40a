//! Which sessions `warden sessions list` shows: pure filters over session records.

use crate::glob::Glob;
use crate::ports::SessionFilter;
use crate::session::SessionRecord;
use jiff::{SignedDuration, Timestamp};

/// What an investigation asks for. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// Only sessions still active.
    pub active_only: bool,
    /// Only sessions with a flag or a finding.
    pub flagged: bool,
    /// A glob (`*`, `?`; case-insensitive) matched against the principal's name, ARN, principal
    /// id and access key, or the transcript's owner when CloudTrail never named one.
    pub user: Option<Glob>,
    /// A glob matched against the target instance (case-insensitive).
    pub instance: Option<Glob>,
    /// Sessions open at any time since: started since, still open, or ended since.
    pub since: Option<Timestamp>,
    /// The account the session was started in (or its principal's account).
    pub account: Option<String>,
    /// At most this many sessions, newest first.
    pub limit: usize,
}

impl SessionQuery {
    /// Whether conditions beyond `active_only` and the limit are set, so the store must hand
    /// over every candidate for them to be checked here.
    fn filters_records(&self) -> bool {
        self.flagged
            || self.user.is_some()
            || self.instance.is_some()
            || self.since.is_some()
            || self.account.is_some()
    }

    /// What to ask the store for: the active index when only active sessions are wanted, and
    /// every session when this query filters further (the limit then applies afterwards).
    pub fn store_filter(&self) -> SessionFilter {
        SessionFilter {
            active_only: self.active_only,
            limit: if self.filters_records() {
                usize::MAX
            } else {
                self.limit
            },
            oldest_first: false,
        }
    }

    pub fn matches(&self, s: &SessionRecord) -> bool {
        (!self.active_only || s.is_active())
            && (!self.flagged || !s.flags.is_empty() || s.finding_count > 0)
            && self.user.as_ref().is_none_or(|g| user_matches(g, s))
            && self
                .instance
                .as_ref()
                .is_none_or(|g| instance_matches(g, s))
            && self.since.is_none_or(|since| open_since(s, since))
            && self
                .account
                .as_deref()
                .is_none_or(|a| account_of(s) == Some(a))
    }

    /// The sessions this query selects, newest first, at most `limit`.
    pub fn select(&self, sessions: Vec<SessionRecord>) -> Vec<SessionRecord> {
        let mut selected: Vec<SessionRecord> =
            sessions.into_iter().filter(|s| self.matches(s)).collect();
        self.store_filter().sort(&mut selected);
        selected.truncate(self.limit);
        selected
    }
}

fn glob_matches(glob: &Glob, text: &str) -> bool {
    Glob::new(&glob.as_str().to_lowercase()).matches(&text.to_lowercase())
}

fn user_matches(glob: &Glob, s: &SessionRecord) -> bool {
    let mut names: Vec<&str> = Vec::new();
    if let Some(p) = &s.principal {
        names.push(&p.display_name);
        names.extend(p.arn.as_deref());
        names.extend(p.principal_id.as_deref());
        names.extend(p.access_key_id.as_deref());
        // The role session or user name at the end of the ARN, when it differs from the
        // display name (`root (alias)`).
        names.extend(p.arn.as_deref().and_then(|a| a.rsplit('/').next()));
    }
    if let Some(t) = &s.transcript {
        names.extend(t.owner_arn.as_deref());
        names.extend(t.owner_arn.as_deref().and_then(|a| a.rsplit('/').next()));
    }
    names.iter().any(|n| glob_matches(glob, n))
}

fn instance_matches(glob: &Glob, s: &SessionRecord) -> bool {
    let transcript = s.transcript.as_ref().and_then(|t| t.target.as_deref());
    s.target
        .as_deref()
        .into_iter()
        .chain(transcript)
        .any(|t| glob_matches(glob, t))
}

/// The account the session ran in: the one its store key names (a member account's session),
/// else CloudTrail's, else the principal's, else its ARN's.
pub fn account_of(s: &SessionRecord) -> Option<&str> {
    let arn = s
        .principal
        .as_ref()
        .and_then(|p| p.arn.as_deref())
        .or_else(|| s.transcript.as_ref().and_then(|t| t.owner_arn.as_deref()));
    s.keyed_account
        .as_deref()
        .or(s.account.as_deref())
        .or_else(|| s.principal.as_ref().and_then(|p| p.account_id.as_deref()))
        .or_else(|| {
            arn.and_then(|a| a.split(':').nth(4))
                .filter(|a| !a.is_empty())
        })
}

/// Whether the session was open at any time since `since`: still active, or it ended (or was
/// last heard of) at or after it.
fn open_since(s: &SessionRecord, since: Timestamp) -> bool {
    if s.is_active() {
        return true;
    }
    s.ended_at
        .or(s.last_event_at)
        .or(s.started_at)
        .is_some_and(|last| last >= since)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SinceError {
    #[error(
        "{0:?} is not a time: give an RFC 3339 time (2026-11-23T09:00:00Z, or with an offset), \
         a date (2026-11-23, midnight UTC) or an age (45s, 30m, 2h, 3d, 1w)"
    )]
    NotATime(String),
    #[error("{0:?} reaches back further than times go")]
    TooFarBack(String),
}

/// `--since`: an RFC 3339 time, a date (midnight UTC) or an age counted back from `now`
/// (`30m`, `2h`, `3d`, `1w`; `s` for seconds).
pub fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, SinceError> {
    let given = text.trim();
    let not_a_time = || SinceError::NotATime(text.to_string());
    if let Ok(at) = given.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(date) = given.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| not_a_time());
    }
    let split = given
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(not_a_time)?;
    let (number, unit) = given.split_at(split);
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(not_a_time()),
    };
    let too_far = || SinceError::TooFarBack(text.to_string());
    let count: i64 = number.parse().map_err(|_| {
        if number.is_empty() {
            not_a_time()
        } else {
            too_far()
        }
    })?;
    let seconds = count.checked_mul(seconds_per).ok_or_else(too_far)?;
    now.checked_sub(SignedDuration::from_secs(seconds))
        .map_err(|_| too_far())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Principal;
    use crate::policy::{FlagAction, FlagKind, Severity};
    use crate::session::{FlagRecord, SessionState, TranscriptSeen};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn session(id: &str, who: &str, target: &str, started: &str) -> SessionRecord {
        SessionRecord {
            principal: Some(Principal::from_arn(&format!(
                "arn:aws:sts::111122223333:assumed-role/Admin/{who}"
            ))),
            account: Some("111122223333".into()),
            target: Some(target.into()),
            started_at: Some(at(started)),
            last_event_at: Some(at(started)),
            ..SessionRecord::new(id)
        }
    }

    fn ended(mut s: SessionRecord, when: &str) -> SessionRecord {
        s.end(SessionState::Ended, at(when), "x".into(), "exit".into());
        s
    }

    fn query() -> SessionQuery {
        SessionQuery {
            limit: 50,
            ..SessionQuery::default()
        }
    }

    fn ids(sessions: &[SessionRecord]) -> Vec<&str> {
        sessions.iter().map(|s| s.session_id.as_str()).collect()
    }

    fn sample() -> Vec<SessionRecord> {
        let mut flagged = session("bob-1", "bob", "i-0b", "2026-11-23T13:00:00Z");
        flagged.flags.insert(
            FlagKind::NoMfa,
            FlagRecord {
                severity: Severity::High,
                action: FlagAction::Alert,
                reason: "no MFA".into(),
            },
        );
        let mut found = ended(
            session("carol-1", "carol", "i-0c", "2026-11-22T09:00:00Z"),
            "2026-11-22T10:00:00Z",
        );
        found.finding_count = 2;
        let transcript_only = SessionRecord {
            transcript: Some(TranscriptSeen {
                owner_arn: Some("arn:aws:iam::444455556666:user/mallory".into()),
                target: Some("i-0m".into()),
                ..TranscriptSeen::default()
            }),
            ..SessionRecord::new("mallory-1")
        };
        vec![
            ended(
                session("alice-1", "alice", "i-0a", "2026-11-20T09:00:00Z"),
                "2026-11-20T09:30:00Z",
            ),
            flagged,
            found,
            transcript_only,
        ]
    }

    #[test]
    fn no_condition_lists_everything_newest_first() {
        assert_eq!(
            ids(&query().select(sample())),
            ["bob-1", "carol-1", "alice-1", "mallory-1"]
        );
    }

    #[test]
    fn flagged_means_a_flag_or_a_finding() {
        let q = SessionQuery {
            flagged: true,
            ..query()
        };
        assert_eq!(ids(&q.select(sample())), ["bob-1", "carol-1"]);
    }

    #[test]
    fn user_matches_name_arn_or_the_transcript_owner_as_a_glob_in_any_case() {
        for (pattern, expected) in [
            ("bob", vec!["bob-1"]),
            ("BOB", vec!["bob-1"]),
            ("bo", vec![]),
            ("*/admin/*", vec!["bob-1", "carol-1", "alice-1"]),
            ("mallory", vec!["mallory-1"]),
            ("arn:aws:iam::444455556666:user/*", vec!["mallory-1"]),
        ] {
            let q = SessionQuery {
                user: Some(Glob::new(pattern)),
                ..query()
            };
            assert_eq!(ids(&q.select(sample())), expected, "{pattern}");
        }
    }

    #[test]
    fn instance_matches_the_target_or_the_transcripts() {
        let q = |pattern: &str| SessionQuery {
            instance: Some(Glob::new(pattern)),
            ..query()
        };
        assert_eq!(ids(&q("i-0c").select(sample())), ["carol-1"]);
        assert_eq!(ids(&q("I-0M").select(sample())), ["mallory-1"]);
        assert_eq!(ids(&q("i-0?").select(sample())).len(), 4);
    }

    #[test]
    fn account_comes_from_cloudtrail_or_the_principal_arn() {
        let q = |account: &str| SessionQuery {
            account: Some(account.into()),
            ..query()
        };
        assert_eq!(ids(&q("444455556666").select(sample())), ["mallory-1"]);
        assert_eq!(ids(&q("111122223333").select(sample())).len(), 3);
        assert!(q("999999999999").select(sample()).is_empty());
    }

    #[test]
    fn account_keeps_apart_equal_ids_of_two_accounts() {
        let home = SessionRecord {
            account: Some("111122223333".into()),
            ..SessionRecord::new("dup-1")
        };
        let member = SessionRecord::for_key("222233334444/dup-1");
        let q = |account: &str| SessionQuery {
            account: Some(account.into()),
            ..query()
        };
        let both = vec![home, member];
        let keys = |found: Vec<SessionRecord>| found.iter().map(|s| s.key()).collect::<Vec<_>>();
        assert_eq!(
            keys(q("222233334444").select(both.clone())),
            ["222233334444/dup-1"]
        );
        assert_eq!(keys(q("111122223333").select(both)), ["dup-1"]);
    }

    #[test]
    fn since_keeps_sessions_open_at_any_time_since() {
        let q = SessionQuery {
            since: Some(at("2026-11-22T09:45:00Z")),
            ..query()
        };
        // carol started before but ended after; bob and mallory are still open; alice ended
        // two days before.
        assert_eq!(ids(&q.select(sample())), ["bob-1", "carol-1", "mallory-1"]);
    }

    #[test]
    fn conditions_combine_and_the_limit_applies_after_them() {
        let q = SessionQuery {
            active_only: true,
            user: Some(Glob::new("*")),
            limit: 1,
            ..query()
        };
        assert_eq!(ids(&q.select(sample())), ["bob-1"]);
        assert_eq!(q.store_filter().limit, usize::MAX);
        let plain = SessionQuery {
            active_only: true,
            limit: 7,
            ..query()
        };
        assert_eq!(plain.store_filter().limit, 7);
    }

    #[test]
    fn since_takes_rfc3339_dates_and_ages() {
        let now = at("2026-11-23T12:00:00Z");
        for (given, expected) in [
            ("2026-11-23T09:00:00Z", "2026-11-23T09:00:00Z"),
            ("2026-11-23T10:00:00+01:00", "2026-11-23T09:00:00Z"),
            ("2026-11-20", "2026-11-20T00:00:00Z"),
            ("45s", "2026-11-23T11:59:15Z"),
            ("30m", "2026-11-23T11:30:00Z"),
            ("2h", "2026-11-23T10:00:00Z"),
            (" 3d ", "2026-11-20T12:00:00Z"),
            ("1w", "2026-11-16T12:00:00Z"),
        ] {
            assert_eq!(parse_since(given, now), Ok(at(expected)), "{given}");
        }
    }

    #[test]
    fn since_says_what_it_takes_when_it_cannot_read_a_time() {
        let now = at("2026-11-23T12:00:00Z");
        for bad in ["", "h", "2", "2 h", "2y", "-2h", "yesterday", "2026-13-01"] {
            let err = parse_since(bad, now).unwrap_err();
            assert_eq!(err, SinceError::NotATime(bad.into()), "{bad}");
            assert!(err.to_string().contains("RFC 3339"), "{err}");
        }
        for huge in ["99999999999999999999d", "9999999999999w", "999999999d"] {
            assert_eq!(
                parse_since(huge, now),
                Err(SinceError::TooFarBack(huge.into())),
                "{huge}"
            );
        }
    }
}
