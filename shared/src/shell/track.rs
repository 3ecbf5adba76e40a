//! What a command changes in the shell (the working directory, functions, aliases, downloaded
//! files) and what those earlier changes make of a command: `rm -rf *` after `cd /`, `f /` after
//! `f() { rm -rf "$1"; }`, `/tmp/x` after `curl -o /tmp/x https://…`.

use super::normalize::{Arg, Call, Ctx, Normalizer, PreparedStage, Redirection};
use super::paths::{self, MAX_GLOB_MATCHES};
use super::{assignment, is_shell, join_words};

/// Function bodies run for one line: a body that calls itself, or calls several functions that
/// do, would otherwise grow with every level.
pub(super) const MAX_CALLS: usize = 32;

/// Globs matched against the known paths for one line.
const MAX_GLOBS: usize = 32;

/// Commands whose plain word arguments are files: `rm -rf mysql` in `/var/lib` removes
/// `/var/lib/mysql`. Other commands get only arguments that look like paths resolved.
const FILE_COMMANDS: &[&str] = &[
    "rm", "rmdir", "unlink", "shred", "truncate", "dd", "cat", "tac", "less", "more", "head",
    "tail", "cp", "mv", "ln", "chmod", "chown", "chgrp", "chattr", "tar", "zip", "gzip", "bzip2",
    "xz", "scp", "rsync", "strings", "base64", "xxd", "od", "hexdump", "vi", "vim", "nano", "ed",
    "tee", "touch", "source", ".", "wipefs", "mkfs", "sh", "bash", "python", "python3", "perl",
];

/// Commands whose first operand is a program, a pattern or a mode, not a file.
const FIRST_OPERAND_NOT_FILE: &[&str] = &[
    "sed", "awk", "gawk", "mawk", "grep", "egrep", "fgrep", "rg", "chmod", "chown", "chgrp",
    "chattr",
];

/// Downloaders, the options that name the file they write, and whether without one they write
/// to a file named after the URL (wget does; curl only with `-O`).
const DOWNLOADERS: &[(&str, &[&str], bool)] = &[
    ("curl", &["-o", "--output"], false),
    ("wget", &["-O", "--output-document"], true),
];

impl Normalizer {
    /// A function or alias of the session that `name` calls.
    pub(super) fn call(&self, name: &Arg, args: &[Arg]) -> Option<Call> {
        if !name.resolved || !self.state.has_definitions() {
            return None;
        }
        if self.state.function(&name.text).is_some() {
            let args = args.iter().map(|a| a.text.clone()).collect();
            return Some(Call::Function {
                name: name.text.clone(),
                args,
            });
        }
        let body = self.state.alias(&name.text)?;
        let rest = args.iter().map(|a| a.text.as_str());
        let text = join_words(std::iter::once(body).chain(rest), " ");
        Some(Call::Alias {
            name: name.text.clone(),
            text,
        })
    }

    /// Runs a function's body with `$1`, `$2`, … and `$@` bound to the call's arguments.
    pub(super) fn call_function(&mut self, name: &str, args: Vec<String>, ctx: &Ctx) {
        if self.calls >= MAX_CALLS || ctx.depth >= super::MAX_DEPTH {
            return;
        }
        let Some(body) = self.state.function(name).cloned() else {
            return;
        };
        self.calls += 1;
        let mut bound: Vec<(String, String)> = args
            .iter()
            .take(9)
            .enumerate()
            .map(|(i, a)| (format!("${}", i + 1), a.clone()))
            .collect();
        let all = args.join(" ");
        bound.push(("$@".to_string(), all.clone()));
        bound.push(("$*".to_string(), all));
        bound.push(("$#".to_string(), args.len().to_string()));
        let ctx = ctx.child([format!("function {name}")]);
        self.with_bindings(bound, |n| {
            let prepared = n.prepare_list(body, ctx.depth);
            n.emit(prepared, &ctx);
        });
    }

