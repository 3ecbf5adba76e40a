//! Prompt shapes recognised without learning anything: the default prompts of the shells and
//! distributions Session Manager lands in, and the common themes built on them.
//!
//! Hand-written matchers (linear, bounded, no regex): they run on every screen line.
//!
//! A shape is *weak* when the same text is common in program output: a bare `$ `, `# ` or `% `
//! (dash, ash, busybox, `PS1='$ '`). Whether a weak prompt counts depends on what the session
//! has shown so far (see [`super::CommandExtractor`]); every other shape always counts.

use super::classes::ByteClasses;

/// How far into a line a prompt may reach (long paths in `\w` prompts included).
pub const MAX_PROMPT_BYTES: usize = 512;
const MAX_NAME_BYTES: usize = 64;
const MAX_PREFIXES: usize = 3;

/// A prompt found at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Byte offset just past the prompt (its trailing space excluded).
    pub end: usize,
    pub name: &'static str,
    pub weak: bool,
    /// Only a prompt when the rest of the line reads as a command line (a shape that output
    /// can also take, such as a mangled symbol).
    pub checked: bool,
}

/// Symbols that end two-line and minimal theme prompts (starship, powerline, pure, spaceship).
const SYMBOL_PROMPTS: &[char] = &['❯', 'λ', '»', '➜', '❱', '⟩'];
/// Of those, the ones distinctive enough to end a one-line prompt after context
/// (`~/app main ?1 ❯ `): output rarely holds them with a space on each side.
const CONTEXT_SYMBOLS: &[char] = &['❯', '❱', '➜', 'λ'];
/// Marks a bracketed or recurring prompt may end in besides `$` and `#`.
pub const EXTRA_MARKS: &[char] = &['%', '>', '±', '❯', '»', 'λ', '➜'];

/// Matches a stock prompt at the start of `text`. `classes` (see [`ByteClasses`]) tells which
/// bytes `text` may hold: a line without a prompt mark is passed over without being read again.
pub fn stock_prompt(text: &str, classes: ByteClasses) -> Option<Shape> {
    debug_assert!(classes.covers(text), "{text:?}");
    let base = prefixes(text);
    let rest = text.get(base..)?;
    if cannot_hold_a_shape(rest, classes) {
        return None;
    }
    // A shape whose bytes the line lacks is not tried (see [`SHAPES`]).
    let found = SHAPES
        .iter()
        .filter(|shape| classes.any(shape.needs))
        .find_map(|shape| (shape.matches)(rest).map(|n| (n, shape.name)));
    if let Some((len, name)) = found {
        let end = base + len;
        return at_boundary(text, end).then_some(Shape {
            end,
            name,
            weak: false,
            checked: false,
        });
    }
    if let Some(len) = mangled_symbol_prompt(rest) {
        let end = base + len;
        return at_boundary(text, end).then_some(Shape {
            end,
            name: "`❯` or `➜` as a streamed record mangles it (U+FFFD)",
            weak: false,
            checked: true,
        });
    }
    let end = base + bare_prompt(rest)?;
    at_boundary(text, end).then_some(Shape {
        end,
        name: "bare `$`, `#` or `%` (dash, ash, busybox)",
        weak: true,
        checked: false,
    })
}

/// One stock shape: how it is matched, what it is called, and the bytes it cannot match
/// without (any one of them).
struct StockShape {
    matches: fn(&str) -> Option<usize>,
    name: &'static str,
    needs: ByteClasses,
}

