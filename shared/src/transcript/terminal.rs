//! Rebuilds what the terminal showed from session-log text, one logical line at a time.
//!
//! Session transcripts are pty output: the shell echoes keystrokes and redraws the line while the
//! user edits it, so the bytes of a command line are not the command. A small terminal model
//! (one line buffer with a cursor) replays backspaces, carriage returns and the CSI editing
//! sequences readline uses, and drops everything that only changes colours or modes.
//!
//! Deliberate differences from a real terminal, all in favour of not losing typed text:
//! - An OSC/DCS string ends at `\n` as well as at BEL/ST, so an unterminated `ESC ]` printed by a
//!   program cannot swallow the rest of the session.
//! - A non-ASCII char inside a CSI sequence aborts the sequence and is shown.
//! - Readline's soft-wrap idiom (a space written past the last column, then `\r`) continues the
//!   logical line on a new row instead of overwriting its start; see [`Terminal::carriage_return`].
//! - Upload-at-end text: the screen's width is unknown until zsh or fish pad a line to the margin
//!   (`%`/`⏎` and spaces, then `\r`); from then on rows wrap at that width, and a line feed on an
//!   upper row of a wrapped line moves down to its next row, as fish does to edit one.

use std::collections::VecDeque;

const MAX_LINE: usize = 16_384;
/// Cap for numeric CSI parameters: large enough for any real screen, small enough never to overflow.
const MAX_PARAM: u32 = 10_000;
const MAX_PARAMS: usize = 16;
/// Narrowest screen row accepted as a soft wrap; shorter rows ending in `" \r"` are plain redraws.
const MIN_WRAP_WIDTH: usize = 20;
/// Narrowest padding read as a shell's mark-and-spaces to the margin (zsh's PROMPT_SP, fish's
/// `⏎`): terminals this narrow are not used for shells.
const MIN_PADDED_WIDTH: usize = 40;
/// Upload-at-end mode: finished lines kept on the model's screen, where the cursor may still go
/// back up (zsh draws its search prompt and completion lists below the command line, then edits
/// the command line above them). A line is final once this many newer lines are below it.
const HELD_LINES: usize = 32;
const TAB_STOP: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// CloudWatch streaming records: the agent already removed ANSI escape sequences (so an erase
    /// like `ESC[K` is gone) and every `\r`; C0 controls such as backspace (0x08) are kept.
    Streaming,
    /// Upload-at-end text: raw pty bytes of a `script` typescript — escape sequences, `\r`,
    /// backspaces, bracketed paste all present.
    Raw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenLine {
    /// What the terminal line showed when the line ended (trailing whitespace trimmed).
    pub text: String,
    /// Streaming mode only: the text up to the cursor, when the line ended with the cursor left of
    /// the end. The agent strips the `ESC[K` a shell sends after a backspace, so `rm -rf /x` +
    /// backspace arrives as `rm -rf /x\b`: the screen text is ambiguous and both readings must be
    /// checked. None when equal to `text`.
    pub erased: Option<String>,
    /// Streaming mode: nothing was written past the cursor since the cursor last went back to
    /// its leftmost point, so the text past it is a leftover of a longer line (a recalled
    /// shorter command over it, the erase stripped) and `erased` is what the shell ran. False
    /// when the tail was rewritten after that (an insert in the middle reprints the tail).
    pub stale_tail: bool,
    /// The last thing the line got before it ended was a bell: the shell refused or could not
    /// finish a completion, so what follows is a listing and the line was not run (yet).
    pub bell: bool,
    /// Streaming mode: the line began with a backspace before any text. In a streamed record
    /// that only happens when the cursor was put further right by moves the agent stripped:
    /// fish redrawing a char it had already written on a row below the prompt's.
    pub redraw: bool,
}

/// Where the escape-sequence parser is between two chars (input may stop anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parse {
    Ground,
    /// After `ESC`.
    Esc,
    /// `ESC` plus intermediate bytes (e.g. `ESC ( B`): waiting for the final byte.
    EscIntermediate,
    Csi,
    /// OSC, DCS, SOS, PM or APC body: skipped up to its terminator.
    Str,
    /// `ESC` inside such a string: `\` completes the ST terminator.
    StrEsc,
}

/// Parameters of the CSI sequence being parsed; fixed size so hostile input cannot grow it.
#[derive(Debug, Clone, Copy, Default)]
struct CsiParams {
    values: [u32; MAX_PARAMS],
    index: usize,
    private: bool,
    intermediate: bool,
}

impl CsiParams {
    fn digit(&mut self, d: u32) {
        if let Some(v) = self.values.get_mut(self.index) {
            *v = v.saturating_mul(10).saturating_add(d).min(MAX_PARAM);
        }
    }

    fn next(&mut self) {
        self.index = self.index.saturating_add(1);
    }

    /// Raw parameter `i`; 0 when absent (CSI treats "absent" and 0 alike).
    fn get(&self, i: usize) -> usize {
        self.values.get(i).map_or(0, |&v| v as usize)
    }

    /// Parameter `i` as a count or 1-based position, where 0 and absent mean 1.
    fn count(&self, i: usize) -> usize {
        self.get(i).max(1)
    }
}

pub struct Terminal {
    mode: LogMode,
    line: Vec<char>,
    cursor: usize,
    /// Offsets in `line` where the screen rows of a soft-wrapped line start; `rows[0] == 0`.
    rows: Vec<usize>,
    row: usize,
    saved: (usize, usize),
    parse: Parse,
    csi: CsiParams,
    /// The char just handled was a space appended at the end of the line.
    appended_space: bool,
    /// A `\r` that may be a soft wrap; the next printable char decides. Holds the new row start.
    pending_wrap: Option<usize>,
    /// Leftmost cursor position a backward move reached on this line, and how far text was
    /// written after it (see `ScreenLine::stale_tail`).
    low_mark: usize,
    written_past_low: usize,
    /// Inside an OSC string (a window title).
    in_title: bool,
    /// A bell came after the last printable char of this line (see `ScreenLine::bell`).
    bell: bool,
    /// See `ScreenLine::redraw`.
    redraw: bool,
    /// Upload-at-end mode: the screen's width, once a shell padded a line to the margin. Rows
    /// then wrap where the terminal wrapped them.
    width: Option<usize>,
    /// Upload-at-end mode: finished lines above the current one, oldest first, not yet emitted.
    above: VecDeque<HeldLine>,
    /// Upload-at-end mode: lines below the current one that the cursor came up from.
    below: VecDeque<HeldLine>,
    /// Buffers of emitted held lines, reused so that a line costs no allocation.
    spare: Vec<Vec<char>>,
    /// Their rows' buffers, reused likewise.
    spare_rows: Vec<Vec<usize>>,
    /// Streaming mode: the width fish's padding showed.
    fish_width: Option<usize>,
    /// Streaming mode: the last thing done was a cursor-forward and nothing was printed since.
    after_forward: bool,
    /// Streaming mode: text printed after a cursor-forward that so far repeats the line from
    /// column 0 (see [`Repaint`]).
    repaint: Option<Repaint>,
}

