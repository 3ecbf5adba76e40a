//! Scanner throughput on a realistic 10 MB transcript, in both logging modes, with the default
//! rule pack; and the decode of one full-size subscription batch.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use warden_core::rules::default_rules;
use warden_core::transcript::payload::{
    LogEvent, LogsBatch, StreamRecord, decode_subscription, encode_subscription,
};
use warden_core::transcript::scan::{TranscriptInput, scan_input};

const TARGET_BYTES: usize = 10 * 1024 * 1024;

/// An administrator's afternoon: commands at a prompt, their output (listings, logs, service
/// status, package installs), typos fixed with backspaces, and now and then something a rule
/// fires on.
fn session_lines() -> Vec<String> {
    let work: &[(&str, &[&str])] = &[
        (
            "ls -la /var/www/html",
            &[
                "total 24",
                "drwxr-xr-x 3 root root 4096 Nov 24 10:02 .",
                "-rw-r--r-- 1 www-data www-data 612 Nov 24 10:02 index.html",
            ],
        ),
        (
            "sudo systemctl status nginx",
            &[
                "● nginx.service - A high performance web server",
                "     Active: active (running) since Mon 2026-11-23 08:00:01 UTC",
            ],
        ),
        (
            "tail -n 3 /var/log/nginx/access.log",
            &[
                "198.51.100.23 - - [24/Nov/2026:10:01:02 +0000] \"GET / HTTP/1.1\" 200 612 \"-\" \"curl/8.5.0\"",
                "198.51.100.24 - - [24/Nov/2026:10:01:03 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"ELB-HealthChecker/2.0\"",
            ],
        ),
        (
            "df -h /",
            &[
                "Filesystem      Size  Used Avail Use% Mounted on",
                "/dev/nvme0n1p1   20G  6.1G   14G  31% /",
            ],
        ),
        (
            "sudo dnf install -y htop",
            &[
                "Last metadata expiration check: 0:12:01 ago.",
                "Package htop-3.2.2-1.amzn2023.x86_64 is already installed.",
                "Complete!",
            ],
        ),
        (
            "git -C /opt/app log --oneline -3",
            &[
                "4f2a9c1 Fix health check path",
                "9b8e7d6 Bump dependencies",
                "1a2b3c4 Add metrics endpoint",
            ],
        ),
        (
            "kubectl get pods -n web",
            &[
                "NAME                   READY   STATUS    RESTARTS   AGE",
                "web-5d8f7c9b6-x2kqz    1/1     Running   0          3d",
            ],
        ),
        ("grep -c ERROR /var/log/app/app.log", &["0"]),
        (
            "cat /etc/os-release | head -n 2",
            &["NAME=\"Amazon Linux\"", "VERSION=\"2023\""],
        ),
        (
            "rm -rf ./build && make build",
            &["go build -o build/app ./cmd/app"],
        ),
        (
            "curl -s http://169.254.169.254/latest/meta-data/instance-id",
            &["i-0a1b2c3d4e5f60718"],
        ),
        ("sudo cat /etc/shadow", &["root:*LOCK*:14600::::::"]),
        ("history -c", &[]),
        ("docker ps --format '{{.Names}}'", &["web", "worker"]),
    ];
    let mut lines = Vec::new();
    let mut size = 0;
    let mut i = 0usize;
    while size < TARGET_BYTES {
        let (command, output) = work[i % work.len()];
        // Every seventh command had a typo fixed with backspace.
        let typed = if i.is_multiple_of(7) {
            format!("{command}x\u{8}")
        } else {
            command.to_string()
        };
        let prompt = format!("[ec2-user@ip-10-0-0-1 ~]$ {typed}");
        size += prompt.len() + 1;
        lines.push(prompt);
        for out in output {
            size += out.len() + 1;
            lines.push(out.to_string());
        }
        i += 1;
    }
    lines
}

fn scanner_throughput(c: &mut Criterion) {
    let rules = default_rules();
    let lines = session_lines();
    let raw_text = lines.join("\r\n") + "\r\n";
    let records: Vec<StreamRecord> = lines
        .chunks(20)
        .map(|chunk| StreamRecord {
            session_data: chunk.to_vec(),
            ..StreamRecord::default()
        })
        .collect();

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
