//! Tells typed command lines from program output in a rebuilt transcript.
//!
//! A command line is a screen line that starts with a shell prompt. Prompts are recognised in
//! their stock forms (Amazon Linux `sh-4.2$`, `[ec2-user@host ~]$`, Debian `user@host:~$`,
//! PowerShell `PS C:\…>`) or learned from the session itself, never guessed from a lone `$ ` or
//! `# `: output such as a script's `# rm -rf /` comment must not become a command. Lines the
//! shell prompts for with PS2 (`> `) continue the previous command.
//!
//! Empty commands: a line holding only a prompt (Enter on an empty prompt) is returned as
//! `Output` — there is nothing to check — but it still teaches the extractor that prompt.

use std::collections::VecDeque;

use super::terminal::ScreenLine;

const MAX_LEARNED: usize = 16;
const MAX_CUSTOM_PROMPT_CHARS: usize = 80;
/// How far into a line a stock prompt may reach (long paths in `\w` prompts included).
const MAX_PROMPT_BYTES: usize = 512;
const MAX_NAME_BYTES: usize = 64;
/// Cap for the joined multi-line command offered as an alternative; keeps per-line cost bounded.
const MAX_JOINED: usize = 4_096;
const MAX_HEREDOCS: usize = 8;
/// Shortest learned prompt searched for in the middle of a line (see `learned_inside`).
const MIN_INNER_PROMPT_CHARS: usize = 4;
const PS2: &str = "> ";
/// Programs that execute a heredoc body as shell commands.
const SCRIPT_READERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox", "ssh", "su",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptLine {
    /// A line typed at a shell prompt.
    Command {
        prompt: String,
        command: String,
        /// other readings of the command (from ScreenLine::erased), checked too
        alternatives: Vec<String>,
    },
    /// Anything else: program output, banners, `script` header/footer.
    Output(String),
}

/// Remembers prompts it has learned and whether the previous command continues.
#[derive(Debug, Default)]
pub struct CommandExtractor {
    /// Exact prompt strings (without the trailing space), oldest first.
    learned: VecDeque<String>,
    /// The last line was a command or part of one, so a `> ` line is the shell's PS2.
    continuing: bool,
    shell: ShellState,
    /// The multi-line command so far, as the shell will read it.
    joined: String,
    joined_overflow: bool,
    /// The pending heredoc is read by a shell (`bash <<EOF`), so its body lines are commands.
    body_is_script: bool,
}