/// fish with an empty prompt repaints its command line with `\r` and the text: the agent
/// deletes the `\r`, so the text lands where the last `ESC[nC` put the cursor
/// (`e ESC[C cho x ESC[C echo x` for `e`, its suggestion, a repaint). A run of text printed
/// right after a cursor-forward that repeats everything the line holds from column 0 is that
/// repaint: it is put back at column 0.
#[derive(Debug)]
struct Repaint {
    /// The line before the run, and the run so far.
    before: Vec<char>,
    run: Vec<char>,
}

/// Fewest spaces in fish's padding believed (terminals this narrow are not used for shells).
const MIN_FISH_PADDING: usize = 19;

/// Shortest run read as a repaint from column 0.
const MIN_REPAINT: usize = 2;

/// A line the cursor left but may come back to, with its soft-wrap rows.
#[derive(Debug, Clone)]
struct HeldLine {
    line: Vec<char>,
    rows: Vec<usize>,
}

impl HeldLine {
    fn screen_line(&self) -> ScreenLine {
        ScreenLine {
            text: trimmed(&self.line),
            erased: None,
            stale_tail: false,
            bell: false,
            redraw: false,
        }
    }
}

impl Terminal {
    pub fn new(mode: LogMode) -> Self {
        Terminal {
            mode,
            line: Vec::new(),
            cursor: 0,
            rows: vec![0],
            row: 0,
            saved: (0, 0),
            parse: Parse::Ground,
            csi: CsiParams::default(),
            appended_space: false,
            pending_wrap: None,
            low_mark: usize::MAX,
            written_past_low: 0,
            in_title: false,
            bell: false,
            redraw: false,
            width: None,
            above: VecDeque::new(),
            below: VecDeque::new(),
            spare: Vec::new(),
            spare_rows: Vec::new(),
            fish_width: None,
            after_forward: false,
            repaint: None,
        }
    }

