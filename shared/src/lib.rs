//! Session Warden core: domain, policies, handlers and the adapters behind its ports.

pub mod alert;
pub mod aws;
pub mod business_hours;
pub mod cloudtrail;
pub mod config;
pub mod dead_letter;
pub mod directory;
pub mod finding;
pub mod glob;
pub mod handlers;
pub mod identity;
pub mod investigation;
pub mod local;
pub mod metrics;
pub mod policy;
pub mod ports;
pub mod redact;
pub mod rules;
pub mod session;
pub mod session_id;
pub mod shell;
pub mod telemetry;
#[cfg(test)]
pub(crate) mod test_support;
pub mod transcript;