    /// The command once for each combination of known paths its globs name; empty when no glob
    /// names a known path.
    pub(super) fn glob_variants(&mut self, args: &[Arg]) -> Vec<Vec<Arg>> {
        if !args.iter().any(|a| a.glob) {
            return Vec::new();
        }
        let mut variants: Vec<Vec<Arg>> = vec![Vec::with_capacity(args.len())];
        let mut expanded = false;
        for arg in args {
            let found = if arg.glob {
                self.glob(&arg.text)
            } else {
                Vec::new()
            };
            if found.is_empty() {
                variants.iter_mut().for_each(|v| v.push(arg.clone()));
                continue;
            }
            expanded = true;
            let mut next = Vec::new();
            for variant in &variants {
                for path in found
                    .iter()
                    .take(MAX_GLOB_MATCHES - next.len().min(MAX_GLOB_MATCHES))
                {
                    let mut variant = variant.clone();
                    variant.push(Arg::literal(path.clone()));
                    next.push(variant);
                }
            }
            variants = next;
        }
        if expanded { variants } else { Vec::new() }
    }

    /// The known paths a glob names, while the line's budget of globs lasts.
    pub(super) fn glob(&mut self, pattern: &str) -> Vec<String> {
        if self.globs >= MAX_GLOBS {
            return Vec::new();
        }
        self.globs += 1;
        paths::glob_matches(pattern, self.state.cwd())
    }

    /// `cd DIR`, `pushd DIR`, `cd -`; a login shell or `exit` leaves the directory unknown.
    pub(super) fn track_cwd(&mut self, args: &[Arg]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        match name.text.as_str() {
            "cd" | "pushd" | "chdir" => {}
            "popd" | "exit" | "logout" => return self.state.set_cwd(None),
            "su" | "login" | "sudo"
                if rest
                    .iter()
                    .any(|a| matches!(a.text.as_str(), "-" | "-l" | "--login" | "-i")) =>
            {
                return self.state.set_cwd(None);
            }
            _ => return,
        }
        let target = rest
            .iter()
            .find(|a| a.text == "-" || !a.text.starts_with('-'));
        let Some(target) = target else {
            // `cd` alone goes home, which the transcript does not name.
            return self.state.set_cwd(None);
        };
        if target.text == "-" {
            return self.state.swap_cwd();
        }
        let dir = if target.glob {
            self.glob(&target.text).into_iter().next()
        } else if target.resolved || target.evaluated.is_some() {
            let dir = target.value();
            match (dir.starts_with('/'), self.state.cwd()) {
                (true, _) => Some(paths::clean(dir)),
                (false, Some(cwd)) if !dir.starts_with('~') => Some(paths::join(cwd, dir)),
                _ => None,
            }
        } else {
            None
        };
        self.state.set_cwd(dir);
    }

    /// The command with relative paths resolved in the working directory, and the `via` label
    /// naming it; None when the directory is unknown or nothing changes.
    pub(super) fn in_cwd(
        &self,
        args: &[Arg],
        redirects: &[Redirection],
    ) -> Option<(String, String)> {
        let cwd = self.state.cwd()?;
        let (name, rest) = args.split_first()?;
        let name = name.text.as_str();
        if matches!(name, "cd" | "pushd" | "chdir") {
            return None;
        }
        let file_command = FILE_COMMANDS.contains(&name);
        let mut script_operand = FIRST_OPERAND_NOT_FILE.contains(&name);
        // `find . -name x -delete`: only the paths before the first expression.
        let mut find_paths = name == "find";
        let mut changed = false;
        let mut words: Vec<String> = vec![name.to_string()];
        let interpreter = name.starts_with("python") || matches!(name, "perl" | "ruby" | "node");
        let mut previous = "";
        for arg in rest {
            let text = arg.text.as_str();
            // `chmod +x f`, `chattr +i f`: a mode, written like an option.
            let mode = text.starts_with('+') && script_operand;
            // `python3 -m http.server`, `perl -e '…'`: a module or a program, not a file.
            let program = interpreter && matches!(previous, "-m" | "-c" | "-e" | "-E");
            previous = text;
            let resolved = if program {
                None
            } else if text.starts_with('-') || text.starts_with('(') || text == "!" {
                find_paths = false;
                None
            } else if script_operand || mode {
                script_operand = false;
                None
            } else if name == "find" && !find_paths {
                None
            } else {
                resolve_operand(cwd, arg, file_command || find_paths)
            };
            changed |= resolved.is_some();
            words.push(resolved.unwrap_or_else(|| text.to_string()));
        }
        for redirect in redirects {
            let target = redirect.target.as_ref();
            let resolved = target.and_then(|t| resolve_operand(cwd, t, true));
            let op = redirect.op.trim_start_matches(|c: char| c.is_ascii_digit());
            // Descriptors (`2>&1`) and here-documents are not files.
            let file = !op.ends_with('&') && !op.starts_with("<<");
            match resolved.filter(|_| file) {
                Some(path) => {
                    changed = true;
                    words.push(super::normalize::render_redirect(&redirect.op, Some(&path)));
                }
                None => words.push(redirect.render()),
            }
        }
        // A file server started without a root serves the working directory.
        if let Some(option) = serves_cwd_without_root(&words) {
            words.push(format!("{option} {cwd}"));
            changed = true;
        }
        changed.then(|| (words.join(" "), format!("cwd {cwd}")))
    }

