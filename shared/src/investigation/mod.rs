//! What people investigating sessions need (`warden sessions`): which sessions match a
//! question, a session's timeline, and terminating a session on request. Pure where it can be;
//! I/O only through the ports.

pub mod lookup;
pub mod query;
pub mod terminate;
pub mod timeline;

pub use lookup::{LookupError, session_key_for};
pub use query::{SessionQuery, SinceError, account_of, parse_since};
pub use terminate::{RequestError, RequestOutcome, terminate_on_request};
pub use timeline::{EntryKind, TimelineEntry, timeline};
