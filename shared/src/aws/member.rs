//! SSM clients for the account and region a session is in. The functions' own account uses
//! their own credentials; a member account is reached by `sts:AssumeRole` into
//! `arn:aws:iam::<account>:role/<WARDEN_MEMBER_ROLE_NAME>` with `WARDEN_MEMBER_EXTERNAL_ID`,
//! only for accounts in `WARDEN_MEMBER_ACCOUNTS`. Credentials are kept per account until
//! shortly before they expire, so a busy function assumes each role about once an hour.

use super::{Failure, classify, refusal};
use crate::config::{AccountsConfig, MemberAccessError};
use crate::ports::Place;
use aws_config::SdkConfig;
use aws_sdk_ssm::config::{Credentials, Region};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Assumed credentials are renewed this long before they expire, so a call never starts with
/// credentials about to lapse.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// The role session's name: it appears in the member account's CloudTrail as the caller.
pub const ROLE_SESSION_NAME: &str = "session-warden";

/// Where the SSM calls of one function go.
pub struct SsmClients {
    /// The functions' own client (own account, own region).
    own: aws_sdk_ssm::Client,
    /// The shared configuration other clients are built from; `None`: only `own` is used.
    sdk: Option<SdkConfig>,
    sts: Option<aws_sdk_sts::Client>,
    accounts: AccountsConfig,
    cache: Mutex<HashMap<String, Credentials>>,
}

impl std::fmt::Debug for SsmClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsmClients")
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl SsmClients {
    /// One client for everything: the functions' own account and region (a single-account
    /// stack, `warden` against one account, tests).
    pub fn own_only(client: aws_sdk_ssm::Client) -> Self {
        SsmClients {
            own: client,
            sdk: None,
            sts: None,
            accounts: AccountsConfig::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Clients for every account and region `accounts` allows, from the functions' own
    /// configuration (its credentials, region and endpoint).
    pub fn new(sdk: &SdkConfig, accounts: AccountsConfig) -> Self {
        SsmClients {
            own: aws_sdk_ssm::Client::new(sdk),
            sdk: Some(sdk.clone()),
            sts: Some(aws_sdk_sts::Client::new(sdk)),
            accounts,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether acting in `account` needs no role (it is the functions' own), or the role it
    /// needs is allowed: the check a dry run makes without calling STS.
    pub fn check(&self, account: Option<&str>) -> Result<(), MemberAccessError> {
        self.accounts.role_for(account).map(|_| ())
    }

    /// The client for `place`: the functions' own credentials for their own account (in the
    /// place's region), the member role's for an allowed member account.
    pub async fn client(&self, place: Place<'_>) -> Result<aws_sdk_ssm::Client, MemberAccessError> {
        let role = self.accounts.role_for(place.account)?;
        let Some(sdk) = &self.sdk else {
            return Ok(self.own.clone());
        };
        let own_region = sdk.region().map(|r| r.as_ref());
        let region = place.region.filter(|r| Some(*r) != own_region);
        let (Some(role_arn), Some(account)) = (role, place.account) else {
            return Ok(match region {
                None => self.own.clone(),
                Some(region) => aws_sdk_ssm::Client::from_conf(
                    aws_sdk_ssm::config::Builder::from(sdk)
                        .region(Region::new(region.to_string()))
                        .build(),
                ),
            });
        };
        let credentials = self.credentials(account, &role_arn).await?;
        let mut config = aws_sdk_ssm::config::Builder::from(sdk).credentials_provider(credentials);
        if let Some(region) = region {
            config = config.region(Region::new(region.to_string()));
        }
        Ok(aws_sdk_ssm::Client::from_conf(config.build()))
    }

    /// The member role's credentials for `account`, from the cache while they have more than
    /// [`RENEW_BEFORE_EXPIRY`] left, else from `sts:AssumeRole`.
    async fn credentials(
        &self,
        account: &str,
        role_arn: &str,
    ) -> Result<Credentials, MemberAccessError> {
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|at| at > SystemTime::now() + RENEW_BEFORE_EXPIRY)
        };
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .filter(|c| fresh(c))
        {
            return Ok(cached.clone());
        }
        let sts = self.sts.as_ref().ok_or_else(|| MemberAccessError::NoRole {
            account: account.to_string(),
        })?;
        let mut request = sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(ROLE_SESSION_NAME);
        if let Some(external_id) = &self.accounts.member_external_id {
            request = request.external_id(external_id);
        }
        let output = request.send().await.map_err(|err| match classify(&err) {
            Failure::Transient(reason) => MemberAccessError::AssumeUnavailable {
                role_arn: role_arn.to_string(),
                reason,
            },
            Failure::Service { code, message } => MemberAccessError::AssumeRefused {
                role_arn: role_arn.to_string(),
                reason: refusal(&code, &message, &format!("role {role_arn}")),
            },
        })?;
        let given = output
            .credentials()
            .ok_or_else(|| MemberAccessError::AssumeRefused {
                role_arn: role_arn.to_string(),
                reason: "STS answered without credentials".to_string(),
            })?;
        let expiry = SystemTime::try_from(*given.expiration()).ok();
        let credentials = Credentials::new(
            given.access_key_id(),
            given.secret_access_key(),
            Some(given.session_token().to_string()),
            expiry,
            "session-warden-member-role",
        );
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.to_string(), credentials.clone());
        Ok(credentials)
    }
}
