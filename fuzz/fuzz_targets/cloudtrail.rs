//! Any JSON EventBridge could deliver, through the CloudTrail parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = warden_core::cloudtrail::parse_event(&value);
    }
});
