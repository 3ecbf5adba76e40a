//! A realistic generated admin-session transcript, shared by the criterion benchmarks and the
//! `perf` example that `scripts/bench` runs, so both measure the same input.
#![allow(dead_code)]

/// An administrator's afternoon: commands at a prompt, their output (listings, logs, service
/// status, package installs), typos fixed with backspaces, and now and then something a rule
/// fires on. The same fourteen commands come round again and again.
pub fn session_lines(target_bytes: usize) -> Vec<String> {
    lines(target_bytes, false)
}

/// The same afternoon with no command line typed twice (each ends with a six-digit serial
/// number as one more argument): the scanner cannot reuse what it read of an earlier command.
/// Fixed-width, so that no command is the start of another, and a word rather than a comment,
/// whose `#` would read like a root prompt.
pub fn distinct_session_lines(target_bytes: usize) -> Vec<String> {
    lines(target_bytes, true)
}

fn lines(target_bytes: usize, distinct: bool) -> Vec<String> {
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
    while size < target_bytes {
        let (command, output) = work[i % work.len()];
        // Every seventh command had a typo fixed with backspace.
        let command = if distinct {
            format!("{command} {i:06}")
        } else {
            command.to_string()
        };
        let typed = if i.is_multiple_of(7) {
            format!("{command}x\u{8}")
        } else {
            command
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

/// The lines as upload-at-end text: one terminal stream with CRLF line ends, and the colour a
/// terminal shows (`ls` and `git` colours, systemd's status dot and state). Streaming records
/// carry none: the agent removes escape sequences.
pub fn text(lines: &[String]) -> String {
    const COLOURS: [(&str, &str); 5] = [
        (" .", " \x1b[01;34m.\x1b[0m"),
        ("index.html", "\x1b[00mindex.html\x1b[0m"),
        ("● ", "\x1b[0;1;32m●\x1b[0m "),
        ("active (running)", "\x1b[0;1;32mactive (running)\x1b[0m"),
        ("4f2a9c1 ", "\x1b[33m4f2a9c1\x1b[m "),
    ];
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 8).sum());
    for line in lines {
        let output = !line.starts_with("[ec2-user@");
        match COLOURS
            .iter()
            .find(|(plain, _)| output && line.contains(plain))
        {
            Some((plain, coloured)) => text.push_str(&line.replacen(plain, coloured, 1)),
            None => text.push_str(line),
        }
        text.push_str("\r\n");
    }
    text
}

/// The lines as Session Manager streaming records, `per_record` lines each, one JSON object per
/// line (what `warden scan` reads as streaming records).
pub fn records(
    lines: &[String],
    per_record: usize,
) -> Vec<warden_core::transcript::payload::StreamRecord> {
    lines
        .chunks(per_record)
        .map(|chunk| warden_core::transcript::payload::StreamRecord {
            session_data: chunk.to_vec(),
            ..Default::default()
        })
        .collect()
}
