//! session-recorder: EventBridge delivers CloudTrail session API calls; each is recorded in
//! DynamoDB and risky starts are alerted (and terminated where configured).

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use warden_core::aws::AwsPorts;
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::telemetry::init_failure;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_core::telemetry::init_lambda();
    let config = WardenConfig::from_env().map_err(init_failure)?;
    let ports = AwsPorts::from_config(&config).await.map_err(init_failure)?;
    let recorder = Recorder::new(ports.store, ports.notifier, ports.terminator, config);
    let recorder = &recorder;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        recorder
            .handle_invocation(event.payload)
            .await
            .map_err(|e| Diagnostic {
                error_type: e.kind().to_string(),
                error_message: e.to_string(),
            })
    }))
    .await
}
