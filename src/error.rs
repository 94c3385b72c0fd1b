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
/// use sealed_session::{Codec, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// # let cookie = codec.seal(&7u64)?;
/// // What a web app does with an incoming cookie:
/// let user_id = match codec.open::<u64>(&cookie) {
///     Ok(opened) => Some(*opened.value()),
///     // Forged, tampered, expired, from a retired key, or of an old shape:
///     // the visitor starts a new session.
///     Err(e) if e.is_rejection() => None,
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
    /// A key schedule (keys with activation and retirement times) is
    /// inconsistent, or has no key that seals at the time asked.
    Rotation(RotationError),
    /// The sealed token would exceed the size budget: the session holds too
    /// much. A server-side error, never the client's.
    TooLarge {
        /// Size of the token, in bytes.
        size: usize,
        /// The configured budget, in bytes.
        limit: usize,
    },
    /// The input to open exceeds the size budget; refused by its length
    /// alone, before decoding (FORMAT.md §7).
    InputTooLarge {
        /// Size of the input, in bytes.
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
    /// A session's own lifetime ([`SealOptions::lifetime`](crate::SealOptions::lifetime))
    /// must be 1 s to the codec's `max_lifetime`.
    Lifetime {
        /// The lifetime asked for, in seconds.
        seconds: i64,
        /// The codec's `max_lifetime`, in seconds.
        max: i64,
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
    /// The session authenticated but was revoked: logged out, or its
    /// subject logged out everywhere since it was created.
    Revoked,
    /// The revocation store could not say whether the session is revoked,
    /// and fails closed: the session is refused, for now.
    RevocationUnavailable(String),
    /// A [`SessionCookie`] setting was refused when it was built.
    ///
    /// [`SessionCookie`]: crate::SessionCookie
    CookieConfig(CookieConfigError),
    /// The session does not fit in the cookies a [`SessionCookie`] may set,
    /// or the request's session cookies do not form one session.
    ///
    /// [`SessionCookie`]: crate::SessionCookie
    Cookie(CookieError),
}

/// Why a [`SessionCookie`] setting was refused: caught when the
/// configuration is built, never at the first response, and never turned
/// into an injected attribute.
///
/// ```
/// use sealed_session::{CookieConfigError, Error, SessionCookie};
/// let e = SessionCookie::builder("session").path("/; Domain=evil.example").build().unwrap_err();
/// assert!(matches!(e, Error::CookieConfig(CookieConfigError::Attribute { found: ';', at: 1, .. })));
/// assert_eq!(e.to_string(), "invalid cookie setting: Path holds ';' at byte 1");
/// ```
///
/// [`SessionCookie`]: crate::SessionCookie
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieConfigError {
    /// The cookie name is empty.
    EmptyName,
    /// The cookie name holds a character outside RFC 6265's token
    /// characters (controls, spaces, non-ASCII and `()<>@,;:\"/[]?={}`).
    Name {
        /// The offending character.
        found: char,
        /// Its byte offset in the name.
        at: usize,
    },
    /// An attribute value holds a character that would end or change the
    /// attribute (controls, spaces, `;`, `,`, non-ASCII; for `Domain`,
    /// anything but letters, digits, `-` and `.`).
    Attribute {
        /// `Path` or `Domain`.
        attribute: &'static str,
        /// The offending character.
        found: char,
        /// Its byte offset in the value.
        at: usize,
    },
    /// An attribute value is empty, or a path does not start with `/`.
    AttributeShape {
        /// `Path` or `Domain`.
        attribute: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `Domain` label is empty or longer than a host name allows
    /// (RFC 1034 §3.1: 1 to 63 bytes).
    DomainLabel {
        /// Byte offset of the label in the `Domain` value.
        at: usize,
        /// Its length, in bytes.
        len: usize,
        /// The longest label allowed, in bytes (63).
        max: usize,
    },
    /// A `Domain` label starts or ends with `-`, which no host name does
    /// (RFC 1123 §2.1).
    DomainHyphen {
        /// Byte offset of the offending `-` in the `Domain` value.
        at: usize,
    },
    /// A `Domain` is longer than a host name may be (RFC 1034 §3.1: 253
    /// bytes without a leading or trailing dot).
    DomainTooLong {
        /// Its length without a leading `.`, in bytes.
        len: usize,
        /// The longest allowed, in bytes (253).
        max: usize,
    },
    /// An attribute value is longer than browsers keep.
    AttributeTooLong {
        /// `Path` or `Domain`.
        attribute: &'static str,
        /// Its length, in bytes.
        len: usize,
        /// The limit, in bytes ([`ATTRIBUTE_LIMIT`](crate::ATTRIBUTE_LIMIT)).
        max: usize,
    },
    /// A `__Host-` or `__Secure-` name with attributes its prefix forbids:
    /// browsers would drop every such cookie.
    Prefix {
        /// The prefix.
        prefix: &'static str,
        /// The rule that is broken.
        rule: &'static str,
    },
    /// `SameSite=None` without `Secure`: browsers drop such cookies.
    SameSiteNoneWithoutSecure,
    /// The chunk limit is outside 1 to [`MAX_CHUNKS`](crate::MAX_CHUNKS).
    MaxChunks {
        /// The limit asked for.
        chunks: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The request budget is outside the supported range.
    RequestBudget {
        /// The budget asked for, in bytes.
        bytes: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// The per-cookie limit is outside the supported range.
    CookieLimit {
        /// The limit asked for, in bytes.
        bytes: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// The name leaves less than [`MIN_BUDGET`](crate::MIN_BUDGET) bytes
    /// for the token.
    NameTooLong {
        /// Its length, in bytes.
        len: usize,
        /// The longest name allowed with these settings, in bytes.
        max: usize,
    },
}

/// Why a session could not be written to cookies, or read from a request's
/// `Cookie` headers.
///
/// Every reading error means the browser holds something that is not one
/// whole session of this configuration (a chunk lost or left behind, a
/// cookie set twice): start a new session and remove the cookies. None of
/// them says anything about keys, so naming the reason leaks nothing.
///
/// ```
/// use sealed_session::{CookieError, Error, SessionCookie};
/// let cookie = SessionCookie::builder("session").chunked(4).build()?;
/// let request = cookie.read(["session=2.abcd.AAAA"]); // chunk 1 is missing
/// let e = request.token().unwrap_err();
/// assert!(matches!(e, Error::Cookie(CookieError::MissingChunk { index: 1, count: 2 })));
/// assert_eq!(e.to_string(), "session cookie: chunk 1 of 2 is missing");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieError {
    /// Writing: the sealed session is larger than the cookies may carry.
    TooLarge {
        /// Size of the token, in bytes.
        size: usize,
        /// The most this configuration carries, in bytes of token.
        limit: usize,
        /// The chunk limit (1 without chunking).
        max_chunks: usize,
        /// The budget for the session's share of the `Cookie` request
        /// header, in bytes.
        request_budget: usize,
    },
    /// Reading: the request's session is larger than this configuration
    /// writes.
    RequestTooLarge {
        /// Size of the joined token, in bytes.
        size: usize,
        /// The most this configuration carries, in bytes of token.
        limit: usize,
    },
    /// Reading: a session cookie appears more than once (set for two paths
    /// or domains, or tossed by a sibling domain, which a `__Host-` name
    /// prevents).
    Duplicate {
        /// The cookie's name.
        name: String,
    },
    /// Reading: a chunk's value does not start with a valid chunk header.
    ChunkHeader {
        /// The chunk's index (0 for the first cookie, `name`).
        index: usize,
    },
    /// Reading: a chunk of the session is absent.
    MissingChunk {
        /// The missing chunk's index.
        index: usize,
        /// How many chunks the first cookie announces.
        count: usize,
    },
    /// Reading: the first cookie announces more chunks than this
    /// configuration allows.
    TooManyChunks {
        /// How many it announces.
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// Reading: a chunk belongs to another sealed session than the rest
    /// (left behind by an earlier response).
    MixedChunks {
        /// The first chunk that does not belong.
        index: usize,
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
    /// A Redis key prefix of the revocation store holds something other
    /// than ASCII letters, digits, `-`, `_` and `.` (a `:` or a glob
    /// character would mix its keys with another prefix's), or is empty.
    RedisPrefix,
    /// A codec with a revocation store needs a leeway of at least one
    /// second: a log-in in the second of a "log out everywhere" is sealed
    /// one second ahead, so that it opens while the older sessions of that
    /// second stay refused.
    RevocationsNeedLeeway {
        /// The leeway asked for, in seconds.
        seconds: i64,
    },
    /// A codec replacing one that checks a revocation store does not check
    /// that same store (a reload must keep it).
    RevocationStoreChanged,
}

/// What is wrong with a key schedule or a rotation policy
/// (`Error::Rotation`). Times are unix seconds; no variant holds key bytes.
///
/// ```
/// use sealed_session::{Error, RotationError, RotationPolicy};
/// use time::Duration;
/// let e = RotationPolicy::new(Duration::days(1), Duration::days(2), Duration::days(7)).unwrap_err();
/// assert!(matches!(e, Error::Rotation(RotationError::Policy { .. })));
/// assert_eq!(
///     e.to_string(),
///     "key schedule: keys last 86400 s, which must be longer than the activation delay of 172800 s"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotationError {
    /// A key would activate after it retires.
    Lifecycle {
        /// The key.
        key: KeyId,
        /// When it activates, unix seconds.
        activates: i64,
        /// When it retires, unix seconds.
        retires: i64,
    },
    /// No key of the schedule seals at this time: every key is still
    /// pending or has retired.
    NoSealingKey {
        /// The time asked, unix seconds.
        at: i64,
    },
    /// A rotation policy whose keys do not outlast their activation delay
    /// (or a duration that is not positive).
    Policy {
        /// How long each key seals, in seconds.
        every: i64,
        /// How long a new key waits before it seals, in seconds.
        activation_delay: i64,
    },
    /// A key ring held in a shared store does not open under the
    /// key-encryption key given (another key, or the bytes were changed).
    SealedRing,
    /// A ring older than the one held: its generation (FORMAT.md §12.2) is
    /// lower. Refused, so that an old copy written again (a replayed store
    /// value, a stale node's write-back) cannot bring a revoked key back.
    RolledBack {
        /// The generation of the ring held.
        held: u64,
        /// The generation of the ring offered.
        offered: u64,
    },
    /// A ring's text too long to seal (XAES-256-GCM seals at most 2^36
    /// bytes at once).
    RingTooLarge {
        /// Its length, in bytes.
        len: usize,
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

impl Error {
    /// True when the error is about what a client sent: a token that is
    /// forged, tampered, expired, from a retired key, of an old shape, over
    /// the budget or not a token at all, or session cookies that do not form
    /// one session. A middleware answers these by starting a new session and
    /// removing the cookies: never with a 500.
    ///
    /// False for the server's own errors, which a middleware reports: keys
    /// and settings ([`Error::Config`], [`Error::CookieConfig`], ...), a
    /// session that does not seal ([`Error::TooLarge`],
    /// [`CookieError::TooLarge`], [`Error::Serialize`],
    /// [`Error::SubjectLength`]) and a clock outside the format's range.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).budget(256).build()?;
    /// // A tampered cookie: start a new session.
    /// assert!(codec.open::<u8>("AQID").unwrap_err().is_rejection());
    /// // The session outgrew its budget: our bug, not the client's.
    /// assert!(!codec.seal(&"x".repeat(300)).unwrap_err().is_rejection());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn is_rejection(&self) -> bool {
        match self {
            Self::InputTooLarge { .. }
            | Self::Malformed(_)
            | Self::UnknownKey(_)
            | Self::Invalid
            | Self::Expired { .. }
            | Self::NotYetValid { .. }
            | Self::Payload(_)
            | Self::InvalidClaims(_)
            | Self::PayloadTooDeep { .. }
            | Self::Revoked => true,
            Self::Cookie(e) => !matches!(e, CookieError::TooLarge { .. }),
            Self::KeyTooShort { .. }
            | Self::KeyTooLong { .. }
            | Self::WeakKey
            | Self::KeyEncoding
            | Self::KeySource { .. }
            | Self::RingFile { .. }
            | Self::RemovePrimary(_)
            | Self::DuplicateKeyId(_)
            | Self::Config(_)
            | Self::Rotation(_)
            | Self::TooLarge { .. }
            | Self::SubjectLength { .. }
            | Self::Lifetime { .. }
            | Self::Serialize(_)
            | Self::TimeOutOfRange { .. }
            | Self::RevocationUnavailable(_)
            | Self::CookieConfig(_) => false,
        }
    }
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
            Self::Rotation(e) => write!(f, "key schedule: {e}"),
            Self::TooLarge { size, limit } => write!(
                f,
                "token is {size} bytes, limit is {limit}: {} bytes over",
                size.saturating_sub(*limit)
            ),
            Self::InputTooLarge { size, limit } => write!(
                f,
                "token is {size} bytes, limit is {limit}: {} bytes over",
                size.saturating_sub(*limit)
            ),
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
            Self::Lifetime { seconds, max } => write!(
                f,
                "a session lifetime of {seconds} s was asked for; it must be 1 s to the codec's \
                 max_lifetime of {max} s"
            ),
            Self::SubjectLength { len, max } => {
                write!(f, "subject is {len} bytes, it must be 1 to {max}")
            }
            Self::Serialize(msg) => write!(f, "cannot serialize the session value: {msg}"),
            Self::TimeOutOfRange { unix } => write!(
                f,
                "time {unix} (unix seconds) is outside 1970-01-01..=9999-12-31"
            ),
            Self::Revoked => f.write_str("session was revoked"),
            Self::RevocationUnavailable(why) => {
                write!(f, "revocation store unavailable, session refused: {why}")
            }
            Self::CookieConfig(e) => write!(f, "invalid cookie setting: {e}"),
            Self::Cookie(e) => write!(f, "session cookie: {e}"),
        }
    }
}

impl fmt::Display for CookieConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyName => f.write_str("the cookie name is empty"),
            Self::Name { found, at } => write!(
                f,
                "the cookie name holds {found:?} at byte {at}, which is not an RFC 6265 token character"
            ),
            Self::Attribute {
                attribute,
                found,
                at,
            } => write!(f, "{attribute} holds {found:?} at byte {at}"),
            Self::AttributeShape { attribute, reason } => write!(f, "{attribute} {reason}"),
            Self::DomainLabel { at, len, max } => write!(
                f,
                "Domain label at byte {at} is {len} bytes, limit is {max}; browsers ignore the cookie otherwise"
            ),
            Self::DomainHyphen { at } => write!(
                f,
                "Domain label has '-' at byte {at}, a label may not start or end with '-'; browsers ignore the cookie otherwise"
            ),
            Self::DomainTooLong { len, max } => write!(
                f,
                "Domain is {len} bytes, limit is {max} for a host name; browsers ignore the cookie otherwise"
            ),
            Self::AttributeTooLong {
                attribute,
                len,
                max,
            } => write!(
                f,
                "{attribute} is {len} bytes, browsers ignore values over {max}: {} over",
                len.saturating_sub(*max)
            ),
            Self::Prefix { prefix, rule } => {
                write!(f, "a {prefix} cookie {rule}; browsers drop it otherwise")
            }
            Self::SameSiteNoneWithoutSecure => {
                f.write_str("SameSite=None requires Secure; browsers drop it otherwise")
            }
            Self::MaxChunks { chunks, max } => {
                write!(f, "max_chunks is {chunks}, it must be 1 to {max}")
            }
            Self::RequestBudget { bytes, min, max } => {
                write!(
                    f,
                    "request_budget is {bytes} bytes, it must be {min} to {max}"
                )
            }
            Self::CookieLimit { bytes, min, max } => {
                write!(
                    f,
                    "cookie_limit is {bytes} bytes, it must be {min} to {max}"
                )
            }
            Self::NameTooLong { len, max } => write!(
                f,
                "the cookie name is {len} bytes, at most {max} leave room for a token"
            ),
        }
    }
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge {
                size,
                limit,
                max_chunks: 1,
                request_budget,
            } => write!(
                f,
                "the sealed session is {size} bytes, one cookie carries at most {limit} \
                 (its name and value within the cookie limit and {request_budget} bytes \
                 of request header): {} bytes over; store less or enable chunking",
                size.saturating_sub(*limit)
            ),
            Self::TooLarge {
                size,
                limit,
                max_chunks,
                request_budget,
            } => write!(
                f,
                "the sealed session is {size} bytes, {max_chunks} chunks within \
                 {request_budget} bytes of request header carry at most {limit}: \
                 {} bytes over; store less",
                size.saturating_sub(*limit)
            ),
            Self::RequestTooLarge { size, limit } => write!(
                f,
                "the request's session is {size} bytes, this configuration carries at most {limit}"
            ),
            Self::Duplicate { name } => {
                write!(f, "cookie {name:?} appears more than once")
            }
            Self::ChunkHeader { index } => write!(f, "chunk {index} has no valid chunk header"),
            Self::MissingChunk { index, count } => {
                write!(f, "chunk {index} of {count} is missing")
            }
            Self::TooManyChunks { count, max } => write!(
                f,
                "the session announces {count} chunks, this configuration allows {max}"
            ),
            Self::MixedChunks { index } => {
                write!(f, "chunk {index} belongs to another session than chunk 0")
            }
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
            Self::RedisPrefix => {
                f.write_str("a Redis prefix is 1 or more ASCII letters, digits, '-', '_' or '.'")
            }
            Self::RevocationsNeedLeeway { seconds } => write!(
                f,
                "leeway is {seconds} s, a codec with a revocation store needs at least 1 s"
            ),
            Self::RevocationStoreChanged => f.write_str(
                "the new codec does not check the revocation store of the one it replaces \
                 (build it with the same `.revocations(store)`)",
            ),
        }
    }
}

