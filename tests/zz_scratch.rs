use warden_core::shell::normalize;

#[test]
#[ignore]
fn dump() {
    let text = std::fs::read_to_string("/tmp/dump_in.txt").unwrap();
    for line in text.lines() {
        println!("== {line}");
        for n in normalize(line) {
            println!("   [{}] {:?}", n.via.join(">"), n.text);
        }
    }
}

#[test]
#[ignore]
fn timing() {
    let t = std::time::Instant::now();
    let rules = warden_core::rules::default_rules();
    println!("compile: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
    }
    let hits = warden_core::transcript::scan::scan_input(
        &rules,
        &warden_core::transcript::scan::TranscriptInput::Text(text),
    );
    println!("scan 2000 lines: {:?} hits {}", t.elapsed(), hits.len());
    let t = std::time::Instant::now();
    let report = warden_core::rules::selftest::run(&rules);
    println!(
        "selftest {} examples: {:?}",
        report.examples_run,
        t.elapsed()
    );
}

#[test]
#[ignore]
fn timing_orig() {
    let text = std::fs::read_to_string("/tmp/gen/orig.toml").unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "orig").unwrap();
    let rules = warden_core::rules::RuleSet::compile(vec![pack]).unwrap();
    let t = std::time::Instant::now();
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
    }
    let hits = warden_core::transcript::scan::scan_input(
        &rules,
        &warden_core::transcript::scan::TranscriptInput::Text(text),
    );
    println!(
        "orig scan 2000 lines: {:?} hits {}",
        t.elapsed(),
        hits.len()
    );
}

#[test]
#[ignore]
fn timing_per_rule() {
    let text = warden_core::rules::DEFAULT_PACK;
    let pack = warden_core::rules::RulePack::parse(text, "d").unwrap();
    let mut input = String::new();
    for i in 0..300 {
        input.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
        input.push_str(&format!("[ec2-user@ip-10-0-0-1 ~]$ kubectl get pods -n kube-system -o wide --selector app=web{i}\n"));
    }
    let input = warden_core::transcript::scan::TranscriptInput::Text(input);
    let mut times = Vec::new();
    for rule in &pack.rules {
        let mut p = pack.clone();
        p.rules = vec![rule.clone()];
        let rules = warden_core::rules::RuleSet::compile(vec![p]).unwrap();
        let t = std::time::Instant::now();
        let _ = warden_core::transcript::scan::scan_input(&rules, &input);
        times.push((t.elapsed(), rule.id.clone()));
    }
    times.sort();
    for (t, id) in times {
        println!("{t:?} {id}");
    }
}

#[test]
#[ignore]
fn timing_incremental() {
    let text = warden_core::rules::DEFAULT_PACK;
    let pack = warden_core::rules::RulePack::parse(text, "d").unwrap();
    let mut input = String::new();
    for i in 0..300 {
        input.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
        input.push_str(&format!("[ec2-user@ip-10-0-0-1 ~]$ kubectl get pods -n kube-system -o wide --selector app=web{i}\n"));
    }
    let input = warden_core::transcript::scan::TranscriptInput::Text(input);
    let order: Vec<String> = std::env::var("ORDER")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let mut rules_sorted = pack.rules.clone();
    if !order.is_empty() {
        rules_sorted.sort_by_key(|r| {
            order
                .iter()
                .position(|o| r.id.starts_with(o.as_str()))
                .unwrap_or(999)
        });
    }
    for n in 1..=rules_sorted.len() {
        let mut p = pack.clone();
        p.rules = rules_sorted[..n].to_vec();
        let rules = warden_core::rules::RuleSet::compile(vec![p]).unwrap();
        let t = std::time::Instant::now();
        let _ = warden_core::transcript::scan::scan_input(&rules, &input);
        println!("{:?} +{}", t.elapsed(), rules_sorted[n - 1].id);
    }
}

#[test]
#[ignore]
fn timing_file() {
    let path = std::env::var("PACK").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "x").unwrap();
    let rules = warden_core::rules::RuleSet::compile(vec![pack]).unwrap();
    let mut input = String::new();
    for i in 0..2000 {
        input.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
        if std::env::var("UNI").is_ok() {
            input.push_str(&format!(
                "[ec2-user@ip-10-0-0-1 ~]$ echo 'héllo wörld — ✓ {i}' > /tmp/ü\n"
            ));
        }
    }
    let t = std::time::Instant::now();
    let hits = warden_core::transcript::scan::scan_input(
        &rules,
        &warden_core::transcript::scan::TranscriptInput::Text(input),
    );
    println!(
        "file scan 2000 lines: {:?} hits {}",
        t.elapsed(),
        hits.len()
    );
    let t = std::time::Instant::now();
    let report = warden_core::rules::selftest::run(&rules);
    println!(
        "file selftest {} examples: {:?} failures {}",
        report.examples_run,
        t.elapsed(),
        report.failures.len()
    );
}

