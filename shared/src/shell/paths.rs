//! Paths as the shell would resolve them without touching the disk: relative paths against a
//! known working directory, and globs against the paths every Linux host has that rules care
//! about (`/???/??t /???/?h?d?w` is `cat /etc/shadow` on any of them).

/// Glob matches kept for one word: a glob that could name many known paths names all of them
/// for detection, but the line's entries stay bounded.
pub(super) const MAX_GLOB_MATCHES: usize = 8;

/// Directories programs are run from.
const BIN_DIRS: &[&str] = &["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

/// Programs the rules name, matched by a glob in a program's place (`/???/b??h`).
const PROGRAMS: &[&str] = &[
    "awk",
    "base64",
    "bash",
    "busybox",
    "cat",
    "chattr",
    "chmod",
    "chown",
    "cp",
    "crontab",
    "curl",
    "dash",
    "dd",
    "find",
    "grep",
    "head",
    "history",
    "iptables",
    "kill",
    "less",
    "mkfs",
    "more",
    "mv",
    "nc",
    "ncat",
    "netcat",
    "nmap",
    "node",
    "openssl",
    "passwd",
    "perl",
    "php",
    "pkill",
    "python",
    "python2",
    "python3",
    "rm",
    "rsync",
    "ruby",
    "scp",
    "sed",
    "setenforce",
    "sh",
    "shred",
    "socat",
    "ssh",
    "su",
    "sudo",
    "systemctl",
    "tail",
    "tar",
    "tee",
    "truncate",
    "useradd",
    "usermod",
    "vi",
    "vim",
    "wget",
    "wipefs",
    "xxd",
    "zsh",
];

/// Files and directories the rules name, for globs that spell them.
const KNOWN_PATHS: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/dev/mem",
    "/dev/nvme0n1",
    "/dev/sda",
    "/dev/shm",
    "/dev/xvda",
    "/etc",
    "/etc/crontab",
    "/etc/cron.d",
    "/etc/gshadow",
    "/etc/hosts",
    "/etc/kubernetes/admin.conf",
    "/etc/ld.so.preload",
    "/etc/pam.d",
    "/etc/passwd",
    "/etc/profile",
    "/etc/rc.local",
    "/etc/security/opasswd",
    "/etc/shadow",
    "/etc/ssh",
    "/etc/ssh/sshd_config",
    "/etc/ssh/ssh_host_ed25519_key",
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/home",
    "/lib",
    "/opt",
    "/proc",
    "/proc/1/environ",
    "/proc/self/environ",
    "/proc/sysrq-trigger",
    "/root",
    "/root/.aws",
    "/root/.aws/config",
    "/root/.aws/credentials",
    "/root/.bash_history",
    "/root/.bashrc",
    "/root/.docker/config.json",
    "/root/.kube/config",
    "/root/.netrc",
    "/root/.pgpass",
    "/root/.ssh",
    "/root/.ssh/authorized_keys",
    "/root/.ssh/id_ed25519",
    "/root/.ssh/id_rsa",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/var/lib",
    "/var/lib/docker",
    "/var/lib/mysql",
    "/var/lib/postgresql",
    "/var/log",
    "/var/log/audit",
    "/var/log/auth.log",
    "/var/log/btmp",
    "/var/log/lastlog",
    "/var/log/messages",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/wtmp",
    "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "/var/spool/cron",
    "/var/tmp",
    "/var/www",
];

/// `rel` resolved against `cwd` (absolute), `.` and `..` applied: `("/var/lib", "../log")` is
/// `/var/log`; `("/", "*")` is `/*`.
pub(super) fn join(cwd: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return clean(rel);
    }
    clean(&format!("{cwd}/{rel}"))
}