/// The stock shapes, tried in this order. What each needs: `sh-4.2$` its `$` or `#`;
/// `[user@host dir]$` its `]`; Debian's `user@host:dir$` (with or without the user) its `:`;
/// zsh's and fish's `user@host dir %` its `@`; the themes' arrows, symbols and boxes a char
/// beyond ASCII; `dir git:(branch)` and macOS's `host:dir user$` a `:`; zsh's `host%` its `%`
/// or `#`; busybox's `dir $` the `~` or `/` it starts with; PowerShell's `PS C:\>` its `>`.
const SHAPES: [StockShape; 13] = {
    use ByteClasses as C;
    const fn shape(
        matches: fn(&str) -> Option<usize>,
        name: &'static str,
        needs: ByteClasses,
    ) -> StockShape {
        StockShape {
            matches,
            name,
            needs,
        }
    }
    [
        shape(
            shell_version_prompt,
            "shell default `sh-4.2$`",
            C::DOLLAR.or(C::HASH),
        ),
        shape(
            bracketed_prompt,
            "`[user@host dir]$` (Amazon Linux, RHEL)",
            C::CLOSE_BRACKET,
        ),
        shape(debian_prompt, "`user@host:dir$` (Debian, Ubuntu)", C::COLON),
        shape(user_host_prompt, "`user@host dir %` (zsh, fish)", C::AT),
        shape(
            oh_my_zsh_prompt,
            "`➜  dir git:(branch)` (oh-my-zsh)",
            C::LEAD,
        ),
        shape(git_dir_prompt, "`dir git:(branch)` (zsh theme)", C::COLON),
        shape(symbol_prompt, "`❯` (two-line or minimal theme)", C::LEAD),
        shape(box_prompt, "`╰─` (two-line box theme)", C::LEAD),
        shape(mac_prompt, "`host:dir user$` (macOS)", C::COLON),
        shape(
            context_symbol_prompt,
            "`context ❯` (one-line theme)",
            C::LEAD,
        ),
        shape(host_prompt, "`host%` (zsh default)", C::PERCENT.or(C::HASH)),
        shape(
            path_prompt,
            "`dir $` (busybox, git-branch themes)",
            C::TILDE.or(C::SLASH),
        ),
        shape(powershell_prompt, "`PS C:\\>` (PowerShell)", C::GREATER),
    ]
};

/// Most lines (output, and the command after a prompt) can be seen at once to hold no shape:
/// ASCII text (every symbol and box shape needs a char beyond it) with no prompt mark (`$`,
/// `#`, `%`, `>`, which every other shape ends with), not starting with a path (fish's
/// `~/app (main) ` has no mark) and with no `:(` (`app git:(main)` has none either).
fn cannot_hold_a_shape(rest: &str, classes: ByteClasses) -> bool {
    let b = rest.as_bytes();
    if matches!(b.first(), Some(b'~' | b'/')) {
        return false;
    }
    // What the byte look-ups below would find, known already: no byte of the table's 2s, and
    // no `(` after a `:` unless there are both.
    if !classes.any(ByteClasses::MARKS | ByteClasses::BEYOND_ASCII)
        && !classes.all(ByteClasses::COLON | ByteClasses::OPEN_PAREN)
    {
        return true;
    }
    // One table look-up per byte; a `(` needs a second look, at the byte before it.
    b.iter()
        .enumerate()
        .all(|(i, &c)| match SHAPE_BYTES[usize::from(c)] {
            0 => true,
            1 => i == 0 || b[i - 1] != b':',
            _ => false,
        })
}

/// For [`cannot_hold_a_shape`]: 2 for a byte that may belong to a shape (a mark, or beyond
/// ASCII), 1 for `(` (a shape after `:`), 0 for the rest.
const SHAPE_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0x80;
    while i < 256 {
        table[i] = 2;
        i += 1;
    }
    table[b'$' as usize] = 2;
    table[b'#' as usize] = 2;
    table[b'%' as usize] = 2;
    table[b'>' as usize] = 2;
    table[b'(' as usize] = 1;
    table
};

