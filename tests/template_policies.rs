//! Each function's IAM policy in template.yaml is enough for what the function does: the three
//! handlers run on the AWS adapters with credentials that carry only their own policy's actions,
//! against a moto server that enforces IAM, through the sample story in `events/`; the scanner
//! also reads a custom rule pack from Parameter Store, as with `RulesParameterName` set. A call
//! the template forgot to grant fails here with AccessDenied instead of in production.

#[path = "support/moto.rs"]
mod moto;

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use warden_core::alert::AlertKey;
use warden_core::aws::{DynamoStore, SnsNotifier, fetch_parameter};
use warden_core::config::WardenConfig;
use warden_core::directory::DescribeSessionsResponse;
use warden_core::handlers::reaper::Reaper;
use warden_core::handlers::recorder::Recorder;
use warden_core::handlers::scanner::Scanner;
use warden_core::local::{DryRunTerminator, RecordedDirectory};
use warden_core::ports::{AlertClaim, SessionStore};
use warden_core::rules::default_rules;

const TABLE: &str = "sessions";
/// The custom rule pack parameter the deployment under test names (`RulesParameterName`).
const RULES_PARAMETER: &str = "/warden/rules";
/// Requests moto serves before it enforces IAM: this test's CreateTable, CreateTopic and
/// PutParameter, then CreateUser, PutUserPolicy and CreateAccessKey for each of the functions.
const SET_UP_REQUESTS: usize = 3 + 3 * 3;

/// A moto server of this test's own, enforcing IAM once the set-up requests are spent.
struct EnforcingMoto {
    child: Child,
    endpoint: String,
}

impl Drop for EnforcingMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_enforcing_moto() -> EnforcingMoto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(moto::python())
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", SET_UP_REQUESTS.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python -m moto.server starts (scripts/test installs moto)");
    let server = EnforcingMoto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    // Only a TCP connect: an HTTP request would spend one of the unauthenticated requests.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

struct FunctionCredentials {
    access_key_id: String,
    secret_access_key: String,
}

/// Creates a user per function with the function's template policy; keyed by logical id.
fn function_users(endpoint: &str, topic_arn: &str) -> BTreeMap<String, FunctionCredentials> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(moto::python())
        .arg(root.join("tests/support/function_credentials.py"))
        .arg(root.join("template.yaml"))
        .args([endpoint, TABLE, topic_arn])
        .arg(format!("RulesParameterName={RULES_PARAMETER}"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "function_credentials.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let users: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    users
        .into_iter()
        .map(|(function, user)| {
            let text = |field: &str| user[field].as_str().unwrap().to_string();
            let credentials = FunctionCredentials {
                access_key_id: text("access_key_id"),
                secret_access_key: text("secret_access_key"),
            };
            (function, credentials)
        })
        .collect()
}

async fn config_as(endpoint: &str, user: &FunctionCredentials) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new(
        &user.access_key_id,
        &user.secret_access_key,
        None,
        None,
        "template-policy",
    );
    moto::sdk_config(endpoint)
        .await
        .to_builder()
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            credentials,
        ))
        .build()
}

fn events_in(folder: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let event = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (path, event)
        })
        .collect()
}

fn adapters(config: &aws_config::SdkConfig, topic_arn: &str) -> (DynamoStore, SnsNotifier) {
    let sns = aws_sdk_sns::config::Builder::from(config)
        .interceptor(PlusForSpace)
        .build();
    (
        DynamoStore::new(aws_sdk_dynamodb::Client::new(config), TABLE, 30),
        SnsNotifier::new(aws_sdk_sns::Client::from_conf(sns), topic_arn),
    )
}

/// moto re-encodes a form body with `+` for spaces before checking its signature, so an SNS
/// request signed over `%20` (the SDK's encoding) fails with SignatureDoesNotMatch when IAM is
/// enforced. Both mean a space in `application/x-www-form-urlencoded`; this switches the body to
/// moto's spelling before signing.
#[derive(Debug)]
struct PlusForSpace;

impl aws_sdk_sns::config::Intercept for PlusForSpace {
    fn name(&self) -> &'static str {
        "PlusForSpace"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_sns::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_sdk_sns::config::RuntimeComponents,
        _config: &mut aws_sdk_sns::config::ConfigBag,
    ) -> Result<(), aws_sdk_sns::error::BoxError> {
        let request = context.request_mut();
        let Some(body) = request.body().bytes() else {
            return Ok(());
        };
        let body = String::from_utf8_lossy(body).replace("%20", "+");
        request
            .headers_mut()
            .insert("content-length", body.len().to_string());
        *request.body_mut() = body.into();
        Ok(())
    }
}

