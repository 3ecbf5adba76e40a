//! AWS implementations of the ports (DynamoDB store, SNS notifier, SSM terminator, STS caller
//! identity).

mod attribute_json;
pub mod dynamodb;
pub mod member;
pub mod parameters;
pub mod sns;
pub mod ssm;
pub mod sts;
pub mod tls;

pub use aws_sdk_dynamodb as dynamodb_sdk;
pub use aws_sdk_sns as sns_sdk;
pub use aws_sdk_ssm as ssm_sdk;
pub use aws_sdk_sts as sts_sdk;
pub use dynamodb::DynamoStore;
pub use member::SsmClients;
pub use parameters::{ParameterError, fetch_parameter};
pub use sns::SnsNotifier;
pub use ssm::{SsmDirectory, SsmTerminator};
pub use sts::StsIdentity;
pub use tls::TrustRoots;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// Shared SDK configuration: created once per container. Standard retries with backoff absorb
/// throttling; what still fails after them fails the invocation, and Lambda retries that.
/// HTTPS trusts `roots` ([`tls`]).
pub async fn sdk_config(endpoint_url: Option<&str>, roots: TrustRoots) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        );
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.http_client(tls::https_client(roots)).load().await
}

/// How a failed AWS call should be treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Throttling, server errors, timeouts, network: worth retrying later.
    Transient(String),
    /// The service answered with this error code.
    Service { code: String, message: String },
}

const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottlingException",
];

/// What to do about a failed call, in words for whoever reads the error: the functions' logs
/// or a person running `warden` against a deployed table.
pub(crate) fn hint(code: &str, resource: &str) -> Option<String> {
    match code {
        "AccessDeniedException"
        | "AccessDenied"
        | "AuthorizationError"
        | "AuthorizationErrorException" => Some(format!(
            "the caller's IAM policy does not allow this call on {resource}; the message names the \
             action to add (template.yaml grants the functions theirs; people running warden need \
             it in their own role's policy)"
        )),
        "ResourceNotFoundException" | "NotFound" | "NotFoundException" => Some(format!(
            "{resource} does not exist in this account and region: check the name (the stack's \
             outputs list it) and the region (AWS_REGION, or the profile's)"
        )),
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => Some(
            "the credentials were refused (expired or wrong): refresh them (`aws sso login`, or \
             check AWS_PROFILE and AWS_ACCESS_KEY_ID)"
                .to_string(),
        ),
        _ => None,
    }
}

/// `code: message`, and what to do about it when that is known.
pub(crate) fn refusal(code: &str, message: &str, resource: &str) -> String {
    match hint(code, resource) {
        Some(hint) => format!("{code}: {message} ({hint})"),
        None => format!("{code}: {message}"),
    }
}

/// The SDK found no credentials at all: a person without a profile, never a Lambda.
fn credentials_missing(text: &str) -> bool {
    text.contains("no providers in chain provided credentials")
        || text.contains("failed to load credentials")
        || text.contains("the credential provider was not enabled")
}

/// The endpoint's TLS certificate was refused (rustls says why after this).
fn certificate_refused(text: &str) -> bool {
    text.contains("invalid peer certificate")
}

pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("Unknown").to_string();
            if TRANSIENT_CODES.contains(&code.as_str()) {
                Failure::Transient(format!("{code}: {text}"))
            } else {
                let message = ctx.err().message().unwrap_or("").to_string();
                Failure::Service { code, message }
            }
        }
        _ if credentials_missing(&text) => Failure::Transient(format!(
            "no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) \
             or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; against a local endpoint (moto) any \
             values do ({text})"
        )),
        _ if certificate_refused(&text) => Failure::Transient(format!(
            "the endpoint's TLS certificate was refused: the functions trust only Amazon Trust \
             Services' roots, which every AWS endpoint chains to; behind a proxy that re-signs \
             TLS, set WARDEN_TLS_ROOTS=system (the warden CLI always trusts the system's roots) \
             ({text})"
        )),
        _ => Failure::Transient(text),
    }
}

/// The AWS adapters a handler needs, built once per container.
pub struct AwsPorts {
    pub store: DynamoStore,
    pub notifier: SnsNotifier,
    pub terminator: SsmTerminator,
    /// SSM in every account and region the configuration allows (the reaper's directory
    /// shares them with the terminator, and so the cached member credentials).
    pub ssm: std::sync::Arc<SsmClients>,
    /// For clients only some functions need.
    pub sdk: SdkConfig,
}

impl AwsPorts {
    pub fn new(
        sdk: &SdkConfig,
        table: &str,
        topic_arn: &str,
        retention_days: u32,
        enforce: bool,
    ) -> Self {
        Self::with_accounts(
            sdk,
            table,
            topic_arn,
            retention_days,
            enforce,
            crate::config::AccountsConfig::default(),
        )
    }

    /// As [`AwsPorts::new`], acting in the member accounts `accounts` allows.
    pub fn with_accounts(
        sdk: &SdkConfig,
        table: &str,
        topic_arn: &str,
        retention_days: u32,
        enforce: bool,
        accounts: crate::config::AccountsConfig,
    ) -> Self {
        let ssm = std::sync::Arc::new(SsmClients::new(sdk, accounts));
        AwsPorts {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table, retention_days),
            notifier: SnsNotifier::new(aws_sdk_sns::Client::new(sdk), topic_arn),
            terminator: SsmTerminator::with_clients(ssm.clone(), enforce),
            ssm,
            sdk: sdk.clone(),
        }
    }

    /// The reaper's `DescribeSessions`, in every account and region the terminator reaches.
    pub fn directory(&self) -> SsmDirectory {
        SsmDirectory::with_clients(self.ssm.clone())
    }

    /// From a function's configuration (`WARDEN_TABLE`, `WARDEN_TOPIC_ARN`, `WARDEN_ENFORCE`,
    /// `WARDEN_TLS_ROOTS`).
    pub async fn from_config(
        config: &crate::config::WardenConfig,
    ) -> Result<Self, crate::config::ConfigError> {
        Self::from_sdk_config(&sdk_config(None, config.tls_roots).await, config)
    }

    /// Like [`AwsPorts::from_config`], on an SDK configuration the caller also uses (the scanner
    /// reads its custom rule packs from SSM with the same one).
    pub fn from_sdk_config(
        sdk: &SdkConfig,
        config: &crate::config::WardenConfig,
    ) -> Result<Self, crate::config::ConfigError> {
        Ok(AwsPorts::with_accounts(
            sdk,
            config.require_table()?,
            config.require_topic()?,
            config.retention_days,
            config.enforce,
            config.accounts.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_call_says_where_the_missing_permission_goes() {
        let text = refusal(
            "AccessDeniedException",
            "User: arn:aws:sts::1:assumed-role/R/x is not authorized to perform: dynamodb:Query",
            "DynamoDB table `sessions`",
        );
        assert!(text.contains("dynamodb:Query"), "{text}");
        assert!(text.contains("IAM policy does not allow this call on DynamoDB table `sessions`"));
    }

    #[test]
    fn refused_credentials_say_how_to_refresh_them() {
        let text = refusal("ExpiredTokenException", "expired", "SNS topic `t`");
        assert!(text.contains("aws sso login"), "{text}");
    }

    #[test]
    fn other_codes_are_passed_on_as_they_are() {
        assert_eq!(
            refusal("ValidationException", "bad key", "x"),
            "ValidationException: bad key"
        );
    }
}
