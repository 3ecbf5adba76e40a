//! Backslash escapes as `$'…'`, printf formats and `echo -e` decode them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// `$'…'`: `\cX` is a control character, octal is `\NNN`.
    AnsiC,
    /// printf formats: octal is `\NNN`, `\c` stops output.
    Printf,
    /// `echo -e` and printf `%b`: octal is `\0NNN`, `\c` stops output.
    Echo,
}

/// Decodes every escape in `src`; `true` when `\c` cut the output short.
pub(super) fn decode(src: &[u8], dialect: Dialect) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while let Some(&c) = src.get(i) {
        if c == b'\\' {
            match one(&src[i + 1..], dialect, &mut out) {
                Some(used) => i += 1 + used,
                None => return (out, true),
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, false)
}

/// Decodes the escape whose backslash precedes `rest` into `out`; returns how many bytes of
/// `rest` it used, or None for `\c` (stop all output).
pub(super) fn one(rest: &[u8], dialect: Dialect, out: &mut Vec<u8>) -> Option<usize> {
    let Some(&c) = rest.first() else {
        out.push(b'\\');
        return Some(0);
    };
    let byte = match c {
        b'a' => 0x07,
        b'b' => 0x08,
        b'e' | b'E' => 0x1b,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 0x0b,
        b'\\' => b'\\',
        b'\'' | b'"' | b'?' if dialect != Dialect::Echo => c,
        b'c' if dialect == Dialect::AnsiC => {
            let Some(&x) = rest.get(1) else {
                out.extend_from_slice(b"\\c");
                return Some(1);
            };
            out.push(x & 0x1f);
            return Some(2);
        }
        b'c' => return None,
        b'x' => return Some(1 + code_point(&rest[1..], 2, b"\\x", out, false)),
        b'u' => return Some(1 + code_point(&rest[1..], 4, b"\\u", out, true)),
        b'U' => return Some(1 + code_point(&rest[1..], 8, b"\\U", out, true)),
        b'0' if dialect == Dialect::Echo => {
            let (value, used) = number(&rest[1..], 8, 3);
            out.push(value as u8);
            return Some(1 + used);
        }
        b'0'..=b'7' if dialect != Dialect::Echo => {
            let (value, used) = number(rest, 8, 3);
            out.push(value as u8);
            return Some(used);
        }
        _ => {
            out.extend_from_slice(&[b'\\', c]);
            return Some(1);
        }
    };
    out.push(byte);
    Some(1)
}

/// `\xHH` (a byte) or `\uHHHH` / `\UHHHHHHHH` (a character, UTF-8 encoded); without digits
/// the escape stays as written.
fn code_point(
    digits: &[u8],
    max: usize,
    written: &[u8],
    out: &mut Vec<u8>,
    unicode: bool,
) -> usize {
    let (value, used) = number(digits, 16, max);
    if used == 0 {
        out.extend_from_slice(written);
    } else if !unicode {
        out.push(value as u8);
    } else if let Some(ch) = char::from_u32(value) {
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    }
    used
}

fn number(digits: &[u8], radix: u32, max: usize) -> (u32, usize) {
    let mut value = 0u32;
    let mut used = 0;
    for &d in digits.iter().take(max) {
        let Some(v) = char::from(d).to_digit(radix) else {
            break;
        };
        value = value.wrapping_mul(radix).wrapping_add(v);
        used += 1;
    }
    (value, used)
}
