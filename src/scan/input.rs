//! How `warden scan` reads its input: plain text and streaming records are read and scanned a
//! piece at a time, so a transcript of any size scans in bounded memory; a subscription event
//! (one JSON document) is read whole, held to the Lambda's decompression cap.
//!
//! The format is recognised from the start of the input:
//! - a first non-blank line that is not JSON: plain text, fed to the scanner in chunks;
//! - a first non-blank line that is a streaming record: one log event per line, each read as
//!   the Lambda reads a log event's message (a record, or text when it is not one);
//! - any other JSON: a document, read whole up to the size a subscription event within the
//!   cap can have, and recognised as before ([`TranscriptInput::detect`]).

use crate::scan_report::{Input, TextStats, is_json};
use serde::de::IgnoredAny;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use warden_core::rules::RuleSet;
use warden_core::transcript::payload::{PayloadError, StreamRecord, TranscriptChunk, chunk_of};
use warden_core::transcript::scan::{
    Hit, LineCounts, LineReport, TranscriptInput, TranscriptScanner,
};
use warden_core::transcript::terminal::LogMode;

/// Bytes of text handed to the scanner at once.
const TEXT_CHUNK: usize = 256 * 1024;

const RECORDS: &str = "streaming records";
const TEXT: &str = "plain transcript";
const SUBSCRIPTION: &str = "CloudWatch Logs subscription event";

/// Plain text up to this size is also kept whole, to say whether it is JSON of another shape
/// when it holds nothing to scan.
const JSON_PROBE: usize = 1024 * 1024;

/// Why the input could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{name}: {error}")]
    Read { name: String, error: std::io::Error },
    #[error("input: {0}")]
    Payload(#[from] PayloadError),
    #[error(
        "input: line {line} is longer than the {limit}-byte cap (WARDEN_MAX_TRANSCRIPT_BYTES): no log event is that long"
    )]
    LongRecord { line: usize, limit: usize },
}

/// Scans `reader` to its end with `rules`, handing each piece's line reports (when
/// `report_lines`) and findings to `emit` as soon as they are known, in transcript order.
/// `max_bytes` is the Lambda's cap on a decompressed batch (`WARDEN_MAX_TRANSCRIPT_BYTES`).
/// Returns what was read and the scanner's count of the lines, for the summary: both are
/// counted as the input goes by, never by holding it.
pub fn scan<'r>(
    rules: &'r RuleSet,
    reader: impl Read,
    name: &str,
    max_bytes: usize,
    report_lines: bool,
    emit: impl FnMut(&[LineReport], &[Hit<'r>]),
) -> Result<(Input, LineCounts), InputError> {
    let read_error = |error| InputError::Read {
        name: name.to_string(),
        error,
    };
    let mut reader = BufReader::with_capacity(TEXT_CHUNK, reader);
    let mut scanner = TranscriptScanner::new(rules);
    if report_lines {
        scanner = scanner.report_lines();
    }
    let mut feed = Feed {
        scanner,
        hits: Vec::new(),
        emit,
        stats: TextStats::default(),
        probe: Some(Vec::new()),
    };
    // Blank lines, then the first line with something on it (at most `max_bytes` of it).
    let mut head = Vec::new();
    let first_line = loop {
        let start = head.len();
        let limit = (max_bytes + 1).saturating_sub(head.len()) as u64;
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut head)
            .map_err(read_error)?;
        if read == 0 || head.len() > max_bytes || !head[start..].trim_ascii().is_empty() {
            break start;
        }
    };
    let first = head[first_line..].trim_ascii();
    if !first.starts_with(b"{") {
        feed.text(&head, &mut reader).map_err(read_error)?;
        return Ok(feed.finish(TEXT, false));
    }
    if serde_json::from_slice::<StreamRecord>(first).is_ok() {
        // The blank lines before the first record are skipped, as before.
        feed.count(&head[..first_line]);
        feed.record(&head[first_line..]);
        let next = head.iter().filter(|&&b| b == b'\n').count() + 1;
        feed.records(&mut reader, next, max_bytes)
            .map_err(|e| match e {
                InputError::Read { name: line, error } => InputError::Read {
                    name: format!("{name}, {line}"),
                    error,
                },
                other => other,
            })?;
        return Ok(feed.finish(RECORDS, false));
    }
    // One JSON document: a subscription event whose data inflates to at most `max_bytes`
    // takes at most this much as base64 of gzip, with room for the envelope around it.
    let document_cap = max_bytes + max_bytes / 3 + 64 * 1024;
    let limit = (document_cap + 1).saturating_sub(head.len()) as u64;
    (&mut reader)
        .take(limit)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    if head.len() > document_cap {
        if looks_like_a_batch(&head) {
            return Err(PayloadError::TooLarge {
                limit: max_bytes,
                compressed: head.len(),
            }
            .into());
        }
        feed.text(&head, &mut reader).map_err(read_error)?;
        return Ok(feed.finish(TEXT, false));
    }
    // Not JSON at all (random bytes, a binary file that starts with `{`): plain text, scanned
    // from what was read without the copies a document needs.
    if !looks_like_a_batch(&head) && serde_json::from_slice::<IgnoredAny>(&head).is_err() {
        feed.text(&head, &mut reader).map_err(read_error)?;
        return Ok(feed.finish(TEXT, false));
    }
    // Transcripts are pty bytes: invalid UTF-8 is shown as U+FFFD rather than refused.
    let text = lossy(&head);
    // Counted whole here; the text is scanned below without being counted again.
    let mut whole = TextStats::default();
    whole.add(&text);
    feed.probe = None;
    let input = TranscriptInput::detect(&text, max_bytes)?;
    let (shape, control_message) = match input {
        TranscriptInput::Subscription(batch) => {
            let inflated: usize = batch.log_events.iter().map(|e| e.message.len()).sum();
            // A batch handed over already decoded is held to the same cap.
            if !looks_like_an_event(&head) && inflated > max_bytes {
                return Err(PayloadError::TooLarge {
                    limit: max_bytes,
                    compressed: head.len(),
                }
                .into());
            }
            drop(text);
            drop(head);
            let control_message = batch.is_control_message();
            if !control_message {
                for event in &batch.log_events {
                    feed.chunk(&chunk_of(&event.message));
                }
            }
            (SUBSCRIPTION, control_message)
        }
        TranscriptInput::Records(records) => {
            for record in records {
                feed.chunk(&TranscriptChunk::Stream(record));
            }
            (RECORDS, false)
        }
        TranscriptInput::Text(text) => {
            let other_json = is_json(&text);
            feed.scan_text(text.as_bytes());
            feed.stats = whole;
            let (mut input, counts) = feed.finish(TEXT, false);
            input.other_json = other_json;
            return Ok((input, counts));
        }
    };
    feed.stats = whole;
    Ok(feed.finish(shape, control_message))
}