#[test]
#[ignore]
fn timing_leave_one_out() {
    let path = std::env::var("PACK").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "x").unwrap();
    let mut input = String::new();
    for i in 0..500 {
        input.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
        input.push_str(&format!("[ec2-user@ip-10-0-0-1 ~]$ kubectl get pods -n kube-system -o wide --selector app=web{i}\n"));
    }
    let input = warden_core::transcript::scan::TranscriptInput::Text(input);
    let base: Vec<_> = pack
        .rules
        .iter()
        .filter(|r| !r.id.ends_with(".copy"))
        .map(|r| r.id.clone())
        .collect();
    for id in base {
        let mut p = pack.clone();
        p.rules
            .retain(|r| r.id != id && r.id != format!("{id}.copy"));
        let rules = warden_core::rules::RuleSet::compile(vec![p]).unwrap();
        let t = std::time::Instant::now();
        let _ = warden_core::transcript::scan::scan_input(&rules, &input);
        println!("{:?} -{}", t.elapsed(), id);
    }
}

#[test]
#[ignore]
fn timing_weight() {
    let path = std::env::var("PACK").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "x").unwrap();
    let mut input = String::new();
    for i in 0..500 {
        input.push_str(&format!(
            "[ec2-user@ip-10-0-0-1 ~]$ sudo systemctl status nginx{i} | grep -v foo > /tmp/x\n"
        ));
        input.push_str(&format!("[ec2-user@ip-10-0-0-1 ~]$ kubectl get pods -n kube-system -o wide --selector app=web{i}\n"));
    }
    let input = warden_core::transcript::scan::TranscriptInput::Text(input);
    let k: usize = std::env::var("K").map(|k| k.parse().unwrap()).unwrap_or(3);
    for r in &pack.rules {
        let mut p = pack.clone();
        for c in 0..k {
            let mut copy = r.clone();
            copy.id = format!("{}.c{c}", r.id);
            p.rules.push(copy);
        }
        let rules = warden_core::rules::RuleSet::compile(vec![p]).unwrap();
        let t = std::time::Instant::now();
        let _ = warden_core::transcript::scan::scan_input(&rules, &input);
        println!("{:?} +{}x{k}", t.elapsed(), r.id);
    }
}

#[test]
#[ignore]
fn dump_candidates() {
    let mut out = String::new();
    let pack = warden_core::rules::RulePack::parse(warden_core::rules::DEFAULT_PACK, "d").unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string("/tmp/gen/corpus.txt")
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    if std::env::var("EXAMPLES").is_ok() {
        lines.clear();
        for r in &pack.rules {
            lines.extend(r.examples.must_match.iter().cloned());
            lines.extend(r.examples.must_not_match.iter().cloned());
        }
    }
    for line in lines {
        for n in normalize(&line) {
            out.push_str(&n.text.replace('\n', " "));
            out.push('\n');
        }
        out.push_str(&line.replace('\n', " "));
        out.push('\n');
    }
    std::fs::write(
        std::env::var("OUT").unwrap_or("/tmp/gen/candidates.txt".into()),
        out,
    )
    .unwrap();
}

#[test]
#[ignore]
fn timing_diverse() {
    let path = std::env::var("PACK").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "x").unwrap();
    let rules = warden_core::rules::RuleSet::compile(vec![pack]).unwrap();
    let d = warden_core::rules::RulePack::parse(warden_core::rules::DEFAULT_PACK, "d").unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string("/tmp/gen/corpus.txt")
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for r in &d.rules {
        if std::env::var("BENIGN_ONLY").is_ok() {
            break;
        }
        lines.extend(r.examples.must_match.iter().cloned());
        lines.extend(r.examples.must_not_match.iter().cloned());
    }
    let mut input = String::new();
    for l in &lines {
        input.push_str("[ec2-user@ip-10-0-0-1 ~]$ ");
        input.push_str(&l.replace('\u{8}', ""));
        input.push('\n');
    }
    let input = warden_core::transcript::scan::TranscriptInput::Text(input);
    for round in 0..3 {
        let t = std::time::Instant::now();
        let hits = warden_core::transcript::scan::scan_input(&rules, &input);
        println!(
            "diverse round {round}: {} lines {:?} per line {:?} hits {}",
            lines.len(),
            t.elapsed(),
            t.elapsed() / lines.len() as u32,
            hits.len()
        );
    }
}
#[test]
#[ignore]
fn quick_corpus() {
    let rules = warden_core::rules::default_rules();
    let lines: Vec<String> = std::fs::read_to_string("/tmp/gen/corpus.txt")
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    for l in &lines {
        let ids = warden_core::transcript::scan::rules_firing_on_example(
            &rules,
            warden_core::rules::Scope::Command,
            l,
        );
        if !ids.is_empty() {
            println!("FIRES {ids:?}: {l}");
        }
    }
}

const TARGET_BYTES: usize = 10 * 1024 * 1024;
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

#[test]
#[ignore]
fn timing_bench() {
    let path = std::env::var("PACK").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let pack = warden_core::rules::RulePack::parse(&text, "x").unwrap();
    let rules = warden_core::rules::RuleSet::compile(vec![pack]).unwrap();
    let lines = session_lines();
    let raw = warden_core::transcript::scan::TranscriptInput::Text(lines.join("\r\n") + "\r\n");
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let n = warden_core::transcript::scan::scan_input(&rules, &raw).len();
        println!("bench text: {:?} hits {n}", t.elapsed());
    }
}