impl CommandExtractor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn classify(&mut self, line: &ScreenLine) -> TranscriptLine {
        let text = line.text.as_str();
        if is_script_banner(text) {
            self.end_command();
            return TranscriptLine::Output(line.text.clone());
        }
        if let Some(rest) = strip_ps2(text)
            && let Some(result) = self.continuation(line, rest)
        {
            return result;
        }
        self.end_command();
        match self.find_prompt(text) {
            Some(found) => self.prompt_line(line, found),
            None => {
                if looks_like_custom_prompt(text) {
                    self.learn(text);
                }
                TranscriptLine::Output(line.text.clone())
            }
        }
    }

    fn end_command(&mut self) {
        self.continuing = false;
        self.shell = ShellState::default();
        self.joined.clear();
        self.joined_overflow = false;
        self.body_is_script = false;
    }

    // ---- prompts -------------------------------------------------------------------------

    /// Finds the prompt in `text` as byte range `(start, end)`, the trailing space excluded.
    fn find_prompt(&mut self, text: &str) -> Option<(usize, usize)> {
        if let Some(end) = known_prompt(text) {
            self.learn(text.get(..end)?);
            return Some((0, end));
        }
        if let Some(end) = self.learned_at_start(text) {
            return Some((0, end));
        }
        self.learned_inside(text)
    }

    fn learned_at_start(&self, text: &str) -> Option<usize> {
        self.learned
            .iter()
            .filter(|p| text.starts_with(p.as_str()) && at_boundary(text, p.len()))
            .map(String::len)
            .max()
    }

    /// A command whose output lacks a final newline pushes the next prompt right
    /// (`donesh-5.2$ rm -rf /`). Only learned prompts of some length are looked for there: they
    /// are specific to this session, so finding one inside output is itself suspicious.
    fn learned_inside(&self, text: &str) -> Option<(usize, usize)> {
        self.learned
            .iter()
            .filter(|p| is_distinctive(p))
            .filter_map(|p| {
                // A cheap test first: most output lines lack the prompt's last character.
                let last = p.trim_end().chars().next_back()?;
                if !text.contains(last) {
                    return None;
                }
                let (start, _) = text
                    .match_indices(p.as_str())
                    .find(|(i, _)| text.as_bytes().get(i + p.len()) == Some(&b' '))?;
                Some((start, start + p.len()))
            })
            .min()
    }

    fn learn(&mut self, prompt: &str) {
        if prompt.is_empty() || self.learned.iter().any(|p| p == prompt) {
            return;
        }
        if self.learned.len() >= MAX_LEARNED {
            self.learned.pop_front();
        }
        self.learned.push_back(prompt.to_string());
    }

    fn prompt_line(&mut self, line: &ScreenLine, (start, end): (usize, usize)) -> TranscriptLine {
        let text = line.text.as_str();
        let (Some(prompt), Some(after)) = (text.get(start..end), text.get(end..)) else {
            return TranscriptLine::Output(line.text.clone());
        };
        let command = strip_prompt_copies(after, prompt);
        if command.is_empty() {
            return TranscriptLine::Output(line.text.clone());
        }
        self.start_command(command);
        let alternatives = line
            .erased
            .as_deref()
            .filter(|e| e.get(start..end) == Some(prompt))
            .and_then(|e| e.get(end..))
            .map(|after| strip_prompt_copies(after, prompt))
            .filter(|alt| !alt.is_empty() && *alt != command)
            .map(str::to_string)
            .into_iter()
            .collect();
        TranscriptLine::Command {
            prompt: format!("{prompt} "),
            command: command.to_string(),
            alternatives,
        }
    }

    fn start_command(&mut self, command: &str) {
        self.continuing = true;
        self.shell.scan(command);
        self.joined.push_str(command);
        self.body_is_script = reads_script(command);
        if let Some(prompt) = ps1_literal(command) {
            self.learn(prompt);
        }
    }

    // ---- continuation lines ------------------------------------------------------------------

    /// Classifies a `> ` line, or returns None when no command is pending (then it is output
    /// such as a quoted e-mail line, classified like any other line).
    fn continuation(&mut self, line: &ScreenLine, rest: &str) -> Option<TranscriptLine> {
        if self.shell.in_heredoc_body() {
            return Some(self.heredoc_line(line, rest));
        }
        // Any `> ` right after a command is PS2: besides backslashes, open quotes and heredocs the
        // shell also asks for more after `for … do`, `if … then`, a trailing `|`, and so on.
        if !self.continuing {
            return None;
        }
        self.join(rest);
        self.shell.scan(rest);
        self.body_is_script |= reads_script(rest);
        let command = rest.trim();
        if command.is_empty() {
            return Some(TranscriptLine::Output(line.text.clone()));
        }
        let mut alternatives: Vec<String> = line
            .erased
            .as_deref()
            .and_then(strip_ps2)
            .map(str::trim)
            .filter(|alt| !alt.is_empty() && *alt != command)
            .map(str::to_string)
            .into_iter()
            .collect();
        if !self.joined_overflow && self.joined != command {
            alternatives.push(self.joined.clone());
        }
        Some(TranscriptLine::Command {
            prompt: PS2.to_string(),
            command: command.to_string(),
            alternatives,
        })
    }

    /// Heredoc bodies are data (`cat <<EOF > file`), unless a shell reads them.
    fn heredoc_line(&mut self, line: &ScreenLine, rest: &str) -> TranscriptLine {
        let is_delimiter = self.shell.end_heredoc(rest);
        let command = rest.trim();
        if self.body_is_script && !is_delimiter && !command.is_empty() {
            return TranscriptLine::Command {
                prompt: PS2.to_string(),
                command: command.to_string(),
                alternatives: Vec::new(),
            };
        }
        TranscriptLine::Output(line.text.clone())
    }

    /// Extends the joined command the way the shell reads it: backslash-newline vanishes, any
    /// other line break stays a newline.
    fn join(&mut self, rest: &str) {
        if self.shell.backslash {
            self.joined.pop();
        } else {
            self.joined.push('\n');
        }
        if self.joined.len() + rest.len() > MAX_JOINED {
            self.joined_overflow = true;
            return;
        }
        self.joined.push_str(rest);
    }
}

