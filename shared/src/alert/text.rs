//! Alerts for e-mail and people: a summary line, the fields, then links.

use super::facts::Facts;
use super::format_time;
use std::fmt::Write;

pub fn body(f: &Facts) -> String {
    let mut body = String::new();
    // Every value is shown on its own line whatever it holds: a command or a custom rule's
    // title cannot start a line of its own and pass for a field of the alert.
    let line = |body: &mut String, label: &str, value: &str| {
        let _ = writeln!(body, "{label:<14}{}", one_line(value));
    };
    let _ = writeln!(
        body,
        "[{}] {}: {} on {}\n",
        f.severity.as_str().to_uppercase(),
        one_line(&f.title),
        one_line(&f.who),
        one_line(&f.instance)
    );
    line(&mut body, "Why:", &f.why);
    for (label, value) in &f.details {
        line(&mut body, label, value);
    }
    line(&mut body, "Action:", &f.action);
    body.push('\n');
    line(&mut body, "Who:", &f.who);
    if let Some(p) = &f.principal {
        line(
            &mut body,
            "Principal:",
            p.arn.as_deref().unwrap_or("(no ARN)"),
        );
        if p.from_transcript {
            line(
                &mut body,
                "Identity:",
                &format!(
                    "{} (from the transcript: StartSession not recorded yet)",
                    p.identity_type
                ),
            );
        } else {
            line(&mut body, "Identity:", &p.identity_type);
        }
    }
    line(&mut body, "MFA:", &f.mfa);
    line(
        &mut body,
        "Source IP:",
        f.source_ip.as_deref().unwrap_or("unknown"),
    );
    line(
        &mut body,
        "User agent:",
        f.user_agent.as_deref().unwrap_or("unknown"),
    );
    line(&mut body, "Instance:", &f.instance);
    line(
        &mut body,
        "Document:",
        f.document.as_deref().unwrap_or("unknown"),
    );
    if let Some(reason) = &f.reason {
        line(&mut body, "Reason:", reason);
    }
    line(&mut body, "Session:", &f.session_id);
    line(&mut body, "State:", &f.state);
    line(
        &mut body,
        "Account:",
        &format!(
            "{}{} ({})",
            f.account.as_deref().unwrap_or("unknown"),
            f.account_name
                .as_deref()
                .map(|name| format!(" {name}"))
                .unwrap_or_default(),
            f.region.as_deref().unwrap_or("unknown")
        ),
    );
    if let Some(started) = f.started_at {
        line(&mut body, "Started:", &format_time(started, &f.zone));
    }
    if let Some(ended) = f.ended_at {
        line(&mut body, "Ended:", &format_time(ended, &f.zone));
    }
    if !f.links.is_empty() {
        body.push('\n');
    }
    for link in &f.links {
        line(&mut body, link.label, &link.url);
    }
    body
}

/// `text` with line breaks and other control characters spelled out (`\n`, `\u{1b}`).
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' => "\\n".to_string(),
                '\r' => "\\r".to_string(),
                '\t' => " ".to_string(),
                c if c.is_control() => c.escape_unicode().to_string(),
                c => c.to_string(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn line_breaks_and_escapes_are_spelled_out() {
        assert_eq!(
            one_line("ls\nAction:       none"),
            "ls\\nAction:       none"
        );
        assert_eq!(one_line("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(one_line("plain"), "plain");
    }
}
