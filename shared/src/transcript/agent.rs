//! What the SSM agent logs of a session's pty output, in each logging mode: used to turn a
//! recorded terminal session (`script`, asciinema) into the transcript Session Warden receives.
//!
//! - Streaming (`cloudWatchStreamingEnabled`): escape sequences are stripped (C0 controls such
//!   as backspace and BEL are kept), TAB becomes a space, every `\r` is deleted, and the text is
//!   split into lines.
//! - Upload-at-end: a `script` typescript of the raw bytes, `\r\n` turned into `\n` (lone `\r`,
//!   backspaces and escape sequences stay).

/// Streaming mode: the lines the agent would put into `sessionData`.
pub fn streaming_lines(pty: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = pty.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => skip_escape(&mut chars),
            // 8-bit CSI, OSC and string introducers: the decoder reads them as controls too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' => lines.push(std::mem::take(&mut line)),
            '\r' => {}
            '\t' => line.push(' '),
            c => line.push(c),
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Upload-at-end mode: the typescript text, with its `script` header and footer.
pub fn upload_text(pty: &str, started: &str, done: &str) -> String {
    let body = pty.replace("\r\n", "\n");
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("Script started on {started}\n{body}{newline}Script done on {done}\n")
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // `ESC ( B` and other sequences with intermediate bytes.
        Some('\x20'..='\x2f') => {
            while chars.next_if(|c| ('\x20'..='\x2f').contains(c)).is_some() {}
            chars.next();
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars>) {
    for c in chars.by_ref() {
        if ('\x40'..='\x7e').contains(&c) {
            return;
        }
    }
}

/// OSC/DCS bodies run to BEL or ST (`ESC \`).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_strips_escapes_and_carriage_returns_but_keeps_backspaces() {
        let pty =
            "\x1b]0;title\x07\x1b[?2004h$ ls\x1b[K\r\nnotes\tx\r\n$ rm -rf /x\x08\x1b[K\r\n$ ";
        assert_eq!(
            streaming_lines(pty),
            ["$ ls", "notes x", "$ rm -rf /x\x08", "$ "]
        );
    }

    #[test]
    fn upload_keeps_raw_bytes_between_header_and_footer() {
        let text = upload_text("$ ls\r\n\x1b[01;34mbin\x1b[0m\r\n", "start", "end");
        assert_eq!(
            text,
            "Script started on start\n$ ls\n\x1b[01;34mbin\x1b[0m\nScript done on end\n"
        );
    }
}
