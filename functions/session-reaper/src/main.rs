//! session-reaper: on a schedule, compares the table's active sessions with Session Manager's
//! (`ssm:DescribeSessions`): closes sessions that ended without an API call, records sessions
//! CloudTrail never delivered, and enforces the maximum duration and the transcript requirement.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use warden_core::aws::AwsPorts;
use warden_core::config::WardenConfig;
use warden_core::handlers::reaper::Reaper;
use warden_core::telemetry::init_failure;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_core::telemetry::init_lambda();
    let config = WardenConfig::from_env().map_err(init_failure)?;
    let ports = AwsPorts::from_config(&config).await.map_err(init_failure)?;
    let directory = ports.directory();
    let reaper = Reaper::new(
        ports.store,
        ports.notifier,
        ports.terminator,
        directory,
        config,
    );
    let reaper = &reaper;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        reaper
            .handle_invocation(event.payload)
            .await
            .map_err(|e| Diagnostic {
                error_type: e.kind().to_string(),
                error_message: e.to_string(),
            })
    }))
    .await
}
