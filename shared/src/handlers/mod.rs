//! The functions' logic, generic over the ports so the same code runs in Lambda and in replay.

pub mod recorder;
mod update;

pub use update::update_session;
