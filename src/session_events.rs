//! `warden events session|schedule|describe-sessions`: the other events the functions receive,
//! made to order, so people build their own cases as with `sam local generate-event`.
//!
//! Shapes follow the samples in `events/`: an EventBridge `AWS API Call via CloudTrail` envelope
//! around a CloudTrail record, a `Scheduled Event`, and a `DescribeSessions` response as the
//! reaper's replay reads it. Ids are derived from the inputs, so the same command makes the same
//! event (and a redelivery of it is a true duplicate).

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Call {
    Start,
    Resume,
    Terminate,
}

impl Call {
    fn api_name(self) -> &'static str {
        match self {
            Call::Start => "StartSession",
            Call::Resume => "ResumeSession",
            Call::Terminate => "TerminateSession",
        }
    }
}

/// Who made the call, as CloudTrail's `userIdentity` shows it.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Identity {
    /// An assumed IAM role (`--role`), session name `--name`.
    Role,
    /// An IAM Identity Center permission set (`AWSReservedSSO_<role>_…`).
    Sso,
    /// An IAM user with long-term access keys (no session context, so no MFA).
    IamUser,
    /// The account's root user.
    Root,
}

#[derive(Args, Debug)]
pub struct SessionCallArgs {
    #[arg(long, value_enum, default_value = "start")]
    pub call: Call,
    #[arg(long, value_enum, default_value = "role")]
    pub identity: Identity,
    /// Role session name, IAM user name or SSO user.
    #[arg(long, default_value = "alice")]
    pub name: String,
    #[arg(long, default_value = "Operator")]
    pub role: String,
    /// Whether the credentials were authenticated with MFA (`mfaAuthenticated`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub mfa: bool,
    #[arg(long, default_value = "2026-11-24T10:21:48Z")]
    pub time: Timestamp,
    #[arg(long, default_value = "i-0a1b2c3d4e5f60718")]
    pub target: String,
    /// Session document; none means Session Manager's default shell.
    #[arg(long)]
    pub document: Option<String>,
    /// The start's reason (`aws ssm start-session --reason`), e.g. a change ticket.
    #[arg(long)]
    pub reason: Option<String>,
    /// The session id; made from the name and time when not given.
    #[arg(long)]
    pub session_id: Option<String>,
    /// The call failed with this error code (e.g. AccessDenied): no session was opened.
    #[arg(long)]
    pub denied: Option<String>,
    #[arg(long, default_value = "111122223333")]
    pub account: String,
    #[arg(long, default_value = "eu-west-1")]
    pub region: String,
    #[arg(long, default_value = "192.0.2.10")]
    pub source_ip: String,
}

#[derive(Args, Debug)]
pub struct ScheduleArgs {
    /// When the reaper's schedule fired.
    #[arg(long, default_value = "2026-11-29T00:00:00Z")]
    pub time: Timestamp,
    #[arg(long, default_value = "111122223333")]
    pub account: String,
    #[arg(long, default_value = "eu-west-1")]
    pub region: String,
}

#[derive(Args, Debug)]
pub struct DescribeSessionsArgs {
    /// One session per value: `SESSION_ID,TARGET,OWNER_ARN,START_TIME[,DOCUMENT]`.
    #[arg(long = "session", required = true)]
    pub sessions: Vec<String>,
}

pub fn session_call(args: SessionCallArgs) -> Result<ExitCode, String> {
    print(&session_call_event(&args)?)
}

pub fn schedule(args: ScheduleArgs) -> Result<ExitCode, String> {
    print(&schedule_event(&args))
}

pub fn describe_sessions(args: DescribeSessionsArgs) -> Result<ExitCode, String> {
    print(&describe_sessions_response(&args.sessions)?)
}

