//! Logging set-up: JSON lines in Lambda (CloudWatch parses them), readable text on a terminal.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A log filter: a level (`debug`), or levels per module (`info,warden_core::rules=debug`).
/// Not `EnvFilter`: its span and field directives bring a regex engine with a DFA compiler
/// into every function for a feature nobody here uses (docs/performance.md).
fn filter(spec: Option<String>, default: LevelFilter) -> Targets {
    spec.and_then(|spec| spec.trim().parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(default))
}

pub fn init_lambda() {
    // RUST_LOG wins; otherwise Lambda's own log level setting, then `info`.
    let spec = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_ascii_lowercase()))
        .ok();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .finish()
        .with(filter(spec, LevelFilter::INFO))
        .init();
}

/// Logs go to standard error so they never mix with a command's output.
pub fn init_cli(default_level: &str) {
    let default_level = default_level.parse().unwrap_or(LevelFilter::WARN);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .finish()
        .with(filter(std::env::var("RUST_LOG").ok(), default_level))
        .init();
}

/// Logs why a function cannot start, readably, and returns the error its `main` exits with.
pub fn init_failure(error: impl std::fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    tracing::error!(error = %error, "invalid configuration; the function cannot start");
    error.to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_or_levels_per_module_are_understood_and_nonsense_falls_back() {
        let default = LevelFilter::WARN;
        assert_eq!(
            filter(Some("debug".into()), default).default_level(),
            Some(LevelFilter::DEBUG)
        );
        let per_module = filter(Some("info,warden_core::rules=trace".into()), default);
        assert!(per_module.would_enable("warden_core::rules::load", &tracing::Level::TRACE));
        assert!(!per_module.would_enable("aws_config", &tracing::Level::DEBUG));
        assert_eq!(
            filter(Some("[span{field=1}]=x".into()), default).default_level(),
            Some(LevelFilter::WARN)
        );
        assert_eq!(
            filter(None, default).default_level(),
            Some(LevelFilter::WARN)
        );
    }
}
