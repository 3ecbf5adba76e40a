//! Logging set-up: JSON lines in Lambda (CloudWatch parses them), readable text on a terminal.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    // RUST_LOG wins; otherwise Lambda's own log level setting, then `info`.
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_ascii_lowercase()))
        .unwrap_or_else(|_| "info".to_string());
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
}

pub fn init_lambda() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .init();
}

/// Logs go to standard error so they never mix with a command's output.
pub fn init_cli(default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| EnvFilter::try_new(l).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Logs why a function cannot start, readably, and returns the error its `main` exits with.
pub fn init_failure(error: impl std::fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    tracing::error!(error = %error, "invalid configuration; the function cannot start");
    error.to_string().into()
}
