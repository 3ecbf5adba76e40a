//! Repairs for what a streamed record does to line editing: the agent deletes every `\r` and
//! strips the cursor moves, so a wrap, a history search or a completion listing leaves text
//! glued where the terminal had put it somewhere else.

use std::sync::LazyLock;

use memchr::memmem;

/// Narrowest terminal believed: anything less is a misread padding, not a screen.
const MIN_WIDTH: usize = 20;
/// Widest terminal believed.
const MAX_WIDTH: usize = 1_000;
/// Lines a completion listing may take before the line it was asked for is drawn again.
pub const LISTING_LINES: usize = 16;

/// The terminal's width, read off zsh's PROMPT_SP padding in front of a streamed prompt.
///
/// zsh writes its end-of-line mark (`%`, or `#` as root), `COLUMNS - 1` spaces, `\r`, one space
/// and `\r` before every prompt (`preprompt()` in zsh's `utils.c`, on a terminal that defers
/// the wrap like xterm). The `\r`s are gone from a streamed record, so the mark is followed by
/// exactly `COLUMNS` spaces and the prompt. `padded` is the text up to the prompt.
pub fn width_from_prompt_sp(padded: &str) -> Option<usize> {
    let spaces = padded.len() - padded.trim_end_matches(' ').len();
    let mark = padded.trim_end_matches(' ').chars().next_back()?;
    (matches!(mark, '%' | '#') && (MIN_WIDTH..=MAX_WIDTH).contains(&spaces)).then_some(spaces)
}

/// A streamed prompt line with the artefacts of soft wraps at a known terminal width taken
/// out, or None when there are none. Column 0 is the start of `text` (the prompt's row).
///
/// At the end of each full row, readline writes a space and `\r` (`…789 \r0123…`, streamed as
/// `…789 0123…`); zle (`zle` true: the line came after zsh's padding) writes a space, `\r`, the
/// next char, `\r` and the row again (`…345 \r6\r6789…`, streamed as `…345 66789…`). Only
/// the columns that are multiples of the width are looked at, and only after byte `from` (the
/// end of the prompt).
pub fn unwrap_at_width(text: &str, from: usize, width: usize, zle: bool) -> Option<String> {
    if width < MIN_WIDTH || text.len() <= width {
        return None;
    }
    let mut chars: Vec<char> = text.chars().collect();
    let prompt = text.get(..from).unwrap_or_default();
    // A prompt char the agent could not decode arrives as a run of U+FFFD in one column.
    let replaced = prompt.matches('\u{fffd}').count();
    let runs = prompt
        .split(|c| c != '\u{fffd}')
        .filter(|run| !run.is_empty())
        .count();
    let prompt_columns = prompt.chars().count() - (replaced - runs);
    let mut changed = false;
    let mut column = width;
    while let Some(at) = column.checked_add(replaced - runs)
        && at + 1 < chars.len()
    {
        column += width;
        if column - width <= prompt_columns || chars[at] != ' ' {
            continue;
        }
        if !zle {
            chars.remove(at);
        } else if chars.get(at + 2) == Some(&chars[at + 1]) {
            chars.drain(at..at + 2);
        } else {
            continue;
        }
        changed = true;
    }
    changed.then(|| chars.into_iter().collect())
}

/// zsh's incremental history search as a streamed record shows it: `bck-i-search: _` and
/// then, for every key typed, the match drawn over the command line above, the key and the
/// cursor `_` on the search line, all on one line (`…recalh_hhello-e_ell_…`). The search
/// text is the chars in front of each `_` after the first (keys typed quickly share one draw,
/// so it may be short). None when the line is no search.
pub fn zsh_search_text(text: &str) -> Option<String> {
    // The first `bck-i-search: ` or `fwd-i-search: `, found with one search for what they
    // share: every screen line comes here.
    const SHARED: &[u8] = b"-i-search: ";
    // One searcher, built once: most lines hold no match, and they are skipped many bytes at
    // a time.
    static FINDER: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(SHARED));
    let b = text.as_bytes();
    let at = FINDER
        .find_iter(b)
        .find(|&at| matches!(b.get(at.wrapping_sub(3)..at), Some(b"bck" | b"fwd")))?
        + SHARED.len();
    let rest = text.get(at..)?;
    // The last state of a search line on a real screen (upload-at-end) ends at its cursor.
    if rest.ends_with('_') {
        return None;
    }
    let chars: Vec<char> = rest.chars().collect();
    let typed: String = chars
        .windows(2)
        .filter(|pair| pair[1] == '_' && pair[0] != '_')
        .map(|pair| pair[0])
        .collect();
    (!typed.is_empty()).then_some(typed)
}

/// How many chars `a` and `b` share at their ends.
pub fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// After a bell (an ambiguous completion), zsh prints the candidates below the line and draws
/// the line again after them with its cursor moves stripped: `notes-2.txt  notes.txtls notes.txt`
/// for `ls notes` + Tab. The command is the last copy of what was typed, and what follows it.
pub fn redrawn_after_listing<'a>(text: &'a str, typed: &str) -> Option<&'a str> {
    if typed.is_empty() {
        return None;
    }
    let at = text.rfind(typed)?;
    (at > 0).then(|| text[at..].trim())
}

