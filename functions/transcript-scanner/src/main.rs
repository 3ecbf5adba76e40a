//! transcript-scanner: a CloudWatch Logs subscription delivers session transcripts; forbidden
//! commands are recorded, alerted and, where a rule says so, the session is terminated.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use warden_core::aws::AwsPorts;
use warden_core::config::WardenConfig;
use warden_core::handlers::scanner::Scanner;
use warden_core::rules::load_configured_rules;
use warden_core::telemetry::init_failure;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_core::telemetry::init_lambda();
    let config = WardenConfig::from_env().map_err(init_failure)?;
    let ports = AwsPorts::from_config(&config).await.map_err(init_failure)?;
    let rules = load_configured_rules();
    let scanner = Scanner::new(ports.store, ports.notifier, ports.terminator, config, rules);
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
