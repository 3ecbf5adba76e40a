//! Session transcripts: CloudWatch Logs payloads, stream records, terminal clean-up, command extraction.

pub mod agent;
pub mod extract;
pub mod payload;
mod recall;
pub mod scan;
pub mod terminal;
