//! Launchers: commands that run another command (`sudo`, `env`, `nohup`, …) or hand a command
//! string or argument list to a shell elsewhere (`bash -c`, `su -c`, `ssh host CMD`, …).

use super::normalize::Arg;
use super::{MAX_LAUNCHERS, assignment, basename, is_shell, join, lex};

/// What a launcher hands on, to be read as commands in turn.
pub(super) enum Nested {
    /// A command string, and the `via` labels for it (`bash -c`, then any decoders).
    Script { text: String, labels: Vec<String> },
    /// An argument list (`docker exec web sh -c …`).
    Argv { args: Vec<Arg>, label: String },
}

pub(super) struct Unwrapped {
    pub args: Vec<Arg>,
    pub via: Vec<String>,
    pub nested: Vec<Nested>,
}

enum Launch {
    /// Not a launcher, or one with nothing to run: the command is itself.
    Itself,
    /// Runs the command that starts this many words in.
    Runs(usize),
    /// Runs this argument list instead (`env -S 'rm -rf /'`).
    Respells(Vec<Arg>),
    /// Is the command, and hands these on.
    Hands(Vec<Nested>),
}

/// Strips launchers from the front; stops at the first command that is not one, or at a
/// launcher with no command after it (`sudo -i` stays `sudo -i`: a root shell is a finding).
pub(super) fn unwrap(mut args: Vec<Arg>) -> Unwrapped {
    let mut via = Vec::new();
    for _ in 0..MAX_LAUNCHERS {
        let Some(first) = args.first() else { break };
        match launcher(basename(&first.text), &args) {
            Launch::Runs(skip) if skip < args.len() => {
                via.push(basename(&args[0].text).to_string());
                args.drain(..skip);
            }
            Launch::Respells(next) if !next.is_empty() => {
                via.push(basename(&args[0].text).to_string());
                args = next;
            }
            Launch::Hands(nested) => return Unwrapped { args, via, nested },
            _ => break,
        }
    }
    Unwrapped {
        args,
        via,
        nested: Vec::new(),
    }
}

fn launcher(name: &str, args: &[Arg]) -> Launch {
    let runs = |spec: &Spec, operands_before: usize| {
        Launch::Runs(scan(args, spec).first + operands_before)
    };
    match name {
        "sudo" => sudo(args),
        "doas" => runs(&DOAS, 0),
        "env" => env(args),
        "nohup" | "builtin" | "unbuffer" | "setsid" => runs(&FLAGS, 0),
        "exec" => runs(&EXEC, 0),
        "nice" => runs(&NICE, 0),
        "stdbuf" => runs(&STDBUF, 0),
        "time" => runs(&TIME, 0),
        "xargs" => runs(&XARGS, 0),
        "strace" => runs(&STRACE, 0),
        "ltrace" => runs(&LTRACE, 0),
        // The duration, and the new root, come before the command.
        "timeout" => runs(&TIMEOUT, 1),
        "chroot" => runs(&CHROOT, 1),
        "ionice" => ionice(args),
        "command" => command(args),
        "busybox" => busybox(args),
        "runuser" => runuser(args),
        "su" => hands_option(args, &SU, "su -c"),
        "script" => hands_option(args, &SCRIPT, "script -c"),
        "eval" => hands_script(operands(args, 1), "eval".to_string()),
        "alias" => alias(args),
        "watch" => watch(args),
        "ssh" => ssh(args),
        "docker" | "podman" | "nerdctl" => container_exec(name, args),
        "kubectl" | "oc" => kubectl_exec(name, args),
        "find" => find_exec(args),
        _ if is_shell(name) => shell(name, args),
        // Anything else is itself, unless it is an interpreter one-liner that shells out.
        _ => interpreter(name, args),
    }
}

/// `perl -e '…system("rm -rf /")…'`, `python3 -c 'import os; os.system("…")'`: the shell
/// commands a one-liner passes to its language's shell-out calls, when they are literals.
fn interpreter(name: &str, args: &[Arg]) -> Launch {
    let Some(flag) = super::payload::interpreter_flag(name) else {
        return Launch::Itself;
    };
    let program = args[1..].iter().enumerate().find_map(|(i, arg)| {
        let text = arg.text.as_str();
        if text == flag || (name == "perl" && text == "-E") {
            args.get(i + 2)
                .filter(|a| !a.opaque)
                .map(|a| a.text.clone())
        } else {
            None
        }
    });
    let Some(program) = program else {
        return Launch::Itself;
    };
    let label = format!("{name} {flag}");
    let commands: Vec<Nested> = shell_outs(&program, name.starts_with("node"))
        .into_iter()
        .map(|text| Nested::Script {
            text,
            labels: vec![label.clone()],
        })
        .collect();
    if commands.is_empty() {
        Launch::Itself
    } else {
        Launch::Hands(commands)
    }
}

