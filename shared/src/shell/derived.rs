//! Files made from other files, followed to where they leave: `tar czf /tmp/w.tgz /var/www` then
//! `curl -F f=@/tmp/w.tgz https://…` sends the web root; `pg_dump app > /tmp/d.sql` then
//! `curl -T /tmp/d.sql https://…` sends the database. A later command naming such a file is read
//! again with the file replaced by its sources, or (for a dump, which has none) as the command
//! that made it piped in.

use super::normalize::{Arg, Normalizer, Redirection};
use super::state::Derived;

/// Sources remembered for one made file.
const MAX_SOURCES: usize = 16;

/// Programs whose output, redirected to a file, holds the files they read.
const READERS: &[&str] = &[
    "cat", "tac", "head", "tail", "base64", "base32", "xxd", "od", "gzip", "bzip2", "xz", "zstd",
    "strings", "sort", "uniq", "cut", "awk", "sed", "grep", "tar", "zip", "openssl", "gpg",
];

impl Normalizer {
    /// Records the file a command writes from others: archives (`tar c`, `zip`, `7z a`), copies
    /// (`cp`, `mv`, `install`), and any output redirected to a file.
    pub(super) fn track_derived(&mut self, args: &[Arg], redirects: &[Redirection]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        let made: Option<(Arg, Vec<&Arg>)> = match name.text.as_str() {
            "tar" | "bsdtar" => tar_archive(rest),
            "zip" => operands(rest)
                .split_first()
                .map(|(f, s)| ((*f).clone(), s.to_vec())),
            "7z" | "7za" => match operands(rest).as_slice() {
                [verb, file, sources @ ..] if verb.text == "a" => {
                    Some(((*file).clone(), sources.to_vec()))
                }
                _ => None,
            },
            "cp" | "mv" | "install" => {
                let ops = operands(rest);
                ops.split_last()
                    .filter(|(_, sources)| !sources.is_empty())
                    .map(|(dest, sources)| ((*dest).clone(), sources.to_vec()))
            }
            _ => None,
        };
        if let Some((file, sources)) = &made {
            self.record_made(file, sources, join_args(args));
        }
        let Some(target) = redirects
            .iter()
            .filter(|r| matches!(r.op.as_str(), ">" | ">>" | "1>" | "1>>" | ">|"))
            .find_map(|r| r.target.as_ref())
            .filter(|t| !t.text.starts_with("/dev/"))
        else {
            return;
        };
        let sources = if READERS.contains(&name.text.as_str()) {
            operands(rest)
        } else {
            Vec::new()
        };
        self.record_made(target, &sources, join_args(args));
    }

    fn record_made(&mut self, file: &Arg, sources: &[&Arg], producer: String) {
        let Some(key) = self.path_key_of(file) else {
            return;
        };
        let sources = sources
            .iter()
            .take(MAX_SOURCES)
            .map(|s| self.path_key_of(s).unwrap_or_else(|| s.text.clone()))
            .collect();
        self.state
            .record_derived(key, Derived { sources, producer });
    }

    /// For each operand naming a file made earlier (also as `@FILE`, `opt=@FILE`, `--opt=FILE`
    /// or an input redirection): the command with the file replaced by its sources, and with the
    /// command that made it piped in; with the file named, for `via`.
    pub(super) fn derived_uses(
        &self,
        args: &[Arg],
        redirects: &[Redirection],
    ) -> Vec<(String, String)> {
        let mut uses = Vec::new();
        if !self.state.has_derived() {
            return uses;
        }
        let words: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        let rendered: Vec<String> = redirects.iter().map(Redirection::render).collect();
        for (i, arg) in args.iter().enumerate().skip(1) {
            let text = arg.text.as_str();
            let start = text
                .rfind('@')
                .or_else(|| text.find('='))
                .map_or(0, |p| p + 1);
            let named = &text[start..];
            let Some((key, derived)) = self.derived_file(named, arg.resolved) else {
                continue;
            };
            let with = |replacement: &str| {
                let mut words = words.clone();
                words[i] = format!("{}{replacement}", &text[..start]);
                words
                    .iter()
                    .chain(&rendered)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let text = if derived.sources.is_empty() {
                format!("{} | {}", derived.producer, with("-"))
            } else {
                with(&derived.sources.join(" "))
            };
            uses.push((text, key));
        }
        for redirect in redirects {
            let input = redirect.op.trim_start_matches(|c: char| c.is_ascii_digit()) == "<";
            let Some(target) = redirect.target.as_ref().filter(|_| input) else {
                continue;
            };
            if let Some((key, derived)) = self.derived_file(&target.text, target.resolved) {
                let others = redirects
                    .iter()
                    .filter(|r| !std::ptr::eq(*r, redirect))
                    .map(Redirection::render);
                let command = words.iter().cloned().chain(others).collect::<Vec<_>>();
                let source = if derived.sources.is_empty() {
                    derived.producer.clone()
                } else {
                    format!("cat {}", derived.sources.join(" "))
                };
                uses.push((format!("{source} | {}", command.join(" ")), key));
            }
        }
        uses
    }

    fn derived_file(&self, text: &str, resolved: bool) -> Option<(String, &Derived)> {
        if text.is_empty() {
            return None;
        }
        let key = self.path_key_text(text, resolved)?;
        let derived = self.state.derived(&key)?;
        Some((key, derived))
    }

    fn path_key_of(&self, arg: &Arg) -> Option<String> {
        self.path_key_text(&arg.text, arg.resolved)
    }
}

/// Operands: the words that are not options. (An option's value reads as an operand; for the
/// commands here that only adds a harmless source.)
fn operands(args: &[Arg]) -> Vec<&Arg> {
    args.iter()
        .filter(|a| !a.text.starts_with('-') && !a.text.is_empty())
        .collect()
}

/// `tar czf FILE SOURCES`, `tar -c -f FILE …`, `tar --create --file=FILE …`: the archive and what
/// goes in, when it creates one.
fn tar_archive(args: &[Arg]) -> Option<(Arg, Vec<&Arg>)> {
    let mut creates = false;
    let mut file: Option<Arg> = None;
    let mut sources = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let text = arg.text.as_str();
        if let Some(name) = text.strip_prefix("--file=") {
            let mut named = arg.clone();
            named.text = name.to_string();
            file = Some(named);
        } else if text == "--create" {
            creates = true;
        } else if matches!(text, "-C" | "--directory" | "-X" | "--exclude-from" | "-T") {
            // Their value is not a source.
            i += 1;
        } else if text.starts_with("--") {
            // Other long options change how, not what.
        } else if i == 0 || text.starts_with('-') {
            // A cluster of short options, the first word even without a dash (`czf`).
            let cluster = text.trim_start_matches('-');
            if !cluster.is_empty() && cluster.chars().all(|c| c.is_ascii_alphabetic()) {
                creates |= cluster.contains('c');
                if cluster.ends_with('f') {
                    file = args.get(i + 1).cloned();
                    i += 1;
                }
            } else {
                sources.push(arg);
            }
        } else {
            sources.push(arg);
        }
        i += 1;
    }
    let file = file?;
    creates.then_some((file, sources))
}

fn join_args(args: &[Arg]) -> String {
    args.iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}
