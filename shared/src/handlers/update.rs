use crate::ports::{SessionStore, StoreError};
use crate::session::SessionRecord;

/// Attempts before giving up on a session that keeps changing underneath us; the invocation then
/// fails and Lambda retries it later.
const MAX_ATTEMPTS: usize = 8;

/// The session after an update.
#[derive(Debug, Clone)]
pub struct Updated {
    pub record: SessionRecord,
    /// Whether anything was written.
    pub changed: bool,
    /// Whether this update wrote the session's first item.
    pub created: bool,
}

/// Read-modify-write of one session, by its store key (`crate::session::session_key`), with
/// optimistic locking. `change` returns false when it had nothing to do (an event already
/// applied), in which case nothing is written.
pub async fn update_session<S: SessionStore>(
    store: &S,
    key: &str,
    change: impl Fn(&mut SessionRecord) -> bool,
) -> Result<Updated, StoreError> {
    for _ in 0..MAX_ATTEMPTS {
        let (mut record, version) = match store.load(key).await? {
            Some(stored) => (stored.value, Some(stored.version)),
            None => (SessionRecord::for_key(key), None),
        };
        if !change(&mut record) {
            return Ok(Updated {
                record,
                changed: false,
                created: false,
            });
        }
        match store.save(&record, version).await {
            Ok(_) => {
                return Ok(Updated {
                    record,
                    changed: true,
                    created: version.is_none(),
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict(key.to_string()))
}
