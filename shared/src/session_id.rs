//! Session ids: opaque to us, but bounded, and parts of storage keys. The check lives here, with
//! the id, so that reading a CloudTrail event and keeping a session record need not know each
//! other.

/// Why a string cannot be a Session Manager session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSessionId {
    #[error("empty")]
    Empty,
    #[error("longer than {MAX_LEN} characters")]
    TooLong,
    /// Whitespace, controls, `#` and `/` would break the storage keys the id becomes part of
    /// (`/` separates a member account from the id: `crate::session::session_key`).
    #[error("contains whitespace, control characters, `#` or `/`")]
    ForbiddenCharacter,
}

/// Session ids are 1 to 96 characters (the SSM API's limit).
pub const MAX_LEN: usize = 96;

/// `id` when it can be a session id.
pub fn validate(id: &str) -> Result<&str, InvalidSessionId> {
    if id.is_empty() {
        Err(InvalidSessionId::Empty)
    } else if id.len() > MAX_LEN {
        Err(InvalidSessionId::TooLong)
    } else if id
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '#' || c == '/')
    {
        Err(InvalidSessionId::ForbiddenCharacter)
    } else {
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_session_id_is_accepted() {
        assert_eq!(
            validate("alice-0a1b2c3d4e5f67890"),
            Ok("alice-0a1b2c3d4e5f67890")
        );
    }

    #[test]
    fn an_empty_id_is_refused() {
        assert_eq!(validate(""), Err(InvalidSessionId::Empty));
    }

    #[test]
    fn ninety_six_characters_are_the_most_accepted() {
        assert!(validate(&"a".repeat(96)).is_ok());
        assert_eq!(validate(&"a".repeat(97)), Err(InvalidSessionId::TooLong));
    }

    #[test]
    fn whitespace_controls_hash_and_slash_are_refused() {
        for id in [
            "alice 1",
            "alice\t1",
            "alice\u{1b}1",
            "alice#1",
            "222233334444/alice-1",
        ] {
            assert_eq!(
                validate(id),
                Err(InvalidSessionId::ForbiddenCharacter),
                "{id:?}"
            );
        }
    }
}
