//! transcript-scanner: a CloudWatch Logs subscription delivers session transcripts; forbidden
//! commands are recorded, alerted and, where a rule says so, the session is terminated.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use warden_core::aws::{AwsPorts, sdk_config, ssm_sdk};
use warden_core::config::WardenConfig;
use warden_core::handlers::scanner::Scanner;
use warden_core::metrics::Metrics;
use warden_core::rules::load::{RuleSources, assemble, report_problems};
use warden_core::telemetry::init_failure;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_core::telemetry::init_lambda();
    let config = WardenConfig::from_env().map_err(init_failure)?;
    let sdk = sdk_config(None, config.tls_roots).await;
    let ports = AwsPorts::from_sdk_config(&sdk, &config).map_err(init_failure)?;
    // Custom packs are read once, here, and kept for the container's life. One that does not
    // load leaves the default pack in force and pages on-call.
    let sources = RuleSources::from_env();
    let (rules, problems) = assemble(sources.read(&ssm_sdk::Client::new(&sdk)).await);
    report_problems(&ports.notifier, &problems).await;
    if !problems.is_empty() {
        let mut metrics = Metrics::new();
        metrics.count("RulePackErrors", problems.len() as f64);
        metrics.emit("transcript-scanner");
    }
    tracing::info!(
        rules = rules.rules().len(),
        packs = ?rules.packs(),
        "rules loaded"
    );
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
