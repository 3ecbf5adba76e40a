//! `sts:GetCallerIdentity`: who is running `warden`, for the record of what they asked. Every
//! principal may call it; no IAM permission is needed.

use super::{Failure, classify, refusal};
use crate::ports::{CallerIdentity, IdentityError};
use aws_sdk_sts::Client;

#[derive(Debug, Clone)]
pub struct StsIdentity {
    client: Client,
}

impl StsIdentity {
    pub fn new(client: Client) -> Self {
        StsIdentity { client }
    }
}

impl CallerIdentity for StsIdentity {
    async fn caller(&self) -> Result<String, IdentityError> {
        let output =
            self.client
                .get_caller_identity()
                .send()
                .await
                .map_err(|err| match classify(&err) {
                    Failure::Transient(text) => IdentityError::Unavailable(text),
                    Failure::Service { code, message } => IdentityError::Rejected(refusal(
                        &code,
                        &message,
                        "the caller's identity (sts:GetCallerIdentity)",
                    )),
                })?;
        output
            .arn
            .ok_or_else(|| IdentityError::Unavailable("STS answered without an ARN".to_string()))
    }
}