/// What a command prints with no newline at its end, when it can be told from the command
/// alone (`printf done`, `echo -n ready`): with the prompt hidden, the next command is glued
/// onto it (`doneecho next`).
pub fn unterminated_output(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    let program = words.next()?;
    // Every command comes here: only these two can print without a newline.
    if !matches!(program, "printf" | "echo") {
        return None;
    }
    let args: Vec<&str> = words.collect();
    let plain = |w: &str| {
        let w = w
            .strip_prefix('\'')
            .and_then(|w| w.strip_suffix('\''))
            .unwrap_or(w);
        (!w.is_empty() && !w.contains(['\\', '%', '$', '`', '"', '\'', '*', '?']))
            .then(|| w.to_string())
    };
    match (program, args.as_slice()) {
        ("printf", [text]) => plain(text),
        ("echo", ["-n", rest @ ..]) if !rest.is_empty() => {
            let words: Option<Vec<String>> = rest.iter().map(|w| plain(w)).collect();
            words.map(|w| w.join(" "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zsh_padding_gives_the_width() {
        let padded = format!("#{}", " ".repeat(100));
        assert_eq!(width_from_prompt_sp(&padded), Some(100));
        assert_eq!(
            width_from_prompt_sp(&format!("done%{}", " ".repeat(80))),
            Some(80)
        );
    }

    #[test]
    fn padding_too_short_or_without_a_mark_gives_no_width() {
        assert_eq!(width_from_prompt_sp(&format!("#{}", " ".repeat(8))), None);
        assert_eq!(width_from_prompt_sp(&format!("x{}", " ".repeat(100))), None);
    }

    #[test]
    fn readline_wrap_space_is_taken_out_at_the_width() {
        let typed = format!("$ echo {}", "x".repeat(30));
        let streamed = format!("{} {}", &typed[..20], &typed[20..]);
        assert_eq!(unwrap_at_width(&streamed, 2, 20, false), Some(typed));
    }

    #[test]
    fn a_space_typed_at_the_margin_stays_one_space() {
        // `three` ends the first row; the space typed next starts the second.
        let typed = "$ echo one two three four five";
        let streamed = "$ echo one two three  four five";
        assert_eq!(
            unwrap_at_width(streamed, 2, 20, false).as_deref(),
            Some(typed)
        );
    }

    #[test]
    fn zle_wrap_redraw_is_taken_out_at_the_width() {
        let typed = "vm# echo 0123456789abcdefghij0123456789";
        let streamed = format!("{} {}{}", &typed[..20], &typed[20..21], &typed[20..]);
        assert_eq!(
            unwrap_at_width(&streamed, 4, 20, true).as_deref(),
            Some(typed)
        );
    }

    #[test]
    fn rows_after_the_first_are_unwrapped_too() {
        let typed = format!("$ {}", "y".repeat(50));
        let streamed = format!("{} {} {}", &typed[..20], &typed[20..40], &typed[40..]);
        assert_eq!(unwrap_at_width(&streamed, 2, 20, false), Some(typed));
    }

    #[test]
    fn a_prompt_char_streamed_as_two_replacements_takes_one_column() {
        let typed = format!("\u{fffd}\u{fffd} echo {}", "z".repeat(30));
        let at = typed.char_indices().nth(21).unwrap().0;
        let streamed = format!("{} {}", &typed[..at], &typed[at..]);
        assert_eq!(unwrap_at_width(&streamed, 7, 20, false), Some(typed));
    }

    #[test]
    fn a_line_no_longer_than_a_row_is_kept() {
        assert_eq!(unwrap_at_width("$ echo one two three", 2, 20, false), None);
    }

    #[test]
    fn zle_needs_its_doubled_char() {
        assert_eq!(
            unwrap_at_width("vm# echo one two thre e four", 4, 20, true),
            None
        );
    }

    #[test]
    fn zsh_search_line_gives_the_keys_typed() {
        let line = "bck-i-search: _echo recalh_hhello-e_ell_lll_loo_o--_-ss_hello-shello-session";
        assert_eq!(zsh_search_text(line).as_deref(), Some("hello-s"));
    }

    #[test]
    fn keys_typed_quickly_give_a_shorter_search_text() {
        let line = "bck-i-search: echo recall-meh_hello-shello-session";
        assert_eq!(zsh_search_text(line).as_deref(), Some("h"));
    }

    #[test]
    fn a_search_line_left_on_screen_is_not_read_as_accepted() {
        assert_eq!(zsh_search_text("bck-i-search: rm_"), None);
        assert_eq!(zsh_search_text("echo bck-i-search"), None);
    }

    #[test]
    fn listing_then_redraw_gives_the_completed_line() {
        let line = "notes-2.txt  notes.txtls notes.txt";
        assert_eq!(
            redrawn_after_listing(line, "ls notes"),
            Some("ls notes.txt")
        );
        assert_eq!(redrawn_after_listing("ls notes.txt", "ls notes"), None);
    }

    #[test]
    fn printf_and_echo_n_output_is_known_when_plain() {
        assert_eq!(unterminated_output("printf done").as_deref(), Some("done"));
        assert_eq!(
            unterminated_output("echo -n ready now").as_deref(),
            Some("ready now")
        );
        assert_eq!(unterminated_output("printf 'done\\n'"), None);
        assert_eq!(unterminated_output("echo done"), None);
        assert_eq!(unterminated_output("printf %s $x"), None);
    }
}
