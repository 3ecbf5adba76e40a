//! `ssm:GetParameter`: one Parameter Store value, decrypted when it is a `SecureString`.
//! Not a port: a function reads its configuration this way once, when it starts.

use super::{Failure, classify};
use aws_sdk_ssm::Client;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ParameterError {
    /// Parameter Store answered with an error: `ParameterNotFound`, `AccessDeniedException`
    /// (no `ssm:GetParameter`, or no `kms:Decrypt` on the parameter's key), ...
    #[error("SSM parameter `{name}`: {code}{}", detail(message))]
    Rejected {
        name: String,
        code: String,
        message: String,
    },
    /// Throttling, server errors, timeouts or the network, after the SDK's retries.
    #[error("SSM parameter `{name}` could not be read: {reason}")]
    Unavailable { name: String, reason: String },
    #[error("SSM parameter `{name}` has no value")]
    NoValue { name: String },
}

/// `: message`, or nothing when the service gave none.
fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// The parameter's value (`name` may be a name, an ARN, or carry a `:version` or `:label`).
pub async fn fetch_parameter(client: &Client, name: &str) -> Result<String, ParameterError> {
    let reply = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await;
    match reply {
        Ok(output) => {
            output
                .parameter
                .and_then(|p| p.value)
                .ok_or_else(|| ParameterError::NoValue {
                    name: name.to_string(),
                })
        }
        Err(err) => Err(match classify(&err) {
            Failure::Service { code, message } => ParameterError::Rejected {
                name: name.to_string(),
                code,
                message,
            },
            Failure::Transient(reason) => ParameterError::Unavailable {
                name: name.to_string(),
                reason,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_parameter_and_the_code_with_or_without_a_message() {
        let rejected = |message: &str| ParameterError::Rejected {
            name: "/warden/rules".into(),
            code: "ParameterNotFound".into(),
            message: message.into(),
        };
        assert_eq!(
            rejected("").to_string(),
            "SSM parameter `/warden/rules`: ParameterNotFound"
        );
        assert_eq!(
            rejected("gone").to_string(),
            "SSM parameter `/warden/rules`: ParameterNotFound: gone"
        );
    }
}
