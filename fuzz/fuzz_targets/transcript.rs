//! Any bytes a session can put in its transcript, read as each input format the scanner takes,
//! through terminal reconstruction, command extraction, normalisation and the default pack.
//! A panic here is an evasion: the batch would fail and skip scanning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use warden_core::rules::{RuleSet, default_rules};
use warden_core::transcript::scan::{TranscriptInput, TranscriptScanner, scan_input};
use warden_core::transcript::terminal::LogMode;

static RULES: LazyLock<RuleSet> = LazyLock::new(default_rules);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(input) = TranscriptInput::detect(&text, 1 << 20) {
        scan_input(&RULES, &input);
    }
    for mode in [LogMode::Streaming, LogMode::Raw] {
        let mut scanner = TranscriptScanner::new(&RULES);
        let mut hits = Vec::new();
        // Split where the data says, as records and batches split a session.
        for piece in text.split('\u{1f}') {
            scanner.feed_text(mode, piece, &mut hits);
        }
        scanner.finish(&mut hits);
    }
});
