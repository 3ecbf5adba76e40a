//! Masks secrets in commands before they are stored or sent in an alert: an alert about
//! `mysql -pS3cret` must not spread the password further.

use regex::Regex;
use std::sync::OnceLock;

const MASK: &str = "****";

struct Masker {
    /// Each pattern's first group is kept; the rest of the match becomes the mask.
    patterns: Vec<Regex>,
}

fn masker() -> &'static Masker {
    static MASKER: OnceLock<Masker> = OnceLock::new();
    MASKER.get_or_init(|| {
        let patterns = [
            // AWS access key ids.
            r"()\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b",
            // `aws configure set aws_secret_access_key VALUE`.
            r"(?i)((?:aws_secret_access_key|aws_session_token)\s+)[^\s]+",
            // key=value / key: value forms of secrets in arguments, environment and headers.
            r#"(?i)((?:aws_secret_access_key|aws_session_token|secret|password|passwd|pwd|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)["']?\s*[=:]\s*["']?)[^\s"'&;|]+"#,
            // Options that take a password: --password X, --password=X, --token X.
            r#"(?i)((?:^|\s)--?(?:password|passwd|pass|token|secret|api-key|access-token)(?:=|\s+)["']?)[^\s"']+"#,
            // mysql/mariadb `-pSECRET` (the password glued to -p).
            r"((?:^|\s)(?:mysql|mysqldump|mariadb|mysqladmin)\s(?:[^|;&]*\s)?-p)[^\s]+",
            // Authorization headers.
            r#"(?i)(authorization:\s*(?:bearer|basic|token)\s+)[^\s"']+"#,
            // Credentials in URLs: scheme://user:password@host.
            r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(@)",
            // Environment assignments such as PGPASSWORD=…, MYSQL_PWD=….
            r"(\b(?:PGPASSWORD|MYSQL_PWD|[A-Z_]*(?:PASSWORD|SECRET|TOKEN))=)[^\s]+",
        ];
        Masker {
            patterns: patterns.iter().map(|p| Regex::new(p).expect("masking patterns compile")).collect(),
        }
    })
}

/// The text with every secret it recognises replaced by `****`.
pub fn mask_secrets(text: &str) -> String {
    let mut masked = text.to_string();
    for pattern in &masker().patterns {
        masked = pattern
            .replace_all(&masked, |caps: &regex::Captures<'_>| {
                let keep = caps.get(1).map_or("", |m| m.as_str());
                let tail = caps.get(2).map_or("", |m| m.as_str());
                format!("{keep}{MASK}{tail}")
            })
            .into_owned();
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_ids_are_masked() {
        assert_eq!(
            mask_secrets("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"),
            "export AWS_ACCESS_KEY_ID=****"
        );
    }

    #[test]
    fn secret_assignments_are_masked() {
        assert_eq!(
            mask_secrets("aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG"),
            "aws configure set aws_secret_access_key ****"
        );
        assert_eq!(
            mask_secrets("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            "export AWS_SECRET_ACCESS_KEY=****"
        );
        assert_eq!(
            mask_secrets("curl -d password=hunter2 http://x"),
            "curl -d password=**** http://x"
        );
    }

    #[test]
    fn password_options_are_masked() {
        assert_eq!(
            mask_secrets("mysql -u root -pS3cret! db"),
            "mysql -u root -p**** db"
        );
        assert_eq!(
            mask_secrets("psql --password=abc host"),
            "psql --password=**** host"
        );
        assert_eq!(
            mask_secrets("vault login --token s.abcdef"),
            "vault login --token ****"
        );
    }

    #[test]
    fn headers_and_url_credentials_are_masked() {
        assert_eq!(
            mask_secrets("curl -H 'Authorization: Bearer eyJhbGciOi' https://api"),
            "curl -H 'Authorization: Bearer ****' https://api"
        );
        assert_eq!(
            mask_secrets("git clone https://deploy:ghp_abc123@github.example/x.git"),
            "git clone https://deploy:****@github.example/x.git"
        );
        assert_eq!(
            mask_secrets("PGPASSWORD=pw psql -h db"),
            "PGPASSWORD=**** psql -h db"
        );
    }

    #[test]
    fn ordinary_commands_are_left_alone() {
        for text in [
            "rm -rf /",
            "cat /etc/shadow",
            "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        ] {
            assert_eq!(mask_secrets(text), text);
        }
    }
}
