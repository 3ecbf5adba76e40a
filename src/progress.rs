//! A progress line for long operations (`replay` of many events, `scan` of a large transcript),
//! on standard error, drawn only
//! when someone watches it there: standard error is a terminal and the output goes elsewhere (a
//! file, a pipe). On a terminal the output itself shows the progress, and in a pipe or a CI log
//! a line redrawn with carriage returns is noise.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// Whether to draw: standard error is a terminal and standard output is not.
pub fn wanted(stderr_is_terminal: bool, stdout_is_terminal: bool) -> bool {
    stderr_is_terminal && !stdout_is_terminal
}

/// `replaying 120/4000 events (3%)`
pub fn line(label: &str, unit: &str, done: usize, total: usize) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    format!("{label} {done}/{total} {unit} ({percent}%)")
}

/// `scanning 120.0/5000.0 MB (2%), 16.2 MB/s`, or without a known size (standard input)
/// `scanning 120.0 MB, 16.2 MB/s`. MB are 10^6 bytes.
pub fn bytes_line(label: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    // The first pieces are read before they are scanned: a rate over less than a second says
    // how fast the disk is, not the scan.
    let rate = match elapsed.as_secs_f64() {
        secs if secs >= 1.0 => format!(", {:.1} MB/s", mb(done) / secs),
        _ => String::new(),
    };
    match total {
        Some(total) => {
            let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
            format!(
                "{label} {:.1}/{:.1} MB ({percent}%){rate}",
                mb(done),
                mb(total)
            )
        }
        None => format!("{label} {:.1} MB{rate}", mb(done)),
    }
}

/// What is counted: items of a kind, or bytes read.
enum Amount {
    Items { unit: &'static str, total: usize },
    Bytes { total: Option<u64> },
}

pub struct Progress {
    label: &'static str,
    amount: Amount,
    done: u64,
    enabled: bool,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl Progress {
    /// Counts `total` items of `unit` ("events").
    pub fn new(label: &'static str, unit: &'static str, total: usize) -> Self {
        Self::counting(label, Amount::Items { unit, total })
    }

    /// Counts bytes read, out of `total` when the size is known.
    pub fn bytes(label: &'static str, total: Option<u64>) -> Self {
        Self::counting(label, Amount::Bytes { total })
    }

    fn counting(label: &'static str, amount: Amount) -> Self {
        Progress {
            label,
            amount,
            done: 0,
            enabled: wanted(
                std::io::stderr().is_terminal(),
                std::io::stdout().is_terminal(),
            ),
            started: Instant::now(),
            drawn_at: None,
        }
    }

    /// One more done; redraws the line when it is due.
    pub fn advance(&mut self) {
        self.add(1);
    }

    /// `n` more done (bytes, for [`Self::bytes`]); redraws the line when it is due.
    pub fn add(&mut self, n: u64) {
        self.done += n;
        if !self.enabled || self.drawn_at.is_some_and(|at| at.elapsed() < REDRAW) {
            return;
        }
        let text = match self.amount {
            Amount::Items { unit, total } => line(
                self.label,
                unit,
                usize::try_from(self.done).unwrap_or(usize::MAX),
                total,
            ),
            Amount::Bytes { total } => {
                bytes_line(self.label, self.done, total, self.started.elapsed())
            }
        };
        let mut err = std::io::stderr().lock();
        // Carriage return and erase-line: the line is redrawn in place. Failing to draw it is
        // never worth failing the operation.
        let _ = write!(err, "\r\x1b[K{text}");
        let _ = err.flush();
        self.drawn_at = Some(Instant::now());
    }

    /// Erases the line, so what is printed next starts on a clean line.
    pub fn finish(&mut self) {
        if self.drawn_at.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that counts what passes through it on a progress line.
pub struct Counted<R> {
    inner: R,
    progress: Progress,
}

impl<R> Counted<R> {
    pub fn new(inner: R, progress: Progress) -> Self {
        Counted { inner, progress }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_for_a_person_watching_stderr_while_the_output_goes_elsewhere() {
        assert!(wanted(true, false));
        assert!(!wanted(true, true), "the output on screen is the progress");
        assert!(!wanted(false, false), "pipes and CI logs stay quiet");
        assert!(!wanted(false, true));
    }

    #[test]
    fn the_line_counts_and_never_divides_by_zero() {
        assert_eq!(
            line("replaying", "events", 120, 4000),
            "replaying 120/4000 events (3%)"
        );
        assert_eq!(
            line("replaying", "events", 0, 0),
            "replaying 0/0 events (100%)"
        );
    }

    #[test]
    fn bytes_read_are_shown_in_megabytes_with_the_rate() {
        let two_seconds = Duration::from_secs(2);
        assert_eq!(
            bytes_line("scanning", 120_000_000, Some(5_000_000_000), two_seconds),
            "scanning 120.0/5000.0 MB (2%), 60.0 MB/s"
        );
        assert_eq!(
            bytes_line("scanning", 32_000_000, None, two_seconds),
            "scanning 32.0 MB, 16.0 MB/s"
        );
    }

    #[test]
    fn a_file_that_grew_while_read_or_an_empty_one_stays_within_a_hundred_percent() {
        assert_eq!(
            bytes_line("scanning", 150, Some(100), Duration::ZERO),
            "scanning 0.0/0.0 MB (100%)"
        );
        assert_eq!(
            bytes_line("scanning", 0, Some(0), Duration::from_millis(900)),
            "scanning 0.0/0.0 MB (100%)"
        );
    }

    #[test]
    fn a_counted_reader_passes_every_byte_through() {
        let mut counted = Counted::new(&b"one\ntwo\n"[..], Progress::bytes("scanning", Some(8)));
        let mut read = String::new();
        counted.read_to_string(&mut read).unwrap();
        assert_eq!(read, "one\ntwo\n");
        assert_eq!(counted.progress.done, 8);
    }
}
