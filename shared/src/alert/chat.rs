//! Alerts for chat channels: the custom-notification JSON that AWS chat integrations (Amazon Q
//! Developer in chat applications) take from an SNS topic, in the chat's markdown.
//!
//! Every value from a session (names, commands, rule titles of custom packs) is shown as code,
//! so what a user typed can never become a link, a mention or formatting in the channel.

use super::facts::Facts;
use crate::policy::Severity;
use serde_json::json;

pub fn body(f: &Facts) -> String {
    let mark = match f.severity {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
    };
    let mut description = format!(
        "*Who:* {} on {}\n*Why:* {}\n",
        code(&f.who),
        code(&f.instance),
        plain(&f.why)
    );
    for (label, value) in &f.details {
        description.push_str(&format!("*{}* {}\n", label, code_block(value)));
    }
    description.push_str(&format!("*Action:* {}\n", plain(&f.action)));
    if let Some(reason) = &f.reason {
        description.push_str(&format!("*Reason:* {}\n", code(reason)));
    }
    description.push_str(&format!(
        "*Session:* {} ({}, MFA {}, from {})",
        code(&f.session_id),
        f.state,
        f.mfa,
        code(f.source_ip.as_deref().unwrap_or("unknown"))
    ));
    let mut next_steps: Vec<String> = f
        .links
        .iter()
        // A bare address is linked by every chat client; link markup differs between them.
        .map(|l| format!("{} {}", l.label, l.url))
        .collect();
    next_steps.push(format!("warden sessions show {}", f.session_id));
    let mut keywords = vec![f.severity.as_str().to_string(), f.kind.clone()];
    keywords.extend(f.rule_id.clone());
    json!({
        "version": "1.0",
        "source": "custom",
        "id": f.alert_id,
        "content": {
            "textType": "client-markdown",
            "title": format!("{mark} [{}] {}", f.severity.as_str().to_uppercase(), plain(&f.title)),
            "description": description,
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": f.session_id,
            "summary": format!("{}: {} on {}", plain(&f.title), f.who, f.instance),
            "eventType": f.kind,
            "relatedResources": [f.instance, f.session_id],
            "additionalContext": {
                "alert_id": f.alert_id,
                "account": f.account.clone().unwrap_or_default(),
                "account_name": f.account_name.clone().unwrap_or_default(),
                "region": f.region.clone().unwrap_or_default(),
                "action": f.action_code,
            },
        },
    })
    .to_string()
}

/// One line with no control characters and no markup chars a chat would act on.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '*' | '_' | '~' | '`' | '<' | '>' | '|' | '[' | ']' => '\u{2027}',
            c => c,
        })
        .collect()
}

/// Inline code: backticks inside cannot close it.
fn code(text: &str) -> String {
    let inner: String = text
        .chars()
        .map(|c| match c {
            '`' => '\u{2018}',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("`{inner}`")
}

/// A fenced block longer than any run of backticks in the text, so nothing inside ends it.
fn code_block(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let body: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    format!("{fence}\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_loses_markup_and_controls() {
        assert_eq!(plain("a *b* <!here>\nc"), "a ‧b‧ ‧!here‧ c");
    }

    #[test]
    fn backticks_cannot_close_inline_code_or_a_block() {
        assert_eq!(code("echo `id`"), "`echo ‘id‘`");
        let block = code_block("printf '````'");
        assert!(
            block.starts_with("`````\n") && block.ends_with("\n`````"),
            "{block}"
        );
    }
}
