//! The shape of the output and the bounds on what a line may cost.

use super::*;

// --- output shape -------------------------------------------------------------------------

#[test]
fn identical_texts_are_reported_once_first_kept() {
    assert_eq!(texts("id; id; /usr/bin/id"), ["id"]);
    assert_eq!(via("bash -c id; id", "id"), ["bash -c"]);
}

#[test]
fn nested_entries_follow_their_command_in_line_order() {
    assert_eq!(
        texts("bash -c 'id'; whoami"),
        ["bash -c id", "id", "whoami"]
    );
}

// --- bounds -------------------------------------------------------------------------------

#[test]
fn at_most_256_entries_are_returned() {
    let line: Vec<String> = (0..400).map(|i| format!("echo {i}")).collect();
    assert_eq!(normalize(&line.join("; ")).len(), MAX_ENTRIES);
}

#[test]
fn nesting_is_followed_four_levels_deep() {
    let line = "echo 0 $(echo 1 $(echo 2 $(echo 3 $(echo 4 $(echo 5)))))";
    assert!(has(line, "echo 4 $(echo 5)"));
    assert!(!has(line, "echo 5"));
    let line = r#"bash -c "bash -c \"bash -c 'bash -c \\\"bash -c id5\\\"'\"""#;
    assert!(has(line, "bash -c id5"));
    assert!(!has(line, "id5"));
}

#[test]
fn only_the_first_64_kib_of_a_line_is_read() {
    let line = format!("echo {}; rm -rf /", "a".repeat(70_000));
    let entries = normalize(&line);
    assert_eq!(entries.len(), 1);
    assert!(entries[0].text.len() <= MAX_LINE_BYTES);
}

/// A reproducible byte soup biased towards shell syntax.
fn garbage(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"$()`'\"\\{}[];&|<>#=- \n\tabcrm/\x01\xff";
    let mut state = seed | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state.is_multiple_of(5) {
                (state >> 8) as u8
            } else {
                ALPHABET[(state >> 16) as usize % ALPHABET.len()]
            }
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn random_bytes_never_panic() {
    for seed in 0..300 {
        let line = garbage(seed, (seed as usize * 37) % 3000);
        let entries = normalize(&line);
        assert!(entries.len() <= MAX_ENTRIES);
    }
}

#[test]
fn pathological_lines_return_quickly() {
    let lines = [
        "'".repeat(100_000),
        "\"".repeat(100_001),
        "$(".repeat(10_000),
        format!("echo {}x{}", "$(".repeat(10_000), ")".repeat(10_000)),
        "(".repeat(20_000),
        "{ ".repeat(20_000),
        "( $( { `".repeat(8_000),
        "bash -c \"$( (sh -c '$( {".repeat(3_000),
        "`".repeat(30_001),
        "\\`".repeat(30_000),
        "${".repeat(30_000),
        "$((".repeat(20_000),
        "sudo ".repeat(13_000) + "rm",
        "env -S ".repeat(9_000) + "rm",
        "f() ".repeat(15_000),
        "f(){ f; f; f; f; f; f; f; f; }; f".to_string(),
        "a(){ b; b; b; b; }; b(){ c; c; c; c; }; c(){ a; a; a; a; }; a".to_string(),
        "cat /???/???/???/???/??? ".repeat(2_000),
        "echo ${x:-${y:-${z:-".repeat(5_000),
        "<<EOF\n".repeat(10_000),
        "1".repeat(65_000) + ">",
        r"$'\x".repeat(20_000),
        "echo cm0gLXJmIC8K | base64 -d ".to_string() + &"| rev ".repeat(10_000) + "| sh",
        format!(
            "printf '{}' {} | sh",
            "%s".repeat(1_000),
            "x ".repeat(20_000)
        ),
        "bash -c '".to_string() + &"a ".repeat(30_000),
        "echo \"unterminated $(ls 'and `more".to_string(),
        garbage(7, 65_536),
    ];
    for line in &lines {
        let started = thread_cpu_time();
        let entries = normalize(line);
        let took = thread_cpu_time() - started;
        assert!(entries.len() <= MAX_ENTRIES);
        let start: String = line.chars().take(40).collect();
        assert!(took < Duration::from_millis(100), "{took:?} for {start:?}…");
    }
}

#[test]
fn the_most_work_a_line_can_ask_for_stays_bounded() {
    // Every command is expanded and unwrapped even when its text repeats (an assignment can
    // change what the next one means), at a few microseconds each in a debug build; command
    // strings and payloads parsed again share one budget of twice the line.
    let nested = format!("bash -c \"bash -c 'bash -c {}'\"", "a\\;".repeat(20_000));
    let printed = format!("printf '{}%s' {}| sh;", "a;".repeat(125), "x ".repeat(250));
    let lines = [
        "a;".repeat(30_000),
        "a|".repeat(30_000),
        nested,
        printed.repeat(80),
        format!("$(printf '{}%s' {}) ", "A".repeat(250), "x ".repeat(250)).repeat(80),
        // Loops nest four deep at most; every level still reads the commands inside it.
        "for x in a b c; do ".repeat(5_000),
        "while read x; do ".repeat(5_000),
        format!("echo {} | while read a; do $a; done", "rm ".repeat(20_000)),
        format!("for c in {}; do $c; $c; done", "x ".repeat(30_000)),
        // The working directory is tracked through every command.
        "cd /; ".repeat(10_000) + "rm -rf *",
    ];
    for line in &lines {
        let started = thread_cpu_time();
        normalize(line);
        let took = thread_cpu_time() - started;
        let start: String = line.chars().take(40).collect();
        assert!(took < Duration::from_millis(500), "{took:?} for {start:?}…");
    }
}