// ---- stock prompt forms (hand-written matchers: linear, no regex dependency) ---------------

/// Matches a stock prompt at the start of `text`; returns its end (after `$`, `#` or `>`).
fn known_prompt(text: &str) -> Option<usize> {
    let base = env_prefixes(text);
    let rest = text.get(base..)?;
    let len = shell_version_prompt(rest)
        .or_else(|| bracketed_prompt(rest))
        .or_else(|| debian_prompt(rest))
        .or_else(|| powershell_prompt(rest))?;
    let end = base + len;
    at_boundary(text, end).then_some(end)
}

/// A prompt is followed by a space or ends the (trimmed) line.
fn at_boundary(text: &str, end: usize) -> bool {
    match text.as_bytes().get(end) {
        None => end == text.len(),
        Some(b) => *b == b' ',
    }
}

/// `(venv) ` / `(base) ` added by Python virtualenv and conda; at most two.
fn env_prefixes(text: &str) -> usize {
    let mut used = 0;
    for _ in 0..2 {
        let Some(rest) = text.get(used..) else { break };
        let Some(inner) = rest.strip_prefix('(') else {
            break;
        };
        let Some(close) = inner
            .bytes()
            .take(MAX_NAME_BYTES + 1)
            .position(|b| b == b')')
        else {
            break;
        };
        let name = inner.get(..close).unwrap_or_default();
        let valid = !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '(');
        if !valid || inner.as_bytes().get(close + 1) != Some(&b' ') {
            break;
        }
        used += close + 3;
    }
    used
}

/// `sh-4.2$`, `bash-5.1#`: the default PS1 of a shell started without a profile (SSM's `sh`).
fn shell_version_prompt(s: &str) -> Option<usize> {
    let name = ["bash", "dash", "zsh", "ksh", "sh"]
        .into_iter()
        .find(|n| s.starts_with(n))?;
    let b = s.as_bytes();
    let mut i = name.len();
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i = digits(b, i + 1)?;
    while b.get(i) == Some(&b'.') {
        i = digits(b, i + 1)?;
    }
    matches!(b.get(i), Some(b'$' | b'#')).then_some(i + 1)
}

/// `[ec2-user@ip-10-0-0-1 ~]$`: Amazon Linux / RHEL `[\u@\h \W]\$`.
fn bracketed_prompt(s: &str) -> Option<usize> {
    let inner_start = s.strip_prefix('[')?;
    let close = inner_start
        .bytes()
        .take(MAX_PROMPT_BYTES)
        .position(|b| b == b']')?;
    let inner = inner_start.get(..close)?;
    let (user_host, path) = inner.split_once(' ')?;
    let (user, host) = user_host.split_once('@')?;
    let valid = is_name(user) && is_name(host) && !path.trim().is_empty();
    // `[` + inner + `]` + mark: the mark sits at `close + 2`.
    let mark = s.as_bytes().get(close + 2);
    (valid && matches!(mark, Some(b'$' | b'#'))).then_some(close + 3)
}

/// `ubuntu@ip-172-31-0-1:~$`, `root@web-1:/srv/app#`: Debian `\u@\h:\w\$`.
fn debian_prompt(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let at = b.iter().take(MAX_NAME_BYTES + 1).position(|&c| c == b'@')?;
    let colon = at
        + 1
        + b.get(at + 1..)?
            .iter()
            .take(MAX_NAME_BYTES + 1)
            .position(|&c| c == b':')?;
    if !is_name(s.get(..at)?) || !is_name(s.get(at + 1..colon)?) {
        return None;
    }
    let path = colon + 1;
    if !matches!(b.get(path), Some(b'~' | b'/')) {
        return None;
    }
    // The path may hold spaces; the prompt ends at the first `$`/`#` that ends a word.
    (path..b.len().min(path + MAX_PROMPT_BYTES))
        .find(|&i| matches!(b.get(i), Some(b'$' | b'#')) && at_boundary(s, i + 1))
        .map(|i| i + 1)
}