/// Functions that run a command line through a shell, across the one-liner languages.
const SHELL_OUT_CALLS: &[&str] = &[
    "system",
    "exec",
    "popen",
    "shell_exec",
    "passthru",
    "proc_open",
    "execSync",
    "getoutput",
    "getstatusoutput",
    "check_output",
    "check_call",
    "call",
    "run",
    "Popen",
];
const MAX_SHELL_OUTS: usize = 16;

/// String literals given to a shell-out call (`system "…"`, `os.system('…')`) and, outside
/// JavaScript (where they are template strings), backtick commands.
pub(super) fn shell_outs(program: &str, javascript: bool) -> Vec<String> {
    let bytes = program.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() && found.len() < MAX_SHELL_OUTS {
        let c = bytes[i];
        if c == b'`'
            && !javascript
            && let Some((body, end)) = literal(bytes, i)
        {
            found.push(body);
            i = end;
            continue;
        }
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts_word && (c.is_ascii_alphabetic() || c == b'_') {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .map_or(bytes.len(), |n| i + n);
            let word = &program[i..end];
            if SHELL_OUT_CALLS.contains(&word) {
                let mut j = end;
                while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'(') {
                    j += 1;
                }
                if let Some((body, after)) = literal(bytes, j) {
                    found.push(body);
                    i = after;
                    continue;
                }
            }
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// The quoted literal starting at `start` (`"`, `'` or a backtick), unescaped, and the
/// index after its closing quote.
fn literal(bytes: &[u8], start: usize) -> Option<(String, usize)> {
    let quote = *bytes.get(start)?;
    if !matches!(quote, b'"' | b'\'' | b'`') {
        return None;
    }
    let mut body = Vec::new();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if i + 1 < bytes.len() => {
                let next = bytes[i + 1];
                if next != quote && next != b'\\' {
                    body.push(b'\\');
                }
                body.push(next);
                i += 2;
            }
            b if b == quote => {
                return Some((String::from_utf8_lossy(&body).into_owned(), i + 1));
            }
            b => {
                body.push(b);
                i += 1;
            }
        }
    }
    None
}

/// Options of one launcher: short letters that take a value, long names that take one,
/// whether options may follow operands (GNU permutation) and whether `+x` forms exist.
pub(super) struct Spec {
    valued: &'static str,
    long_valued: &'static [&'static str],
    permute: bool,
    plus: bool,
}

