//! Finding a session by what a person types: its store key (`<account>/<id>` for a member
//! account's session) or its bare id, whichever account it is in.

use crate::ports::{SessionFilter, SessionStore, StoreError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    #[error(
        "session id {id} is in several accounts; name one as ACCOUNT/ID: {}",
        keys.join(", ")
    )]
    Ambiguous { id: String, keys: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store key of the session `wanted` names: `wanted` itself when a session is stored under
/// it (the functions' own account, or `ACCOUNT/ID` typed whole), else the key of the one
/// member account session with that id (a scan of the table). `Ok(None)`: no such session.
pub async fn session_key_for<S: SessionStore>(
    store: &S,
    wanted: &str,
) -> Result<Option<String>, LookupError> {
    if store.load(wanted).await?.is_some() {
        return Ok(Some(wanted.to_string()));
    }
    if wanted.contains(crate::session::KEY_SEPARATOR) {
        return Ok(None);
    }
    let all = store
        .list(SessionFilter {
            active_only: false,
            limit: usize::MAX,
            oldest_first: false,
        })
        .await?;
    let mut keys: Vec<String> = all
        .iter()
        .filter(|s| s.session_id == wanted)
        .map(|s| s.key())
        .collect();
    keys.sort();
    match keys.len() {
        0 => Ok(None),
        1 => Ok(keys.pop()),
        _ => Err(LookupError::Ambiguous {
            id: wanted.to_string(),
            keys,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::MemoryStore;
    use crate::session::SessionRecord;

    async fn store_with(keys: &[&str]) -> MemoryStore {
        let store = MemoryStore::new();
        for key in keys {
            store
                .save(&SessionRecord::for_key(key), None)
                .await
                .unwrap();
        }
        store
    }

    #[tokio::test]
    async fn a_bare_id_finds_the_one_member_account_session_with_it() {
        let store = store_with(&["222233334444/bob-1", "alice-1"]).await;
        assert_eq!(
            session_key_for(&store, "bob-1").await.unwrap().as_deref(),
            Some("222233334444/bob-1")
        );
        assert_eq!(
            session_key_for(&store, "alice-1").await.unwrap().as_deref(),
            Some("alice-1")
        );
    }

    #[tokio::test]
    async fn a_bare_id_in_two_member_accounts_asks_for_the_account() {
        let store = store_with(&["222233334444/bob-1", "444455556666/bob-1"]).await;
        let err = session_key_for(&store, "bob-1").await.unwrap_err();
        assert!(
            err.to_string()
                .contains("222233334444/bob-1, 444455556666/bob-1"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unknown_id_is_no_session() {
        let store = store_with(&["alice-1"]).await;
        assert_eq!(session_key_for(&store, "carol-1").await.unwrap(), None);
        assert_eq!(
            session_key_for(&store, "222233334444/alice-1")
                .await
                .unwrap(),
            None
        );
    }
}
