//! `ssm:TerminateSession`, idempotent: a session that has already ended counts as done.

use super::{Failure, classify};
use crate::ports::{TerminateError, Terminated, Terminator};
use aws_sdk_ssm::Client;

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
                Failure::Service { code, message } => {
                    Err(TerminateError::Rejected(format!("{code}: {message}")))
                }
                Failure::Transient(text) => Err(TerminateError::Unavailable(text)),
            },
        }
    }
}