    /// `alias name='…'` and `unalias name`; functions are recorded when parsed.
    pub(super) fn track_definitions(&mut self, args: &[Arg]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        match name.text.as_str() {
            "alias" => {
                for arg in rest {
                    if let Some((alias, false, value)) = assignment(&arg.text) {
                        self.state
                            .define_alias(alias.to_string(), value.to_string());
                    }
                }
            }
            "unalias" => rest.iter().for_each(|a| self.state.unalias(&a.text)),
            _ => {}
        }
    }

    /// `curl -o FILE URL`, `wget -O FILE URL`, `curl URL > FILE`: the file now holds what the URL
    /// served. Files named by a variable are remembered by the variable as written (`$TMP`).
    pub(super) fn track_download(&mut self, args: &[Arg], redirects: &[Redirection]) {
        let Some((name, rest)) = args.split_first() else {
            return;
        };
        let Some((_, output_flags, names_after_url)) =
            DOWNLOADERS.iter().find(|(d, ..)| *d == name.text)
        else {
            return;
        };
        let mut file = None;
        let mut url = None;
        let mut remote_name = *names_after_url;
        let mut i = 0;
        while let Some(arg) = rest.get(i) {
            let text = arg.text.as_str();
            // `-o FILE`, or `-so FILE`: short options run together, the last taking the value.
            let clustered = text.len() > 2
                && text.starts_with('-')
                && !text.starts_with("--")
                && text[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && output_flags
                    .iter()
                    .any(|f| f.len() == 2 && text.ends_with(&f[1..]));
            if output_flags.contains(&text) || clustered {
                file = rest.get(i + 1);
                i += 2;
                continue;
            }
            remote_name |= matches!(text, "-O" | "--remote-name");
            if text.contains("://") && url.is_none() {
                url = Some(text);
            }
            i += 1;
        }
        let file = file.or_else(|| {
            redirects
                .iter()
                .find(|r| matches!(r.op.as_str(), ">" | "1>" | ">|"))
                .and_then(|r| r.target.as_ref())
        });
        let Some(url) = url else {
            return;
        };
        let key = match file {
            Some(file) if file.text == "-" => return,
            Some(file) => self.file_key(file),
            // `wget https://host/x.sh` writes ./x.sh.
            None if remote_name => {
                url_file_name(url).and_then(|n| self.state.cwd().map(|cwd| paths::join(cwd, n)))
            }
            None => None,
        };
        let Some(key) = key else {
            return;
        };
        let download = format!("{} {url}", name.text);
        self.state.record_download(key, download);
    }

    /// A downloaded file that this command runs: as the program (`/tmp/x`, `./x`), or as the
    /// script of a shell or interpreter (`sh /tmp/x`, `. /tmp/x`, `python3 /tmp/x`).
    pub(super) fn runs_download(&self, program: &str, args: &[Arg]) -> Option<(String, String)> {
        let (name, rest) = args.split_first()?;
        let runner = name.text.as_str();
        let script = if is_shell(runner)
            || matches!(runner, "source" | "." | "perl" | "ruby" | "node")
            || runner.starts_with("python")
        {
            rest.iter().find(|a| !a.text.starts_with('-'))?
        } else if program.contains('/') || program.starts_with('$') {
            name
        } else {
            return None;
        };
        let key = if std::ptr::eq(script, name) {
            self.path_key_text(program, name.resolved)?
        } else {
            self.file_key(script)?
        };
        let download = self.state.download(&key)?;
        Some((key, download.to_string()))
    }

    fn file_key(&self, file: &Arg) -> Option<String> {
        self.path_key_text(&file.text, file.resolved)
    }

    /// How a file is remembered: its absolute path, or the variable naming it as written.
    pub(super) fn path_key_text(&self, text: &str, resolved: bool) -> Option<String> {
        if !resolved {
            return text.starts_with('$').then(|| text.to_string());
        }
        if text.starts_with('/') {
            return Some(paths::clean(text));
        }
        let cwd = self.state.cwd()?;
        Some(paths::join(cwd, text))
    }

    /// Reports, after a pipeline, its text with paths resolved in the working directory.
    pub(super) fn emit_in_cwd(&mut self, stages: &[PreparedStage], ctx: &Ctx) {
        let Some(label) = stages
            .iter()
            .find_map(|s| s.text_in_cwd().map(|(_, label)| label.clone()))
        else {
            return;
        };
        let texts = stages
            .iter()
            .map(|s| s.text_in_cwd().map_or(s.text(), |(text, _)| text.as_str()));
        let text = join_words(texts.filter(|t| !t.is_empty()), " | ");
        let argv = || stages.first().map(PreparedStage::argv).unwrap_or_default();
        let via = || ctx.via_with(std::slice::from_ref(&label));
        self.push(text, argv, via);
        if stages.len() > 1 {
            for stage in stages {
                if let Some((text, _)) = stage.text_in_cwd() {
                    self.push(text.clone(), || stage.argv(), via);
                }
            }
        }
    }
}

/// `python3 -m http.server 8080` and `php -S 0.0.0.0:80` serve the working directory when not
/// given one: the option that would name it.
fn serves_cwd_without_root(words: &[String]) -> Option<&'static str> {
    let name = words.first()?.as_str();
    let has = |options: &[&str]| {
        words.iter().any(|w| {
            options
                .iter()
                .any(|o| w == o || w.starts_with(&format!("{o}=")))
        })
    };
    let module = words
        .windows(2)
        .find(|w| w[0] == "-m")
        .map(|w| w[1].as_str());
    if name.starts_with("python")
        && matches!(module, Some("http.server" | "SimpleHTTPServer"))
        && !has(&["--directory", "-d"])
    {
        return Some("--directory");
    }
    (name.starts_with("php") && has(&["-S"]) && !has(&["-t"])).then_some("-t")
}