/// The agent's escape stripper reads bytes 0x80-0x9F as controls, so `❯` (E2 9D AF) and `➜`
/// (E2 9E 9C) reach a streamed record as one or two U+FFFD. `\u{fffd}\u{fffd} ls` is the
/// two-line prompt; robbyrussell's `➜  dir ` keeps its two spaces and its directory word.
fn mangled_symbol_prompt(s: &str) -> Option<usize> {
    let marks = s.chars().take_while(|c| *c == '\u{fffd}').take(4).count();
    if marks == 0 {
        return None;
    }
    let after = marks * '\u{fffd}'.len_utf8();
    let rest = s.get(after..)?;
    if !rest.starts_with("  ") {
        return Some(after);
    }
    let start = after + 2;
    let word = s.get(start..)?;
    let dir = word.find(' ').unwrap_or(word.len());
    Some(start + dir + vcs_suffix(s.get(start + dir..)?))
}

/// A prompt is followed by a space or ends the (trimmed) line.
pub fn at_boundary(text: &str, end: usize) -> bool {
    match text.as_bytes().get(end) {
        None => end == text.len(),
        Some(b) => *b == b' ',
    }
}

/// Context that themes put before the prompt proper: `(venv) `, `(base) `, a kube context
/// `(⎈|prod:default) `, the time `[10:01:02] ` or `10:01 `, an exit status `0 ` / `✔ ` / `✘ 1 `.
fn prefixes(text: &str) -> usize {
    let mut used = 0;
    for _ in 0..MAX_PREFIXES {
        let Some(rest) = text.get(used..) else { break };
        let Some(len) = paren_prefix(rest)
            .or_else(|| time_prefix(rest))
            .or_else(|| status_prefix(rest))
        else {
            break;
        };
        // A prefix is always followed by the rest of the prompt, never by the end of the line.
        if rest.len() <= len {
            break;
        }
        used += len;
    }
    used
}

/// `(name) ` with no nested parentheses; the name may hold spaces (`(⎈ |prod:default) `).
fn paren_prefix(s: &str) -> Option<usize> {
    let inner = s.strip_prefix('(')?;
    let close = inner
        .bytes()
        .take(MAX_NAME_BYTES + 1)
        .position(|b| b == b')')?;
    let name = inner.get(..close)?;
    let valid = !name.trim().is_empty() && !name.contains('(');
    (valid && inner.as_bytes().get(close + 1) == Some(&b' ')).then_some(close + 3)
}

/// `[10:01:02] `, `10:01:02 `, `[10:01] ` (bash `\t`, `\A`, zsh `%*`).
fn time_prefix(s: &str) -> Option<usize> {
    let (open, body) = match s.strip_prefix('[') {
        Some(body) => (1, body),
        None => (0, s),
    };
    let len = clock(body.as_bytes())?;
    let mut end = open + len;
    if open == 1 {
        if s.as_bytes().get(end) != Some(&b']') {
            return None;
        }
        end += 1;
    }
    (s.as_bytes().get(end) == Some(&b' ')).then_some(end + 1)
}