/// `PS C:\Users\ssm-user>` (Windows PowerShell) or `PS /home/ssm-user>` (pwsh on Linux).
fn powershell_prompt(s: &str) -> Option<usize> {
    let path = s.strip_prefix("PS ")?.as_bytes();
    let drive = path.first().is_some_and(u8::is_ascii_alphabetic) && path.get(1) == Some(&b':');
    if !drive && !matches!(path.first(), Some(b'/' | b'\\')) {
        return None;
    }
    let close = (0..path.len().min(MAX_PROMPT_BYTES))
        .find(|&i| path.get(i) == Some(&b'>') && at_boundary(s, i + 4))?;
    Some(close + 4)
}

fn digits(b: &[u8], from: usize) -> Option<usize> {
    let n = b
        .get(from..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    (n > 0).then_some(from + n)
}

/// User and host names as they appear in prompts.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A line holding only a custom prompt, left by Enter on an empty prompt (`myhost $`,
/// `[prod] app01 #`). Comment lines (`#`, `# …`), `$`-lines and symbol rows are not prompts.
fn looks_like_custom_prompt(text: &str) -> bool {
    let Some(body) = text.strip_suffix(['$', '#']) else {
        return false;
    };
    let starts_plain = text
        .chars()
        .next()
        .is_some_and(|c| !c.is_whitespace() && c != '#' && c != '$');
    starts_plain
        && text.chars().count() <= MAX_CUSTOM_PROMPT_CHARS
        && body.chars().any(char::is_alphanumeric)
        && !body.contains(['$', '#'])
        && !body.chars().any(char::is_control)
}

/// Long enough and specific enough to be searched for inside other text.
fn is_distinctive(prompt: &str) -> bool {
    prompt.chars().count() >= MIN_INNER_PROMPT_CHARS && prompt.chars().any(char::is_alphanumeric)
}

/// Streaming logs concatenate redraws of the prompt (`sh-4.2$ sh-4.2$ date`): drop the copies.
fn strip_prompt_copies<'a>(after: &'a str, prompt: &str) -> &'a str {
    let mut rest = after.trim_start();
    while let Some(next) = rest.strip_prefix(prompt) {
        if !(next.is_empty() || next.starts_with(' ')) {
            break;
        }
        rest = next.trim_start();
    }
    rest.trim_end()
}

fn strip_ps2(text: &str) -> Option<&str> {
    if text == ">" {
        Some("")
    } else {
        text.strip_prefix(PS2)
    }
}

fn is_script_banner(text: &str) -> bool {
    text.starts_with("Script started on ") || text.starts_with("Script done on ")
}

/// The literal value of `PS1=…` / `export PS1=…`, when it needs no expansion.
fn ps1_literal(command: &str) -> Option<&str> {
    let value = command
        .strip_prefix("export ")
        .unwrap_or(command)
        .trim_start()
        .strip_prefix("PS1=")?;
    let literal = unquote_word(value)?;
    let prompt = literal.trim_end();
    let plain = !prompt.is_empty() && prompt != ">" && !prompt.contains(['\\', '$', '`']);
    (plain && prompt.chars().count() <= MAX_CUSTOM_PROMPT_CHARS).then_some(prompt)
}

fn unquote_word(value: &str) -> Option<&str> {
    for quote in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(quote) {
            return inner.strip_suffix(quote).filter(|s| !s.contains(quote));
        }
    }
    let bare = !value.contains(|c: char| c.is_whitespace() || "'\";&|".contains(c));
    bare.then_some(value)
}

/// Whether a command line runs a shell that would read a heredoc body as commands.
fn reads_script(command: &str) -> bool {
    let words = command
        .split(|c: char| c.is_whitespace() || ";|&()".contains(c))
        .map(|w| w.trim_matches(['\'', '"']));
    let mut sudo = false;
    for word in words {
        let name = word.rsplit('/').next().unwrap_or(word);
        if SCRIPT_READERS.contains(&name) || (sudo && matches!(word, "-s" | "-i")) {
            return true;
        }
        sudo |= name == "sudo";
    }
    false
}

// ---- just enough shell syntax to know when a command line is incomplete --------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Quote {
    #[default]
    None,
    Single,
    Double,
    /// `$'…'`: backslash escapes inside single quotes.
    AnsiC,
    Backtick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delimiter: String,
    /// `<<-`: leading tabs (spaces on screen) are stripped from body lines.
    strip_tabs: bool,
}