    /// Feeds more output; completed lines are appended to `out`. Text may end mid-line or
    /// mid-escape-sequence: state carries over to the next call.
    pub fn feed(&mut self, text: &str, out: &mut Vec<ScreenLine>) {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at].is_ascii() {
                if self.parse == Parse::Ground && is_plain(bytes[at]) {
                    let run = bytes[at..].iter().take_while(|b| is_plain(**b)).count();
                    let done = self.print_run(&bytes[at..at + run]);
                    if done > 0 {
                        at += done;
                        continue;
                    }
                }
                if bytes[at] == 0x1b
                    && self.parse == Parse::Ground
                    && let Some(len) = self.plain_csi(&bytes[at..], out)
                {
                    at += len;
                    continue;
                }
                self.step(char::from(bytes[at]), out);
                at += 1;
            } else {
                let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
                    break;
                };
                self.step(c, out);
                at += c.len_utf8();
            }
        }
    }

    /// Prints a run of printable ASCII at once when nothing per char applies (no repaint to
    /// follow, no pending wrap, no margin or length limit within reach), as `print` would one
    /// char at a time: most of a transcript is such text. Returns how many bytes it printed
    /// (0: none, print them one by one).
    fn print_run(&mut self, run: &[u8]) -> usize {
        if self.pending_wrap.is_some()
            || self.cursor > self.line.len()
            || (self.mode == LogMode::Streaming && (self.after_forward || self.repaint.is_some()))
        {
            return 0;
        }
        let mut room = MAX_LINE.saturating_sub(self.cursor);
        if let Some(width) = self.width {
            room = room.min((self.row_start() + width).saturating_sub(self.cursor));
        }
        let run = &run[..run.len().min(room)];
        let Some(&last) = run.last() else {
            return 0;
        };
        let overwritten = run.len().min(self.line.len() - self.cursor);
        let (over, appended) = run.split_at(overwritten);
        for (cell, b) in self.line[self.cursor..].iter_mut().zip(over) {
            *cell = char::from(*b);
        }
        self.line.extend(appended.iter().map(|b| char::from(*b)));
        // `print` sets this after each char: what counts is whether the last one was appended.
        let last_appended = !appended.is_empty();
        self.cursor += run.len();
        self.written_past_low = self.written_past_low.max(self.cursor);
        self.appended_space = last_appended && last == b' ';
        self.bell = false;
        run.len()
    }

    /// `ESC [`, digits and `;`, then a final byte, all in `bytes`: most escapes in a
    /// transcript are such colours and moves. Done at once as `step` does it a char at a time
    /// (nothing but the parameters changes before the final byte); returns its length, or None
    /// for any other sequence, or one cut off, to be stepped through.
    fn plain_csi(&mut self, bytes: &[u8], out: &mut Vec<ScreenLine>) -> Option<usize> {
        if bytes.get(1) != Some(&b'[') {
            return None;
        }
        let mut params = CsiParams::default();
        for (i, &b) in bytes.iter().enumerate().skip(2) {
            match b {
                b'0'..=b'9' => params.digit(u32::from(b - b'0')),
                b';' => params.next(),
                0x40..=0x7e => {
                    self.appended_space = false;
                    self.csi = params;
                    self.parse = Parse::Ground;
                    self.csi_dispatch(char::from(b), out);
                    return Some(i + 1);
                }
                _ => return None,
            }
        }
        None
    }

    /// Ends the transcript: flushes a pending partial line (if not empty).
    pub fn finish(&mut self, out: &mut Vec<ScreenLine>) {
        self.parse = Parse::Ground;
        self.end_repaint();
        self.settle();
        self.flush_above(out);
        if self.line.iter().any(|c| !c.is_whitespace()) || !self.below.is_empty() {
            self.end_line(out);
        } else {
            self.reset_line();
        }
        self.flush_below(out);
    }

    fn step(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        // Only the char right before a `\r` matters for the soft-wrap idiom.
        let after_space = std::mem::take(&mut self.appended_space);
        match self.parse {
            Parse::Ground => self.ground(c, after_space, out),
            Parse::Esc => self.escape(c, out),
            Parse::EscIntermediate => self.escape_intermediate(c, out),
            Parse::Csi => self.csi_char(c, out),
            Parse::Str => self.string_char(c, out),
            Parse::StrEsc => self.string_escape(c, out),
        }
    }

    fn ground(&mut self, c: char, after_space: bool, out: &mut Vec<ScreenLine>) {
        // An escape ends a repaint run only if it is not a colour (see `csi_dispatch`).
        if self.mode == LogMode::Streaming && c.is_control() && !matches!(c, '\x1b' | '\u{9b}') {
            self.end_repaint();
            self.after_forward = false;
        }
        match c {
            '\x1b' => self.parse = Parse::Esc,
            '\u{9b}' => self.start_csi(),
            // 8-bit OSC, DCS, SOS, PM, APC.
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => self.parse = Parse::Str,
            '\n' => self.line_feed(out),
            '\r' => self.carriage_return(after_space),
            '\x08' => self.backspace(),
            '\t' => self.tab(),
            '\x07' => self.bell = true,
            // DEL, other C0 and C1 controls change nothing on the line.
            c if c.is_control() => {}
            c => self.print(c, out),
        }
    }

    fn escape(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        self.parse = Parse::Ground;
        if self.mode == LogMode::Streaming && c != '[' {
            self.end_repaint();
            self.after_forward = false;
        }
        match c {
            '[' => self.start_csi(),
            ']' => {
                self.parse = Parse::Str;
                self.in_title = true;
            }
            'P' | 'X' | '^' | '_' => self.parse = Parse::Str,
            '7' => self.save_cursor(),
            '8' => self.restore_cursor(),
            '\x1b' => self.parse = Parse::Esc,
            '\x20'..='\x2f' => self.parse = Parse::EscIntermediate,
            // CAN and SUB cancel the sequence.
            '\x18' | '\x1a' => {}
            // Controls inside a sequence still act (VT behaviour); so does a stray non-ASCII char,
            // which no sequence uses, so that text after a lone ESC is not lost.
            c if (c as u32) < 0x20 || !c.is_ascii() => self.ground(c, false, out),
            // Any other two-char `ESC x` (keypad modes, index, reset…) does not touch the line.
            _ => {}
        }
    }

    fn escape_intermediate(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        match c {
            '\x20'..='\x2f' => {}
            '\x30'..='\x7e' => self.parse = Parse::Ground,
            _ => {
                self.parse = Parse::Ground;
                self.ground(c, false, out);
            }
        }
    }

    fn start_csi(&mut self) {
        self.parse = Parse::Csi;
        self.csi = CsiParams::default();
    }

    fn csi_char(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        match c {
            '0'..='9' => self.csi.digit(u32::from(c) - u32::from('0')),
            ';' | ':' => self.csi.next(),
            '<' | '=' | '>' | '?' => self.csi.private = true,
            '\x20'..='\x2f' => self.csi.intermediate = true,
            '\x40'..='\x7e' => {
                self.parse = Parse::Ground;
                self.csi_dispatch(c, out);
            }
            '\x1b' => self.parse = Parse::Esc,
            '\x18' | '\x1a' => self.parse = Parse::Ground,
            '\x7f' => {}
            // C0 controls act without ending the sequence (VT behaviour).
            c if (c as u32) < 0x20 => self.ground(c, false, out),
            // Not part of any CSI sequence: the sequence is broken; show the char, don't hide it.
            c => {
                self.parse = Parse::Ground;
                self.ground(c, false, out);
            }
        }
    }

    fn string_char(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        match c {
            '\x07' | '\u{9c}' => {
                self.parse = Parse::Ground;
                self.title_set();
            }
            '\x18' | '\x1a' => {
                self.parse = Parse::Ground;
                self.in_title = false;
            }
            '\x1b' => self.parse = Parse::StrEsc,
            // Window titles never span lines; ending here keeps an unterminated OSC from hiding
            // every later command.
            '\n' => {
                self.parse = Parse::Ground;
                self.in_title = false;
                self.end_line(out);
            }
            _ => {}
        }
    }

    fn string_escape(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        if c == '\\' {
            self.parse = Parse::Ground;
            self.title_set();
        } else {
            self.in_title = false;
            // ESC followed by anything else ends the string and starts a new sequence.
            self.escape(c, out);
        }
    }

    /// A shell sets the window title right before it draws its prompt from column 0. A streamed
    /// line only keeps escapes when the agent could not strip them (fish), and its `\r`s are
    /// gone: the title is then the best mark of where the prompt line starts again (after
    /// fish's `⏎` padding), so the columns its `ESC[nC` moves name are right.
    fn title_set(&mut self) {
        if std::mem::take(&mut self.in_title) && self.mode == LogMode::Streaming {
            let _padding = self.learn_fish_width();
            self.reset_line();
        }
    }

    /// fish pads output left without a newline with `⏎`, spaces to the last column and `⏎`
    /// again (its `\r`s deleted in a streamed record) before it sets the title and draws the
    /// prompt: the padding tells the width, and that the shell is fish.
    fn learn_fish_width(&mut self) -> bool {
        let Some(('⏎', rest)) = self.line.split_first().map(|(c, rest)| (*c, rest)) else {
            return false;
        };
        let spaces = rest.iter().take_while(|c| **c == ' ').count();
        let padded = rest.get(spaces) == Some(&'⏎')
            && spaces >= MIN_FISH_PADDING
            && rest[spaces + 1..].iter().all(|c| *c == ' ');
        if padded {
            self.fish_width = Some(spaces + 1);
        }
        padded
    }

    /// The width fish's padding showed since the last call, if any (see `learn_fish_width`).
    pub fn take_fish_width(&mut self) -> Option<usize> {
        self.fish_width.take()
    }

    fn csi_dispatch(&mut self, final_char: char, out: &mut Vec<ScreenLine>) {
        if self.csi.intermediate {
            return;
        }
        let p = self.csi;
        // Colours between a move and the text it places change nothing on the line.
        let after_forward = std::mem::take(&mut self.after_forward);
        if final_char == 'm' {
            self.after_forward = after_forward;
        } else if self.mode == LogMode::Streaming {
            self.end_repaint();
        }
        if p.private {
            // `ESC[?K` / `ESC[?J` (selective erase) still erase; other private sequences are modes.
            match final_char {
                'K' => self.erase_in_line(p.get(0)),
                'J' => self.erase_in_display(p.get(0)),
                'h' | 'l' if matches!(p.get(0), 47 | 1047 | 1049) => self.switch_screen(out),
                _ => {}
            }
            return;
        }
        // A full-screen program places text by absolute row (`ESC[12;1H`): each such move
        // starts another screen row, so what it drew never glues onto the next command.
        if matches!(final_char, 'H' | 'f') && p.get(0) > 1 {
            self.break_line(out);
        }
        // Any absolute position or a cleared screen ends what relative moves could come back to.
        if matches!(final_char, 'H' | 'f') || (final_char == 'J' && p.get(0) >= 2) {
            self.flush_held(out);
        }
        // fish's padding (`⏎`, spaces, `\r`, `⏎ `, `\r`) ends with `ESC[K` before the prompt:
        // the `\r`s are gone from a streamed record, so the prompt starts a line of its own.
        if final_char == 'K' && self.mode == LogMode::Streaming && self.learn_fish_width() {
            self.reset_line();
        }
        match final_char {
            'K' => self.erase_in_line(p.get(0)),
            'J' => self.erase_in_display(p.get(0)),
            // A streamed line keeps its escapes only when the agent could not strip them (fish's
            // prompts), and every `\r` is gone: fish's `\r ESC[nC` redraw then reads "go to
            // column n", which is what it meant.
            // fish moves one column right with a bare `ESC[C` from where the cursor is; a
            // longer move, or one after printing, comes after its (deleted) `\r`.
            'C' if self.mode == LogMode::Streaming => {
                if after_forward && p.count(0) == 1 {
                    self.move_right(p.count(0));
                } else {
                    self.set_column(p.count(0));
                }
                self.after_forward = true;
            }
            'C' | 'a' => self.move_right(p.count(0)),
            'D' => self.move_left(p.count(0)),
            'G' | '`' => self.set_column(p.count(0) - 1),
            // Rows of the screen are unknown; only the column of a cursor position is kept.
            'H' | 'f' => self.set_column(p.count(1) - 1),
            'A' => self.move_rows_up(p.count(0)),
            'B' => self.move_rows_down(p.count(0)),
            'E' => {
                self.move_rows_down(p.count(0));
                self.set_column(0);
            }
            'F' => {
                self.move_rows_up(p.count(0));
                self.set_column(0);
            }
            'P' => self.delete_chars(p.count(0)),
            '@' => self.insert_blanks(p.count(0)),
            'X' => self.erase_chars(p.count(0)),
            's' if p.index == 0 && p.get(0) == 0 => self.save_cursor(),
            'u' if p.index == 0 && p.get(0) == 0 => self.restore_cursor(),
            // SGR `m`, modes `h`/`l`, bracketed paste `~` markers, scrolling, reports: no text.
            _ => {}
        }
    }

    // ---- the line buffer -------------------------------------------------------------------

    fn row_start(&self) -> usize {
        self.rows.get(self.row).copied().unwrap_or(0)
    }

    /// Offset one past the current row: the next row's start, or unbounded on the last row.
    fn row_end(&self) -> usize {
        self.rows.get(self.row + 1).copied().unwrap_or(usize::MAX)
    }

    fn is_last_row(&self) -> bool {
        self.row + 1 >= self.rows.len()
    }

    fn print(&mut self, c: char, out: &mut Vec<ScreenLine>) {
        if self.mode == LogMode::Streaming {
            self.follow_repaint(c);
        }
        self.resolve_wrap(c);
        self.wrap_at_margin();
        if self.cursor >= MAX_LINE {
            self.cut(out);
        }
        if self.line.len() < self.cursor {
            // The cursor moved past the end (tab, cursor-forward): the cells in between are blank.
            self.line.resize(self.cursor, ' ');
        }
        let appended = self.cursor == self.line.len();
        match self.line.get_mut(self.cursor) {
            Some(cell) => *cell = c,
            None => self.line.push(c),
        }
        self.cursor += 1;
        self.written_past_low = self.written_past_low.max(self.cursor);
        self.appended_space = appended && c == ' ';
        self.bell = false;
    }

    /// Streaming mode: starts or follows a possible repaint from column 0 (see [`Repaint`]).
    fn follow_repaint(&mut self, c: char) {
        if std::mem::take(&mut self.after_forward) {
            if self.row_start() == 0
                && self.cursor > 0
                && self.line.first() == Some(&c)
                && self.line.get(self.cursor) != Some(&c)
            {
                self.repaint = Some(Repaint {
                    before: self.line.clone(),
                    run: vec![c],
                });
            }
            return;
        }
        if let Some(repaint) = self.repaint.as_mut() {
            let at = repaint.run.len();
            if at < repaint.before.len() && repaint.before[at] != c {
                self.repaint = None;
            } else {
                repaint.run.push(c);
            }
        }
    }

    /// The run of text after a cursor-forward ended: if it repeated the whole line from
    /// column 0, it was printed there.
    fn end_repaint(&mut self) {
        let Some(Repaint { before, run }) = self.repaint.take() else {
            return;
        };
        let content = before.len() - before.iter().rev().take_while(|c| **c == ' ').count();
        if run.len() < MIN_REPAINT || run.len() < content {
            return;
        }
        let cursor = run.len();
        self.line = run;
        if before.len() > cursor {
            self.line.extend_from_slice(&before[cursor..]);
        }
        self.cursor = cursor;
    }

    /// Records how far left the cursor went (see `ScreenLine::stale_tail`).
    fn moved_back(&mut self) {
        // Coming back to the same point again (a second history recall over the first) starts
        // the count of what was written past it again.
        if self.cursor <= self.low_mark {
            self.low_mark = self.cursor;
            self.written_past_low = self.cursor;
        }
    }

    /// Emits the first `MAX_LINE` chars as a line of their own so one line never grows unbounded.
    fn cut(&mut self, out: &mut Vec<ScreenLine>) {
        let rest = self.line.split_off(self.line.len().min(MAX_LINE));
        out.push(ScreenLine {
            text: trimmed(&self.line),
            erased: None,
            stale_tail: false,
            bell: false,
            redraw: false,
        });
        self.line = rest;
        self.cursor = self.cursor.saturating_sub(MAX_LINE);
        self.rows = vec![0];
        self.row = 0;
    }

    fn end_line(&mut self, out: &mut Vec<ScreenLine>) {
        self.pending_wrap = None;
        let text = trimmed(&self.line);
        let erased = match self.mode {
            LogMode::Streaming if self.cursor < self.line.len() => {
                let upto = trimmed(self.line.get(..self.cursor).unwrap_or_default());
                (upto != text).then_some(upto)
            }
            _ => None,
        };
        let stale_tail = erased.is_some() && self.written_past_low <= self.cursor;
        out.push(ScreenLine {
            text,
            erased,
            stale_tail,
            bell: self.bell,
            redraw: self.redraw,
        });
        self.reset_line();
    }

    /// `\n`. Streaming records and lines far down the screen are finished at once; in
    /// upload-at-end mode the line is held where the cursor may come back up to it, and a line
    /// below the cursor (left by a move up) becomes the current one again.
    fn line_feed(&mut self, out: &mut Vec<ScreenLine>) {
        if self.mode != LogMode::Raw {
            return self.end_line(out);
        }
        self.settle();
        // A line feed on an upper row of a wrapped line goes down to its next row (fish moves
        // between the rows of a long command line that way).
        if self.row + 1 < self.rows.len() {
            let column = self.cursor - self.row_start();
            self.row += 1;
            self.cursor = self.row_start() + column;
            return;
        }
        let held = HeldLine {
            line: std::mem::take(&mut self.line),
            rows: std::mem::replace(&mut self.rows, self.spare_rows.pop().unwrap_or_default()),
        };
        self.above.push_back(held);
        self.reset_line();
        match self.below.pop_front() {
            Some(next) => {
                self.line = next.line;
                self.rows = next.rows;
            }
            None => self.line = self.spare.pop().unwrap_or_default(),
        }
        while self.above.len() > HELD_LINES {
            if let Some(oldest) = self.above.pop_front() {
                self.emit_held(oldest, out);
            }
        }
    }

    fn emit_held(&mut self, held: HeldLine, out: &mut Vec<ScreenLine>) {
        out.push(held.screen_line());
        let mut buffer = held.line;
        buffer.clear();
        if self.spare.len() < HELD_LINES {
            self.spare.push(buffer);
        }
        let mut rows = held.rows;
        rows.clear();
        if self.spare_rows.len() < HELD_LINES {
            self.spare_rows.push(rows);
        }
    }

    /// Emits every held line above the current one, oldest first.
    fn flush_above(&mut self, out: &mut Vec<ScreenLine>) {
        while let Some(held) = self.above.pop_front() {
            self.emit_held(held, out);
        }
    }

    fn flush_below(&mut self, out: &mut Vec<ScreenLine>) {
        while let Some(held) = self.below.pop_front() {
            self.emit_held(held, out);
        }
    }

    /// Emits the held lines above, the current line and those below, in screen order; the
    /// cursor stays in its column of a fresh line.
    fn flush_held(&mut self, out: &mut Vec<ScreenLine>) {
        if self.above.is_empty() && self.below.is_empty() {
            return;
        }
        self.flush_above(out);
        if !self.below.is_empty() {
            self.break_line(out);
            self.flush_below(out);
        }
    }

    /// Entering or leaving the alternate screen (vim, less, top): the line so far is finished,
    /// and what the program drew there is not part of the next line.
    fn switch_screen(&mut self, out: &mut Vec<ScreenLine>) {
        self.settle();
        self.flush_above(out);
        if self.mode == LogMode::Raw {
            // The cursor returns to where it was on the other screen; the column is unknown.
            self.break_line(out);
            self.cursor = 0;
        }
    }

    /// Ends the current line if it shows anything; otherwise starts afresh.
    fn break_line(&mut self, out: &mut Vec<ScreenLine>) {
        if self.line.iter().any(|c| !c.is_whitespace()) {
            let cursor = self.cursor.saturating_sub(self.row_start());
            self.end_line(out);
            self.cursor = cursor.min(MAX_LINE);
        } else {
            self.reset_line();
        }
    }

    fn reset_line(&mut self) {
        self.low_mark = usize::MAX;
        self.written_past_low = 0;
        self.line.clear();
        self.cursor = 0;
        self.rows.clear();
        self.rows.push(0);
        self.row = 0;
        self.saved = (0, 0);
        self.pending_wrap = None;
        self.bell = false;
        self.redraw = false;
    }

    /// `\r` normally returns to the start of the row. Readline, after writing the last column of
    /// a row, writes a space (which makes the terminal wrap) and then `\r` to land on column 0 of
    /// the new row: the sample typescript shows `…/sess \rion/…` at column 80. Treating that `\r`
    /// as a return would overwrite the prompt and the start of every long command, so a `\r`
    /// right after a space appended to a row at least `MIN_WRAP_WIDTH` wide is held until the
    /// next printable char: if it repeats the row's first char (readline reprinting the prompt
    /// after moving home), it was a return; otherwise the line continues on a new row.
    fn carriage_return(&mut self, after_space: bool) {
        self.settle();
        self.learn_width();
        let start = self.row_start();
        if self.width.is_some() {
            // Rows already wrap where the terminal wrapped them: a return is a return.
            self.cursor = start;
            return;
        }
        let at_end = self.cursor == self.line.len() && self.is_last_row();
        if after_space && at_end && self.could_wrap(start) {
            self.pending_wrap = Some(self.cursor.saturating_sub(1));
        } else {
            self.cursor = start;
        }
    }

    /// zsh and fish end output that had no newline with a mark (`%`, `#`, `⏎`) and spaces up to
    /// the last column, then `\r`: the cursor's column there is the screen's width.
    fn learn_width(&mut self) {
        if self.mode != LogMode::Raw || self.row != 0 || self.cursor != self.line.len() {
            return;
        }
        let padded = matches!(self.line.first(), Some('%' | '#' | '⏎'))
            && self.line[1..].iter().all(|&c| c == ' ');
        if padded && self.cursor >= MIN_PADDED_WIDTH {
            self.width = Some(self.cursor);
        }
    }

    /// Known width: a char printed past the last column goes to the start of the next row.
    fn wrap_at_margin(&mut self) {
        let Some(width) = self.width else {
            return;
        };
        let start = self.row_start();
        if self.cursor < start + width {
            return;
        }
        if self.row + 1 < self.rows.len() {
            self.row += 1;
        } else {
            self.rows.push(start + width);
            self.row = self.rows.len() - 1;
        }
        self.cursor = self.row_start();
    }

    fn could_wrap(&self, start: usize) -> bool {
        let Some(row) = self.line.get(start..self.cursor.saturating_sub(1)) else {
            return false;
        };
        // zsh's PROMPT_SP writes `%` (or `#`) plus spaces to the margin, then `\r`: not a wrap.
        let content: String = row.iter().collect();
        row.len() >= MIN_WRAP_WIDTH && !matches!(content.trim(), "%" | "#" | "")
    }

    fn resolve_wrap(&mut self, c: char) {
        let Some(new_row) = self.pending_wrap.take() else {
            return;
        };
        let start = self.row_start();
        if self.line.get(start) == Some(&c) {
            self.cursor = start;
        } else {
            self.rows.push(new_row);
            self.row = self.rows.len() - 1;
            self.cursor = new_row;
        }
    }

    /// A pending `\r` followed by anything but printable text is an ordinary return.
    fn settle(&mut self) {
        if self.pending_wrap.take().is_some() {
            self.cursor = self.row_start();
        }
    }

    fn backspace(&mut self) {
        self.settle();
        if self.mode == LogMode::Streaming && self.line.is_empty() {
            self.redraw = true;
        }
        // Non-destructive, and (like xterm without reverse-wrap) stops at the row start.
        if self.cursor > self.row_start() {
            self.cursor -= 1;
        }
        self.moved_back();
    }

    fn tab(&mut self) {
        self.settle();
        let start = self.row_start();
        let column = self.cursor.saturating_sub(start);
        let next = start + (column / TAB_STOP + 1) * TAB_STOP;
        self.cursor = next.min(MAX_LINE);
    }

    fn move_right(&mut self, n: usize) {
        self.settle();
        self.cursor = self.cursor.saturating_add(n).min(MAX_LINE);
    }

    fn move_left(&mut self, n: usize) {
        self.settle();
        self.cursor = self.cursor.saturating_sub(n).max(self.row_start());
        self.moved_back();
    }

    fn set_column(&mut self, column: usize) {
        self.settle();
        self.cursor = self.row_start().saturating_add(column).min(MAX_LINE);
    }

    /// Up within a soft-wrapped line, then (upload-at-end mode) into the held lines above.
    fn move_rows_up(&mut self, n: usize) {
        self.settle();
        let column = self.cursor.saturating_sub(self.row_start());
        for _ in 0..n.min(HELD_LINES + self.rows.len()) {
            if self.row > 0 {
                self.row -= 1;
            } else if let Some(previous) = self.above.pop_back() {
                let current = HeldLine {
                    line: std::mem::replace(&mut self.line, previous.line),
                    rows: std::mem::replace(&mut self.rows, previous.rows),
                };
                self.below.push_front(current);
                self.row = self.rows.len() - 1;
            } else {
                break;
            }
        }
        self.cursor = self.row_start().saturating_add(column).min(MAX_LINE);
    }

    /// Down within a soft-wrapped line, then into the lines the cursor came up from.
    fn move_rows_down(&mut self, n: usize) {
        self.settle();
        let column = self.cursor.saturating_sub(self.row_start());
        for _ in 0..n.min(HELD_LINES + self.rows.len()) {
            if self.row + 1 < self.rows.len() {
                self.row += 1;
            } else if let Some(next) = self.below.pop_front() {
                let current = HeldLine {
                    line: std::mem::replace(&mut self.line, next.line),
                    rows: std::mem::replace(&mut self.rows, next.rows),
                };
                self.above.push_back(current);
                self.row = 0;
            } else {
                break;
            }
        }
        self.cursor = self.row_start().saturating_add(column).min(MAX_LINE);
    }

    fn save_cursor(&mut self) {
        self.settle();
        self.saved = (self.row, self.cursor);
    }

    fn restore_cursor(&mut self) {
        self.settle();
        let (row, cursor) = self.saved;
        self.row = row.min(self.rows.len() - 1);
        self.cursor = cursor.min(MAX_LINE);
    }

    fn erase_in_line(&mut self, how: usize) {
        // zsh's wrap idiom: a space past the last column, `\r`, then `ESC[K` to clear the new
        // row before drawing on it. The row the space started is what gets erased.
        if how == 0
            && let Some(new_row) = self.pending_wrap.take()
        {
            self.rows.push(new_row);
            self.row = self.rows.len() - 1;
            self.cursor = new_row;
        }
        self.settle();
        let (start, end) = (self.row_start(), self.row_end());
        match how {
            0 => self.erase(self.cursor, end),
            1 => self.erase(start, self.cursor.saturating_add(1)),
            _ => self.erase(start, end),
        }
    }

    fn erase_in_display(&mut self, how: usize) {
        self.settle();
        match how {
            0 => {
                // Everything below the cursor goes too: later rows of this line, and the lines
                // below it (a completion list, a search prompt).
                self.rows.truncate(self.row + 1);
                self.erase(self.cursor, usize::MAX);
                self.below.clear();
            }
            1 => self.erase(0, self.cursor.saturating_add(1)),
            _ => {
                self.cursor = self.cursor.saturating_sub(self.row_start());
                self.line.clear();
                self.rows = vec![0];
                self.row = 0;
            }
        }
    }

    /// Blanks `[from, to)`. A range reaching the end of the last row is cut off rather than
    /// blanked, so the line keeps ending at its last visible char.
    fn erase(&mut self, from: usize, to: usize) {
        let to = to.min(self.line.len());
        if from >= to {
            return;
        }
        let last_row_start = self.rows.last().copied().unwrap_or(0);
        if to == self.line.len() && last_row_start <= from {
            self.line.truncate(from);
        } else if let Some(cells) = self.line.get_mut(from..to) {
            cells.fill(' ');
        }
    }

    fn erase_chars(&mut self, n: usize) {
        self.settle();
        let to = self.cursor.saturating_add(n).min(self.row_end());
        self.erase(self.cursor, to);
    }

    /// `CSI P`: the rest of the row shifts left; on an inner row of a wrapped line, blanks come
    /// in at the row's right edge so later rows keep their offsets.
    fn delete_chars(&mut self, n: usize) {
        self.settle();
        let end = self.row_end().min(self.line.len());
        if self.cursor >= end {
            return;
        }
        let n = n.min(end - self.cursor);
        self.line.drain(self.cursor..self.cursor + n);
        if !self.is_last_row() {
            let blanks = std::iter::repeat_n(' ', n);
            self.line.splice(end - n..end - n, blanks);
        }
    }

    /// `CSI @`: blanks at the cursor push the rest of the row right; chars pushed past the row
    /// edge (or past `MAX_LINE`) are lost, as on a real screen.
    fn insert_blanks(&mut self, n: usize) {
        self.settle();
        if self.cursor >= self.line.len() {
            return;
        }
        let n = n.min(MAX_LINE);
        let end = self.row_end().min(self.line.len());
        self.line
            .splice(self.cursor..self.cursor, std::iter::repeat_n(' ', n));
        if self.is_last_row() {
            self.line.truncate(MAX_LINE);
        } else {
            self.line.drain(end..end + n);
        }
    }
}