const fn posix(valued: &'static str, long_valued: &'static [&'static str]) -> Spec {
    Spec {
        valued,
        long_valued,
        permute: false,
        plus: false,
    }
}

const fn permuting(valued: &'static str, long_valued: &'static [&'static str]) -> Spec {
    Spec {
        valued,
        long_valued,
        permute: true,
        plus: false,
    }
}

const FLAGS: Spec = posix("", &[]);
const SUDO: Spec = posix(
    "ughpCDrtTU",
    &[
        "user",
        "group",
        "host",
        "prompt",
        "close-from",
        "chdir",
        "role",
        "type",
        "command-timeout",
        "other-user",
    ],
);
const DOAS: Spec = posix("uC", &[]);
const ENV: Spec = posix("uCS", &["unset", "chdir", "split-string"]);
const EXEC: Spec = posix("a", &[]);
const NICE: Spec = posix("n", &["adjustment"]);
const IONICE: Spec = posix("cnpPu", &["class", "classdata", "pid", "pgid", "uid"]);
const STDBUF: Spec = posix("ioe", &["input", "output", "error"]);
const TIME: Spec = posix("fo", &["format", "output"]);
const XARGS: Spec = posix(
    "nIPdLsEa",
    &[
        "max-args",
        "replace",
        "max-procs",
        "delimiter",
        "max-lines",
        "max-chars",
        "eof",
        "arg-file",
        "process-slot-var",
    ],
);
const STRACE: Spec = posix(
    "abeEIoOpPsSuX",
    &["output", "trace", "signal", "string-limit", "user", "env"],
);
const LTRACE: Spec = posix("aADeFlnopsuwx", &["output", "library"]);
const TIMEOUT: Spec = posix("sk", &["signal", "kill-after"]);
const CHROOT: Spec = posix("", &["userspec", "groups"]);
const SU: Spec = permuting(
    "cgGsw",
    &[
        "command",
        "session-command",
        "group",
        "supp-group",
        "shell",
        "whitelist-environment",
    ],
);
const RUNUSER: Spec = permuting(
    "cgGswu",
    &[
        "command",
        "session-command",
        "group",
        "supp-group",
        "shell",
        "whitelist-environment",
        "user",
    ],
);
const RUNUSER_AS: Spec = posix(
    "gGswu",
    &[
        "group",
        "supp-group",
        "shell",
        "whitelist-environment",
        "user",
    ],
);
const SCRIPT: Spec = permuting(
    "cBEIOTmo",
    &[
        "command",
        "log-io",
        "log-in",
        "log-out",
        "log-timing",
        "echo",
        "output-limit",
        "logging-format",
    ],
);
const WATCH: Spec = posix("nq", &["interval", "equexit"]);
const SSH: Spec = posix("BbcDEeFIiJLlmOoPpQRSWw", &[]);
const CONTAINER_EXEC: Spec = posix(
    "euw",
    &["env", "env-file", "user", "workdir", "detach-keys"],
);
const KUBECTL_EXEC: Spec = posix(
    "cnf",
    &[
        "container",
        "namespace",
        "filename",
        "context",
        "kubeconfig",
        "cluster",
        "user",
        "server",
        "token",
        "pod-running-timeout",
    ],
);
pub(super) const SHELL: Spec = Spec {
    valued: "oO",
    long_valued: &["rcfile", "init-file"],
    permute: false,
    plus: true,
};
pub(super) const BASE64: Spec = posix("w", &["wrap"]);

#[derive(Clone, Copy)]
enum OptValue<'a> {
    /// The next argument.
    Arg(&'a Arg),
    /// Attached: `-uroot`, `--user=root`.
    Attached(&'a str),
}

impl OptValue<'_> {
    fn to_arg(self) -> Arg {
        match self {
            OptValue::Arg(arg) => arg.clone(),
            OptValue::Attached(text) => Arg::literal(text.to_string()),
        }
    }
}

struct Opt<'a> {
    name: &'a str,
    value: Option<OptValue<'a>>,
}

/// The options before a launcher's command, read getopt-style.
pub(super) struct Scan<'a> {
    /// Index of the first operand (`args.len()` when there is none).
    pub first: usize,
    opts: Vec<Opt<'a>>,
}

impl<'a> Scan<'a> {
    pub(super) fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|o| names.contains(&o.name))
    }

    fn value(&self, names: &[&str]) -> Option<OptValue<'a>> {
        self.opts
            .iter()
            .find(|o| names.contains(&o.name) && o.value.is_some())
            .and_then(|o| o.value)
    }
}

/// Reads `args[1..]` (`args[0]` is the launcher) as getopt would with `spec`.
pub(super) fn scan<'a>(args: &'a [Arg], spec: &Spec) -> Scan<'a> {
    let mut opts = Vec::new();
    let mut first = None;
    let mut i = 1;
    while let Some(arg) = args.get(i) {
        let text = arg.text.as_str();
        if text == "--" {
            first.get_or_insert(i + 1);
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, mut value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(OptValue::Attached(value))),
                None => (long, None),
            };
            if value.is_none() && spec.long_valued.contains(&name) {
                i += 1;
                value = args.get(i).map(OptValue::Arg);
            }
            opts.push(Opt { name, value });
        } else if text.len() > 1 && (text.starts_with('-') || (spec.plus && text.starts_with('+')))
        {
            i = short_options(args, i, spec, &mut opts);
        } else {
            first.get_or_insert(i);
            if !spec.permute {
                break;
            }
        }
        i += 1;
    }
    Scan {
        first: first.unwrap_or(args.len()).min(args.len()),
        opts,
    }
}

/// A cluster like `-Eu root` or `-uroot`; returns the index of the last argument it used.
fn short_options<'a>(args: &'a [Arg], mut i: usize, spec: &Spec, opts: &mut Vec<Opt<'a>>) -> usize {
    let cluster = &args[i].text[1..];
    for (at, c) in cluster.char_indices() {
        let end = at + c.len_utf8();
        let name = &cluster[at..end];
        if spec.valued.contains(c) {
            let attached = &cluster[end..];
            let value = if attached.is_empty() {
                i += 1;
                args.get(i).map(OptValue::Arg)
            } else {
                Some(OptValue::Attached(attached))
            };
            opts.push(Opt { name, value });
            break;
        }
        opts.push(Opt { name, value: None });
    }
    i
}