fn print(event: &Value) -> Result<ExitCode, String> {
    let text = serde_json::to_string_pretty(event).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub fn session_call_event(a: &SessionCallArgs) -> Result<Value, String> {
    if a.name.trim().is_empty() {
        return Err("--name must not be empty".to_string());
    }
    if a.call != Call::Start && (a.reason.is_some() || a.document.is_some()) {
        return Err("--reason and --document belong to a start (--call start)".to_string());
    }
    let time = a.time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let seed = format!(
        "{:?}{}{}{}{:?}",
        a.call, a.name, time, a.target, a.session_id
    );
    let session_id = match &a.session_id {
        Some(id) => id.clone(),
        None => format!(
            "{}-{}",
            a.name,
            &digest(&format!("session{}{time}", a.name))[..17]
        ),
    };
    warden_core::session_id::validate(&session_id)
        .map_err(|why| format!("--session-id `{session_id}`: {why}"))?;
    let mut request = serde_json::Map::new();
    match a.call {
        Call::Start => {
            request.insert("target".into(), json!(a.target));
            if let Some(document) = &a.document {
                request.insert("documentName".into(), json!(document));
            }
            if let Some(reason) = &a.reason {
                request.insert("reason".into(), json!(reason));
            }
        }
        Call::Resume | Call::Terminate => {
            request.insert("sessionId".into(), json!(session_id));
        }
    }
    let response = match (a.call, &a.denied) {
        (_, Some(_)) => Value::Null,
        (Call::Start | Call::Resume, None) => json!({
            "sessionId": session_id,
            "tokenValue": "Value hidden due to security reasons.",
            "streamUrl": format!(
                "wss://ssmmessages.{}.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe",
                a.region
            ),
        }),
        (Call::Terminate, None) => json!({"sessionId": session_id}),
    };
    let mut detail = json!({
        "eventVersion": "1.08",
        "userIdentity": user_identity(a, &time),
        "eventTime": time,
        "eventSource": "ssm.amazonaws.com",
        "eventName": a.call.api_name(),
        "awsRegion": a.region,
        "sourceIPAddress": a.source_ip,
        "userAgent": "aws-cli/2.21.2 md/command#ssm.start-session",
        "requestParameters": request,
        "responseElements": response,
        "requestID": uuid(&format!("request{seed}")),
        "eventID": uuid(&format!("event{seed}")),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "eventCategory": "Management",
    });
    if let Some(code) = &a.denied {
        detail["errorCode"] = json!(code);
        detail["errorMessage"] = json!(format!(
            "User is not authorized to perform: ssm:{} on resource: {}",
            a.call.api_name(),
            a.target
        ));
    }
    Ok(json!({
        "version": "0",
        "id": uuid(&format!("envelope{seed}")),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ssm",
        "account": a.account,
        "time": time,
        "region": a.region,
        "resources": [],
        "detail": detail,
    }))
}

fn user_identity(a: &SessionCallArgs, time: &str) -> Value {
    let account = &a.account;
    let role_identity = |role: &str| {
        let principal = format!("AROA{}", &digest(role)[..17].to_uppercase());
        json!({
            "type": "AssumedRole",
            "principalId": format!("{principal}:{}", a.name),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{}", a.name),
            "accountId": account,
            "accessKeyId": format!("ASIA{}", &digest(&a.name)[..16].to_uppercase()),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": principal,
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": time, "mfaAuthenticated": a.mfa.to_string()},
            },
        })
    };
    match a.identity {
        Identity::Role => role_identity(&a.role),
        Identity::Sso => role_identity(&format!(
            "AWSReservedSSO_{}_{}",
            a.role,
            &digest(&a.role)[..16]
        )),
        Identity::IamUser => json!({
            "type": "IAMUser",
            "principalId": format!("AIDA{}", &digest(&a.name)[..17].to_uppercase()),
            "arn": format!("arn:aws:iam::{account}:user/{}", a.name),
            "accountId": account,
            "accessKeyId": format!("AKIA{}", &digest(&a.name)[..16].to_uppercase()),
            "userName": a.name,
        }),
        Identity::Root => json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
            "accessKeyId": format!("ASIA{}", &digest("root")[..16].to_uppercase()),
            "sessionContext": {
                "attributes": {"creationDate": time, "mfaAuthenticated": a.mfa.to_string()},
            },
        }),
    }
}

pub fn schedule_event(a: &ScheduleArgs) -> Value {
    let time = a.time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({
        "version": "0",
        "id": uuid(&format!("schedule{time}")),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": a.account,
        "time": time,
        "region": a.region,
        "resources": [format!(
            "arn:aws:events:{}:{}:rule/session-warden-SessionReaperSchedule",
            a.region, a.account
        )],
        "detail": {},
    })
}