/// `.` and `..` applied and repeated slashes dropped, as `cd` would (without following links).
pub(super) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for part in &parts {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Whether an unquoted word is a glob: `*`, `?`, or a closed `[…]`.
pub(super) fn is_glob(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.iter().any(|&b| b == b'*' || b == b'?')
        || bytes
            .iter()
            .position(|&b| b == b'[')
            .is_some_and(|open| bytes[open..].contains(&b']'))
}

/// The known paths a glob names, in table order, at most [`MAX_GLOB_MATCHES`]. A relative glob
/// needs the working directory. Empty when it names none: the shell then passes it as written.
pub(super) fn glob_matches(pattern: &str, cwd: Option<&str>) -> Vec<String> {
    let absolute = match (pattern.starts_with('/'), cwd) {
        (true, _) => pattern.to_string(),
        (false, Some(cwd)) => format!("{}/{pattern}", cwd.trim_end_matches('/')),
        (false, None) => return Vec::new(),
    };
    let wanted: Vec<&str> = absolute.split('/').filter(|p| !p.is_empty()).collect();
    let mut found: Vec<String> = Vec::new();
    let matches = |path: &str| {
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let same = wanted
            .iter()
            .all(|w| parts.next().is_some_and(|p| component_matches(w, p)));
        same && parts.next().is_none()
    };
    for path in KNOWN_PATHS {
        if found.len() >= MAX_GLOB_MATCHES {
            return found;
        }
        if matches(path) {
            found.push(path.to_string());
        }
    }
    // Programs: the directory and the name are matched apart, without building every path.
    let Some((name, dir)) = wanted.split_last() else {
        return found;
    };
    for bin in BIN_DIRS {
        let mut bin_parts = bin.split('/').filter(|p| !p.is_empty());
        let dir_matches = dir
            .iter()
            .all(|w| bin_parts.next().is_some_and(|p| component_matches(w, p)))
            && bin_parts.next().is_none();
        if !dir_matches {
            continue;
        }
        for program in PROGRAMS {
            if found.len() >= MAX_GLOB_MATCHES {
                return found;
            }
            let path = format!("{bin}/{program}");
            if component_matches(name, program) && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// One path component against one glob component: `*` any run, `?` one character, `[…]` a set
/// (`!` or `^` negates, `a-z` ranges). A leading `.` is only matched by a literal `.`.
fn component_matches(glob: &str, name: &str) -> bool {
    if name.starts_with('.') && !glob.starts_with('.') {
        return false;
    }
    let glob: Vec<char> = glob.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut g, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match glob.get(g) {
            Some('*') => {
                star = Some((g, n));
                g += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class(&glob[g..], name[n]) {
                Some((true, width)) => Some(width),
                Some((false, _)) => None,
                // An unclosed `[` is a literal.
                None => (name[n] == '[').then_some(1),
            },
            Some(c) if *c == name[n] => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(width), _) => {
                g += width;
                n += 1;
            }
            (None, Some((star_g, star_n))) => {
                g = star_g + 1;
                n = star_n + 1;
                star = Some((star_g, star_n + 1));
            }
            (None, None) => return false,
        }
    }
    glob[g..].iter().all(|c| *c == '*')
}

/// A `[…]` set at the start of `glob`: whether `c` is in it, and the set's width in characters.
fn class(glob: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(glob.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    while let Some(&g) = glob.get(i) {
        if g == ']' && !first {
            return Some((found != negated, i + 1));
        }
        if glob.get(i + 1) == Some(&'-') && glob.get(i + 2).is_some_and(|e| *e != ']') {
            let end = glob[i + 2];
            found |= (g..=end).contains(&c);
            i += 3;
        } else {
            found |= g == c;
            i += 1;
        }
        first = false;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        assert_eq!(join("/var/lib", "mysql"), "/var/lib/mysql");
        assert_eq!(join("/var/lib", "../log/./syslog"), "/var/log/syslog");
        assert_eq!(join("/", "*"), "/*");
        assert_eq!(join("/etc", "."), "/etc");
        assert_eq!(join("/etc", "/tmp/x"), "/tmp/x");
    }

    #[test]
    fn dot_dot_stops_at_the_root() {
        assert_eq!(join("/", "../../etc"), "/etc");
        assert_eq!(clean("//etc///ssh/"), "/etc/ssh");
    }

    #[test]
    fn question_marks_spell_the_shadow_file_and_its_reader() {
        assert_eq!(glob_matches("/???/?h?d?w", None), ["/etc/shadow"]);
        let readers = glob_matches("/???/??t", None);
        assert!(readers.contains(&"/bin/cat".to_string()), "{readers:?}");
    }

    #[test]
    fn a_star_completes_a_credentials_file() {
        assert_eq!(
            glob_matches("/root/.aws/cred*", None),
            ["/root/.aws/credentials"]
        );
    }

    #[test]
    fn sets_and_ranges_match_one_character() {
        assert_eq!(glob_matches("/etc/[s]hado[a-z]", None), ["/etc/shadow"]);
        assert_eq!(glob_matches("/etc/[!p]asswd", None), Vec::<String>::new());
    }

    #[test]
    fn a_star_does_not_cross_a_slash_or_match_a_hidden_name() {
        assert!(glob_matches("/*/shadow", None).contains(&"/etc/shadow".to_string()));
        assert!(
            glob_matches("/*", None)
                .iter()
                .all(|p| p.matches('/').count() == 1)
        );
        assert!(glob_matches("/root/*", None).is_empty());
    }

    #[test]
    fn a_relative_glob_needs_the_working_directory() {
        assert!(glob_matches("sh*w", None).is_empty());
        assert_eq!(glob_matches("sh*w", Some("/etc")), ["/etc/shadow"]);
    }

    #[test]
    fn a_glob_naming_many_paths_is_capped() {
        assert_eq!(glob_matches("/*/*", None).len(), MAX_GLOB_MATCHES);
    }

    #[test]
    fn only_unquoted_wildcards_and_closed_sets_are_globs() {
        assert!(is_glob("/???/??t"));
        assert!(is_glob("cred*"));
        assert!(is_glob("[ab]c"));
        assert!(!is_glob("["));
        assert!(!is_glob("/etc/shadow"));
    }
}
