//! Scanner throughput on a realistic 10 MB transcript, in both logging modes, with the default
//! rule pack; and the decode of one full-size subscription batch.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use warden_core::rules::default_rules;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, decode_subscription, encode_subscription,
};
use warden_core::transcript::scan::{TranscriptInput, scan_input};

#[path = "../../tests/support/sample_transcript.rs"]
mod sample_transcript;

const TARGET_BYTES: usize = 10 * 1024 * 1024;

fn scanner_throughput(c: &mut Criterion) {
    let rules = default_rules();
    let lines = sample_transcript::session_lines(TARGET_BYTES);
    let raw_text = sample_transcript::text(&lines);
    let records = sample_transcript::records(&lines, 20);

    let mut group = c.benchmark_group("scan_10MB_transcript");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw_text.len() as u64));
    let text = TranscriptInput::Text(raw_text.clone());
    group.bench_function("upload_at_end_text", |b| {
        b.iter(|| scan_input(&rules, black_box(&text)).len())
    });
    let streamed = TranscriptInput::Records(records);
    group.bench_function("streaming_records", |b| {
        b.iter(|| scan_input(&rules, black_box(&streamed)).len())
    });
    group.finish();

    // The largest batch Lambda delivers is about 1 MB compressed.
    let batch = LogsBatch {
        message_type: "DATA_MESSAGE".into(),
        log_group: "/aws/ssm/session-logs".into(),
        log_stream: "alice-ea1181f76f3adcbdc".into(),
        log_events: raw_text
            .as_bytes()
            .chunks(200_000)
            .take(40)
            .enumerate()
            .map(|(i, chunk)| LogEvent {
                id: i.to_string(),
                timestamp: 0,
                message: String::from_utf8_lossy(chunk).into_owned(),
            })
            .collect(),
        ..serde_json::from_value(serde_json::json!({})).unwrap()
    };
    let event = encode_subscription(&batch);
    let inflated: usize = batch.log_events.iter().map(|e| e.message.len()).sum();
    let mut decode = c.benchmark_group("decode_subscription");
    decode.sample_size(20);
    decode.throughput(Throughput::Bytes(inflated as u64));
    decode.bench_function("base64_gunzip_parse", |b| {
        b.iter(|| decode_subscription(black_box(&event), 16 * 1024 * 1024).unwrap())
    });
    decode.finish();
}

/// The scanner's cold start is mostly this: parsing and compiling the embedded default pack.
fn rule_pack_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("cold_start");
    group.sample_size(20);
    group.bench_function("compile_default_pack", |b| {
        b.iter(|| black_box(default_rules()).rules().len())
    });
    group.finish();
}

criterion_group!(benches, scanner_throughput, rule_pack_compile);
criterion_main!(benches);
