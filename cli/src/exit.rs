//! Exit codes by failure class (documented in `--help` and the README).

use sealed_session::Error;

pub(crate) const OTHER: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const MALFORMED: u8 = 3;
pub(crate) const INVALID: u8 = 4;
pub(crate) const EXPIRED: u8 = 5;
pub(crate) const UNKNOWN_KEY: u8 = 6;
pub(crate) const LOCKED: u8 = 7;

/// A failure: the exit code and the one line printed to stderr.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Malformed(_) | Error::InputTooLarge { .. } | Error::TooLarge { .. } => MALFORMED,
            Error::Invalid => INVALID,
            Error::Expired { .. } | Error::NotYetValid { .. } => EXPIRED,
            Error::UnknownKey(_) => UNKNOWN_KEY,
            // Only flag values (`--purpose`, `--lifetime`, ...) build a codec,
            // and only `--own-lifetime` gives a session its own lifetime:
            // a value out of range is a usage error, as clap's are.
            Error::Config(_) | Error::Lifetime { .. } => USAGE,
            _ => OTHER,
        };
        let message = match &e {
            // Operators read times as dates, not unix seconds.
            Error::Expired { at, now } => format!(
                "session expired {} s ago (ended {}, now {})",
                now.saturating_sub(*at),
                rfc3339(*at),
                rfc3339(*now)
            ),
            Error::NotYetValid { issued, now } => format!(
                "session is issued {} s in the future (issued {}, now {})",
                issued.saturating_sub(*now),
                rfc3339(*issued),
                rfc3339(*now)
            ),
            _ => e.to_string(),
        };
        Self::new(code, message)
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map_or_else(|_| unix.to_string(), crate::output::rfc3339)
}

impl From<sealed_session::InputError> for CliError {
    fn from(e: sealed_session::InputError) -> Self {
        Self::new(MALFORMED, e.to_string())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        Self::new(OTHER, format!("cannot write JSON: {e}"))
    }
}
