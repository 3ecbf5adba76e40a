//! Alerts for e-mail and people: a summary line, the fields, then links.

use super::facts::Facts;
use super::format_time;
use std::fmt::Write;

pub fn body(f: &Facts) -> String {
    let mut body = String::new();
    let line = |body: &mut String, label: &str, value: &str| {
        let _ = writeln!(body, "{label:<14}{value}");
    };
    let _ = writeln!(
        body,
        "[{}] {}: {} on {}\n",
        f.severity.as_str().to_uppercase(),
        f.title,
        f.who,
        f.instance
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
            "{} ({})",
            f.account.as_deref().unwrap_or("unknown"),
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
