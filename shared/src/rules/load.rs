//! The rules a function or the command line runs with: the embedded default pack, then custom
//! packs in order. In a function a custom pack that does not load is skipped and reported, so the
//! function never runs without rules; on the command line it is an error.

use super::{DEFAULT_PACK_NAME, RuleError, RulePack, RuleSet};
use crate::alert::{Alert, AlertKey};
use crate::policy::Severity;
use crate::ports::Notifier;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A pack file bundled with the deployment.
pub const RULES_FILE_VAR: &str = "WARDEN_RULES_FILE";
/// A Parameter Store parameter (String or SecureString) holding a pack.
pub const RULES_PARAMETER_VAR: &str = "WARDEN_RULES_PARAMETER";
/// The alert kind raised when a custom pack does not load.
pub const RULES_LOAD_FAILED: &str = "rules_load_failed";
/// The parameter is read during the function's init, which Lambda limits to 10 seconds.
pub const PARAMETER_TIMEOUT: Duration = Duration::from_secs(6);

/// Where a function's custom packs come from (`WARDEN_RULES_FILE`, `WARDEN_RULES_PARAMETER`);
/// an empty value is the same as none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSources {
    pub file: Option<String>,
    pub parameter: Option<String>,
}

/// A custom pack's text, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPack {
    /// A file path, or `SSM parameter NAME`.
    pub source: String,
    pub text: Result<String, String>,
}

/// A custom pack that was skipped: the rules before it stay in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePackProblem {
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for RulePackProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl RuleSources {
    pub fn from_env() -> Self {
        RuleSources::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let value = |name| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        RuleSources {
            file: value(RULES_FILE_VAR),
            parameter: value(RULES_PARAMETER_VAR),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.parameter.is_none()
    }

    /// Reads the file, then the parameter (once: the caller keeps the result for the
    /// container's life), in the order they are applied.
    pub async fn read(&self, ssm: &aws_sdk_ssm::Client) -> Vec<CustomPack> {
        let mut packs = Vec::new();
        if let Some(path) = &self.file {
            packs.push(CustomPack::read_file(Path::new(path)));
        }
        if let Some(name) = &self.parameter {
            let fetched =
                tokio::time::timeout(PARAMETER_TIMEOUT, crate::aws::fetch_parameter(ssm, name))
                    .await;
            let text = match fetched {
                Ok(Ok(text)) => Ok(text),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!(
                    "SSM parameter `{name}` could not be read: no answer within {} s",
                    PARAMETER_TIMEOUT.as_secs()
                )),
            };
            packs.push(CustomPack {
                source: parameter_source(name),
                text,
            });
        }
        packs
    }
}

/// How a pack read from Parameter Store is named in errors and alerts.
pub fn parameter_source(name: &str) -> String {
    format!("SSM parameter {name}")
}

impl CustomPack {
    pub fn read_file(path: &Path) -> CustomPack {
        CustomPack {
            source: path.display().to_string(),
            text: std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}")),
        }
    }
}

/// The default pack followed by each custom pack that loads. A pack that cannot be read, does
/// not parse, fails validation or does not compile against the packs before it is skipped and
/// reported; the rules loaded so far (at least the default pack) stay in force.
pub fn assemble(custom: Vec<CustomPack>) -> (RuleSet, Vec<RulePackProblem>) {
    let default = super::default_pack().expect("the embedded default pack parses (tested)");
    let prebuilt = |pack| {
        RuleSet::prebuilt_default(pack).expect("the embedded default pack compiles (tested)")
    };
    // The usual case, in every function's init: no copy of the pack to fall back on.
    if custom.is_empty() {
        return (prebuilt(default), Vec::new());
    }
    let mut rules = prebuilt(default.clone());
    let mut accepted = vec![default];
    let mut problems = Vec::new();
    for pack in custom {
        let problem = |message: String| RulePackProblem {
            source: pack.source.clone(),
            message,
        };
        let parsed = pack
            .text
            .clone()
            .and_then(|text| RulePack::parse(&text, &pack.source).map_err(|e| e.to_string()));
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(message) => {
                problems.push(problem(message));
                continue;
            }
        };
        let mut trial = accepted.clone();
        trial.push(parsed);
        match RuleSet::compile(trial.clone()) {
            Ok(compiled) => {
                rules = compiled;
                accepted = trial;
            }
            Err(error) => problems.push(problem(error.to_string())),
        }
    }
    (rules, problems)
}

