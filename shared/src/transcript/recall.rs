//! A command typed again, with nothing in the shell changed since, means what it meant: its
//! normalisation and the rules it fired are reused instead of read again.
//!
//! Sessions repeat themselves (`kubectl get pods`, `tail -n 50 app.log`, history recalls), and
//! reading a command the way bash would is most of what a scan costs. The reuse is exact, not a
//! heuristic: an entry is kept only for a command that left the shell state as it found it, and
//! only for as long as that state lasts ([`ShellState::version`]).

use std::collections::HashMap;

use crate::rules::{Rule, RuleSet};
use crate::shell::ShellState;

use super::scan::match_command;

/// Commands remembered at once; past this the memory starts over.
const MAX_ENTRIES: usize = 1024;
/// Bytes of command text and matched text remembered at once: bounded memory at 128 MB.
const MAX_BYTES: usize = 256 * 1024;

type Fired<'r> = Vec<(&'r Rule, String)>;

/// What each command read in the current shell state fired.
#[derive(Debug, Default)]
pub(super) struct Recall<'r> {
    /// The shell state the entries were read in.
    version: u64,
    fired: HashMap<String, Fired<'r>>,
    bytes: usize,
}

impl<'r> Recall<'r> {
    /// [`match_command`] for a command typed with no other reading, reusing an earlier
    /// reading of the same text in the same shell state.
    pub(super) fn match_typed(
        &mut self,
        rules: &'r RuleSet,
        shell: &mut ShellState,
        typed: &str,
    ) -> Fired<'r> {
        let version = shell.version();
        if version == self.version
            && let Some(fired) = self.fired.get(typed)
        {
            return fired.clone();
        }
        let fired = match_command(rules, shell, typed, &[]);
        // A command that changed the state (`cd`, an assignment) means something else when
        // typed again: it is not kept, and what was kept for the old state is of no more use.
        if shell.version() == version {
            self.keep(version, typed, &fired);
        }
        fired
    }

    fn keep(&mut self, version: u64, typed: &str, fired: &Fired<'r>) {
        let bytes = typed.len() + fired.iter().map(|(_, text)| text.len()).sum::<usize>();
        if version != self.version
            || self.fired.len() >= MAX_ENTRIES
            || self.bytes + bytes > MAX_BYTES
        {
            self.fired.clear();
            self.bytes = 0;
            self.version = version;
        }
        if bytes <= MAX_BYTES {
            self.fired.insert(typed.to_string(), fired.clone());
            self.bytes += bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::default_rules;
    use std::sync::LazyLock;

    static RULES: LazyLock<RuleSet> = LazyLock::new(default_rules);

    fn ids(fired: &Fired<'_>) -> Vec<String> {
        fired.iter().map(|(rule, _)| rule.id.clone()).collect()
    }

    #[test]
    fn a_command_typed_again_fires_the_same_rules_from_memory() {
        let mut recall = Recall::default();
        let mut shell = ShellState::new();
        let first = recall.match_typed(&RULES, &mut shell, "sudo cat /etc/shadow");
        assert!(!first.is_empty());
        assert_eq!(recall.fired.len(), 1);
        let again = recall.match_typed(&RULES, &mut shell, "sudo cat /etc/shadow");
        assert_eq!(ids(&again), ids(&first));
        assert_eq!(again[0].1, first[0].1);
    }

    #[test]
    fn a_change_to_the_shell_forgets_what_was_read_before_it() {
        let mut recall = Recall::default();
        let mut shell = ShellState::new();
        assert!(
            recall
                .match_typed(&RULES, &mut shell, "rm -rf *")
                .is_empty()
        );
        // `cd /` changes what `rm -rf *` deletes: it must be read again, not recalled.
        assert!(recall.match_typed(&RULES, &mut shell, "cd /").is_empty());
        let after_cd = recall.match_typed(&RULES, &mut shell, "rm -rf *");
        assert!(
            !after_cd.is_empty(),
            "`rm -rf *` in / was recalled as it was read elsewhere"
        );
    }

    #[test]
    fn a_command_that_changes_the_shell_is_read_every_time() {
        let mut recall = Recall::default();
        let mut shell = ShellState::new();
        recall.match_typed(&RULES, &mut shell, "d=/");
        recall.match_typed(&RULES, &mut shell, "d=/");
        assert!(recall.fired.is_empty());
    }

    #[test]
    fn memory_is_bounded_by_entries() {
        let mut recall = Recall::default();
        let mut shell = ShellState::new();
        for i in 0..MAX_ENTRIES + 10 {
            recall.match_typed(&RULES, &mut shell, &format!("echo {i}"));
        }
        assert!(recall.fired.len() <= MAX_ENTRIES);
        assert!(recall.bytes <= MAX_BYTES);
    }
}
