//! Exit codes by failure class (documented in `--help` and the README).

use sealed_session::Error;

pub(crate) const OTHER: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const MALFORMED: u8 = 3;
pub(crate) const INVALID: u8 = 4;
pub(crate) const EXPIRED: u8 = 5;
pub(crate) const UNKNOWN_KEY: u8 = 6;

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
            Error::Malformed(_) | Error::TooLarge { .. } => MALFORMED,
            Error::Invalid => INVALID,
            Error::Expired { .. } | Error::NotYetValid { .. } => EXPIRED,
            Error::UnknownKey(_) => UNKNOWN_KEY,
            // Only flag values (`--purpose`, `--lifetime`, ...) build a codec.
            Error::Config(_) => USAGE,
            _ => OTHER,
        };
        Self::new(code, e.to_string())
    }
}

impl From<sealed_session::InputError> for CliError {
    fn from(e: sealed_session::InputError) -> Self {
        Self::new(MALFORMED, e.to_string())
    }
}
