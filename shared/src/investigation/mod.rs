//! What people investigating sessions need (`warden sessions`): which sessions match a
//! question, and a session's timeline. Pure: the CLI reads the store and hands over records.

pub mod query;
pub mod timeline;

pub use query::{SessionQuery, SinceError, account_of, parse_since};
pub use timeline::{EntryKind, TimelineEntry, timeline};
