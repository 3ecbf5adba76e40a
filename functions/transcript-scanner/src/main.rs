//! transcript-scanner: a CloudWatch Logs subscription delivers session transcripts; forbidden
//! commands are recorded, alerted and, where a rule says so, the session is terminated.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use warden_core::aws::{
    DynamoStore, SnsNotifier, SsmTerminator, dynamodb_sdk, sdk_config, sns_sdk, ssm_sdk,
};
use warden_core::config::WardenConfig;
use warden_core::handlers::scanner::Scanner;
use warden_core::rules::load_configured_rules;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_core::telemetry::init_lambda();
    let config = WardenConfig::from_env().map_err(init_failure)?;
    let table = config.require_table().map_err(init_failure)?;
    let topic = config.require_topic().map_err(init_failure)?;
    let rules = load_configured_rules();
    let sdk = sdk_config(None).await;
    let store = DynamoStore::new(
        dynamodb_sdk::Client::new(&sdk),
        table,
        config.retention_days,
    );
    let notifier = SnsNotifier::new(sns_sdk::Client::new(&sdk), topic);
    let terminator = SsmTerminator::new(ssm_sdk::Client::new(&sdk), config.enforce);
    let scanner = Scanner::new(store, notifier, terminator, config, rules);
    let scanner = &scanner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        scanner
            .handle_invocation(event.payload)
            .await
            .map_err(|e| Diagnostic {
                error_type: e.kind().to_string(),
                error_message: e.to_string(),
            })
    }))
    .await
}

/// Logs why the function cannot start, readably, before the process exits with it.
fn init_failure(error: impl std::fmt::Display) -> lambda_runtime::Error {
    tracing::error!(error = %error, "invalid configuration; the function cannot start");
    error.to_string().into()
}