/// The file name a URL's path ends in (`https://host/a/x.sh?v=1` → `x.sh`).
fn url_file_name(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let path = rest.split(['?', '#']).next()?;
    let (_, path) = path.split_once('/')?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

/// One operand resolved in `cwd`, when it is a relative path: anything that looks like one, and
/// any plain word for a command that takes files. `dd`'s `if=` and `of=` are operands too.
fn resolve_operand(cwd: &str, arg: &Arg, takes_files: bool) -> Option<String> {
    let text = arg.text.as_str();
    if !arg.resolved || text.is_empty() || text.starts_with(['/', '~', '$']) || text.contains("://")
    {
        return None;
    }
    if let Some((key, value)) = text.split_once('=') {
        let file = matches!(key, "if" | "of") && !value.is_empty() && !value.starts_with('/');
        return file.then(|| format!("{key}={}", paths::join(cwd, value)));
    }
    // `truncate -s 0`, `head -n 20`, `split -b 10M`: sizes and counts, not files.
    let number = text.trim_end_matches(|c: char| "kKmMgGtTbB".contains(c));
    if text.contains([':', '@'])
        || (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let looks_like_path =
        text == "." || text == ".." || text.starts_with('*') || text.contains('/');
    (looks_like_path || takes_files).then(|| paths::join(cwd, text))
}
