//! Payload flow: what each pipeline stage is known to print, and which stage runs it.

use super::normalize::{Arg, Command, Feed, PreparedStage, Value};
use super::{
    MAX_DECODED_BYTES, MAX_FOLLOWED_STAGES, escape, is_shell, join, launch, lossy, lossy_owned,
};

pub(super) enum Step {
    Output(Option<Value>),
    /// The stage runs the value as a program.
    Run(Value, Runner),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Runner {
    Shell,
    /// `at` / `batch`: a shell script, run later.
    Scheduler,
    /// An interpreter, with the flag that takes a program as an argument.
    Interpreter(&'static str),
}

/// Follows known text through a pipeline: sources (`echo`, `printf`, here-strings), decoders
/// (`base64 -d`, `xxd -r -p`, `rev`) and the shells or interpreters that finally run it.
/// A loop is handed what the stage before it prints, for its `read`.
pub(super) fn flow(stages: &mut [PreparedStage]) -> (Option<Value>, Vec<Feed>) {
    let mut current: Option<Value> = None;
    let mut feeds = Vec::new();
    let mut followed = 0;
    for stage in stages.iter_mut() {
        let cmd = match stage {
            PreparedStage::Command(cmd) => cmd,
            PreparedStage::Loop(l) => {
                if l.input.is_none() {
                    l.input = current.take();
                }
                current = None;
                continue;
            }
            PreparedStage::Group { .. } => {
                current = None;
                continue;
            }
        };
        let input = cmd.stdin.clone().or_else(|| current.take());
        if let Some(feed) = xargs_feed(cmd, input.as_ref()) {
            feeds.push(feed);
        }
        current = match step(cmd, input) {
            Step::Output(value) => value,
            Step::Run(value, runner) => {
                let scheduler = matches!(runner, Runner::Scheduler).then(|| "at".to_string());
                let via = cmd.via.iter().cloned().chain(scheduler);
                let via = via.chain(value.labels()).collect();
                let interpreter = match runner {
                    Runner::Interpreter(flag) => Some((cmd.args[0].text.clone(), flag)),
                    Runner::Shell | Runner::Scheduler => None,
                };
                feeds.push(Feed {
                    via,
                    value,
                    interpreter,
                });
                None
            }
        };
        followed += 1;
        if followed > MAX_FOLLOWED_STAGES {
            current = None;
        }
    }
    (current, feeds)
}

/// Words of known input that xargs hands to its command, at most.
const MAX_XARGS_WORDS: usize = 64;

/// `echo /etc/shadow | xargs cat` runs `cat /etc/shadow`: xargs's command with the known input's
/// words appended, or put in place of `{}` (`-I {}`) for the first input line.
fn xargs_feed(cmd: &Command, input: Option<&Value>) -> Option<Feed> {
    let input = input?;
    if !cmd.via.iter().any(|v| v == "xargs") {
        return None;
    }
    let text = if cmd.text.contains("{}") {
        let line = input.text.lines().find(|l| !l.trim().is_empty())?.trim();
        cmd.text.replace("{}", line)
    } else {
        let words: Vec<&str> = input
            .text
            .split_whitespace()
            .take(MAX_XARGS_WORDS)
            .collect();
        if words.is_empty() {
            return None;
        }
        format!("{} {}", cmd.text, words.join(" "))
    };
    Some(Feed {
        via: cmd.via.clone(),
        value: Value::new(text, "xargs"),
        interpreter: None,
    })
}

pub(super) fn step(cmd: &Command, input: Option<Value>) -> Step {
    let args = cmd.args.as_slice();
    let Some((first, rest)) = args.split_first() else {
        return Step::Output(None);
    };
    match first.text.as_str() {
        "echo" => Step::Output(Some(echo(rest))),
        "printf" => Step::Output(printf(rest)),
        "tee" => Step::Output(input),
        "which" | "command" | "type" => Step::Output(program_path(first, rest)),
        "cat" if rest.iter().all(|a| a.text.starts_with('-')) => Step::Output(input),
        "rev" => decoding(input, |text| Some(reverse_lines(text)), "rev"),
        "base64" | "openssl" if decodes_base64(args) => decoding(input, decode_base64, "base64"),
        "xxd" if decodes_hex(args) => decoding(input, decode_hex, "xxd"),
        "tr" => match translation(rest) {
            Some(table) => Step::Output(input.map(|v| {
                let bytes = v.text.bytes().map(|b| table[usize::from(b)]).collect();
                v.then(lossy_owned(bytes), "tr")
            })),
            None => Step::Output(None),
        },
        _ => run_step(args, input),
    }
}

/// Where `which bash`, `command -v bash` or `type -P bash` finds a program: wherever it is on the
/// host, the last word is its name, which is what `sudo "$(which bash)"` runs.
pub(super) fn program_path(first: &Arg, rest: &[Arg]) -> Option<Value> {
    let (options, names): (Vec<&Arg>, Vec<&Arg>) =
        rest.iter().partition(|a| a.text.starts_with('-'));
    let lookup = match first.text.as_str() {
        "which" => options.is_empty(),
        "command" => options.iter().any(|o| o.text == "-v"),
        _ => options
            .iter()
            .any(|o| matches!(o.text.as_str(), "-P" | "-p")),
    };
    let [name] = names.as_slice() else {
        return None;
    };
    let plain = name.resolved && !name.text.is_empty() && !name.text.contains(['/', ' ']);
    (lookup && plain).then(|| Value::new(format!("/usr/bin/{}\n", name.text), "which"))
}

/// `tr SET1 SET2` as a byte map, as GNU tr applies it (`tr 'a-z' 'n-za-m'` decodes ROT13);
/// `None` for options (`-d`, `-s`, `-c` change what tr does) or sets it does not understand.
pub(super) fn translation(args: &[Arg]) -> Option<[u8; 256]> {
    let [from, to] = args else { return None };
    if from.opaque || to.opaque || from.text.starts_with('-') {
        return None;
    }
    let from = tr_set(from.text.as_bytes())?;
    let to = tr_set(to.text.as_bytes())?;
    let last = *to.last()?;
    let mut table: [u8; 256] = std::array::from_fn(|b| b as u8);
    // GNU tr pads a shorter SET2 with its last byte.
    for (f, t) in from
        .into_iter()
        .zip(to.into_iter().chain(std::iter::repeat(last)))
    {
        table[usize::from(f)] = t;
    }
    Some(table)
}

/// One `tr` set: bytes, `a-z` ranges, backslash escapes (as printf reads them) and the
/// `[:lower:]`, `[:upper:]`, `[:digit:]` classes.
pub(super) fn tr_set(spec: &[u8]) -> Option<Vec<u8>> {
    const MAX_SET: usize = 1024;
    let mut set = Vec::new();
    let mut i = 0;
    while i < spec.len() {
        let rest = &spec[i..];
        if let Some((class, lo, hi)) = [
            (&b"[:lower:]"[..], b'a', b'z'),
            (&b"[:upper:]"[..], b'A', b'Z'),
            (&b"[:digit:]"[..], b'0', b'9'),
        ]
        .into_iter()
        .find(|(class, ..)| rest.starts_with(class))
        {
            set.extend(lo..=hi);
            i += class.len();
            continue;
        }
        if rest.starts_with(b"[:") || rest.starts_with(b"[=") {
            return None;
        }
        let (c, width) = if rest[0] == b'\\' {
            let mut decoded = Vec::new();
            let used = escape::one(&rest[1..], escape::Dialect::Printf, &mut decoded)?;
            let [byte] = decoded[..] else { return None };
            (byte, 1 + used)
        } else {
            (rest[0], 1)
        };
        i += width;
        match spec.get(i..i + 2) {
            Some(&[b'-', end]) => {
                if end < c {
                    return None;
                }
                set.extend(c..=end);
                i += 2;
            }
            _ => set.push(c),
        }
        if set.len() > MAX_SET {
            return None;
        }
    }
    Some(set)
}

/// A decoding stage: its output is its input decoded, if that is known and decodes.
pub(super) fn decoding(
    input: Option<Value>,
    decode: fn(&str) -> Option<String>,
    label: &'static str,
) -> Step {
    Step::Output(input.and_then(|v| decode(&v.text).map(|text| v.then(text, label))))
}

/// A shell or interpreter reading its program from stdin (or from a known `<( )`).
pub(super) fn run_step(args: &[Arg], input: Option<Value>) -> Step {
    let name = args[0].text.as_str();
    let run =
        |value: Option<Value>, runner| value.map_or(Step::Output(None), |v| Step::Run(v, runner));
    // `sudo -s`, `sudo -i` and `su` without a command start a shell, which reads its commands
    // from standard input as `sh` does: `echo … | base64 -d | sudo -s`.
    if launch::starts_a_shell(args) {
        return run(input, Runner::Shell);
    }
    if is_shell(name) {
        let scan = launch::scan(args, &launch::SHELL);
        if scan.has(&["c"]) {
            return Step::Output(None);
        }
        return match args.get(scan.first) {
            None => run(input, Runner::Shell),
            Some(a) if a.text == "-" || scan.has(&["s"]) => run(input, Runner::Shell),
            Some(a) => run(a.output.clone(), Runner::Shell),
        };
    }
    if matches!(name, "at" | "batch") {
        let from_file = args.iter().any(|a| a.text.starts_with("-f"));
        return if from_file {
            Step::Output(None)
        } else {
            run(input, Runner::Scheduler)
        };
    }
    match interpreter_flag(name) {
        Some(flag) if reads_program_from_stdin(&args[1..]) => run(input, Runner::Interpreter(flag)),
        _ => Step::Output(None),
    }
}

/// The flag with which an interpreter takes its program as an argument.
pub(super) fn interpreter_flag(name: &str) -> Option<&'static str> {
    match name {
        "perl" | "ruby" | "node" | "nodejs" | "lua" => Some("-e"),
        "php" => Some("-r"),
        _ if name
            .strip_prefix("python")
            .is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit() || c == b'.')) =>
        {
            Some("-c")
        }
        _ => None,
    }
}