/// `HH:MM` or `HH:MM:SS`.
fn clock(b: &[u8]) -> Option<usize> {
    let two = |i: usize| {
        b.get(i..i + 2)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !(two(0) && b.get(2) == Some(&b':') && two(3)) {
        return None;
    }
    if b.get(5) == Some(&b':') && two(6) {
        Some(8)
    } else {
        Some(5)
    }
}

/// An exit status before the prompt: `0 `, `127 `, `✔ `, `✘ `, `✘ 1 `.
fn status_prefix(s: &str) -> Option<usize> {
    for mark in ["✔ ", "✘ ", "✓ ", "✗ "] {
        if s.starts_with(mark) {
            return Some(mark.len());
        }
    }
    let b = s.as_bytes();
    let n = b.iter().take(4).take_while(|c| c.is_ascii_digit()).count();
    (n > 0 && n <= 3 && b.get(n) == Some(&b' ')).then_some(n + 1)
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
    let (user_host, path) = inner.split_once([' ', ':'])?;
    let (user, host) = user_host.split_once('@')?;
    let valid = is_name(user) && is_name(host) && !path.trim().is_empty();
    // `[` + inner + `]`, an optional space, then the mark.
    let after = s.get(close + 2..)?;
    let gap = usize::from(after.starts_with(' '));
    let mark = after.get(gap..)?.chars().next()?;
    let is_mark = mark == '$' || mark == '#' || EXTRA_MARKS.contains(&mark);
    (valid && is_mark).then_some(close + 2 + gap + mark.len_utf8())
}

/// `ubuntu@ip-172-31-0-1:~$`, `root@web-1:/srv/app#`: Debian `\u@\h:\w\$`; also without
/// the user (`\h:\w\$`: `desktop:~/src$`).
fn debian_prompt(s: &str) -> Option<usize> {
    let after_at = match user_at_host(s) {
        Some((_, after_at)) => after_at,
        None => {
            let host = s.find(':').filter(|&i| i > 0 && is_name(&s[..i]))?;
            if !s.as_bytes()[0].is_ascii_alphabetic() {
                return None;
            }
            host
        }
    };
    let b = s.as_bytes();
    if b.get(after_at) != Some(&b':') {
        return None;
    }
    let path = after_at + 1;
    if !matches!(b.get(path), Some(b'~' | b'/')) {
        return None;
    }
    // The path may hold spaces; the prompt ends at the first `$`/`#` that ends a word.
    mark_at_word_end(s, path, b"$#")
}

/// zsh `%n@%m %1~ %#` (`root@web-1 ~ #`, `alice@host app %`) and fish's default
/// (`alice@host ~>`, `root@host /etc#`).
fn user_host_prompt(s: &str) -> Option<usize> {
    let (_, after_at) = user_at_host(s)?;
    let b = s.as_bytes();
    if b.get(after_at) != Some(&b' ') {
        return None;
    }
    let path = after_at + 1;
    if b.get(path).is_none_or(|c| *c == b' ') {
        return None;
    }
    mark_at_word_end(s, path, b"%#$>")
}

/// `user@host` at the start; returns the user and the offset after the host name.
fn user_at_host(s: &str) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    let at = b.iter().take(MAX_NAME_BYTES + 1).position(|&c| c == b'@')?;
    let user = s.get(..at)?;
    let host_len = b
        .get(at + 1..)?
        .iter()
        .take(MAX_NAME_BYTES + 1)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        .count();
    let host = s.get(at + 1..at + 1 + host_len)?;
    (is_name(user) && is_host(host)).then_some((user, at + 1 + host_len))
}

/// The end of the first mark (one of `marks`) at or after `from` that is followed by a space
/// or the end of the line, within `MAX_PROMPT_BYTES`.
fn mark_at_word_end(s: &str, from: usize, marks: &[u8]) -> Option<usize> {
    let b = s.as_bytes();
    (from..b.len().min(from + MAX_PROMPT_BYTES))
        .find(|&i| b.get(i).is_some_and(|c| marks.contains(c)) && at_boundary(s, i + 1))
        .map(|i| i + 1)
}

/// oh-my-zsh's robbyrussell and its many copies: `➜  dir`, `➜  dir git:(main)`,
/// `➜  dir git:(main) ✗`.
fn oh_my_zsh_prompt(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('➜')?;
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if spaces == 0 {
        return None;
    }
    let start = s.len() - rest.len() + spaces;
    let word = s.get(start..)?;
    let dir = word.find(' ').unwrap_or(word.len());
    if dir == 0 || dir > MAX_PROMPT_BYTES {
        return None;
    }
    Some(start + dir + vcs_suffix(s.get(start + dir..)?))
}

/// A theme prompt without the arrow: `~/app git:(main)`, `app git:(main) ✗`.
fn git_dir_prompt(s: &str) -> Option<usize> {
    let dir = s.find(' ')?;
    if dir == 0 || dir > MAX_PROMPT_BYTES {
        return None;
    }
    let suffix = vcs_suffix(s.get(dir..)?);
    (suffix > 0).then_some(dir + suffix)
}

