//! The one error type of the crate.

use core::fmt;

use crate::ids::KeyId;
use crate::mode::Mode;

/// Everything that can go wrong while loading keys, configuring a codec,
/// sealing or opening a token.
///
/// Authentication failures are deliberately one opaque variant,
/// [`Error::Invalid`]: a wrong key, a tampered byte, a wrong purpose and a
/// token forged from scratch all look the same to the caller, so they look the
/// same to an attacker.
///
/// ```
/// use sealed_session::{Codec, Error, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// # let cookie = codec.seal(&7u64)?;
/// // What a web app does with an incoming cookie:
/// let user_id = match codec.open::<u64>(&cookie) {
///     Ok(opened) => Some(*opened.value()),
///     // Forged, tampered, expired, from a retired key, or of an old shape:
///     // the visitor starts a new session.
///     Err(Error::Invalid | Error::Expired { .. } | Error::UnknownKey(_)) => None,
///     Err(Error::Payload(_) | Error::Malformed(_) | Error::TooLarge { .. }) => None,
///     Err(other) => return Err(other), // a problem on our side
/// };
/// assert_eq!(user_id, Some(7));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A master secret is shorter than the minimum.
    KeyTooShort {
        /// Length of the secret that was given, in bytes.
        len: usize,
        /// Minimum length, in bytes.
        min: usize,
    },
    /// A master secret is longer than the maximum.
    KeyTooLong {
        /// Length of the secret that was given, in bytes.
        len: usize,
        /// Maximum length, in bytes.
        max: usize,
    },
    /// A master secret is obviously not random (every byte the same).
    WeakKey,
    /// A key's text is not valid base64 (standard or URL-safe but not both,
    /// padded or not).
    KeyEncoding,
    /// A key could not be read from a file or an environment variable.
    KeySource {
        /// The file path or variable name.
        source: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A key-ring file does not parse.
    RingFile {
        /// The line of the problem (1-based).
        line: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The primary key cannot be removed from a ring; promote another first.
    RemovePrimary(KeyId),
    /// Two different keys of a key ring share a key id; generate another key.
    DuplicateKeyId(KeyId),
    /// A codec setting is out of range.
    Config(ConfigError),
    /// The token (on seal) or the input (on open) exceeds the size budget.
    TooLarge {
        /// Size of the token or input, in bytes.
        size: usize,
        /// The configured budget, in bytes.
        limit: usize,
    },
    /// The input is not a token of the format this codec opens. These checks
    /// run before authentication and concern only public structure.
    Malformed(Malformed),
    /// No key of the ring has the token's key id (a retired key, or a token
    /// from another ring).
    UnknownKey(KeyId),
    /// The token failed authentication: tampered, forged, sealed under another
    /// key or for another purpose. Deliberately says nothing more.
    Invalid,
    /// The session is past its end.
    Expired {
        /// When it ended (the earliest of the sealed `expires`, the absolute
        /// lifetime and the idle timeout), in unix seconds.
        at: i64,
        /// The time of the check, in unix seconds.
        now: i64,
    },
    /// The session was issued in the future (beyond the clock leeway).
    NotYetValid {
        /// When it was issued, in unix seconds.
        issued: i64,
        /// The time of the check, in unix seconds.
        now: i64,
    },
    /// The payload authenticated but does not deserialize into the requested
    /// type. Apps usually treat this as "start a new session". The message
    /// comes from serde and may quote parts of the payload: log it only where
    /// session contents may go.
    Payload(String),
    /// The claims authenticated but do not parse (FORMAT.md §5.1): the token
    /// was sealed by a key holder that does not follow the format.
    InvalidClaims(&'static str),
    /// The payload nests deeper than the decoder's recursion limit.
    PayloadTooDeep {
        /// The limit.
        limit: usize,
    },
    /// A subject must be 1 to 255 bytes.
    SubjectLength {
        /// Its length, in bytes.
        len: usize,
        /// The maximum, in bytes.
        max: usize,
    },
    /// The app's value could not be serialized.
    Serialize(String),
    /// A time is outside the range the format represents
    /// (1970-01-01 to 9999-12-31).
    TimeOutOfRange {
        /// The offending time, in unix seconds.
        unix: i64,
    },
}

/// Why a codec setting was refused.
///
/// ```
/// use sealed_session::{Codec, ConfigError, Error, Key, KeyRing};
/// let e = Codec::builder(KeyRing::new(Key::generate())).purpose("").build().unwrap_err();
/// assert!(matches!(e, Error::Config(ConfigError::PurposeLength { len: 0 })));
/// assert_eq!(e.to_string(), "invalid codec setting: purpose is 0 bytes, it must be 1 to 255");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The purpose is empty or longer than 255 bytes.
    PurposeLength {
        /// Its length, in bytes.
        len: usize,
    },
    /// A duration must be positive (the leeway may be zero).
    NonPositiveDuration {
        /// Which setting.
        setting: &'static str,
        /// Its value, in seconds.
        seconds: i64,
    },
    /// A duration is longer than the format represents sensibly.
    DurationTooLong {
        /// Which setting.
        setting: &'static str,
        /// Its value, in seconds.
        seconds: i64,
        /// The maximum, in seconds.
        max: i64,
    },
    /// The size budget is outside the supported range.
    Budget {
        /// The budget asked for, in bytes.
        budget: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
}

/// Why an input is not a token. Everything here is public structure checked
/// before any key is used, so naming the reason leaks nothing.
///
/// ```
/// use sealed_session::{Codec, Error, Key, KeyRing, Malformed};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let e = codec.open::<u8>("not a token!").unwrap_err();
/// assert!(matches!(e, Error::Malformed(Malformed::Base64)));
/// assert_eq!(e.to_string(), "malformed token: not strict unpadded base64url");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The input is empty.
    Empty,
    /// The input is not strict unpadded base64url.
    Base64,
    /// The decoded token is shorter than the smallest possible token.
    TooShort {
        /// Its length, in bytes.
        len: usize,
        /// The minimum, in bytes.
        min: usize,
    },
    /// The version byte names no known format.
    UnknownVersion(u8),
    /// The version byte names a known format in the other mode.
    WrongMode {
        /// The mode of the token.
        token: Mode,
        /// The mode of this codec.
        codec: Mode,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyTooShort { len, min } => {
                write!(f, "key is {len} bytes, at least {min} are required")
            }
            Self::KeyTooLong { len, max } => {
                write!(f, "key is {len} bytes, at most {max} are allowed")
            }
            Self::WeakKey => f.write_str("key is not random: every byte is the same"),
            Self::KeyEncoding => f.write_str("key is not valid base64"),
            Self::KeySource { source, reason } => {
                write!(f, "cannot read key from {source}: {reason}")
            }
            Self::RingFile { line, reason } => {
                write!(f, "key-ring file, line {line}: {reason}")
            }
            Self::RemovePrimary(id) => write!(
                f,
                "key {id} is the primary key; promote another key before removing it"
            ),
            Self::DuplicateKeyId(id) => write!(
                f,
                "two different keys share key id {id}; generate another key"
            ),
            Self::Config(e) => write!(f, "invalid codec setting: {e}"),
            Self::TooLarge { size, limit } => {
                write!(f, "token is {size} bytes, limit is {limit}")
            }
            Self::Malformed(m) => write!(f, "malformed token: {m}"),
            Self::UnknownKey(id) => write!(f, "no key in the ring has key id {id}"),
            Self::Invalid => f.write_str("token failed authentication"),
            Self::Expired { at, now } => write!(
                f,
                "session expired {} s ago (at unix time {at}, now {now})",
                now.saturating_sub(*at)
            ),
            Self::NotYetValid { issued, now } => write!(
                f,
                "session is issued {} s in the future (at unix time {issued}, now {now})",
                issued.saturating_sub(*now)
            ),
            Self::Payload(msg) => {
                write!(f, "payload does not match the requested type: {msg}")
            }
            Self::InvalidClaims(why) => write!(f, "authenticated claims are invalid: {why}"),
            Self::PayloadTooDeep { limit } => {
                write!(f, "payload nests deeper than {limit} levels")
            }
            Self::SubjectLength { len, max } => {
                write!(f, "subject is {len} bytes, it must be 1 to {max}")
            }
            Self::Serialize(msg) => write!(f, "cannot serialize the session value: {msg}"),
            Self::TimeOutOfRange { unix } => write!(
                f,
                "time {unix} (unix seconds) is outside 1970-01-01..=9999-12-31"
            ),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PurposeLength { len } => {
                write!(f, "purpose is {len} bytes, it must be 1 to 255")
            }
            Self::NonPositiveDuration { setting, seconds } => {
                write!(f, "{setting} is {seconds} s, it must be positive")
            }
            Self::DurationTooLong {
                setting,
                seconds,
                max,
            } => write!(f, "{setting} is {seconds} s, at most {max} s is allowed"),
            Self::Budget { budget, min, max } => {
                write!(f, "budget is {budget} bytes, it must be {min} to {max}")
            }
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("input is empty"),
            Self::Base64 => f.write_str("not strict unpadded base64url"),
            Self::TooShort { len, min } => {
                write!(f, "token is {len} bytes, the smallest token is {min}")
            }
            Self::UnknownVersion(v) => write!(f, "unknown version byte 0x{v:02x}"),
            Self::WrongMode { token, codec } => {
                write!(f, "token is {token}, this codec opens {codec} tokens")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}