pub(super) fn reads_program_from_stdin(args: &[Arg]) -> bool {
    args.iter().all(|a| {
        a.text == "-"
            || (a.text.starts_with('-')
                && !matches!(a.text.as_str(), "-c" | "-e" | "-E" | "-r" | "-m"))
    })
}

/// `echo [-neE] words…` as bash's builtin prints it (escapes only with `-e`).
pub(super) fn echo(args: &[Arg]) -> Value {
    let mut newline = true;
    let mut escapes = false;
    let flags = args
        .iter()
        .take_while(|a| {
            a.text.len() > 1
                && a.text.starts_with('-')
                && a.text[1..].bytes().all(|c| matches!(c, b'n' | b'e' | b'E'))
        })
        .count();
    for flag in args[..flags].iter().flat_map(|a| a.text.bytes()) {
        match flag {
            b'n' => newline = false,
            b'e' => escapes = true,
            b'E' => escapes = false,
            _ => {}
        }
    }
    let words = join(&args[flags..]);
    let (mut bytes, stopped) = if escapes {
        escape::decode(words.as_bytes(), escape::Dialect::Echo)
    } else {
        (words.into_bytes(), false)
    };
    if newline && !stopped {
        bytes.push(b'\n');
    }
    Value::new(lossy(&bytes), "echo")
}

