//! Which kinds of byte a screen line holds, found in one pass over it.
//!
//! Every test the extractor makes of a line needs some byte to be there: a prompt mark
//! (`$`, `#`, `%`, `>`), a backtick for a reverse search, a `-` and a `:` for zsh's search, the
//! bytes of a learned prompt for finding it inside output. Most lines are output and hold few
//! of them, so a test whose byte is absent is answered at once instead of by reading the line
//! again: about ten readings of each output line become one.
//!
//! A set is only ever used to say "absent, so no": it may name bytes a text lacks (the set of a
//! whole line serves for any part of it, or the line with bytes deleted), never the reverse.

use std::ops::BitOr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByteClasses(u32);

impl ByteClasses {
    pub const NONE: ByteClasses = ByteClasses(0);
    pub const DOLLAR: ByteClasses = ByteClasses(1 << 0);
    pub const HASH: ByteClasses = ByteClasses(1 << 1);
    pub const PERCENT: ByteClasses = ByteClasses(1 << 2);
    pub const GREATER: ByteClasses = ByteClasses(1 << 3);
    pub const BACKTICK: ByteClasses = ByteClasses(1 << 4);
    pub const COLON: ByteClasses = ByteClasses(1 << 5);
    pub const OPEN_PAREN: ByteClasses = ByteClasses(1 << 6);
    pub const TILDE: ByteClasses = ByteClasses(1 << 7);
    pub const SLASH: ByteClasses = ByteClasses(1 << 8);
    pub const MINUS: ByteClasses = ByteClasses(1 << 9);
    pub const AT: ByteClasses = ByteClasses(1 << 10);
    pub const CLOSE_BRACKET: ByteClasses = ByteClasses(1 << 11);
    /// Any byte of a non-ASCII char (0x80 and up).
    pub const BEYOND_ASCII: ByteClasses = ByteClasses(1 << 12);
    /// The first byte of a non-ASCII char (0xC0 and up).
    pub const LEAD: ByteClasses = ByteClasses(1 << 13);
    /// 0xE2, the first byte of `⏎`, `❯`, `➜`.
    pub const E2: ByteClasses = ByteClasses(1 << 14);
    /// 0xEF, the first byte of U+FFFD.
    pub const EF: ByteClasses = ByteClasses(1 << 15);

    /// The prompt marks every stock and learned prompt shape ends with.
    pub const MARKS: ByteClasses = Self::DOLLAR
        .or(Self::HASH)
        .or(Self::PERCENT)
        .or(Self::GREATER);

    /// `self | other`, in constants.
    pub const fn or(self, other: ByteClasses) -> ByteClasses {
        ByteClasses(self.0 | other.0)
    }

    pub fn of(text: &str) -> ByteClasses {
        ByteClasses(
            text.bytes()
                .fold(0, |classes, b| classes | CLASS_OF[usize::from(b)]),
        )
    }

    /// Whether the text may hold a byte of any of these classes.
    pub fn any(self, classes: ByteClasses) -> bool {
        self.0 & classes.0 != 0
    }

    /// Whether the text may hold a byte of every one of these classes.
    pub fn all(self, classes: ByteClasses) -> bool {
        self.0 & classes.0 == classes.0
    }

    /// Whether this set names every class `text` holds: what makes it usable for `text`.
    pub fn covers(self, text: &str) -> bool {
        self.all(Self::of(text))
    }
}

impl BitOr for ByteClasses {
    type Output = ByteClasses;

    fn bitor(self, other: ByteClasses) -> ByteClasses {
        ByteClasses(self.0 | other.0)
    }
}

const CLASS_OF: [u32; 256] = {
    let mut table = [0u32; 256];
    table[b'$' as usize] = ByteClasses::DOLLAR.0;
    table[b'#' as usize] = ByteClasses::HASH.0;
    table[b'%' as usize] = ByteClasses::PERCENT.0;
    table[b'>' as usize] = ByteClasses::GREATER.0;
    table[b'`' as usize] = ByteClasses::BACKTICK.0;
    table[b':' as usize] = ByteClasses::COLON.0;
    table[b'(' as usize] = ByteClasses::OPEN_PAREN.0;
    table[b'~' as usize] = ByteClasses::TILDE.0;
    table[b'/' as usize] = ByteClasses::SLASH.0;
    table[b'-' as usize] = ByteClasses::MINUS.0;
    table[b'@' as usize] = ByteClasses::AT.0;
    table[b']' as usize] = ByteClasses::CLOSE_BRACKET.0;
    let mut b = 0x80;
    while b < 256 {
        table[b] = ByteClasses::BEYOND_ASCII.0;
        if b >= 0xC0 {
            table[b] |= ByteClasses::LEAD.0;
        }
        b += 1;
    }
    table[0xE2] |= ByteClasses::E2.0;
    table[0xEF] |= ByteClasses::EF.0;
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_holds_no_mark() {
        let classes = ByteClasses::of("total 24 drwxr-xr-x 3 root root 4096 Nov 24 10:02 .");
        assert!(!classes.any(ByteClasses::MARKS));
        assert!(classes.all(ByteClasses::MINUS | ByteClasses::COLON));
        assert!(!classes.any(ByteClasses::BEYOND_ASCII));
    }

    #[test]
    fn a_prompt_line_holds_its_marks() {
        let classes = ByteClasses::of("[ec2-user@ip-10-0-0-1 ~]$ ls");
        assert!(classes.all(
            ByteClasses::DOLLAR | ByteClasses::AT | ByteClasses::CLOSE_BRACKET | ByteClasses::TILDE
        ));
        assert!(!classes.any(ByteClasses::HASH | ByteClasses::GREATER));
    }

    #[test]
    fn non_ascii_chars_are_told_by_their_first_byte() {
        let fish = ByteClasses::of("⏎");
        assert!(fish.all(ByteClasses::BEYOND_ASCII | ByteClasses::LEAD | ByteClasses::E2));
        let replaced = ByteClasses::of("\u{fffd} ls");
        assert!(replaced.all(ByteClasses::LEAD | ByteClasses::EF));
        assert!(!replaced.any(ByteClasses::E2));
        assert!(ByteClasses::of("é").all(ByteClasses::LEAD));
    }

    #[test]
    fn a_line_s_set_covers_every_part_of_it() {
        let line = "alice@web:~$ echo `id` > /tmp/x";
        let classes = ByteClasses::of(line);
        for start in 0..line.len() {
            for end in start..=line.len() {
                if let Some(part) = line.get(start..end) {
                    assert!(classes.covers(part), "{part:?}");
                }
            }
        }
        assert!(!ByteClasses::of("ls").covers(line));
    }
}
