//! Shell-style globs (`*` any run of characters, `?` one character) for ARNs and role names,
//! the form operators already use in IAM policies.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<char>,
    text: String,
}

impl Glob {
    pub fn new(pattern: &str) -> Self {
        Glob {
            pattern: pattern.chars().collect(),
            text: pattern.to_string(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Iterative wildcard match with single-star backtracking: linear in practice, no recursion.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut p, mut t) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some('?') => {
                    p += 1;
                    t += 1;
                }
                Some(c) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.pattern[p..].iter().all(|c| *c == '*')
    }
}

/// A comma-separated list of globs, as given in an environment variable.
pub fn parse_list(value: &str) -> Vec<Glob> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Glob::new)
        .collect()
}

pub fn any_matches(globs: &[Glob], text: &str) -> bool {
    globs.iter().any(|g| g.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_slashes() {
        let g = Glob::new("arn:aws:sts::123456789012:assumed-role/Batch/*");
        assert!(g.matches("arn:aws:sts::123456789012:assumed-role/Batch/nightly"));
        assert!(g.matches("arn:aws:sts::123456789012:assumed-role/Batch/"));
        assert!(!g.matches("arn:aws:sts::123456789012:assumed-role/BatchAdmin/x"));
    }

    #[test]
    fn prefix_glob_matches_sso_roles() {
        let g = Glob::new("AWSReservedSSO_*");
        assert!(g.matches("AWSReservedSSO_PowerUserAccess_3f2a9c1d0b7e6a54"));
        assert!(!g.matches("Admin"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        let g = Glob::new("user/a?c");
        assert!(g.matches("user/abc"));
        assert!(!g.matches("user/ac"));
    }

    #[test]
    fn star_backtracks_over_repeated_literals() {
        assert!(Glob::new("*a*b").matches("xaxaxb"));
        assert!(!Glob::new("*a*b").matches("xaxax"));
        assert!(Glob::new("*").matches(""));
    }

    #[test]
    fn list_parsing_ignores_blanks_and_spaces() {
        let list = parse_list(" AWSReservedSSO_* , ,Okta* ");
        assert_eq!(list.len(), 2);
        assert!(any_matches(&list, "OktaAdmins"));
    }
}
