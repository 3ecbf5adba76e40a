//! Every delivery that touches one session (bob's, from the samples 03 and 04): its CloudTrail
//! start, resumes and termination, transcript batches with and without findings, and reaper runs
//! that see it open, for the tests that reorder, duplicate and race them (`tests/contention.rs`,
//! `tests/merge_properties.rs`).
//!
//! Every finding rule here alerts; none terminates. Whether Session Warden terminated a session
//! or found it already ended depends on which came first, so a terminate rule's recorded outcome
//! is order-dependent by design and is left out of these order-independence tests. The reaper
//! runs all see the session open and come within the grace periods, so what they do does not
//! depend on what the table held when they ran either: a reaper run alerts on what it observes at
//! its time (a session unrecorded for 15 minutes, a shell without a transcript for 10), which is
//! an observation, not a merge.
#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use warden_core::directory::{DescribeSessionsResponse, DescribedSession};
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, encode_subscription,
};

pub const SESSION_ID: &str = "bob-2731a0ce76f67ca89";
const OWNER: &str = "arn:aws:sts::111122223333:assumed-role/Admin/bob";
const TARGET: &str = "i-0c4d5e6f7a8b90123";

/// One delivery to one of the three handlers.
#[derive(Debug, Clone)]
pub enum Delivery {
    CloudTrail(Value),
    Transcript(Value),
    /// A reaper run at `at`, seeing Session Manager's state as `view`.
    Reaper {
        at: Timestamp,
        view: DescribeSessionsResponse,
    },
}

#[derive(Debug, Clone)]
pub struct Labelled {
    pub label: &'static str,
    pub delivery: Delivery,
}

fn read_json(file: &str) -> Value {
    let path = format!("{}/events/1-cloudtrail/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn start_time() -> Timestamp {
    "2026-11-23T13:02:11Z".parse().unwrap()
}

fn at(minutes: i64, seconds: i64) -> Timestamp {
    start_time() + SignedDuration::from_mins(minutes) + SignedDuration::from_secs(seconds)
}

fn resume(n: u64, minutes: i64) -> Value {
    let mut event = read_json("02-resume-role-with-mfa.json");
    let start = read_json("03-start-role-without-mfa.json");
    let time = at(minutes, 0).to_string();
    event["time"] = json!(time);
    event["id"] = json!(format!("20000000-0000-4000-8000-{n:012x}"));
    let d = &mut event["detail"];
    d["userIdentity"] = start["detail"]["userIdentity"].clone();
    d["eventTime"] = json!(time);
    d["eventID"] = json!(format!("30000000-0000-4000-8000-{n:012x}"));
    d["requestParameters"]["sessionId"] = json!(SESSION_ID);
    d["responseElements"]["sessionId"] = json!(SESSION_ID);
    d["responseElements"]["streamUrl"] = json!(format!(
        "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/{SESSION_ID}?role=publish_subscribe"
    ));
    event
}

/// A streamed transcript batch: one log event per pair of lines, a second apart.
fn batch(n: i64, minutes: i64, lines: &[&str]) -> Value {
    let log_events = lines
        .chunks(2)
        .enumerate()
        .map(|(i, chunk)| {
            let when = at(minutes, i as i64);
            let record = StreamRecord {
                event_version: Some("1.0".into()),
                event_time: Some(when.to_string()),
                aws_region: Some("eu-west-1".into()),
                target: Some(StreamTarget {
                    id: Some(TARGET.into()),
                }),
                user_identity: Some(StreamIdentity {
                    arn: Some(OWNER.into()),
                }),
                run_as_user: Some("ssm-user".into()),
                session_id: Some(SESSION_ID.into()),
                session_data: chunk.iter().map(|l| l.to_string()).collect(),
            };
            LogEvent {
                id: format!("{:0>20}{n:0>18}{i:0>18}", when.as_millisecond()),
                timestamp: when.as_millisecond(),
                message: serde_json::to_string(&record).unwrap(),
            }
        })
        .collect();
    encode_subscription(&LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: "111122223333".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: SESSION_ID.into(),
        subscription_filters: vec!["session-warden".into()],
        log_events,
    })
}