impl fmt::Display for RotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lifecycle {
                key,
                activates,
                retires,
            } => write!(
                f,
                "key {key} activates at unix {activates}, after it retires at unix {retires}"
            ),
            Self::NoSealingKey { at } => write!(
                f,
                "no key seals at unix {at}: every key is pending or retired"
            ),
            Self::Policy {
                every,
                activation_delay,
            } => write!(
                f,
                "keys last {every} s, which must be longer than the activation delay of {activation_delay} s"
            ),
            Self::SealedRing => f.write_str(
                "the stored key ring does not open under this key-encryption key \
                 (another key, or changed bytes)",
            ),
            Self::RolledBack { held, offered } => write!(
                f,
                "the ring's generation {offered} is lower than the generation {held} held: \
                 an older ring is never taken back"
            ),
            Self::RingTooLarge { len } => {
                write!(f, "the ring's text is {len} bytes, too long to seal")
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

impl From<CookieConfigError> for Error {
    fn from(e: CookieConfigError) -> Self {
        Self::CookieConfig(e)
    }
}

impl From<CookieError> for Error {
    fn from(e: CookieError) -> Self {
        Self::Cookie(e)
    }
}

impl From<RotationError> for Error {
    fn from(e: RotationError) -> Self {
        Self::Rotation(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}
