//! Tokenising: quotes, escapes, comments, continuations.

use super::*;

// --- tokenising -------------------------------------------------------------------------

#[test]
fn single_quotes_keep_spaces_inside_one_word() {
    let cmd = entry(
        "grep 'Failed password' /var/log/auth.log",
        "grep Failed password /var/log/auth.log",
    );
    assert_eq!(cmd.argv, ["grep", "Failed password", "/var/log/auth.log"]);
    assert!(cmd.via.is_empty());
}

#[test]
fn double_quotes_unescape_quote_backslash_dollar_and_backtick() {
    let cmd = &normalize(r#"echo "say \"hi\" to \$USER at \\srv \`id\` \n""#)[0];
    assert_eq!(cmd.argv, ["echo", r#"say "hi" to $USER at \srv `id` \n"#]);
}

#[test]
fn backslash_outside_quotes_escapes_the_next_character() {
    assert_eq!(texts(r"r\m -rf /tmp/build"), ["rm -rf /tmp/build"]);
    assert_eq!(texts(r"\rm -rf /tmp/build"), ["rm -rf /tmp/build"]);
}

#[test]
fn empty_quotes_inside_a_word_vanish() {
    assert_eq!(texts("r''m -rf /"), ["rm -rf /"]);
    assert_eq!(texts(r#"r""m -rf /"#), ["rm -rf /"]);
    assert_eq!(texts(r#"c'a't /etc/sha"d"ow"#), ["cat /etc/shadow"]);
}

#[test]
fn empty_quotes_alone_make_an_empty_argument() {
    let cmd = &normalize("ssh-keygen -t ed25519 -N '' -f /tmp/k")[0];
    assert_eq!(
        cmd.argv,
        ["ssh-keygen", "-t", "ed25519", "-N", "", "-f", "/tmp/k"]
    );
}

#[test]
fn ansi_c_quoting_decodes_hex_octal_and_unicode_escapes() {
    assert_eq!(texts(r"$'\x72\x6d' -rf /"), ["rm -rf /"]);
    assert_eq!(texts(r"$'\162\155' -rf /"), ["rm -rf /"]);
    assert_eq!(texts(r"$'\u0072'm -rf /"), ["rm -rf /"]);
    let cmd = &normalize(r"printf %s $'a\tb\nc\\d\'e'")[0];
    assert_eq!(cmd.argv[2], "a\tb\nc\\d'e");
}

#[test]
fn runs_of_spaces_and_tabs_separate_words_once() {
    assert_eq!(texts("  ls \t -la\t\t/root   "), ["ls -la /root"]);
}

#[test]
fn hash_at_a_word_start_comments_out_the_rest_of_the_line() {
    assert_eq!(texts("ls -la # && rm -rf /"), ["ls -la"]);
    assert_eq!(texts("echo a#b"), ["echo a#b"]);
}

#[test]
fn backslash_newline_continues_the_line() {
    assert_eq!(texts("rm \\\n  -rf /var/www"), ["rm -rf /var/www"]);
}