/// Quote and heredoc state of the pending command, carried from one line to the next.
#[derive(Debug, Default)]
struct ShellState {
    quote: Quote,
    /// The last line ended with an escaping backslash: the next line joins it directly.
    backslash: bool,
    heredocs: VecDeque<Heredoc>,
}

impl ShellState {
    /// Bash reads heredoc bodies once the command line itself is complete.
    fn in_heredoc_body(&self) -> bool {
        self.quote == Quote::None && !self.backslash && !self.heredocs.is_empty()
    }

    /// Consumes the current heredoc when `line` is its delimiter.
    fn end_heredoc(&mut self, line: &str) -> bool {
        let Some(doc) = self.heredocs.front() else {
            return false;
        };
        let line = if doc.strip_tabs {
            line.trim_start()
        } else {
            line
        };
        let done = line == doc.delimiter;
        if done {
            self.heredocs.pop_front();
        }
        done
    }

    fn scan(&mut self, line: &str) {
        let chars: Vec<char> = line.chars().collect();
        self.backslash = false;
        let mut i = 0;
        while i < chars.len() {
            i = match self.quote {
                Quote::None => self.unquoted(&chars, i),
                quote => self.quoted(&chars, i, quote),
            };
        }
    }

    /// Handles the char at `i` inside quotes; returns the next index.
    fn quoted(&mut self, chars: &[char], i: usize, quote: Quote) -> usize {
        let close = match quote {
            Quote::Double => '"',
            Quote::Backtick => '`',
            _ => '\'',
        };
        match chars.get(i) {
            Some('\\') if quote != Quote::Single => {
                if i + 1 == chars.len() {
                    // Backslash-newline is removed inside double quotes and backticks too.
                    self.backslash = quote != Quote::AnsiC;
                }
                i + 2
            }
            Some(&c) if c == close => {
                self.quote = Quote::None;
                i + 1
            }
            _ => i + 1,
        }
    }

    /// Handles the char at `i` outside quotes; returns the next index.
    fn unquoted(&mut self, chars: &[char], i: usize) -> usize {
        let next = chars.get(i + 1).copied();
        let word_start = i == 0 || chars.get(i - 1).is_some_and(|&p| starts_word_after(p));
        match chars.get(i) {
            Some('\\') => {
                self.backslash = next.is_none();
                i + 2
            }
            Some('\'') => self.open(Quote::Single, i + 1),
            Some('"') => self.open(Quote::Double, i + 1),
            Some('`') => self.open(Quote::Backtick, i + 1),
            Some('$') if next == Some('\'') => self.open(Quote::AnsiC, i + 2),
            // A comment runs to the end of the line; quotes in it (`# don't`) mean nothing.
            Some('#') if word_start => chars.len(),
            // `$((1<<4))`: a shift, not a heredoc.
            Some('(') if next == Some('(') => skip_arithmetic(chars, i + 2),
            Some('<') if next == Some('<') => self.heredoc(chars, i + 2),
            _ => i + 1,
        }
    }

    fn open(&mut self, quote: Quote, next: usize) -> usize {
        self.quote = quote;
        next
    }

    /// Parses the delimiter after `<<` (at `i`); returns the index after it.
    fn heredoc(&mut self, chars: &[char], mut i: usize) -> usize {
        if chars.get(i) == Some(&'<') {
            return i + 1; // `<<<` here-string
        }
        let strip_tabs = chars.get(i) == Some(&'-');
        if strip_tabs {
            i += 1;
        }
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        let (delimiter, end) = heredoc_word(chars, i);
        if !delimiter.is_empty() && self.heredocs.len() < MAX_HEREDOCS {
            self.heredocs.push_back(Heredoc {
                delimiter,
                strip_tabs,
            });
        }
        end
    }
}

fn starts_word_after(prev: char) -> bool {
    prev.is_whitespace() || ";&|()".contains(prev)
}

/// Skips an arithmetic `((…))` so `<<` inside it is not read as a heredoc.
fn skip_arithmetic(chars: &[char], from: usize) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '(' => depth += 1,
            ')' if chars.get(i) == Some(&')') && depth == 1 => return i + 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    i
}