/// ` git:(branch)`, ` hg:(branch)`, optionally followed by ` ✗`: the length, 0 when absent.
fn vcs_suffix(s: &str) -> usize {
    for tool in [" git:(", " hg:(", " svn:("] {
        let Some(rest) = s.strip_prefix(tool) else {
            continue;
        };
        let Some(close) = rest
            .bytes()
            .take(MAX_NAME_BYTES + 1)
            .position(|b| b == b')')
        else {
            return 0;
        };
        let mut len = tool.len() + close + 1;
        if s.get(len..).is_some_and(|r| r.starts_with(" ✗")) {
            len += " ✗".len();
        }
        return len;
    }
    0
}

/// A lone prompt symbol at the start of a line: the second line of a two-line prompt
/// (`~/app on  main` then `❯ `) or a minimal theme (`λ `, `» `).
fn symbol_prompt(s: &str) -> Option<usize> {
    let c = s.chars().next()?;
    SYMBOL_PROMPTS.contains(&c).then_some(c.len_utf8())
}

/// zsh's default `%m%# `: `ip-10-0-1-5% `, `web-1# `. The host starts with a letter so
/// percentages and counters in output (`100% done`, `3# `) are not prompts.
fn host_prompt(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let n = b
        .iter()
        .take(MAX_NAME_BYTES + 1)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        .count();
    let host = s.get(..n)?;
    // Host names are lower case; ASCII art and banners (`ttS%`, `SS%`) are not prompts.
    let plausible = n >= 2
        && b[0].is_ascii_alphabetic()
        && is_host(host)
        && !host.bytes().any(|c| c.is_ascii_uppercase());
    (plausible && n <= MAX_NAME_BYTES && matches!(b.get(n), Some(b'%' | b'#'))).then_some(n + 1)
}

/// A host name: a name that starts with a letter or digit and holds a letter.
fn is_host(s: &str) -> bool {
    is_name(s)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.bytes().any(|c| c.is_ascii_alphabetic())
}

/// A path, an optional `(branch)`, then the mark: busybox's `\w \$` (`~ # `, `/tmp $ `) and
/// bash git-branch prompts (`~/app (main) $ `, `/srv (main)$ `).
fn path_prompt(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !matches!(b.first(), Some(b'~' | b'/')) {
        return None;
    }
    let mut i = b
        .iter()
        .take(MAX_PROMPT_BYTES)
        .take_while(|c| **c != b' ')
        .count();
    if b.get(i..i + 2) == Some(b" (") {
        let close = b
            .get(i + 2..)?
            .iter()
            .take(MAX_NAME_BYTES + 1)
            .position(|c| *c == b')')?;
        i += 2 + close + 1;
        // fish themes: `~/src/app (main ↩=) ` with no mark after the branch.
        if b.get(i) == Some(&b' ') && !matches!(b.get(i + 1), Some(b'$' | b'#')) {
            return Some(i);
        }
    }
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    matches!(b.get(i), Some(b'$' | b'#')).then_some(i + 1)
}

/// The second line of a box-drawing two-line prompt: `╰─ `, `╰─➤ `, `└─$ `, `└──╼ # ` (kali).
/// A bare `└──` starts tree output (`tree`, `clusterctl describe`), so `└` needs a mark.
fn box_prompt(s: &str) -> Option<usize> {
    let rounded = s.starts_with('╰');
    if !rounded && !s.starts_with('└') {
        return None;
    }
    let rest = s.get('╰'.len_utf8()..)?;
    let dashes = rest.chars().take_while(|c| *c == '─').count();
    if dashes == 0 {
        return None;
    }
    let mut end = s.len() - rest.len() + dashes * '─'.len_utf8();
    // Then a few symbols: `$`, `#`, `╼`, `➤`, or icon-font glyphs.
    let symbols: String = s
        .get(end..)?
        .chars()
        .take_while(|c| !c.is_alphanumeric() && !c.is_whitespace())
        .take(4)
        .collect();
    let marked = symbols.contains(['$', '#', '╼', '➤', '❯', '>']);
    end += symbols.len();
    // `└──╼ $`: a mark after the arrow.
    if s.get(end..)
        .is_some_and(|r| r.starts_with(" $") || r.starts_with(" #"))
    {
        end += 2;
        return Some(end);
    }
    (rounded || marked).then_some(end)
}

