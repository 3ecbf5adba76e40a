//! `ssm:TerminateSession`, idempotent: a session that has already ended counts as done; and
//! `ssm:DescribeSessions`. Both in the session's account and region (`super::member`).

use super::member::SsmClients;
use super::{Failure, classify, refusal};
use crate::directory::DescribedSession;
use crate::ports::{
    DirectoryError, Listing, Place, SessionDirectory, SessionPage, TerminateError, Terminated,
    Terminator,
};
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{SessionFilter, SessionFilterKey, SessionState};
use std::sync::Arc;

/// Answers Session Manager gives for a session that is already over (formats.md §5).
const ALREADY_ENDED_CODES: &[&str] = &["ValidationException", "DoesNotExistException"];

#[derive(Debug, Clone)]
pub struct SsmTerminator {
    clients: Arc<SsmClients>,
    enforce: bool,
}

impl SsmTerminator {
    /// Terminates through `client` alone: the functions' own account and region. With
    /// `enforce` false (`WARDEN_ENFORCE=false`) nothing is called: every request is answered
    /// "would have terminated".
    pub fn new(client: Client, enforce: bool) -> Self {
        Self::with_clients(Arc::new(SsmClients::own_only(client)), enforce)
    }

    /// Terminates in the session's account and region: a member account's through its role.
    pub fn with_clients(clients: Arc<SsmClients>, enforce: bool) -> Self {
        SsmTerminator { clients, enforce }
    }
}

impl Terminator for SsmTerminator {
    async fn terminate(
        &self,
        session_id: &str,
        place: Place<'_>,
    ) -> Result<Terminated, TerminateError> {
        if !self.enforce {
            // A dry run still says when it could not act there, without assuming the role.
            self.clients.check(place.account)?;
            return Ok(Terminated::WouldHave);
        }
        let client = self.clients.client(place).await?;
        match client
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
    clients: Arc<SsmClients>,
}

impl SsmDirectory {
    /// Lists through `client` alone: the functions' own account and region.
    pub fn new(client: Client) -> Self {
        Self::with_clients(Arc::new(SsmClients::own_only(client)))
    }

    /// Lists in any account and region the clients reach.
    pub fn with_clients(clients: Arc<SsmClients>) -> Self {
        SsmDirectory { clients }
    }
}

/// The API's page size limit.
const PAGE_SIZE: i32 = 200;

impl SessionDirectory for SsmDirectory {
    async fn describe(
        &self,
        place: Place<'_>,
        listing: Listing,
        session_id: Option<&str>,
        next_token: Option<String>,
    ) -> Result<SessionPage, DirectoryError> {
        let state = match listing {
            Listing::Active => SessionState::Active,
            Listing::History => SessionState::History,
        };
        let client = self.clients.client(place).await?;
        let mut request = client
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
