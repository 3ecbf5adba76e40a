//! What earlier lines of a session leave behind that changes what later lines mean: variables
//! assigned a literal, the working directory, functions and aliases defined, files downloaded.
//! `cd /` on one line and `rm -rf *` on the next delete the root; `f() { rm -rf "$1"; }` then
//! `f /` does too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::parse::Pipeline;

/// Variables remembered for a session; assignments beyond this are not remembered.
const MAX_VARIABLES: usize = 256;
/// Functions and aliases remembered for a session.
const MAX_DEFINITIONS: usize = 64;
/// Downloaded files remembered for a session; files made from others, the same.
const MAX_DOWNLOADS: usize = 64;

/// A file written from others (an archive, a copy, a dump), and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Derived {
    /// The files it holds, as absolute paths (or as written when the directory is unknown).
    pub(super) sources: Vec<String>,
    /// The command that wrote it (`pg_dump appdb`, `tar czf /tmp/w.tgz /var/www`).
    pub(super) producer: String,
}

/// The shell's state as far as the typed lines tell it, carried from one line to the next.
#[derive(Debug, Clone)]
pub struct ShellState {
    vars: HashMap<String, String>,
    /// The working directory, while every `cd` since it was known had a literal target.
    cwd: Option<String>,
    oldpwd: Option<String>,
    functions: HashMap<String, Vec<Pipeline>>,
    aliases: HashMap<String, String>,
    /// File (absolute path, or the variable it is named by, as written) → the command that
    /// downloaded it (`curl -o /tmp/x https://…`).
    downloads: Vec<(String, String)>,
    /// File (as for `downloads`) → what it was made from.
    derived: Vec<(String, Derived)>,
    /// Which contents these are: see [`ShellState::version`].
    version: u64,
}

/// Versions are drawn from one counter for the whole process, so two states with the same
/// version are one state and its unchanged clone, never two states that happen to agree.
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

impl Default for ShellState {
    fn default() -> Self {
        let mut state = ShellState::vacant();
        // IFS is the one variable known before anything runs; `cat${IFS}/etc/shadow` uses it.
        state.vars.insert("IFS".to_string(), " \t\n".to_string());
        state
    }
}

impl ShellState {
    pub fn new() -> Self {
        Self::default()
    }

    /// A placeholder that allocates nothing, while the real state is lent to a line's reader.
    pub(super) fn vacant() -> Self {
        ShellState {
            vars: HashMap::new(),
            cwd: None,
            oldpwd: None,
            functions: HashMap::new(),
            aliases: HashMap::new(),
            downloads: Vec::new(),
            derived: Vec::new(),
            version: next_version(),
        }
    }

    /// Names these contents: it changes whenever anything in the state may have changed (even
    /// to what it was), so what a line meant in one version it means again in the same version.
    /// Lets a scanner reuse its reading of a command typed again with nothing changed between.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn changed(&mut self) {
        self.version = next_version();
    }

    /// The working directory, when the session has shown it (`cd /var/lib`).
    pub fn cwd(&self) -> Option<&str> {
        self.cwd.as_deref()
    }

    pub(super) fn var(&self, name: &str) -> Option<&String> {
        self.vars.get(name)
    }

    pub(super) fn set_var(&mut self, name: &str, value: String) {
        self.changed();
        if self.vars.len() < MAX_VARIABLES || self.vars.contains_key(name) {
            self.vars.insert(name.to_string(), value);
        } else {
            // Not remembered: better unknown than stale.
            self.vars.remove(name);
        }
    }

    pub(super) fn unset_var(&mut self, name: &str) -> Option<String> {
        self.changed();
        self.vars.remove(name)
    }

    pub(super) fn set_cwd(&mut self, cwd: Option<String>) {
        self.changed();
        self.oldpwd = std::mem::replace(&mut self.cwd, cwd);
    }

    /// `cd -`: back to the previous directory.
    pub(super) fn swap_cwd(&mut self) {
        self.changed();
        std::mem::swap(&mut self.cwd, &mut self.oldpwd);
    }

    /// The working directory and the previous one, to restore when a subshell ends.
    pub(super) fn save_cwd(&self) -> (Option<String>, Option<String>) {
        (self.cwd.clone(), self.oldpwd.clone())
    }

    pub(super) fn restore_cwd(&mut self, cwd: Option<String>, oldpwd: Option<String>) {
        // Every command restores what it saved: most changed nothing, and stay the same version.
        if cwd == self.cwd && oldpwd == self.oldpwd {
            return;
        }
        self.changed();
        self.cwd = cwd;
        self.oldpwd = oldpwd;
    }

    pub(super) fn oldpwd(&self) -> Option<&str> {
        self.oldpwd.as_deref()
    }

    pub(super) fn function(&self, name: &str) -> Option<&Vec<Pipeline>> {
        self.functions.get(name)
    }

    pub(super) fn define_function(&mut self, name: String, body: Vec<Pipeline>) {
        self.changed();
        if self.functions.len() < MAX_DEFINITIONS || self.functions.contains_key(&name) {
            self.aliases.remove(&name);
            self.functions.insert(name, body);
        }
    }

    pub(super) fn alias(&self, name: &str) -> Option<&str> {
        self.aliases.get(name).map(String::as_str)
    }

    pub(super) fn define_alias(&mut self, name: String, value: String) {
        self.changed();
        if self.aliases.len() < MAX_DEFINITIONS || self.aliases.contains_key(&name) {
            self.aliases.insert(name, value);
        }
    }

    pub(super) fn unalias(&mut self, name: &str) {
        self.changed();
        self.aliases.remove(name);
    }

    pub(super) fn has_downloads(&self) -> bool {
        !self.downloads.is_empty()
    }

    /// Whether any function or alias is defined: most lines call none.
    pub(super) fn has_definitions(&self) -> bool {
        !self.functions.is_empty() || !self.aliases.is_empty()
    }

    pub(super) fn download(&self, file: &str) -> Option<&str> {
        self.downloads
            .iter()
            .rev()
            .find(|(f, _)| f == file)
            .map(|(_, command)| command.as_str())
    }

    pub(super) fn has_derived(&self) -> bool {
        !self.derived.is_empty()
    }

    pub(super) fn derived(&self, file: &str) -> Option<&Derived> {
        self.derived
            .iter()
            .rev()
            .find(|(f, _)| f == file)
            .map(|(_, d)| d)
    }

    pub(super) fn record_derived(&mut self, file: String, derived: Derived) {
        self.changed();
        self.derived.retain(|(f, _)| *f != file);
        if self.derived.len() >= MAX_DOWNLOADS {
            self.derived.remove(0);
        }
        self.derived.push((file, derived));
    }

    pub(super) fn record_download(&mut self, file: String, command: String) {
        self.changed();
        self.downloads.retain(|(f, _)| *f != file);
        if self.downloads.len() >= MAX_DOWNLOADS {
            self.downloads.remove(0);
        }
        self.downloads.push((file, command));
    }
}
