//! A person's request to terminate a session (`warden sessions terminate`): through the same
//! terminator the functions use, recorded on the session with who asked and why.

use crate::handlers::update_session;
use crate::ports::{
    CallerIdentity, IdentityError, SessionStore, StoreError, TerminateError, Terminated, Terminator,
};
use crate::session::SessionRecord;
use jiff::Timestamp;

/// What came of the request. Every outcome leaves the session ended or ending: asking again is
/// safe and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Session Manager ended it now; the record says who asked and why.
    Terminated { record: SessionRecord },
    /// The table already has the session over (ended, terminated, or a refused start): nothing
    /// was called or written.
    AlreadyOver { record: SessionRecord },
    /// The table has it active but Session Manager says it is over: nothing was written; the
    /// reaper records its end on its next run.
    EndedInSessionManager { record: SessionRecord, by: String },
    /// The terminator is a dry run (`WARDEN_ENFORCE=false`): nothing was called or written.
    WouldTerminate { record: SessionRecord, by: String },
}

impl RequestOutcome {
    pub fn code(&self) -> &'static str {
        match self {
            RequestOutcome::Terminated { .. } => "terminated",
            RequestOutcome::AlreadyOver { .. } => "already_over",
            RequestOutcome::EndedInSessionManager { .. } => "ended_in_session_manager",
            RequestOutcome::WouldTerminate { .. } => "would_terminate",
        }
    }

    pub fn record(&self) -> &SessionRecord {
        match self {
            RequestOutcome::Terminated { record }
            | RequestOutcome::AlreadyOver { record }
            | RequestOutcome::EndedInSessionManager { record, .. }
            | RequestOutcome::WouldTerminate { record, .. } => record,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("give a reason (--reason TEXT): it is recorded on the session with who asked")]
    NoReason,
    #[error(
        "no session {0} in the table (a session the table does not know can be ended with \
         `aws ssm terminate-session --session-id {0}`; the reaper then records it)"
    )]
    NoSuchSession(String),
    #[error("{0}; nothing was terminated")]
    Ambiguous(String),
    #[error("{0}; nothing was terminated")]
    Identity(IdentityError),
    #[error("{0}; nothing was terminated")]
    Store(StoreError),
    #[error("Session Manager refused to terminate {session_id}: {why}")]
    Refused { session_id: String, why: String },
    #[error("Session Manager could not be asked to terminate {session_id}: {why}")]
    Unavailable { session_id: String, why: String },
    #[error(
        "session {session_id} was terminated, but recording who asked failed: {source} (the \
         recorder still records the TerminateSession call from CloudTrail; run the command \
         again to record the request)"
    )]
    NotRecorded {
        session_id: String,
        source: StoreError,
    },
}

