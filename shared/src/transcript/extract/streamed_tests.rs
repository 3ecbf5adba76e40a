//! The extractor on what streamed records make of line editing, one session shape each.

use super::{CommandExtractor, TranscriptLine};
use crate::transcript::terminal::ScreenLine;

fn line(text: &str) -> ScreenLine {
    ScreenLine {
        text: text.to_string(),
        erased: None,
        stale_tail: false,
        bell: false,
        redraw: false,
    }
}

fn rung(text: &str) -> ScreenLine {
    ScreenLine {
        bell: true,
        ..line(text)
    }
}

/// The commands read from a session, in order, with the kind of line each came from.
fn read(lines: &[ScreenLine]) -> Vec<(String, &'static str)> {
    let mut extractor = CommandExtractor::new();
    lines
        .iter()
        .filter_map(|l| match extractor.classify(l) {
            TranscriptLine::Command { kind, command, .. } => Some((command, kind.as_str())),
            TranscriptLine::Output(_) => None,
        })
        .collect()
}

fn commands(lines: &[ScreenLine]) -> Vec<String> {
    read(lines).into_iter().map(|(c, _)| c).collect()
}

fn padded(prompt_and_command: &str) -> String {
    format!("#{}{prompt_and_command}", " ".repeat(100))
}

#[test]
fn a_long_zsh_line_is_unwrapped_at_the_width_its_padding_showed() {
    let digits = "0123456789".repeat(13);
    let typed = format!("vm# echo wrap-{digits}");
    let streamed = format!("{} {}{}", &typed[..100], &typed[100..101], &typed[100..]);
    let got = commands(&[line(&padded("vm# ls")), line(&padded(&streamed))]);
    assert_eq!(got, ["ls".to_string(), format!("echo wrap-{digits}")]);
}

#[test]
fn without_a_known_width_the_streamed_line_is_kept_as_typed() {
    let digits = "0123456789".repeat(13);
    let streamed = format!("bash-5.2$ echo wrap-{} {}", &digits[..80], &digits[80..]);
    let got = commands(&[line(&streamed)]);
    assert_eq!(got, [streamed["bash-5.2$ ".len()..].to_string()]);
}

#[test]
fn the_line_drawn_again_after_a_completion_listing_is_the_command() {
    let got = commands(&[
        rung(&padded("vm# ls notes")),
        line("notes-2.txt  notes.txtls notes.txt"),
        line("notes.txt"),
    ]);
    assert_eq!(got, ["ls notes", "ls notes.txt"]);
}

#[test]
fn a_listing_is_not_looked_for_without_a_bell() {
    let got = commands(&[line("sh-5.2$ cat notes"), line("see cat notes.txt")]);
    assert_eq!(got, ["cat notes"]);
}

#[test]
fn a_zsh_history_search_runs_the_session_command_it_found() {
    let got = commands(&[
        line(&padded("vm# echo hello-session")),
        line(&padded("vm# echo recall-me")),
        line("bck-i-search: _echo recalh_hhello-e_ell_lll_loo_o--_-ss_hello-shello-session"),
    ]);
    assert_eq!(
        got,
        ["echo hello-session", "echo recall-me", "echo hello-session"]
    );
}

