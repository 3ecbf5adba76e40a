//! `ssm:TerminateSession`, idempotent: a session that has already ended counts as done.

use super::{Failure, classify, refusal};
use crate::directory::DescribedSession;
use crate::ports::{
    DirectoryError, Listing, SessionDirectory, SessionPage, TerminateError, Terminated, Terminator,
};
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{SessionFilter, SessionFilterKey, SessionState};

/// Answers Session Manager gives for a session that is already over (formats.md §5).
const ALREADY_ENDED_CODES: &[&str] = &["ValidationException", "DoesNotExistException"];

#[derive(Debug, Clone)]
pub struct SsmTerminator {
    client: Client,
    enforce: bool,
}

impl SsmTerminator {
    /// With `enforce` false (`WARDEN_ENFORCE=false`) nothing is called: every request is
    /// answered "would have terminated".
    pub fn new(client: Client, enforce: bool) -> Self {
        SsmTerminator { client, enforce }
    }
}

impl Terminator for SsmTerminator {
    async fn terminate(&self, session_id: &str) -> Result<Terminated, TerminateError> {
        if !self.enforce {
            return Ok(Terminated::WouldHave);
        }
        match self
            .client
            .terminate_session()
            .session_id(session_id)
            .send()
            .await
        {
            Ok(_) => Ok(Terminated::Now),
            Err(err) => match classify(&err) {
                Failure::Service { code, .. } if ALREADY_ENDED_CODES.contains(&code.as_str()) => {
                    Ok(Terminated::AlreadyEnded)
                }
                Failure::Service { code, message } => Err(TerminateError::Rejected(refusal(
                    &code,
                    &message,
                    &format!("session `{session_id}`"),
                ))),
                Failure::Transient(text) => Err(TerminateError::Unavailable(text)),
            },
        }
    }
}

/// `ssm:DescribeSessions`, the reaper's view of which sessions are still open.
#[derive(Debug, Clone)]
pub struct SsmDirectory {
    client: Client,
}

impl SsmDirectory {
    pub fn new(client: Client) -> Self {
        SsmDirectory { client }
    }
}

/// The API's page size limit.
const PAGE_SIZE: i32 = 200;

impl SessionDirectory for SsmDirectory {
    async fn describe(
        &self,
        listing: Listing,
        session_id: Option<&str>,
        next_token: Option<String>,
    ) -> Result<SessionPage, DirectoryError> {
        let state = match listing {
            Listing::Active => SessionState::Active,
            Listing::History => SessionState::History,
        };
        let mut request = self
            .client
            .describe_sessions()
            .state(state)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token);
        if let Some(id) = session_id {
            let filter = SessionFilter::builder()
                .key(SessionFilterKey::SessionId)
                .value(id)
                .build()
                .map_err(|e| DirectoryError::Rejected(e.to_string()))?;
            request = request.filters(filter);
        }
        let output = request.send().await.map_err(|err| match classify(&err) {
            Failure::Transient(text) => DirectoryError::Unavailable(text),
            Failure::Service { code, message } => DirectoryError::Rejected(refusal(
                &code,
                &message,
                "Session Manager's session list (ssm:DescribeSessions)",
            )),
        })?;
        let sessions = output
            .sessions
            .unwrap_or_default()
            .iter()
            .filter_map(described)
            .collect();
        Ok(SessionPage {
            sessions,
            next_token: output.next_token,
        })
    }
}

fn described(session: &aws_sdk_ssm::types::Session) -> Option<DescribedSession> {
    let time = |t: Option<&aws_sdk_ssm::primitives::DateTime>| {
        t.and_then(|t| jiff::Timestamp::from_millisecond(t.to_millis().ok()?).ok())
    };
    Some(DescribedSession {
        session_id: session.session_id()?.to_string(),
        target: session.target().map(str::to_string),
        status: session.status().map(|s| s.as_str().to_string()),
        start_date: time(session.start_date()),
        end_date: time(session.end_date()),
        document_name: session.document_name().map(str::to_string),
        owner: session.owner().map(str::to_string),
        reason: session.reason().map(str::to_string),
    })
}