/// The alert telling on-call that a custom pack was skipped. It concerns no session.
pub fn problem_alert(problem: &RulePackProblem) -> Alert {
    let severity = Severity::High;
    let mut body = String::from("Custom rule pack failed to load; default rules in force\n\n");
    let mut line = |label: &str, value: &str| {
        // Continuation lines (a TOML or regex error shows the offending text) under the value.
        let value = value.trim_end().replace('\n', &format!("\n{:14}", ""));
        body.push_str(&format!("{label:<14}{value}\n"));
    };
    line("Source:", &problem.source);
    line("Error:", &problem.message);
    line(
        "In force:",
        &format!(
            "the embedded default pack ({DEFAULT_PACK_NAME}) and any other custom pack that \
             loaded; none of this pack's rules are applied"
        ),
    );
    line(
        "Fix:",
        "correct the pack (`warden rules check FILE` shows every problem). Packs are read when \
         a container starts: update the function's configuration or redeploy to load the fix \
         now",
    );
    Alert {
        key: AlertKey {
            session_id: "(none)".to_string(),
            kind: RULES_LOAD_FAILED.to_string(),
        },
        severity,
        rule_id: None,
        subject: format!(
            "[{}] Custom rule pack failed to load; default rules in force",
            severity.as_str().to_uppercase()
        ),
        body,
        attributes: BTreeMap::from([
            ("severity".to_string(), severity.as_str().to_string()),
            ("kind".to_string(), RULES_LOAD_FAILED.to_string()),
        ]),
    }
}

/// Logs each problem and publishes its alert. A failed publish is logged, not returned: the
/// function still starts, with the rules that loaded.
pub async fn report_problems<N: Notifier>(notifier: &N, problems: &[RulePackProblem]) {
    for problem in problems {
        tracing::error!(
            source = %problem.source,
            error = %problem.message,
            "custom rule pack failed to load; the default rules are in force"
        );
        if let Err(error) = notifier.publish(&problem_alert(problem)).await {
            tracing::error!(
                source = %problem.source,
                %error,
                "could not publish the rule pack alert"
            );
        }
    }
}

/// A pack file the command line cannot use.
#[derive(Debug, thiserror::Error)]
pub enum PackFileError {
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error(transparent)]
    Rules(#[from] RuleError),
}

/// A pack file's text, with the name errors give it.
pub fn read_pack_file(path: &Path) -> Result<(String, String), PackFileError> {
    let source = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((source, text)),
        Err(error) => Err(PackFileError::Read {
            path: source,
            error,
        }),
    }
}

