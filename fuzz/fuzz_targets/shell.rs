//! Any command line through the shell normaliser (quotes, escapes, wrappers, decoders).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        warden_core::shell::normalize(line);
    }
});