/// Printable ASCII: a byte `Terminal::ground` only prints.
fn is_plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b)
}

/// The cells as text without trailing white space (`str::trim_end`'s), in one allocation of
/// the right size: this runs for every screen line.
fn trimmed(cells: &[char]) -> String {
    let end = cells
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(0, |last| last + 1);
    let cells = &cells[..end];
    // Most lines: one byte per cell, copied in a pass the compiler can widen, which also sees
    // whether every cell was ASCII.
    let mut ascii = true;
    let bytes: Vec<u8> = cells
        .iter()
        .map(|&c| {
            ascii &= c.is_ascii();
            c as u8
        })
        .collect();
    if ascii {
        return String::from_utf8(bytes).unwrap_or_default();
    }
    let mut text = String::with_capacity(cells.iter().map(|c| c.len_utf8()).sum());
    text.extend(cells);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mode: LogMode, chunks: &[&str]) -> Vec<ScreenLine> {
        let mut term = Terminal::new(mode);
        let mut out = Vec::new();
        for chunk in chunks {
            term.feed(chunk, &mut out);
        }
        term.finish(&mut out);
        out
    }

    #[test]
    fn escapes_read_whole_or_a_char_at_a_time_give_the_same_lines() {
        let input = "\x1b[01;34mdir\x1b[0m  file\r\n\x1b[0;1;32m\u{25cf}\x1b[m up\r\n\
                     $ ls\x1b[K\x08\x08x \x1b[2D\x1b[1Cy\r\n\x1b[?2004hprompt\x1b[?2004l\r\n\
                     a\x1b[3;5Hb\x1b[2Jc\x1b[99999999999;1mz\x1b[1:2m\x1b[>0c\x1b[ 1 q\r\n\
                     e\x1b[;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;mf\x1b[\r\n\
                     ab \x1b[0m\rcd\r\n\
                     0123456789012345678901234567890123456789012345678901234567890123456789012345678 \
                     \x1b[m\rwrapped\r\n\x1b[1";
        for mode in [LogMode::Raw, LogMode::Streaming] {
            let whole = run(mode, &[input]);
            let chars: Vec<String> = input.chars().map(String::from).collect();
            let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
            assert_eq!(whole, run(mode, &chars), "{mode:?}");
        }
    }

    fn texts(mode: LogMode, input: &str) -> Vec<String> {
        run(mode, &[input]).into_iter().map(|l| l.text).collect()
    }

    fn line(text: &str, erased: Option<&str>) -> ScreenLine {
        ScreenLine {
            stale_tail: erased.is_some(),
            text: text.to_string(),
            erased: erased.map(str::to_string),
            bell: false,
            redraw: false,
        }
    }

    #[test]
    fn streaming_backspace_without_erase_keeps_both_readings() {
        let out = run(LogMode::Streaming, &["rm -rf /x\x08\n"]);
        assert_eq!(out, vec![line("rm -rf /x", Some("rm -rf /"))]);
    }

    #[test]
    fn streaming_backspace_space_backspace_is_unambiguous() {
        // `\b \b` blanks the char: the cursor (8) and the trimmed text agree, so no second reading.
        let out = run(LogMode::Streaming, &["rm -rf /x\x08 \x08\n"]);
        assert_eq!(out, vec![line("rm -rf /", None)]);
    }

    #[test]
    fn raw_backspace_then_erase_to_end() {
        let out = run(LogMode::Raw, &["rm -rf /x\x08\x1b[K\r\n"]);
        assert_eq!(out, vec![line("rm -rf /", None)]);
    }

    #[test]
    fn raw_mode_never_reports_erased() {
        let out = run(LogMode::Raw, &["rm -rf /x\x08\r\n"]);
        assert_eq!(out, vec![line("rm -rf /x", None)]);
    }

    #[test]
    fn bracketed_paste_mode_switch_is_dropped() {
        let out = texts(LogMode::Raw, "sh-5.2$ \x1b[?2004hls\r\n");
        assert_eq!(out, vec!["sh-5.2$ ls"]);
    }

    #[test]
    fn bracketed_paste_markers_are_dropped() {
        let out = texts(LogMode::Raw, "$ \x1b[200~rm -rf /tmp/a\x1b[201~\r\n");
        assert_eq!(out, vec!["$ rm -rf /tmp/a"]);
    }

    #[test]
    fn window_title_osc_with_bel_is_dropped() {
        let input = "\x1b]0;ec2-user@ip-10-0-0-1:~\x07[ec2-user@ip-10-0-0-1 ~]$ id\r\n";
        assert_eq!(
            texts(LogMode::Raw, input),
            vec!["[ec2-user@ip-10-0-0-1 ~]$ id"]
        );
    }

    #[test]
    fn window_title_osc_with_st_is_dropped() {
        let input = "\x1b]2;title\x1b\\root@web-1:/# whoami\r\n";
        assert_eq!(texts(LogMode::Raw, input), vec!["root@web-1:/# whoami"]);
    }

    #[test]
    fn unterminated_osc_ends_at_newline() {
        let out = texts(LogMode::Raw, "\x1b]0;never closed\r\nsh-5.2$ rm -rf /\r\n");
        assert_eq!(out, vec!["", "sh-5.2$ rm -rf /"]);
    }

    #[test]
    fn zsh_wrap_space_return_and_erase_continue_on_a_new_row() {
        let long = "echo wrap-0123456789012345678901234567890123456789";
        let input = format!("vm# {long} \r\x1b[K6\r6789\r\n");
        assert_eq!(texts(LogMode::Raw, &input), [format!("vm# {long}6789")]);
    }

    #[test]
    fn carriage_return_redraws_from_column_zero() {
        assert_eq!(texts(LogMode::Raw, "abc\rX\n"), vec!["Xbc"]);
    }

    #[test]
    fn readline_insert_in_middle_by_reprinting_the_tail() {
        // Typed `rm /tmp`, four left arrows, then `-rf ` inserted: readline writes each char plus
        // the tail and backs up over the tail; Enter moves to the end by reprinting it.
        let mut input = String::from("sh-5.2$ rm /tmp\x08\x08\x08\x08");
        for c in ["-", "r", "f", " "] {
            input.push_str(c);
            input.push_str("/tmp\x08\x08\x08\x08");
        }
        input.push_str("/tmp\r\n");
        assert_eq!(texts(LogMode::Raw, &input), vec!["sh-5.2$ rm -rf /tmp"]);
        let streamed = input.replace('\r', "");
        let out = run(LogMode::Streaming, &[&streamed]);
        assert_eq!(out, vec![line("sh-5.2$ rm -rf /tmp", None)]);
    }

    #[test]
    fn readline_insert_in_middle_with_insert_char_sequence() {
        let input = "sh-5.2$ rm /tmp\x1b[4D\x1b[1@-\x1b[1@r\x1b[1@f\x1b[1@ \r\n";
        assert_eq!(texts(LogMode::Raw, input), vec!["sh-5.2$ rm -rf /tmp"]);
    }

    #[test]
    fn delete_char_in_middle_shifts_left() {
        // `rm -rf /xtmp`, cursor on the `x`, Delete: readline sends `ESC[P`.
        let input = "sh-5.2$ rm -rf /xtmp\x08\x08\x08\x08\x1b[P\r\n";
        assert_eq!(texts(LogMode::Raw, input), vec!["sh-5.2$ rm -rf /tmp"]);
    }

    #[test]
    fn cursor_forward_back_and_column_absolute() {
        let input = "abcdef\x1b[3D\x1b[CX\x1b[1GY\x1b[8GZ\n";
        assert_eq!(texts(LogMode::Raw, input), vec!["YbcdXf Z"]);
    }

    #[test]
    fn erase_start_of_line_and_whole_line() {
        assert_eq!(
            texts(LogMode::Raw, "abcdef\x1b[3D\x1b[1K\n"),
            vec!["    ef"]
        );
        assert_eq!(texts(LogMode::Raw, "abcdef\x1b[2Kxy\n"), vec!["      xy"]);
    }

    #[test]
    fn erase_chars_and_erase_display() {
        assert_eq!(
            texts(LogMode::Raw, "abcdef\x1b[5D\x1b[2X\n"),
            vec!["a  def"]
        );
        assert_eq!(texts(LogMode::Raw, "junk\x1b[H\x1b[2Jls\n"), vec!["ls"]);
    }

    #[test]
    fn colour_codes_are_dropped() {
        assert_eq!(texts(LogMode::Raw, "\x1b[01;34mdir\x1b[0m\n"), vec!["dir"]);
    }

    #[test]
    fn streaming_sample_redraw_stays_as_shown() {
        assert_eq!(
            texts(LogMode::Streaming, "sh-4.2$ sh-4.2$ date\n"),
            vec!["sh-4.2$ sh-4.2$ date"]
        );
    }

    #[test]
    fn escape_sequence_split_across_feeds() {
        let out = run(LogMode::Raw, &["rm -rf /x\x08\x1b", "[", "K\r", "\n"]);
        assert_eq!(out, vec![line("rm -rf /", None)]);
    }

    #[test]
    fn c1_eight_bit_csi_acts_like_esc_bracket() {
        assert_eq!(
            texts(LogMode::Raw, "rm -rf /x\x08\u{9b}K\n"),
            vec!["rm -rf /"]
        );
    }

    #[test]
    fn escapes_left_raw_in_streaming_are_handled() {
        let out = run(LogMode::Streaming, &["\x1b[01;32msh-5.2$\x1b[0m ls\n"]);
        assert_eq!(out, vec![line("sh-5.2$ ls", None)]);
    }

    #[test]
    fn tab_advances_to_next_stop() {
        assert_eq!(texts(LogMode::Raw, "bin\tetc\n"), vec!["bin     etc"]);
    }

    #[test]
    fn bel_del_and_other_controls_are_dropped() {
        assert_eq!(
            texts(LogMode::Raw, "l\x07s\x7f \x00-l\x01\n"),
            vec!["ls -l"]
        );
    }

    #[test]
    fn readline_soft_wrap_continues_the_line() {
        let head = format!("sh-5.2$ rm -rf /var/{}", "a".repeat(20));
        let input = format!("{head} \rbc/data\r\n");
        assert_eq!(texts(LogMode::Raw, &input), vec![format!("{head}bc/data")]);
    }

    #[test]
    fn cursor_up_after_soft_wrap_returns_to_first_row() {
        let head = format!("sh-5.2$ ls /var/{}", "a".repeat(20));
        let input = format!("{head} \rtail\x1b[A\rX\r\n");
        let expected = format!("X{}tail", &head[1..]);
        assert_eq!(texts(LogMode::Raw, &input), vec![expected]);
    }

    #[test]
    fn return_home_after_trailing_space_is_not_a_wrap() {
        // Ctrl-A after `… /data ` : readline returns and reprints the prompt.
        let input = "sh-5.2$ rm -rf /var/lib/data \rsh-5.2$ sudo rm -rf /var/lib/data\r\n";
        assert_eq!(
            texts(LogMode::Raw, input),
            vec!["sh-5.2$ sudo rm -rf /var/lib/data"]
        );
    }

    #[test]
    fn zsh_prompt_sp_is_not_a_wrap() {
        let input = format!("\x1b[7m%\x1b[27m{} \r \r% ls\r\n", " ".repeat(78));
        assert_eq!(texts(LogMode::Raw, &input), vec!["% ls"]);
    }

    #[test]
    fn very_long_line_is_cut() {
        let input = format!("{}tail\n", "x".repeat(MAX_LINE));
        let out = texts(LogMode::Raw, &input);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].chars().count(), MAX_LINE);
        assert_eq!(out[1], "tail");
    }

    #[test]
    fn huge_parameters_do_not_overflow() {
        let input = "ab\x1b[99999999999999999999C\x1b[99999999999999999999Dc\x1b[4294967296@\n";
        assert_eq!(texts(LogMode::Raw, input), vec!["abc"]);
    }

    #[test]
    fn finish_flushes_partial_line_only_if_not_blank() {
        assert_eq!(texts(LogMode::Raw, "sh-5.2$ exit"), vec!["sh-5.2$ exit"]);
        assert!(texts(LogMode::Raw, "  \x1b[0m").is_empty());
    }

    #[test]
    fn a_recalled_shorter_command_leaves_a_stale_tail() {
        let back = "\x08".repeat("nano docker-compose.yml".len());
        let got = run(
            LogMode::Streaming,
            &[&format!(
                "$ nano docker-compose.yml{back}docker-compose up\n"
            )],
        );
        assert_eq!(got[0].erased.as_deref(), Some("$ docker-compose up"));
        assert!(got[0].stale_tail);
    }

    #[test]
    fn an_insert_in_the_middle_reprints_a_live_tail() {
        let got = run(LogMode::Streaming, &["$ echo insd\x08ed\x08\n"]);
        assert_eq!(got[0].text, "$ echo insed");
        assert!(!got[0].stale_tail);
    }

    #[test]
    fn streamed_cursor_forward_goes_to_the_column_fish_meant() {
        let got = texts(
            LogMode::Streaming,
            "root@vm /tmp# e\x1b[14Cech\x1b[14Cecho hi\n",
        );
        assert_eq!(got, ["root@vm /tmp# echo hi"]);
    }

    #[test]
    fn streamed_bare_cursor_forwards_add_up_after_the_first() {
        // fish: `\r ESC[C ESC[C ho…` moves to column 2; the `\r` is gone from the record.
        let got = texts(LogMode::Streaming, "ecxx\x1b[C\x1b[Cho\n");
        assert_eq!(got, ["echo"]);
    }

    #[test]
    fn streamed_longer_cursor_forwards_each_go_to_their_column() {
        // Left-arrow presses redraw as `\r ESC[27C`, `\r ESC[26C`, …: each is a column.
        let got = texts(
            LogMode::Streaming,
            "echo insrted\x1b[12C\x1b[11C\x1b[8Certed\n",
        );
        assert_eq!(got, ["echo inserted"]);
    }

    #[test]
    fn fish_repaint_from_column_zero_under_an_empty_prompt_is_put_back_there() {
        // `e`, its suggestion, the cursor back to column 1, then the whole line repainted from
        // column 0 (its `\r` deleted): the repaint must not shift the line right.
        let got = texts(
            LogMode::Streaming,
            "e\x1b[Ccho hi\x1b[Cecho hi\x1b[Ccho hi\x1b[C\x1b[Cho hi\n",
        );
        assert_eq!(got, ["echo hi"]);
    }

    #[test]
    fn text_after_a_move_that_only_starts_like_the_line_stays_where_it_was_put() {
        let got = texts(LogMode::Streaming, "root@vm ~# \x1b[11Croot\n");
        assert_eq!(got, ["root@vm ~# root"]);
    }

    #[test]
    fn fish_padding_without_a_title_still_starts_the_prompt_at_column_zero() {
        let padding = format!("\u{23ce}{}\u{23ce} ", " ".repeat(99));
        let line = format!("{padding}\x1b[Kroot@vm ~/app# \x1b[K\x1b[15Cl\x1b[16Cs\n");
        let mut terminal = Terminal::new(LogMode::Streaming);
        let mut out = Vec::new();
        terminal.feed(&line, &mut out);
        assert_eq!(out[0].text, "root@vm ~/app# ls");
        assert_eq!(terminal.take_fish_width(), Some(100));
        assert_eq!(terminal.take_fish_width(), None);
    }

    #[test]
    fn a_streamed_line_that_starts_with_a_backspace_is_a_redraw() {
        let lines = run(LogMode::Streaming, &["t\n\x08t\nw\n"]);
        let redraws: Vec<bool> = lines.iter().map(|l| l.redraw).collect();
        assert_eq!(redraws, [false, true, false]);
    }

    #[test]
    fn a_streamed_title_marks_where_fish_redraws_its_prompt() {
        let line = "\u{23ce}      \u{23ce} \x1b[K\x1b]0;~/app\x07root@vm ~/app# \x1b[K\x1b[15Cl\x1b[16Cs\n";
        assert_eq!(texts(LogMode::Streaming, line), ["root@vm ~/app# ls"]);
    }

    #[test]
    fn leaving_a_full_screen_program_ends_the_line() {
        let got = texts(
            LogMode::Raw,
            "$ vim notes\r\n\x1b[?1049h\x1b[1;1Hline one\x1b[2;1H~\x1b[?1049l$ ls\r\n",
        );
        assert_eq!(got, ["$ vim notes", "line one", "~", "$ ls"]);
    }

    #[test]
    fn absolute_row_moves_split_what_a_program_draws() {
        let got = texts(LogMode::Raw, "\x1b[3;1Hmenu\x1b[4;1Hquit\x1b[10;1H$ ls\n");
        assert_eq!(got, ["menu", "quit", "$ ls"]);
    }

    /// fish's padding for a 40-column screen, then its prompt.
    fn fish_prompt_at_40() -> String {
        format!("⏎{}\r⏎ \r\x1b[K$ ", " ".repeat(39))
    }

    #[test]
    fn a_padded_margin_teaches_the_width_and_long_lines_wrap_there() {
        // fish draws the second row key by key: down with `\r\n`, across, the key, back up.
        let first = format!("echo {}", "a".repeat(33));
        let input = format!(
            "{}{first}\r\r\n\x1b[A\x1b[38Caab\x1b[A\r\r\n\x1b[Cc\x1b[A\r\r\n\x1b[2C\r\nout\n",
            fish_prompt_at_40()
        );
        let got = texts(LogMode::Raw, &input);
        assert_eq!(got, [format!("$ {first}bc"), "out".to_string()]);
    }

    #[test]
    fn a_line_feed_on_an_upper_row_goes_down_a_row_of_the_same_line() {
        let input = format!(
            "{}{}\x1b[A\r\n\x1b[Cb\r\nnext\n",
            fish_prompt_at_40(),
            "a".repeat(45)
        );
        let got = texts(LogMode::Raw, &input);
        let want = format!("$ {}b{}", "a".repeat(39), "a".repeat(5));
        assert_eq!(got, [want, "next".to_string()]);
    }

    #[test]
    fn without_padding_no_width_is_assumed() {
        let long = "x".repeat(120);
        let got = texts(LogMode::Raw, &format!("$ {long}\r\nout\n"));
        assert_eq!(got, [format!("$ {long}"), "out".to_string()]);
    }

    #[test]
    fn garbage_never_panics() {
        // Deterministic pseudo-random chars biased towards controls and sequence bytes.
        let mut seed: u32 = 0x1234_5678;
        let alphabet: Vec<char> =
            "\x1b\u{9b}\u{9d}\u{9c}[]\\;?0123456789KJPX@CDGHABEFsu~mh\x08\r\n\t\x07 aé中\u{7f}"
                .chars()
                .collect();
        for _ in 0..200 {
            let mut input = String::new();
            for _ in 0..500 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let pick = (seed >> 16) as usize % alphabet.len();
                input.push(alphabet[pick]);
            }
            run(LogMode::Raw, &[&input]);
            run(LogMode::Streaming, &[&input]);
        }
    }
}