/// Claims, releases, claims again and marks one alert: the path a failed publish takes.
async fn claim_release_and_mark(store: &DynamoStore, function: &str) {
    let key = AlertKey {
        session_id: format!("release-check-{function}"),
        kind: "no_mfa".into(),
    };
    let now = jiff::Timestamp::now();
    let later = now + jiff::SignedDuration::from_secs(30);
    assert_eq!(
        store.claim_alert(&key, "first", now, later).await,
        Ok(AlertClaim::Claimed)
    );
    store.release_alert(&key, "first").await.unwrap();
    assert_eq!(
        store.claim_alert(&key, "second", now, later).await,
        Ok(AlertClaim::Claimed)
    );
    store.mark_alert_sent(&key, now).await.unwrap();
}

#[tokio::test]
async fn each_function_needs_no_more_than_its_template_policy_grants() {
    if moto::endpoint().is_none() {
        return;
    }
    let moto_server = start_enforcing_moto();
    let endpoint = moto_server.endpoint.as_str();
    let setup = moto::sdk_config(endpoint).await;
    moto::create_table(&aws_sdk_dynamodb::Client::new(&setup), TABLE).await;
    let topic_arn = aws_sdk_sns::Client::new(&setup)
        .create_topic()
        .name("alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    aws_sdk_ssm::Client::new(&setup)
        .put_parameter()
        .name(RULES_PARAMETER)
        .value("disable = [\"cryptomining.miner\"]\n")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let users = function_users(endpoint, &topic_arn);
    let defaults = || WardenConfig::from_lookup(|_| None).unwrap();

    // IAM is enforced from here on: a call outside a policy is refused.
    let recorder_config = config_as(endpoint, &users["SessionRecorderFunction"]).await;
    let refused = aws_sdk_dynamodb::Client::new(&recorder_config)
        .delete_table()
        .table_name(TABLE)
        .send()
        .await;
    let refusal = format!("{:?}", refused.expect_err("DeleteTable is in no policy"));
    assert!(refusal.contains("AccessDenied"), "{refusal}");

    let (store, notifier) = adapters(&recorder_config, &topic_arn);
    let recorder = Recorder::new(store, notifier, DryRunTerminator::new(), defaults());
    let mut recorder_alerts = 0;
    for (path, event) in events_in("1-cloudtrail") {
        let recorded = recorder.handle(&event).await;
        let recorded = recorded.unwrap_or_else(|e| panic!("recorder on {}: {e}", path.display()));
        recorder_alerts += recorded.alerts.len();
    }
    assert!(recorder_alerts > 0, "the samples raise alerts");
    claim_release_and_mark(recorder.store(), "recorder").await;

    let scanner_config = config_as(endpoint, &users["TranscriptScannerFunction"]).await;
    let pack = fetch_parameter(&aws_sdk_ssm::Client::new(&scanner_config), RULES_PARAMETER).await;
    assert!(pack.unwrap().contains("cryptomining.miner"));
    let (store, notifier) = adapters(&scanner_config, &topic_arn);
    let scanner = Scanner::new(
        store,
        notifier,
        DryRunTerminator::new(),
        defaults(),
        default_rules(),
    );
    let mut findings = 0;
    for (path, event) in events_in("2-transcripts") {
        let scanned = scanner.handle(&event).await;
        let scanned = scanned.unwrap_or_else(|e| panic!("scanner on {}: {e}", path.display()));
        findings += scanned.new_findings;
    }
    assert!(
        findings > 0,
        "the sample transcripts hold forbidden commands"
    );
    claim_release_and_mark(scanner.store(), "scanner").await;

    let reaper_config = config_as(endpoint, &users["SessionReaperFunction"]).await;
    let (store, notifier) = adapters(&reaper_config, &topic_arn);
    let directory = RecordedDirectory::new();
    let mut reaper_events = events_in("3-reaper").into_iter();
    let (_, listing) = reaper_events.next().expect("a DescribeSessions response");
    directory.replace(serde_json::from_value::<DescribeSessionsResponse>(listing).unwrap());
    let (_, schedule) = reaper_events.next().expect("a scheduled event");
    let reaper = Reaper::new(
        store,
        notifier,
        DryRunTerminator::new(),
        directory,
        defaults(),
    );
    let reaped = reaper.handle(&schedule).await.unwrap();
    assert!(reaped.problems.is_empty(), "{:?}", reaped.problems);
    assert!(
        !reaped.ended.is_empty(),
        "the reaper closes the ended sample session"
    );
    assert!(
        !reaped.alerts.is_empty(),
        "the reaper alerts on the unlogged session"
    );
    claim_release_and_mark(reaper.store(), "reaper").await;
}