pub fn describe_sessions_response(specs: &[String]) -> Result<Value, String> {
    let mut sessions = Vec::new();
    for spec in specs {
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        let [id, target, owner, start, rest @ ..] = parts.as_slice() else {
            return Err(format!(
                "--session `{spec}`: expected SESSION_ID,TARGET,OWNER_ARN,START_TIME[,DOCUMENT]"
            ));
        };
        warden_core::session_id::validate(id)
            .map_err(|why| format!("--session `{spec}`: session id {why}"))?;
        let start: Timestamp = start
            .parse()
            .map_err(|e| format!("--session `{spec}`: start time `{start}`: {e}"))?;
        let document = rest
            .first()
            .copied()
            .unwrap_or("SSM-SessionManagerRunShell");
        sessions.push(json!({
            "SessionId": id,
            "Target": target,
            "Status": "Connected",
            "StartDate": start.as_second() as f64,
            "DocumentName": document,
            "Owner": owner,
            "OutputUrl": {},
            "MaxSessionDuration": "1440",
        }));
    }
    Ok(json!({"Sessions": sessions}))
}

/// 32 hex digits of an FNV-1a digest of `text` (two 64-bit rounds): stable, not secret.
fn digest(text: &str) -> String {
    let round = |seed: u64| {
        text.bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        round(0xcbf2_9ce4_8422_2325),
        round(0x8422_2325_cbf2_9ce4)
    )
}

/// A version-4-shaped UUID made from `text`.
fn uuid(text: &str) -> String {
    let d = digest(text);
    format!(
        "{}-{}-4{}-a{}-{}",
        &d[..8],
        &d[8..12],
        &d[13..16],
        &d[17..20],
        &d[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use warden_core::cloudtrail::parse_event;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SessionCallArgs,
    }

    fn made(argv: &[&str]) -> Value {
        let mut full = vec!["events-session"];
        full.extend_from_slice(argv);
        session_call_event(&Cli::parse_from(full).args).unwrap()
    }

    #[test]
    fn a_start_is_what_the_recorder_parses_with_every_field_given() {
        let event = made(&[
            "--name",
            "zoe",
            "--mfa",
            "false",
            "--reason",
            "CHG-7",
            "--document",
            "SSM-sudo",
        ]);
        let parsed = parse_event(&event).unwrap();
        assert_eq!(parsed.reason.as_deref(), Some("CHG-7"));
        assert_eq!(parsed.document.as_deref(), Some("SSM-sudo"));
        assert_eq!(
            parsed
                .identity
                .session_context
                .unwrap()
                .attributes
                .unwrap()
                .mfa_authenticated
                .as_deref(),
            Some("false")
        );
        assert!(parsed.session_id.unwrap().starts_with("zoe-"));
    }

    #[test]
    fn the_same_command_makes_the_same_event() {
        assert_eq!(made(&["--name", "zoe"]), made(&["--name", "zoe"]));
        assert_ne!(
            made(&["--name", "zoe"])["detail"]["eventID"],
            made(&["--name", "zoe", "--call", "terminate"])["detail"]["eventID"]
        );
    }

    #[test]
    fn a_denied_start_has_an_error_and_no_response() {
        let event = made(&["--denied", "AccessDenied"]);
        assert_eq!(event["detail"]["responseElements"], Value::Null);
        assert!(parse_event(&event).unwrap().failure.is_some());
    }

    #[test]
    fn a_terminate_names_the_session_it_ends() {
        let start = made(&["--name", "zoe"]);
        let id = start["detail"]["responseElements"]["sessionId"]
            .as_str()
            .unwrap();
        let end = made(&["--name", "zoe", "--call", "terminate", "--session-id", id]);
        assert_eq!(parse_event(&end).unwrap().session_id.as_deref(), Some(id));
    }

    #[test]
    fn a_describe_sessions_spec_needs_its_four_fields() {
        let ok = describe_sessions_response(&[
            "zoe-0123456789abcdef0,i-0abc,arn:aws:sts::1:assumed-role/R/zoe,2026-11-24T10:00:00Z"
                .into(),
        ])
        .unwrap();
        assert_eq!(ok["Sessions"][0]["StartDate"], 1_795_514_400.0);
        let err = describe_sessions_response(&["zoe-1,i-0abc".into()]).unwrap_err();
        assert!(
            err.contains("expected SESSION_ID,TARGET,OWNER_ARN,START_TIME"),
            "{err}"
        );
    }
}