/// `args[from..]` without a leading `--`.
fn operands(args: &[Arg], from: usize) -> &[Arg] {
    let rest = args.get(from..).unwrap_or_default();
    match rest.split_first() {
        Some((dashes, tail)) if dashes.text == "--" => tail,
        _ => rest,
    }
}

/// Hands `args`, joined, to a shell; not when the string is only known at run time.
fn hands_script(args: &[Arg], label: String) -> Launch {
    let (text, decoders) = match args {
        [] => return Launch::Itself,
        [arg] if arg.output.is_some() => {
            let output = arg.output.as_ref().map(|v| (v.text.clone(), v.labels()));
            output.unwrap_or_default()
        }
        _ if args.iter().any(|a| a.opaque) => return Launch::Itself,
        _ => (join(args), Vec::new()),
    };
    let labels = std::iter::once(label).chain(decoders).collect();
    Launch::Hands(vec![Nested::Script { text, labels }])
}

/// `alias name='BODY' …`: each body is read as the command it will run. Defining an alias
/// for a forbidden command is worth an alert before anyone types the alias.
fn alias(args: &[Arg]) -> Launch {
    let bodies: Vec<Nested> = operands(args, 1)
        .iter()
        .filter(|arg| !arg.opaque)
        .filter_map(|arg| assignment(&arg.text).map(|(_, _, value)| value.to_string()))
        .filter(|body| !body.trim().is_empty())
        .map(|text| Nested::Script {
            text,
            labels: vec!["alias".to_string()],
        })
        .collect();
    if bodies.is_empty() {
        Launch::Itself
    } else {
        Launch::Hands(bodies)
    }
}

/// `su -c BODY`, `script -c BODY`: the command string is an option's value.
fn hands_option(args: &[Arg], spec: &Spec, label: &str) -> Launch {
    match scan(args, spec).value(&["c", "command", "session-command"]) {
        Some(value) => hands_script(&[value.to_arg()], label.to_string()),
        None => Launch::Itself,
    }
}

/// `sudo -i`/`sudo -s` with no command, or `su [-] [user]` without `-c`: an interactive
/// shell (root's, or another user's), which reads commands from standard input.
pub(super) fn starts_a_shell(args: &[Arg]) -> bool {
    match args.first().map(|a| basename(&a.text)) {
        Some("sudo") => {
            let scan = scan(args, &SUDO);
            scan.first >= args.len() && scan.has(&["i", "s", "login", "shell"])
        }
        Some("su") => scan(args, &SU)
            .value(&["c", "command", "session-command"])
            .is_none(),
        _ => false,
    }
}

fn sudo(args: &[Arg]) -> Launch {
    let scan = scan(args, &SUDO);
    // Editing, listing and validating run no command.
    let runs_nothing = [
        "e",
        "l",
        "v",
        "V",
        "K",
        "edit",
        "list",
        "validate",
        "version",
        "remove-timestamp",
    ];
    if scan.has(&runs_nothing) {
        return Launch::Itself;
    }
    // `sudo [options] [NAME=value…] cmd`: the assignments set the command's environment.
    let mut command = scan.first;
    while args
        .get(command)
        .is_some_and(|a| assignment(&a.text).is_some())
    {
        command += 1;
    }
    Launch::Runs(command)
}

/// `env [-i] [-u NAME] [NAME=value…] [-S 'cmd args'] cmd…`.
fn env(args: &[Arg]) -> Launch {
    let scan = scan(args, &ENV);
    let mut command = scan.first;
    while args
        .get(command)
        .is_some_and(|a| a.text == "-" || assignment(&a.text).is_some())
    {
        command += 1;
    }
    let Some(split) = scan.value(&["S", "split-string"]) else {
        return Launch::Runs(command);
    };
    let words = lex::tokenize(&split.to_arg().text, super::MAX_DEPTH)
        .into_iter()
        .filter_map(|token| match token {
            lex::Token::Word(word) => Some(Arg::literal(word.literal())),
            _ => None,
        })
        .skip_while(|a| assignment(&a.text).is_some());
    Launch::Respells(words.chain(args[command..].iter().cloned()).collect())
}

fn ionice(args: &[Arg]) -> Launch {
    let scan = scan(args, &IONICE);
    // `ionice -p PID` changes a running process.
    if scan.has(&["p", "P", "u", "pid", "pgid", "uid"]) {
        Launch::Itself
    } else {
        Launch::Runs(scan.first)
    }
}

/// `command rm` runs rm; `command -v rm` only looks it up.
fn command(args: &[Arg]) -> Launch {
    let scan = scan(args, &FLAGS);
    if scan.has(&["v", "V"]) {
        Launch::Itself
    } else {
        Launch::Runs(scan.first)
    }
}

