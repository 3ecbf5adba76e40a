//! A progress line for long operations (`replay` of many events), on standard error, drawn only
//! when someone watches it there: standard error is a terminal and the output goes elsewhere (a
//! file, a pipe). On a terminal the output itself shows the progress, and in a pipe or a CI log
//! a line redrawn with carriage returns is noise.

use std::io::{IsTerminal, Write};
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

pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: usize,
    done: usize,
    enabled: bool,
    drawn_at: Option<Instant>,
}

impl Progress {
    pub fn new(label: &'static str, unit: &'static str, total: usize) -> Self {
        Progress {
            label,
            unit,
            total,
            done: 0,
            enabled: wanted(
                std::io::stderr().is_terminal(),
                std::io::stdout().is_terminal(),
            ),
            drawn_at: None,
        }
    }

    /// One more done; redraws the line when it is due.
    pub fn advance(&mut self) {
        self.done += 1;
        if !self.enabled || self.drawn_at.is_some_and(|at| at.elapsed() < REDRAW) {
            return;
        }
        let mut err = std::io::stderr().lock();
        // Carriage return and erase-line: the line is redrawn in place. Failing to draw it is
        // never worth failing the operation.
        let _ = write!(
            err,
            "\r\x1b[K{}",
            line(self.label, self.unit, self.done, self.total)
        );
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
}