/// macOS bash's default `\h:\W \u\$`: `mbp:app alice$`, `pwny:/Users/felix/Desktop/Pwny felix$`.
fn mac_prompt(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let host = b
        .iter()
        .take(MAX_NAME_BYTES + 1)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        .count();
    if host == 0 || b.get(host) != Some(&b':') {
        return None;
    }
    let dir_end = host
        + 1
        + b.get(host + 1..)?
            .iter()
            .take(MAX_PROMPT_BYTES)
            .take_while(|c| **c != b' ')
            .count();
    if dir_end == host + 1 || b.get(dir_end) != Some(&b' ') {
        return None;
    }
    let user = b
        .get(dir_end + 1..)?
        .iter()
        .take(MAX_NAME_BYTES + 1)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        .count();
    let mark = dir_end + 1 + user;
    (user > 0 && matches!(b.get(mark), Some(b'$' | b'#'))).then_some(mark + 1)
}

/// A one-line theme: context (path, branch, status) then `❯`, `➜` or `λ` between spaces.
fn context_symbol_prompt(s: &str) -> Option<usize> {
    let window = s.get(..s.floor_char_boundary(MAX_PROMPT_BYTES))?;
    // The symbols start with byte E2 (❯ ❱ ➜) or CE (λ); most lines have neither.
    if !window.bytes().any(|b| b == 0xE2 || b == 0xCE) {
        return None;
    }
    window
        .char_indices()
        .find(|&(i, c)| {
            CONTEXT_SYMBOLS.contains(&c) && i > 0 && window.as_bytes().get(i - 1) == Some(&b' ')
        })
        .map(|(i, c)| i + c.len_utf8())
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

/// dash, ash and busybox as a user (`$ `) or root (`# `); zsh started as `sh` (`% `).
/// `> ` too, for sessions whose PS1 is `> ` (it is also PS2, read first when a command continues).
fn bare_prompt(s: &str) -> Option<usize> {
    matches!(s.as_bytes().first(), Some(b'$' | b'#' | b'%' | b'>')).then_some(1)
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
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt_of(line: &str) -> Option<(&str, bool)> {
        stock_prompt(line, ByteClasses::of(line)).map(|s| (&line[..s.end], s.weak))
    }

    #[test]
    fn distribution_and_shell_defaults() {
        for (line, prompt) in [
            ("sh-5.2$ id", "sh-5.2$"),
            ("bash-5.2# id", "bash-5.2#"),
            ("[ec2-user@ip-10-0-0-1 ~]$ id", "[ec2-user@ip-10-0-0-1 ~]$"),
            ("ubuntu@ip-172-31-0-1:~$ id", "ubuntu@ip-172-31-0-1:~$"),
            ("root@web-1:/srv/my app# id", "root@web-1:/srv/my app#"),
            ("ip-10-0-1-5% id", "ip-10-0-1-5%"),
            ("web-1# id", "web-1#"),
            ("alice@ip-10-0-1-5 ~ % id", "alice@ip-10-0-1-5 ~ %"),
            ("root@web-1 /etc # id", "root@web-1 /etc #"),
            ("ec2-user@ip-10-0-1-5 ~> id", "ec2-user@ip-10-0-1-5 ~>"),
            (
                "root@ip-10-0-1-5 /var/log# id",
                "root@ip-10-0-1-5 /var/log#",
            ),
            ("~ # id", "~ #"),
            ("/tmp $ id", "/tmp $"),
            ("~/app (main) $ id", "~/app (main) $"),
            ("/srv (release/1.2)$ id", "/srv (release/1.2)$"),
            (
                r"PS C:\Users\ssm-user> Get-Process",
                r"PS C:\Users\ssm-user>",
            ),
            (
                "[ops@terraform:~/infra] ± npm ci",
                "[ops@terraform:~/infra] ±",
            ),
            ("mbp:app alice$ id", "mbp:app alice$"),
            ("desktop:~/git-nomad$ id", "desktop:~/git-nomad$"),
            ("~/src/app (develop ↩=) vim", "~/src/app (develop ↩=)"),
        ] {
            assert_eq!(prompt_of(line), Some((prompt, false)), "{line}");
        }
    }

    #[test]
    fn theme_prompts() {
        for (line, prompt) in [
            ("➜  ~ id", "➜  ~"),
            ("➜  app git:(main) id", "➜  app git:(main)"),
            ("➜  app git:(main) ✗ id", "➜  app git:(main) ✗"),
            ("app git:(main) id", "app git:(main)"),
            ("❯ id", "❯"),
            ("λ id", "λ"),
            ("» id", "»"),
            ("╰─ id", "╰─"),
            ("╰─➤ id", "╰─➤"),
            ("╰─\u{e285}\u{e285} id", "╰─\u{e285}\u{e285}"),
            ("└─$ id", "└─$"),
            ("└──╼ $ id", "└──╼ $"),
            ("~/app main ?1 ❯ id", "~/app main ?1 ❯"),
            ("app main λ id", "app main λ"),
        ] {
            assert_eq!(prompt_of(line), Some((prompt, false)), "{line}");
        }
    }

    #[test]
    fn context_before_the_prompt() {
        for (line, prompt) in [
            ("(venv) ubuntu@h:~/app$ pip list", "(venv) ubuntu@h:~/app$"),
            (
                "(base) (venv) [ec2-user@h ~]$ ls",
                "(base) (venv) [ec2-user@h ~]$",
            ),
            (
                "(⎈ |prod:default) alice@h:~$ ls",
                "(⎈ |prod:default) alice@h:~$",
            ),
            ("[10:01:02] 0 root@h:~# ls", "[10:01:02] 0 root@h:~#"),
            ("10:01 ✔ ❯ ls", "10:01 ✔ ❯"),
            ("✘ 1 alice@h:~$ ls", "✘ 1 alice@h:~$"),
        ] {
            assert_eq!(prompt_of(line), Some((prompt, false)), "{line}");
        }
    }

    #[test]
    fn mangled_symbols_need_a_command_after_them() {
        for (line, prompt) in [
            ("\u{fffd}\u{fffd} ls", "\u{fffd}\u{fffd}"),
            ("\u{fffd}  app git:(main) ls", "\u{fffd}  app git:(main)"),
            ("\u{fffd}  ~ ls", "\u{fffd}  ~"),
        ] {
            let shape = stock_prompt(line, ByteClasses::of(line)).unwrap();
            assert_eq!(
                (&line[..shape.end], shape.checked),
                (prompt, true),
                "{line}"
            );
        }
    }

    #[test]
    fn bare_marks_are_weak() {
        assert_eq!(prompt_of("$ sudo rm -rf /"), Some(("$", true)));
        assert_eq!(prompt_of("# cat /etc/shadow"), Some(("#", true)));
        assert_eq!(prompt_of("% ls"), Some(("%", true)));
        assert_eq!(prompt_of("$"), Some(("$", true)));
        assert_eq!(prompt_of("> ls"), Some((">", true)));
    }

    #[test]
    fn output_that_is_not_a_prompt() {
        for line in [
            "100% done",
            "3# of 4",
            "$HOME is set",
            "#!/bin/bash",
            "user@example.com wrote:",
            "Total: 42",
            "[INFO] starting",
            "(1 row)",
            "~/notes.txt",
            "└── src",
            "➤  Menu entry",
            "a → b",
            "S8X@. ;%;:::tSS;:  .:;%t%;;",
            "ttS%     %%;          .;%SSSS:",
        ] {
            assert_eq!(prompt_of(line), None, "{line}");
        }
    }
}
