//! The functions' logic, generic over the ports so the same code runs in Lambda and in replay.

pub mod actions;
pub mod reaper;
pub mod recorder;
pub mod scanner;
mod update;

pub use update::{Updated, update_session};
