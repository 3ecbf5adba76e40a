//! Session Warden core: domain, policies, handlers and the adapters behind its ports.

pub mod business_hours;
pub mod cloudtrail;
pub mod glob;
pub mod identity;
pub mod policy;
pub mod session;
#[cfg(test)]
pub(crate) mod test_support;