/// Terminates `session_id` for `reason` on behalf of the caller. Only a session the table knows
/// and has active is passed to the terminator; the request is then recorded through the
/// optimistic-locking update, so it never overwrites what a function wrote meanwhile.
pub async fn terminate_on_request<S, T, C>(
    store: &S,
    terminator: &T,
    caller: &C,
    session_id: &str,
    reason: &str,
) -> Result<RequestOutcome, RequestError>
where
    S: SessionStore,
    T: Terminator,
    C: CallerIdentity,
{
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RequestError::NoReason);
    }
    let key = match super::session_key_for(store, session_id).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(RequestError::NoSuchSession(session_id.to_string())),
        Err(super::LookupError::Store(e)) => return Err(RequestError::Store(e)),
        Err(ambiguous) => return Err(RequestError::Ambiguous(ambiguous.to_string())),
    };
    let record = store
        .load(&key)
        .await
        .map_err(RequestError::Store)?
        .ok_or_else(|| RequestError::NoSuchSession(session_id.to_string()))?
        .value;
    if record.state.is_over() {
        return Ok(RequestOutcome::AlreadyOver { record });
    }
    // Who asks is known before anything is ended: a termination is never made without it.
    let by = caller.caller().await.map_err(RequestError::Identity)?;
    match terminator
        .terminate(&record.session_id, crate::ports::Place::of(&record))
        .await
    {
        Ok(Terminated::Now) => {}
        Ok(Terminated::AlreadyEnded) => {
            return Ok(RequestOutcome::EndedInSessionManager { record, by });
        }
        Ok(Terminated::WouldHave) => return Ok(RequestOutcome::WouldTerminate { record, by }),
        Err(TerminateError::Rejected(why)) => {
            return Err(RequestError::Refused {
                session_id: session_id.to_string(),
                why,
            });
        }
        Err(TerminateError::NoAccess(why)) => {
            return Err(RequestError::Refused {
                session_id: session_id.to_string(),
                why: why.to_string(),
            });
        }
        Err(TerminateError::Unavailable(why)) => {
            return Err(RequestError::Unavailable {
                session_id: session_id.to_string(),
                why,
            });
        }
    }
    let at = Timestamp::now();
    let updated = update_session(store, &key, |r| r.note_termination_request(&by, reason, at))
        .await
        .map_err(|source| RequestError::NotRecorded {
            session_id: session_id.to_string(),
            source,
        })?;
    Ok(RequestOutcome::Terminated {
        record: updated.record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::{DryRunTerminator, FixedIdentity, MemoryStore, SimulatedTerminator};
    use crate::session::SessionState;

    const ANN: &str = "arn:aws:iam::111122223333:user/ann";

    async fn store_with(record: SessionRecord) -> MemoryStore {
        let store = MemoryStore::new();
        store.save(&record, None).await.unwrap();
        store
    }

    fn active() -> SessionRecord {
        SessionRecord {
            started_at: Some("2026-11-24T10:00:00Z".parse().unwrap()),
            ..SessionRecord::new("bob-1")
        }
    }

    fn ann() -> FixedIdentity {
        FixedIdentity(ANN.into())
    }

    /// Answers once as Session Manager might, and counts the calls.
    struct Answering(
        std::sync::Mutex<Option<Result<Terminated, TerminateError>>>,
        std::sync::Mutex<usize>,
    );

    impl Terminator for Answering {
        async fn terminate(
            &self,
            _id: &str,
            _place: crate::ports::Place<'_>,
        ) -> Result<Terminated, TerminateError> {
            *self.1.lock().unwrap() += 1;
            self.0.lock().unwrap().take().expect("asked once")
        }
    }

    fn answering(answer: Result<Terminated, TerminateError>) -> Answering {
        Answering(
            std::sync::Mutex::new(Some(answer)),
            std::sync::Mutex::new(0),
        )
    }

    struct NoIdentity;

    impl CallerIdentity for NoIdentity {
        async fn caller(&self) -> Result<String, IdentityError> {
            Err(IdentityError::Unavailable(
                "no AWS credentials found".into(),
            ))
        }
    }

    #[tokio::test]
    async fn a_terminated_session_records_who_asked_why_and_when() {
        let store = store_with(active()).await;
        let outcome =
            terminate_on_request(&store, &SimulatedTerminator, &ann(), "bob-1", " INC-7 ")
                .await
                .unwrap();
        assert_eq!(outcome.code(), "terminated");
        let stored = store.load("bob-1").await.unwrap().unwrap();
        let r = &stored.value;
        assert_eq!(r.state, SessionState::Terminated);
        assert_eq!(r.terminated_by.as_deref(), Some(ANN));
        assert_eq!(r.termination_reason.as_deref(), Some("INC-7"));
        assert!(r.terminated_at.is_some());
        assert_eq!(r.ended_at, r.terminated_at);
        assert_eq!(&stored.value, outcome.record());
    }

    #[tokio::test]
    async fn asking_again_says_it_is_over_and_calls_nothing() {
        let store = store_with(active()).await;
        terminate_on_request(&store, &SimulatedTerminator, &ann(), "bob-1", "INC-7")
            .await
            .unwrap();
        let before = store.load("bob-1").await.unwrap().unwrap();
        let terminator = answering(Ok(Terminated::Now));
        let again = terminate_on_request(&store, &terminator, &NoIdentity, "bob-1", "INC-8")
            .await
            .unwrap();
        assert_eq!(again.code(), "already_over");
        assert_eq!(*terminator.1.lock().unwrap(), 0);
        assert_eq!(store.load("bob-1").await.unwrap().unwrap(), before);
    }

    #[tokio::test]
    async fn the_request_merges_with_what_changed_meanwhile() {
        // A function writes between our read and our write: the update reloads and merges
        // instead of overwriting.
        let store = store_with(active()).await;
        struct Racing<'a>(&'a MemoryStore);
        impl Terminator for Racing<'_> {
            async fn terminate(
                &self,
                id: &str,
                _place: crate::ports::Place<'_>,
            ) -> Result<Terminated, TerminateError> {
                let mut r = self.0.load(id).await.unwrap().unwrap();
                r.value.note_findings(["e1#rule.a"]);
                self.0.save(&r.value, Some(r.version)).await.unwrap();
                Ok(Terminated::Now)
            }
        }
        terminate_on_request(&store, &Racing(&store), &ann(), "bob-1", "INC-7")
            .await
            .unwrap();
        let r = store.load("bob-1").await.unwrap().unwrap();
        assert_eq!((r.version, r.value.finding_count), (3, 1));
        assert_eq!(r.value.terminated_by.as_deref(), Some(ANN));
    }

    #[tokio::test]
    async fn nothing_is_terminated_without_a_reason_a_session_or_an_identity() {
        let store = store_with(active()).await;
        let terminator = answering(Ok(Terminated::Now));
        assert_eq!(
            terminate_on_request(&store, &terminator, &ann(), "bob-1", "  ").await,
            Err(RequestError::NoReason)
        );
        let missing = terminate_on_request(&store, &terminator, &ann(), "nobody-1", "x")
            .await
            .unwrap_err();
        assert!(
            missing.to_string().contains("aws ssm terminate-session"),
            "{missing}"
        );
        let anonymous = terminate_on_request(&store, &terminator, &NoIdentity, "bob-1", "x")
            .await
            .unwrap_err();
        assert!(
            anonymous.to_string().ends_with("nothing was terminated"),
            "{anonymous}"
        );
        assert_eq!(*terminator.1.lock().unwrap(), 0);
        assert!(
            store
                .load("bob-1")
                .await
                .unwrap()
                .unwrap()
                .value
                .is_active()
        );
    }

    #[tokio::test]
    async fn refusals_and_other_answers_write_nothing() {
        for (answer, expected) in [
            (
                Err(TerminateError::Rejected("AccessDeniedException: no".into())),
                "Session Manager refused to terminate bob-1: AccessDeniedException: no",
            ),
            (
                Err(TerminateError::Unavailable("timeout".into())),
                "Session Manager could not be asked to terminate bob-1: timeout",
            ),
        ] {
            let store = store_with(active()).await;
            let err = terminate_on_request(&store, &answering(answer), &ann(), "bob-1", "x")
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), expected);
            assert_eq!(store.load("bob-1").await.unwrap().unwrap().version, 1);
        }
        for (terminator, code) in [
            (
                answering(Ok(Terminated::AlreadyEnded)),
                "ended_in_session_manager",
            ),
            (answering(Ok(Terminated::WouldHave)), "would_terminate"),
        ] {
            let store = store_with(active()).await;
            let outcome = terminate_on_request(&store, &terminator, &ann(), "bob-1", "x")
                .await
                .unwrap();
            assert_eq!(outcome.code(), code);
            assert_eq!(store.load("bob-1").await.unwrap().unwrap().version, 1);
        }
        let store = store_with(active()).await;
        let dry = DryRunTerminator::new();
        terminate_on_request(&store, &dry, &ann(), "bob-1", "x")
            .await
            .unwrap();
        assert_eq!(dry.requested(), ["bob-1"]);
    }
}