/// The default pack followed by these pack files, in order (`warden scan --rules`, `warden rules`):
/// any problem is an error.
pub fn default_with_files(paths: &[PathBuf]) -> Result<RuleSet, PackFileError> {
    let mut packs = Vec::new();
    for path in paths {
        let (source, text) = read_pack_file(path)?;
        packs.push(RulePack::parse(&text, &source)?);
    }
    Ok(super::default_with(packs)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::CollectingNotifier;
    use crate::test_support::KUBECTL_RULE;

    /// The default rule the custom pack disables: the first, whatever the default pack holds.
    fn disabled_id() -> String {
        super::super::default_rules().rules()[0].id.clone()
    }

    /// Switches the first default rule off and adds one of its own.
    fn custom() -> String {
        format!("disable = [\"{}\"]\n{KUBECTL_RULE}", disabled_id())
    }

    fn pack(source: &str, text: &str) -> CustomPack {
        CustomPack {
            source: source.to_string(),
            text: Ok(text.to_string()),
        }
    }

    fn ids(rules: &RuleSet) -> Vec<&str> {
        rules.rules().iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn without_custom_packs_the_default_pack_is_in_force() {
        let (rules, problems) = assemble(Vec::new());
        assert!(problems.is_empty());
        assert_eq!(ids(&rules), ids(&super::super::default_rules()));
        assert_eq!(rules.packs(), [DEFAULT_PACK_NAME]);
    }

    #[test]
    fn a_pack_file_that_loads_is_applied_after_the_default_pack() {
        let dir = std::env::temp_dir().join(format!("warden-load-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("custom.toml");
        std::fs::write(&path, custom()).unwrap();
        let (rules, problems) = assemble(vec![CustomPack::read_file(&path)]);
        std::fs::remove_dir_all(&dir).unwrap();

        assert!(problems.is_empty(), "{problems:?}");
        let source = path.display().to_string();
        assert_eq!(rules.packs(), [DEFAULT_PACK_NAME, source.as_str()]);
        assert_eq!(
            rules.source_of("custom.kubectl_delete_namespace"),
            Some(source.as_str())
        );
    }

    #[test]
    fn an_unreadable_file_leaves_the_default_pack_and_a_problem_naming_it() {
        let (rules, problems) = assemble(vec![CustomPack::read_file(Path::new(
            "/nonexistent/warden/custom.toml",
        ))]);
        assert_eq!(ids(&rules), ids(&super::super::default_rules()));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].source, "/nonexistent/warden/custom.toml");
        assert!(
            problems[0].message.starts_with("cannot read the file: "),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn broken_parameter_text_leaves_the_default_pack_and_a_problem_naming_it() {
        let source = parameter_source("/warden/rules");
        let broken = custom().replace("patterns =", "paterns =");
        let (rules, problems) = assemble(vec![pack(&source, &broken)]);

        assert_eq!(ids(&rules), ids(&super::super::default_rules()));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].source, "SSM parameter /warden/rules");
        assert!(
            problems[0]
                .message
                .starts_with("SSM parameter /warden/rules:")
                && problems[0].message.contains("paterns"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_bad_regex_skips_only_that_pack() {
        let good = pack("good.toml", &custom());
        let bad_regex = KUBECTL_RULE
            .replace("custom.kubectl", "custom.other")
            .replace(r"'^kubectl\s+delete\s+(ns|namespace)\s'", "'^kubectl(('");
        let (rules, problems) = assemble(vec![good, pack("bad.toml", &bad_regex)]);

        assert_eq!(rules.packs(), [DEFAULT_PACK_NAME, "good.toml"]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("bad.toml: rule `custom.other_delete_namespace`, field `patterns`"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_custom_pack_can_disable_a_default_rule() {
        let (rules, problems) = assemble(vec![pack("custom.toml", &custom())]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(rules.find(&disabled_id()).is_none());
        assert!(rules.find("custom.kubectl_delete_namespace").is_some());
        assert_eq!(
            rules.rules().len(),
            super::super::default_rules().rules().len()
        );
    }

    #[test]
    fn empty_variables_mean_no_custom_pack() {
        let sources = RuleSources::from_lookup(|name| match name {
            RULES_FILE_VAR => Some(" ".to_string()),
            RULES_PARAMETER_VAR => Some(String::new()),
            _ => None,
        });
        assert!(sources.is_empty());
        let sources = RuleSources::from_lookup(|name| {
            (name == RULES_PARAMETER_VAR).then(|| "/warden/rules".to_string())
        });
        assert_eq!(sources.parameter.as_deref(), Some("/warden/rules"));
        assert_eq!(sources.file, None);
    }

    #[test]
    fn the_alert_names_the_source_and_the_error_and_needs_no_session() {
        let problem = RulePackProblem {
            source: "SSM parameter /warden/rules".into(),
            message: "SSM parameter `/warden/rules`: ParameterNotFound: not found".into(),
        };
        let alert = problem_alert(&problem);
        assert_eq!(alert.key.kind, "rules_load_failed");
        assert_eq!(alert.key.session_id, "(none)");
        assert_eq!(alert.severity, Severity::High);
        assert_eq!(
            alert.subject,
            "[HIGH] Custom rule pack failed to load; default rules in force"
        );
        assert!(alert.subject.chars().count() <= crate::alert::MAX_SUBJECT_CHARS);
        assert!(
            alert
                .body
                .contains("Source:       SSM parameter /warden/rules"),
            "{}",
            alert.body
        );
        assert!(alert.body.contains("ParameterNotFound"), "{}", alert.body);
        assert_eq!(alert.attributes["kind"], "rules_load_failed");
        assert_eq!(alert.attributes["severity"], "high");
        assert_eq!(alert.attributes.len(), 2);
    }

    #[tokio::test]
    async fn every_problem_is_published() {
        let notifier = CollectingNotifier::new();
        let problems = vec![
            RulePackProblem {
                source: "a.toml".into(),
                message: "x".into(),
            },
            RulePackProblem {
                source: "b.toml".into(),
                message: "y".into(),
            },
        ];
        report_problems(&notifier, &problems).await;
        let sent = notifier.take();
        assert_eq!(sent.len(), 2);
        assert!(sent[0].body.contains("a.toml") && sent[1].body.contains("b.toml"));
    }
}