/// The heredoc delimiter word starting at `i` with quotes removed (`'EOF'`, `"EOF"`, `\EOF`).
fn heredoc_word(chars: &[char], mut i: usize) -> (String, usize) {
    let mut word = String::new();
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() || ";&|<>()".contains(c) {
            break;
        }
        i += 1;
        match c {
            '\'' | '"' => {
                while let Some(&q) = chars.get(i) {
                    i += 1;
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                if let Some(&escaped) = chars.get(i) {
                    word.push(escaped);
                    i += 1;
                }
            }
            _ => word.push(c),
        }
    }
    (word, i)
}

#[cfg(test)]
mod tests {
    use super::super::terminal::{LogMode, Terminal};
    use super::*;

    fn screen(text: &str) -> ScreenLine {
        ScreenLine {
            text: text.to_string(),
            erased: None,
        }
    }

    fn command(prompt: &str, command: &str) -> TranscriptLine {
        TranscriptLine::Command {
            prompt: prompt.to_string(),
            command: command.to_string(),
            alternatives: Vec::new(),
        }
    }

    fn output(text: &str) -> TranscriptLine {
        TranscriptLine::Output(text.to_string())
    }

    fn classify_all(lines: &[&str]) -> Vec<TranscriptLine> {
        let mut extractor = CommandExtractor::new();
        lines
            .iter()
            .map(|l| extractor.classify(&screen(l)))
            .collect()
    }

    fn commands(lines: &[TranscriptLine]) -> Vec<&str> {
        lines
            .iter()
            .filter_map(|l| match l {
                TranscriptLine::Command { command, .. } => Some(command.as_str()),
                TranscriptLine::Output(_) => None,
            })
            .collect()
    }