#[test]
fn a_zsh_history_search_for_a_command_not_seen_reads_as_output() {
    let got = commands(&[line("bck-i-search: _r_rm_rm -rf /tmp/old")]);
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn a_bash_search_glued_onto_a_stale_prompt_runs_the_command_it_matched() {
    let got = commands(&[
        line("(venv) root@vm:~/app# echo hello-session"),
        line(
            "(venv) root@vm:~/app# (reverse-i-search)`hello-s': echo venv) root@vm:~/app# echo hello-session",
        ),
    ]);
    assert_eq!(got, ["echo hello-session", "echo hello-session"]);
}

#[test]
fn exit_typed_at_a_hidden_prompt_counts_and_the_shells_farewell_does_not() {
    let got = read(&[
        line("sh-5.2$ PS1=''"),
        line("echo back-home"),
        line("back-home"),
        line("exit"),
        line(""),
        line("exit"),
    ]);
    let exits = got.iter().filter(|(c, _)| c == "exit").count();
    assert_eq!(exits, 1, "{got:?}");
}

#[test]
fn a_command_glued_onto_output_without_a_newline_is_read_at_a_hidden_prompt() {
    let got = commands(&[
        line("sh-5.2$ PS1=''"),
        line("printf done"),
        line("doneecho after-printf"),
    ]);
    assert_eq!(got, ["PS1=''", "printf done", "echo after-printf"]);
}

#[test]
fn a_zsh_prompt_printed_raw_by_another_shell_is_still_a_prompt() {
    let got = commands(&[
        line("➜  app git:(main) bash --norc"),
        line("%F{green}➜%f  %F{cyan}%c%f git:(main) rm -rf /srv"),
    ]);
    assert_eq!(got, ["bash --norc", "rm -rf /srv"]);
}

#[test]
fn a_learned_working_directory_prompt_never_matches_a_quoted_dollar() {
    let got = commands(&[
        line(r"sh-5.2$ PS1='\w $ '"),
        line("/srv/app $ cat deploy.sh"),
        line(r#"echo "deploying to web-1: cost $ 0""#),
    ]);
    assert_eq!(got, [r"PS1='\w $ '", "cat deploy.sh"]);
}

/// The commands read from a session, with later lines' revisions applied to earlier ones.
fn commands_revised(lines: &[ScreenLine]) -> Vec<String> {
    revised(CommandExtractor::new(), lines)
}

fn revised(mut extractor: CommandExtractor, lines: &[ScreenLine]) -> Vec<String> {
    let mut read: Vec<(usize, String)> = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        if let TranscriptLine::Command { command, .. } = extractor.classify(l) {
            read.push((n, command));
        }
        if let Some(revision) = extractor.take_revision() {
            let at = n - revision.lines_back;
            let revised = read.iter_mut().find(|(line, _)| *line == at).unwrap();
            revised.1 = revision.command;
        }
    }
    read.into_iter().map(|(_, c)| c).collect()
}

#[test]
fn a_readline_wrap_is_undone_when_the_output_shows_the_split_word_whole() {
    let digits = "0123456789".repeat(13);
    let streamed = format!("bash-5.2$ echo wrap-{} {}", &digits[..80], &digits[80..]);
    let got = commands_revised(&[line(&streamed), line(&format!("wrap-{digits}"))]);
    assert_eq!(got, [format!("echo wrap-{digits}")]);
}

#[test]
fn a_confirmed_wrap_teaches_the_width_for_the_lines_after_it() {
    let digits = "0123456789".repeat(13);
    let first = format!("bash-5.2$ echo wrap-{} {}", &digits[..80], &digits[80..]);
    let typed = format!("cat /var/log/app/{}", &digits[..100]);
    let second = format!("bash-5.2$ {} {}", &typed[..90], &typed[90..]);
    let got = commands_revised(&[
        line(&first),
        line(&format!("wrap-{digits}")),
        line(&second),
        line("cat: permission denied"),
    ]);
    assert_eq!(got, [format!("echo wrap-{digits}"), typed]);
}

#[test]
fn a_space_at_a_common_width_stays_when_the_output_does_not_repeat_the_word() {
    let path = "/srv/releases/2026-11-30/build-012345678/artifacts";
    let typed = format!("tar czf /tmp/release-backup-archive.tgz {path} /etc/nginx/sites-enabled");
    assert_eq!(
        typed.find(" /etc").map(|at| at + "bash-5.2$ ".len()),
        Some(100)
    );
    let got = commands_revised(&[
        line(&format!("bash-5.2$ {typed}")),
        line("tar: Removing leading `/' from member names"),
    ]);
    assert_eq!(got, [typed]);
}

#[test]
fn with_the_prompt_hidden_a_wrapped_candidate_is_undone_the_same_way() {
    let digits = "0123456789".repeat(13);
    let got = commands_revised(&[
        line("bash-5.2$ PS1=''"),
        line(&format!("echo wrap-{} {}", &digits[..90], &digits[90..])),
        line(&format!("wrap-{digits}")),
    ]);
    assert_eq!(got, ["PS1=''".to_string(), format!("echo wrap-{digits}")]);
}

#[test]
fn a_busybox_row_ended_at_the_margin_is_joined_when_the_output_shows_the_word_whole() {
    let digits = "0123456789".repeat(13);
    let prompt = "/home/app # ";
    let typed = format!("echo wrap-{digits}");
    let cut = 100 - prompt.len();
    let got = commands_revised(&[
        line(&format!("{prompt}{}", &typed[..cut])),
        line(&typed[cut..]),
        line(&format!("wrap-{digits}")),
    ]);
    assert_eq!(got, [typed]);
}

#[test]
fn a_line_at_the_margin_followed_by_unrelated_output_is_left_as_it_was_read() {
    let prompt = "/home/app # ";
    let typed = format!("ls -l {}", "d".repeat(100 - prompt.len() - 6));
    let got = commands_revised(&[
        line(&format!("{prompt}{typed}")),
        line("total 0"),
        line("ls: cannot open directory"),
    ]);
    assert_eq!(got, [typed]);
}

/// A streamed fish session at a 100-column terminal, with its later revisions applied.
fn fish_commands(lines: &[ScreenLine]) -> Vec<String> {
    let mut extractor = CommandExtractor::new();
    extractor.set_streamed(true);
    extractor.fish_seen(100);
    revised(extractor, lines)
}

fn redrawn(text: &str) -> ScreenLine {
    ScreenLine {
        redraw: true,
        ..line(text)
    }
}

#[test]
fn fish_keys_on_the_row_below_a_backslash_are_the_next_line_of_the_command() {
    let got = fish_commands(&[
        line("root@vm ~/app# echo one \\"),
        line(""),
        line("\\"),
        line("t"),
        redrawn("t"),
        line("w"),
        line("o"),
        line(""),
        line("one two"),
    ]);
    assert_eq!(got, ["echo one \\", "two"]);
}

#[test]
fn fish_keys_after_an_open_quote_end_the_quote_and_the_row_above_redrawn_is_skipped() {
    let got = fish_commands(&[
        line("root@vm ~/app# echo 'open"),
        line(""),
        line("q"),
        line("u"),
        line("o"),
        line("t"),
        line("e"),
        line("'"),
        redrawn("'open"),
        line(""),
        line("open"),
        line("quote"),
    ]);
    assert_eq!(got, ["echo 'open", "quote'"]);
}

#[test]
fn fish_keys_past_the_margin_are_the_rest_of_the_wrapped_command() {
    let digits = "0123456789".repeat(13);
    let typed = format!("echo wrap-{digits}");
    let prompt = "root@vm ~/app# ";
    let cut = 100 - prompt.len();
    let mut lines = vec![line(&format!("{prompt}{}", &typed[..cut]))];
    // The first draw below repeats the last two chars of the row above.
    lines.push(line(&typed[cut - 2..cut + 1]));
    lines.extend(typed[cut + 1..].chars().map(|c| line(&c.to_string())));
    lines.push(line(""));
    lines.push(line(&format!("wrap-{digits}")));
    assert_eq!(fish_commands(&lines), [typed]);
}

#[test]
fn short_output_after_a_short_fish_command_is_not_taken_for_keys() {
    let got = fish_commands(&[
        line("root@vm ~/app# seq 1 3"),
        line("1"),
        line("2"),
        line("3"),
        line(""),
        line("root@vm ~/app# ls"),
    ]);
    assert_eq!(got, ["seq 1 3", "ls"]);
}

#[test]
fn upload_at_end_lines_are_never_read_as_fish_keys() {
    let mut extractor = CommandExtractor::new();
    extractor.fish_seen(100);
    let lines = [
        line("root@vm ~/app# echo 'open"),
        line("q"),
        line("'"),
        line(""),
    ];
    let kinds: Vec<bool> = lines
        .iter()
        .map(|l| matches!(extractor.classify(l), TranscriptLine::Command { .. }))
        .collect();
    assert_eq!(kinds, [true, false, false, false]);
}

#[test]
fn the_latest_of_a_chain_of_glued_zsh_redraws_is_the_command() {
    let got = commands(&[
        line("╰─ tkginstallertkginstaller linux"),
        line("╰─ tkginstaller wintkginstaller wine"),
    ]);
    assert_eq!(got, ["tkginstaller linux", "tkginstaller wine"]);
}

#[test]
fn a_command_repeating_its_first_letters_is_not_split_into_draws() {
    let got = commands(&[
        line("$ git commit -m 'gitgit'"),
        line("$ make install-makefile"),
        line("$ echo abcabcabc"),
    ]);
    assert_eq!(
        got,
        [
            "git commit -m 'gitgit'",
            "make install-makefile",
            "echo abcabcabc"
        ]
    );
}