/// The start of a CloudWatch Logs subscription event.
fn looks_like_an_event(document: &[u8]) -> bool {
    contains(&document[..document.len().min(4096)], b"\"awslogs\"")
}

/// A subscription event, or the batch inside one.
fn looks_like_a_batch(document: &[u8]) -> bool {
    looks_like_an_event(document) || contains(document, b"\"logEvents\"")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The scanner and where its findings go.
struct Feed<'r, E> {
    scanner: TranscriptScanner<'r>,
    hits: Vec<Hit<'r>>,
    emit: E,
    /// What the characters read so far are.
    stats: TextStats,
    /// The plain text read so far, while it is at most [`JSON_PROBE`] bytes.
    probe: Option<Vec<u8>>,
}

impl<'r, E: FnMut(&[LineReport], &[Hit<'r>])> Feed<'r, E> {
    /// Hands what the scanner found since the last call to `emit`, holding back the last
    /// lines while a later line may still read them again (a wrap its output confirms).
    fn flush(&mut self) {
        let settled = self.scanner.settled_lines();
        let reports = self.scanner.take_settled_line_reports();
        self.emit_through(reports, settled);
    }

    /// Hands everything still held: the input has ended, no line can be read again.
    fn flush_all(&mut self) {
        let reports = self.scanner.take_line_reports();
        self.emit_through(reports, usize::MAX);
    }

    fn emit_through(&mut self, reports: Vec<LineReport>, settled: usize) {
        // A revised line's new hits come after later lines' hits: put them back in line order.
        self.hits.sort_by_key(|h| h.line);
        let ready = self.hits.partition_point(|h| h.line <= settled);
        if !reports.is_empty() || ready > 0 {
            (self.emit)(&reports, &self.hits[..ready]);
        }
        self.hits.drain(..ready);
    }

    fn chunk(&mut self, chunk: &TranscriptChunk) {
        self.scanner.feed_chunk(chunk, &mut self.hits);
        self.flush();
    }

    /// Counts bytes read but not scanned as text.
    fn count(&mut self, bytes: &[u8]) {
        self.stats.add(&lossy(bytes));
    }

    /// One line of a streaming-records file, read as a log event's message.
    fn record(&mut self, line: &[u8]) {
        let line = lossy(line);
        self.stats.add(&line);
        let line = line.trim();
        if !line.is_empty() {
            self.chunk(&chunk_of(line));
        }
    }

    /// Every line left in `reader`, the first of them line `number` of the input; each at
    /// most `max_bytes` long.
    fn records(
        &mut self,
        reader: &mut impl BufRead,
        mut number: usize,
        max_bytes: usize,
    ) -> Result<(), InputError> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .take(max_bytes as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|error| InputError::Read {
                    name: format!("line {number}"),
                    error,
                })?;
            if read == 0 {
                return Ok(());
            }
            if line.len() > max_bytes {
                return Err(InputError::LongRecord {
                    line: number,
                    limit: max_bytes,
                });
            }
            self.record(&line);
            number += 1;
        }
    }

    /// `head`, then the rest of `reader`, as terminal text, in chunks cut between UTF-8
    /// characters (invalid bytes become U+FFFD, as `String::from_utf8_lossy` makes them).
    fn text(&mut self, head: &[u8], reader: &mut impl Read) -> std::io::Result<()> {
        // What was read ahead (up to a document's cap) is scanned in pieces like the rest, so
        // its lines and findings are never all held at once.
        let mut complete = 0;
        while complete < head.len() {
            let end = (complete + TEXT_CHUNK).min(head.len());
            let piece = complete_prefix(&head[complete..end]);
            if piece == 0 {
                break;
            }
            self.feed_text(&head[complete..complete + piece]);
            complete += piece;
        }
        // An incomplete character at the end of what was read waits here for its next bytes.
        let mut buf = vec![0; TEXT_CHUNK + 4];
        let mut kept = head.len() - complete;
        buf[..kept].copy_from_slice(&head[complete..]);
        loop {
            let read = read_retrying(reader, &mut buf[kept..kept + TEXT_CHUNK])?;
            if read == 0 {
                self.feed_text(&buf[..kept]);
                return Ok(());
            }
            let end = kept + read;
            let complete = complete_prefix(&buf[..end]);
            self.feed_text(&buf[..complete]);
            buf.copy_within(complete..end, 0);
            kept = end - complete;
        }
    }

    fn feed_text(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(probe) = self.probe.as_mut() {
            if probe.len() + bytes.len() <= JSON_PROBE {
                probe.extend_from_slice(bytes);
            } else {
                self.probe = None;
            }
        }
        self.scan_text(bytes);
    }

    /// Counts and scans a piece of plain text.
    fn scan_text(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let text = lossy(bytes);
            self.stats.add(&text);
            self.scanner.feed_text(LogMode::Raw, &text, &mut self.hits);
            self.flush();
        }
    }

    fn finish(mut self, shape: &'static str, control_message: bool) -> (Input, LineCounts) {
        self.scanner.finish(&mut self.hits);
        self.flush_all();
        let other_json = shape == TEXT
            && self
                .probe
                .as_ref()
                .is_some_and(|p| is_json(&String::from_utf8_lossy(p)));
        let input = Input {
            shape,
            control_message,
            text: self.stats,
            other_json,
        };
        (input, self.scanner.counts())
    }
}

/// `String::from_utf8_lossy`, after the standard library's faster check for the common case of
/// valid UTF-8 (it takes ASCII a word at a time; the lossy decoder goes byte by byte).
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The length of `bytes` without an incomplete UTF-8 character at its end, which the next
/// read completes.
fn complete_prefix(bytes: &[u8]) -> usize {
    let end = bytes.len();
    for back in 1..=end.min(3) {
        let byte = bytes[end - back];
        if byte & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back for the lead byte
        }
        let needed = match byte {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        return if needed > back { end - back } else { end };
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incomplete_character_at_the_end_waits_for_the_next_read() {
        let text = "a€b😀".as_bytes();
        for cut in 0..=text.len() {
            let complete = complete_prefix(&text[..cut]);
            assert!(
                std::str::from_utf8(&text[..complete]).is_ok(),
                "cut at {cut}"
            );
            assert!(cut - complete < 4);
        }
        assert_eq!(complete_prefix(b"ab\xff"), 3);
        assert_eq!(complete_prefix(b"\x80\x80\x80"), 3);
    }
}
