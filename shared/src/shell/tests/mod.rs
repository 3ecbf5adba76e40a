mod bounds;
mod expand;
mod launch;
mod lex;
mod parse;
mod payload;
mod session;

use super::*;
use std::time::Duration;

/// CPU time this thread has used: the bound a line may cost, unaffected by other work on
/// the machine (wall time failed these tests whenever builds ran beside them).
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; CLOCK_THREAD_CPUTIME_ID is always there
    // on Linux.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn texts(line: &str) -> Vec<String> {
    normalize(line).into_iter().map(|c| c.text).collect()
}

/// The entry with this text; fails listing what there was.
fn entry(line: &str, text: &str) -> NormalizedCommand {
    normalize(line)
        .into_iter()
        .find(|c| c.text == text)
        .unwrap_or_else(|| panic!("no {text:?} in {:?}", texts(line)))
}

fn via(line: &str, text: &str) -> Vec<String> {
    entry(line, text).via
}

fn has(line: &str, text: &str) -> bool {
    texts(line).iter().any(|t| t == text)
}
