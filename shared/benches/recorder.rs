//! The recorder's hot path per event: parse, assess, merge, and the whole in-process handler.

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use warden_core::cloudtrail::parse_event;
use warden_core::config::WardenConfig;
use warden_core::handlers::recorder::Recorder;
use warden_core::local::{CollectingNotifier, DryRunTerminator, MemoryStore};
use warden_core::session::{SessionRecord, record_id};

fn sample(file: &str) -> Value {
    let path = format!(
        "{}/../events/1-cloudtrail/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn recorder_path(c: &mut Criterion) {
    let raw = sample("13-start-scheduled-automation.json");
    let text = raw.to_string();
    let config = WardenConfig::from_lookup(|_| None).unwrap();
    let event = parse_event(&raw).unwrap();

    c.bench_function("decode_and_parse_start_event", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_str(black_box(&text)).unwrap();
            parse_event(&value).unwrap()
        })
    });
    c.bench_function("assess_start_policy", |b| {
        b.iter(|| config.policy.assess(black_box(&event)))
    });
    c.bench_function("apply_event_to_record", |b| {
        let assessment = config.policy.assess(&event);
        b.iter(|| {
            let mut record = SessionRecord::new(record_id(&event));
            record.apply(black_box(&event), &assessment);
            record
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("handle_event_in_process_with_two_alerts", |b| {
        b.iter(|| {
            let recorder = Recorder::new(
                MemoryStore::new(),
                CollectingNotifier::new(),
                DryRunTerminator::new(),
                config.clone(),
            );
            runtime.block_on(recorder.handle(black_box(&raw))).unwrap()
        })
    });
}

criterion_group!(benches, recorder_path);
criterion_main!(benches);