/// `printf FORMAT args…`; `printf -v VAR` prints nothing.
pub(super) fn printf(args: &[Arg]) -> Option<Value> {
    let args = match args.first() {
        Some(a) if a.text == "--" => &args[1..],
        _ => args,
    };
    let (format, rest) = args.split_first()?;
    if format.text == "-v" {
        return None;
    }
    Some(Value::new(
        render_printf(format.text.as_bytes(), rest),
        "printf",
    ))
}

/// printf(1) output: the format is applied again while arguments remain.
pub(super) fn render_printf(format: &[u8], args: &[Arg]) -> String {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let before = next;
        let go_on = apply_format(format, args, &mut next, &mut out);
        if !go_on || next == before || next >= args.len() || out.len() > MAX_DECODED_BYTES {
            break;
        }
    }
    out.truncate(MAX_DECODED_BYTES);
    lossy(&out)
}

/// One pass of a printf format; false when `\c` ended all output.
pub(super) fn apply_format(
    format: &[u8],
    args: &[Arg],
    next: &mut usize,
    out: &mut Vec<u8>,
) -> bool {
    let mut take = || {
        let arg = args.get(*next).map_or("", |a| a.text.as_str());
        *next += 1;
        arg
    };
    let mut i = 0;
    while i < format.len() {
        match format[i] {
            b'\\' => match escape::one(&format[i + 1..], escape::Dialect::Printf, out) {
                Some(used) => i += 1 + used,
                None => return false,
            },
            b'%' => {
                let conversion = format[i + 1..]
                    .iter()
                    .position(|c| !b"-+ #0123456789.".contains(c))
                    .map_or(format.len(), |n| i + 1 + n);
                match format.get(conversion) {
                    Some(b'%') => out.push(b'%'),
                    Some(b'b') => {
                        let (bytes, stop) =
                            escape::decode(take().as_bytes(), escape::Dialect::Echo);
                        out.extend_from_slice(&bytes);
                        if stop {
                            return false;
                        }
                    }
                    Some(b'c') => out.extend(
                        take()
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default()
                            .bytes(),
                    ),
                    Some(_) => out.extend_from_slice(take().as_bytes()),
                    None => out.push(b'%'),
                }
                i = conversion + 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    true
}

/// `base64 -d`, `base64 --decode`, `base64 -D`, `openssl base64 -d`, `openssl enc -base64 -d`,
/// reading standard input.
pub(super) fn decodes_base64(args: &[Arg]) -> bool {
    let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
    match texts.as_slice() {
        ["base64", rest @ ..] => {
            let scan = launch::scan(args, &launch::BASE64);
            scan.has(&["d", "D", "decode"])
                && rest
                    .get(scan.first - 1)
                    .is_none_or(|operand| *operand == "-")
        }
        ["openssl", "base64", rest @ ..] => {
            rest.contains(&"-d") && rest.iter().all(|o| matches!(*o, "-d" | "-A"))
        }
        ["openssl", "enc", rest @ ..] => {
            rest.contains(&"-d")
                && rest.iter().any(|o| matches!(*o, "-a" | "-base64"))
                && rest
                    .iter()
                    .all(|o| matches!(*o, "-d" | "-a" | "-A" | "-base64"))
        }
        _ => false,
    }
}

/// `xxd -r -p` (plain hex back to bytes), reading standard input.
pub(super) fn decodes_hex(args: &[Arg]) -> bool {
    let Some(("xxd", rest)) = args.split_first().map(|(f, r)| (f.text.as_str(), r)) else {
        return false;
    };
    let options = || rest.iter().map(|a| a.text.as_str());
    options().all(|o| o.starts_with('-'))
        && options().any(|o| o.starts_with("-r") || o == "-pr")
        && options().any(|o| o.starts_with("-p") || o == "-rp" || o == "-rps")
}

/// Lenient like `base64 -d`: whitespace ignored, padding optional. Anything else, or bytes that
/// are not text, means there is no payload.
pub(super) fn decode_base64(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

pub(super) fn decode_hex(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for c in text.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let nibble = (c as char).to_digit(16)? as u8;
        match high.take() {
            Some(h) => out.push(h << 4 | nibble),
            None => high = Some(nibble),
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

pub(super) fn reverse_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.extend(line.chars().rev());
        out.push('\n');
    }
    out
}
