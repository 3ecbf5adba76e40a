//! Which root certificates the functions' HTTPS client trusts.
//!
//! The functions only call AWS service endpoints, and every one of them chains to a root of
//! Amazon Trust Services. Trusting those five roots alone, embedded here, instead of the
//! system's bundle of about 140 is narrower (a mis-issued certificate from any other authority
//! cannot intercept the calls that record sessions and terminate them), and it is faster: the
//! SDK parses the system bundle's PEM before the first call, which was most of a function's
//! start-up (docs/performance.md). `WARDEN_TLS_ROOTS=system` trusts the system's bundle
//! instead, for an egress proxy that re-signs TLS with a private authority.

use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// The five roots Amazon Trust Services tells custom trust stores to hold
/// (<https://www.amazontrust.com/repository/>), in PEM.
pub const AMAZON_TRUST_SERVICES_PEM: &str = include_str!("amazon-trust-services.pem");

/// The root certificates an HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// Amazon Trust Services' roots: all an AWS endpoint needs. The functions' default
    /// (`WARDEN_TLS_ROOTS` unset, in `config`).
    Amazon,
    /// The system's root store. The CLI's choice: it runs behind whatever proxy its user has.
    System,
}

impl TrustRoots {
    /// `WARDEN_TLS_ROOTS`: `amazon` or `system`.
    pub fn parse(value: &str) -> Option<TrustRoots> {
        match value.trim() {
            "amazon" => Some(TrustRoots::Amazon),
            "system" => Some(TrustRoots::System),
            _ => None,
        }
    }

    fn trust_store(self) -> TrustStore {
        match self {
            TrustRoots::Amazon => {
                TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_PEM)
            }
            TrustRoots::System => TrustStore::default(),
        }
    }
}

/// The SDK's HTTPS client on rustls with ring (its default, aws-lc-rs, is the same protocol
/// support at a far larger build and binary), trusting `roots`.
pub fn https_client(roots: TrustRoots) -> aws_sdk_sts::config::SharedHttpClient {
    let context = TlsContext::builder()
        .with_trust_store(roots.trust_store())
        .build()
        .expect("a TLS context without server names always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// The DER of each certificate in `pem`.
    fn certificates(pem: &str) -> Vec<Vec<u8>> {
        pem.split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|rest| {
                let body = rest
                    .split("-----END CERTIFICATE-----")
                    .next()
                    .expect("split yields a first part");
                let base64: String = body.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(base64)
                    .expect("the embedded certificates are valid base64")
            })
            .collect()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_embedded_roots_are_the_five_amazon_trust_services_names() {
        let certificates = certificates(AMAZON_TRUST_SERVICES_PEM);
        let names = [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ];
        assert_eq!(certificates.len(), names.len());
        for (der, name) in certificates.iter().zip(names) {
            // A root names itself twice: as issuer and as subject.
            let at = der
                .windows(name.len())
                .position(|w| w == name.as_bytes())
                .unwrap_or_else(|| panic!("{name} not in its certificate"));
            assert!(
                contains(&der[at + 1..], name.as_bytes()),
                "{name} is not self-issued"
            );
        }
    }

    #[test]
    fn only_amazon_and_system_are_accepted() {
        assert_eq!(TrustRoots::parse("amazon"), Some(TrustRoots::Amazon));
        assert_eq!(TrustRoots::parse(" system "), Some(TrustRoots::System));
        assert_eq!(TrustRoots::parse("Amazon"), None);
        assert_eq!(TrustRoots::parse(""), None);
    }

    #[test]
    fn a_client_builds_its_tls_configuration_from_either_store() {
        // The SDK reads the trust store when a client is made and panics on a certificate it
        // cannot parse: making one is the check that the embedded bundle loads.
        for roots in [TrustRoots::Amazon, TrustRoots::System] {
            let config = aws_sdk_sts::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("eu-west-1"))
                .http_client(https_client(roots))
                .build();
            let _client = aws_sdk_sts::Client::from_conf(config);
        }
    }
}