/// Session Manager listing the session open with `status`.
fn open_as(status: &str) -> DescribeSessionsResponse {
    DescribeSessionsResponse {
        sessions: vec![DescribedSession {
            session_id: SESSION_ID.into(),
            target: Some(TARGET.into()),
            status: Some(status.into()),
            start_date: Some(start_time() + SignedDuration::from_millis(400)),
            end_date: None,
            document_name: Some("SSM-SessionManagerRunShell".into()),
            owner: Some(OWNER.into()),
            reason: None,
        }],
        next_token: None,
    }
}

/// Each delivery once, in the order the events happened.
pub fn deliveries() -> Vec<Labelled> {
    let labelled = |label, delivery| Labelled { label, delivery };
    vec![
        labelled(
            "start",
            Delivery::CloudTrail(read_json("03-start-role-without-mfa.json")),
        ),
        labelled(
            "reaper +3m (connected)",
            Delivery::Reaper {
                at: at(3, 0),
                view: open_as("Connected"),
            },
        ),
        labelled(
            "transcript 1 (benign)",
            Delivery::Transcript(batch(
                1,
                4,
                &[
                    "sh-5.2$ id",
                    "uid=1001(ssm-user) gid=1001(ssm-user) groups=1001(ssm-user)",
                    "sh-5.2$ ls -la /opt/app",
                    "total 0",
                ],
            )),
        ),
        labelled(
            "transcript 2 (role credentials)",
            Delivery::Transcript(batch(
                2,
                5,
                &[
                    "sh-5.2$ curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                    "Admin",
                ],
            )),
        ),
        labelled(
            "reaper +6m (disconnected)",
            Delivery::Reaper {
                at: at(6, 0),
                view: open_as("Disconnected"),
            },
        ),
        labelled("resume 1", Delivery::CloudTrail(resume(1, 7))),
        labelled(
            "transcript 3 (history cleared)",
            Delivery::Transcript(batch(3, 8, &["sh-5.2$ history -c", "sh-5.2$ id"])),
        ),
        labelled(
            "reaper +9m (connected)",
            Delivery::Reaper {
                at: at(9, 0),
                view: open_as("Connected"),
            },
        ),
        labelled("resume 2", Delivery::CloudTrail(resume(2, 12))),
        labelled(
            "transcript 4 (audit stopped)",
            Delivery::Transcript(batch(
                4,
                13,
                &[
                    "sh-5.2$ tail -n 50 /var/log/messages",
                    "Nov 23 13:15:02 ip-10-0-1-5 systemd[1]: Started Session 12 of User ssm-user.",
                    "sh-5.2$ sudo systemctl stop auditd",
                    "sh-5.2$ exit",
                ],
            )),
        ),
        labelled(
            "terminate",
            Delivery::CloudTrail(read_json("04-terminate-role-without-mfa.json")),
        ),
    ]
}

/// A small deterministic generator (xorshift64*), so the tests need no random-number crate and a
/// seed reproduces a schedule.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// `total` deliveries: every one of `deliveries()` at least once, the rest duplicates, shuffled.
pub fn schedule(seed: u64, total: usize) -> Vec<Labelled> {
    let all = deliveries();
    let mut rng = Rng::new(seed);
    let mut out = all.clone();
    while out.len() < total {
        out.push(all[rng.below(all.len())].clone());
    }
    rng.shuffle(&mut out);
    out
}

/// The order of the states a session can be in: it may only move up.
pub fn state_rank(state: &str) -> u8 {
    match state {
        "active" => 0,
        "ended" => 1,
        "terminated" => 2,
        "denied" => 3,
        other => panic!("unknown state {other}"),
    }
}