    #[test]
    fn shell_version_prompts() {
        let got = classify_all(&["sh-5.2$ whoami", "sh-4.2# id -u", "bash-5.1$ uptime"]);
        let want = [
            command("sh-5.2$ ", "whoami"),
            command("sh-4.2# ", "id -u"),
            command("bash-5.1$ ", "uptime"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn bracketed_prompts() {
        let got = classify_all(&[
            "[ec2-user@ip-10-0-0-1 ~]$ sudo -i",
            "[root@ip-10-0-0-1 /var/log]# tail -n 50 messages",
        ]);
        let want = [
            command("[ec2-user@ip-10-0-0-1 ~]$ ", "sudo -i"),
            command("[root@ip-10-0-0-1 /var/log]# ", "tail -n 50 messages"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn debian_prompts() {
        let got = classify_all(&[
            "root@web-1:/# apt-get update",
            "ubuntu@ip-172-31-0-1:~$ df -h",
            "admin@web-1:/srv/app$ git pull",
        ]);
        let want = [
            command("root@web-1:/# ", "apt-get update"),
            command("ubuntu@ip-172-31-0-1:~$ ", "df -h"),
            command("admin@web-1:/srv/app$ ", "git pull"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn virtualenv_prefixes() {
        let got = classify_all(&[
            "(venv) ubuntu@ip-172-31-0-1:~/app$ pip list",
            "(base) (venv) [ec2-user@ip-10-0-0-1 ~]$ conda info",
        ]);
        let want = [
            command("(venv) ubuntu@ip-172-31-0-1:~/app$ ", "pip list"),
            command("(base) (venv) [ec2-user@ip-10-0-0-1 ~]$ ", "conda info"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn powershell_prompt_line() {
        let got = classify_all(&[r"PS C:\Users\ssm-user> Get-Process"]);
        assert_eq!(got, [command(r"PS C:\Users\ssm-user> ", "Get-Process")]);
    }

    #[test]
    fn script_output_with_dangerous_text_is_output() {
        let lines = [
            "[ec2-user@ip-10-0-0-1 ~]$ cat deploy.sh",
            "#!/bin/bash",
            "# rm -rf /",
            "rm -rf /opt/app/build",
            "$ rm -rf /",
            "#",
            "# cleanup done #",
        ];
        let got = classify_all(&lines);
        assert_eq!(commands(&got), ["cat deploy.sh"]);
    }

    #[test]
    fn custom_prompt_learned_from_empty_enter() {
        let got = classify_all(&["myhost $", "myhost $ sudo systemctl stop nginx"]);
        assert_eq!(
            got,
            [
                output("myhost $"),
                command("myhost $ ", "sudo systemctl stop nginx")
            ]
        );
    }

    #[test]
    fn custom_prompt_with_brackets_learned() {
        let got = classify_all(&["[prod] app01 #", "[prod] app01 # reboot"]);
        assert_eq!(commands(&got), ["reboot"]);
    }

    #[test]
    fn unlearned_custom_prompt_is_output() {
        let got = classify_all(&["myhost $ sudo reboot"]);
        assert_eq!(got, [output("myhost $ sudo reboot")]);
    }

    #[test]
    fn learned_prompts_are_capped() {
        let mut lines: Vec<String> = (0..=MAX_LEARNED).map(|i| format!("host{i} $")).collect();
        lines.push("host0 $ ls".to_string());
        lines.push(format!("host{MAX_LEARNED} $ ls"));
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let got = classify_all(&refs);
        assert_eq!(got.len(), MAX_LEARNED + 3);
        assert_eq!(got[MAX_LEARNED + 1], output("host0 $ ls"));
        assert_eq!(
            got[MAX_LEARNED + 2],
            command(&format!("host{MAX_LEARNED} $ "), "ls")
        );
    }

    #[test]
    fn ps1_assignment_teaches_the_new_prompt() {
        let got = classify_all(&["sh-5.2$ PS1='prod> '", "prod> rm -rf /var/tmp/x"]);
        assert_eq!(commands(&got), ["PS1='prod> '", "rm -rf /var/tmp/x"]);
    }

    #[test]
    fn repeated_prompt_redraw_is_stripped() {
        let got = classify_all(&["sh-4.2$ sh-4.2$ sh-4.2$ date"]);
        assert_eq!(got, [command("sh-4.2$ ", "date")]);
    }

    #[test]
    fn empty_prompt_is_output() {
        let got = classify_all(&["sh-4.2$", "[ec2-user@ip-10-0-0-1 ~]$"]);
        assert_eq!(
            got,
            [output("sh-4.2$"), output("[ec2-user@ip-10-0-0-1 ~]$")]
        );
    }

    #[test]
    fn erased_reading_becomes_an_alternative() {
        let line = ScreenLine {
            text: "sh-5.2$ rm -rf /x".to_string(),
            erased: Some("sh-5.2$ rm -rf /".to_string()),
        };
        let got = CommandExtractor::new().classify(&line);
        let want = TranscriptLine::Command {
            prompt: "sh-5.2$ ".to_string(),
            command: "rm -rf /x".to_string(),
            alternatives: vec!["rm -rf /".to_string()],
        };
        assert_eq!(got, want);
    }

    #[test]
    fn backslash_continuation_with_joined_alternative() {
        let mut extractor = CommandExtractor::new();
        extractor.classify(&screen("sh-5.2$ rm -rf \\"));
        let got = extractor.classify(&screen("> /"));
        let want = TranscriptLine::Command {
            prompt: "> ".to_string(),
            command: "/".to_string(),
            alternatives: vec!["rm -rf /".to_string()],
        };
        assert_eq!(got, want);
    }

    #[test]
    fn open_quote_continues() {
        let got = classify_all(&["sh-5.2$ echo 'it", "> works'", "sh-5.2$ ls"]);
        assert_eq!(commands(&got), ["echo 'it", "works'", "ls"]);
    }

    #[test]
    fn compound_command_continues() {
        let got = classify_all(&[
            "[ec2-user@ip-10-0-0-1 ~]$ for f in /tmp/*; do",
            "> rm -rf \"$f\"",
            "> done",
        ]);
        assert_eq!(
            commands(&got),
            ["for f in /tmp/*; do", "rm -rf \"$f\"", "done"]
        );
    }

    #[test]
    fn quoted_reply_in_output_is_output() {
        let got = classify_all(&["sh-5.2$ ls", "notes.txt", "> rm -rf /"]);
        assert_eq!(commands(&got), ["ls"]);
    }

    #[test]
    fn heredoc_body_is_output() {
        let got = classify_all(&[
            "sh-5.2$ cat <<'EOF' > /tmp/notes",
            "> rm -rf / is dangerous",
            "> EOF",
            "sh-5.2$ wc -l /tmp/notes",
        ]);
        assert_eq!(
            commands(&got),
            ["cat <<'EOF' > /tmp/notes", "wc -l /tmp/notes"]
        );
        assert_eq!(got[1], output("> rm -rf / is dangerous"));
    }

    #[test]
    fn heredoc_read_by_a_shell_is_commands() {
        let got = classify_all(&["sh-5.2$ sudo bash <<EOF", "> rm -rf /var/lib/app", "> EOF"]);
        assert_eq!(commands(&got), ["sudo bash <<EOF", "rm -rf /var/lib/app"]);
    }

    #[test]
    fn shift_and_here_string_are_not_heredocs() {
        let got = classify_all(&[
            "sh-5.2$ echo $((1<<4)) $(cat <<<x); for i in 1; do",
            "> rm -rf /tmp/x",
        ]);
        assert_eq!(commands(&got)[1], "rm -rf /tmp/x");
    }

    #[test]
    fn quote_in_comment_does_not_open() {
        let mut state = ShellState::default();
        state.scan("ls # don't");
        assert_eq!(state.quote, Quote::None);
    }

    #[test]
    fn prompt_after_output_without_newline() {
        let got = classify_all(&["sh-5.2$ printf done", "donesh-5.2$ rm -rf /srv"]);
        assert_eq!(got[1], command("sh-5.2$ ", "rm -rf /srv"));
    }

    #[test]
    fn script_banners_are_output() {
        let got = classify_all(&[
            "Script started on 2020-05-27 23:00:48+0000",
            "Script done on 2020-05-27 23:01:53+0000",
        ]);
        assert!(commands(&got).is_empty());
    }

    #[test]
    fn garbage_lines_never_panic() {
        let pieces = [
            "sh-5.2$ ",
            "> ",
            ">",
            "<<",
            "<<-",
            "'",
            "\"",
            "\\",
            "$'",
            "`",
            "((",
            "))",
            "#",
            "[a@b ~]$ ",
            "u@h:~# ",
            "PS C:\\> ",
            "(venv) ",
            "EOF",
            "é",
            "中",
            " ",
            "$",
            "@",
            ":",
            "bash",
            "sudo -s",
            "PS1=x",
            "[",
            "]",
            "(",
            ")",
        ];
        let mut seed: u32 = 0x9e37_79b9;
        let mut extractor = CommandExtractor::new();
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push_str(pieces[(seed >> 16) as usize % pieces.len()]);
            }
            let erased = text.get(..text.len() / 2).map(str::to_string);
            extractor.classify(&ScreenLine { text, erased });
        }
    }

    #[test]
    fn streaming_sample_yields_its_command() {
        let raw = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/ssm-session-stream-record-linux.json"
        ));
        let record: serde_json::Value = serde_json::from_str(raw).expect("sample is JSON");
        let data = record["sessionData"].as_array().expect("sessionData");
        let mut terminal = Terminal::new(LogMode::Streaming);
        let mut screen = Vec::new();
        for line in data {
            terminal.feed(line.as_str().expect("string line"), &mut screen);
            terminal.feed("\n", &mut screen);
        }
        terminal.finish(&mut screen);
        let mut extractor = CommandExtractor::new();
        let got: Vec<TranscriptLine> = screen.iter().map(|l| extractor.classify(l)).collect();
        assert_eq!(
            got,
            [
                command("sh-4.2$ ", "date"),
                output("Mon Oct 12 02:32:09 UTC 2026")
            ]
        );
    }

    #[test]
    fn upload_at_end_sample_yields_its_commands() {
        let raw = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/ssm-transcript-upload-at-end-linux.txt"
        ));
        let mut terminal = Terminal::new(LogMode::Raw);
        let mut screen = Vec::new();
        terminal.feed(raw, &mut screen);
        terminal.finish(&mut screen);
        let mut extractor = CommandExtractor::new();
        let got: Vec<TranscriptLine> = screen.iter().map(|l| extractor.classify(l)).collect();
        // The first command wrapped at column 80 and the `\r` of the wrap was lost, as in logs
        // of older agents, so only its first screen row is on the prompt line.
        let logger = "/usr/bin/ssm-session-logger /var/lib/amazon/ssm/i-0b1c2d3e4f5a6b7c8/sess";
        assert_eq!(
            commands(&got),
            [
                logger,
                "# check the root filesystem",
                "df -h /",
                "exit",
                "exit"
            ]
        );
    }
}