fn busybox(args: &[Arg]) -> Launch {
    match args.get(1) {
        Some(applet) if !applet.text.starts_with('-') => Launch::Runs(1),
        _ => Launch::Itself,
    }
}

/// `runuser -u USER -- cmd` runs cmd; `runuser [-l] USER -c BODY` hands BODY to a shell.
fn runuser(args: &[Arg]) -> Launch {
    let as_user = scan(args, &RUNUSER_AS);
    if as_user.has(&["u", "user"]) {
        return Launch::Runs(as_user.first);
    }
    hands_option(args, &RUNUSER, "runuser -c")
}

/// `watch 'BODY'` runs BODY with `sh -c` (its words joined); `watch -x cmd args` runs them.
fn watch(args: &[Arg]) -> Launch {
    let scan = scan(args, &WATCH);
    let command = args.get(scan.first..).unwrap_or_default();
    if command.is_empty() {
        Launch::Itself
    } else if scan.has(&["x", "exec"]) {
        Launch::Hands(vec![Nested::Argv {
            args: command.to_vec(),
            label: "watch".to_string(),
        }])
    } else {
        hands_script(command, "watch".to_string())
    }
}

/// `ssh [options] host cmd…`: the remote shell runs the words after the host, joined.
fn ssh(args: &[Arg]) -> Launch {
    // OpenSSH reads options after the host too (`ssh host -t cmd`).
    let host = scan(args, &SSH).first;
    let after_host = args.get(host..).unwrap_or_default();
    let command = after_host.get(scan(after_host, &SSH).first..);
    hands_script(command.unwrap_or_default(), "ssh".to_string())
}

/// `docker exec [options] CONTAINER cmd…` (also `docker container exec`, podman, nerdctl).
fn container_exec(name: &str, args: &[Arg]) -> Launch {
    let word = |i: usize| args.get(i).map(|a| a.text.as_str());
    let at = match (word(1), word(2)) {
        (Some("exec"), _) => 1,
        (Some("container"), Some("exec")) => 2,
        _ => return Launch::Itself,
    };
    let exec = &args[at..];
    let command = exec
        .get(scan(exec, &CONTAINER_EXEC).first + 1..)
        .unwrap_or_default();
    hands_argv(command, format!("{name} exec"))
}

/// `kubectl exec [options] POD [--] cmd…`.
fn kubectl_exec(name: &str, args: &[Arg]) -> Launch {
    let Some(at) = args
        .iter()
        .take_while(|a| a.text != "--")
        .position(|a| a.text == "exec")
    else {
        return Launch::Itself;
    };
    let exec = &args[at..];
    let command = match exec.iter().position(|a| a.text == "--") {
        Some(dashes) => &exec[dashes + 1..],
        None => exec
            .get(scan(exec, &KUBECTL_EXEC).first + 1..)
            .unwrap_or_default(),
    };
    hands_argv(command, format!("{name} exec"))
}

fn hands_argv(command: &[Arg], label: String) -> Launch {
    if command.is_empty() {
        return Launch::Itself;
    }
    Launch::Hands(vec![Nested::Argv {
        args: command.to_vec(),
        label,
    }])
}

/// `find … -exec cmd {} \;` (and `-execdir`, `-ok`, `-okdir`, ending `;` or `+`).
fn find_exec(args: &[Arg]) -> Launch {
    let mut nested = Vec::new();
    let mut i = 1;
    while i < args.len() {
        if matches!(
            args[i].text.as_str(),
            "-exec" | "-execdir" | "-ok" | "-okdir"
        ) {
            let start = i + 1;
            let end = args[start..]
                .iter()
                .position(|a| a.text == ";" || a.text == "+")
                .map_or(args.len(), |n| start + n);
            if end > start {
                nested.push(Nested::Argv {
                    args: args[start..end].to_vec(),
                    label: "find -exec".to_string(),
                });
            }
            i = end;
        }
        i += 1;
    }
    if nested.is_empty() {
        Launch::Itself
    } else {
        Launch::Hands(nested)
    }
}

/// `bash [options] -c BODY [name args…]`, flags clustered or not (`-lc`, `-x -c`).
fn shell(name: &str, args: &[Arg]) -> Launch {
    let scan = scan(args, &SHELL);
    if !scan.has(&["c"]) {
        return Launch::Itself;
    }
    let body = args.get(scan.first..scan.first + 1).unwrap_or_default();
    hands_script(body, format!("{name} -c"))
}
