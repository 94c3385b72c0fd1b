//! Seal and open: the one place that ties together the layout (`format`), the
//! keys (`key`) and the claims (`claims`).

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hmac::Mac as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};
use xaes_256_gcm::aead::AeadInOut as _;

use crate::budget::{DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET};
use crate::claims::{Claims, MAX_SUBJECT_LEN};
use crate::clock::{unix_now, unix_seconds};
use crate::error::{ConfigError, Error, Malformed};
use crate::format::{self, Header, MAX_PURPOSE_LEN, associated_data};
use crate::ids::{KeyId, SessionId};
use crate::key::{Key, KeyRing};
use crate::mode::{Mode, NONCE_LEN};
use crate::payload;
use crate::policy::{DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, Policy};
use crate::revocation::Revocations;

const DEFAULT_PURPOSE: &str = "session";
/// First guess at a token's size before any seal has been measured.
const INITIAL_CAPACITY: usize = 256;

/// Seals session values into tokens and opens them again.
///
/// Built once at startup with [`Codec::builder`]; cheap to clone and safe to
/// share between threads (every thread draws nonces from its own CSPRNG).
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing};
/// use serde::{Deserialize, Serialize};
/// use time::Duration;
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Session { user_id: u64, theme: String }
///
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .purpose("session")
///     .max_lifetime(Duration::days(7))
///     .idle_timeout(Duration::hours(2))
///     .build()?;
/// let token = codec.seal(&Session { user_id: 7, theme: "dark".into() })?;
/// let opened = codec.open::<Session>(&token)?;
/// assert_eq!(opened.value().user_id, 7);
/// assert!(!opened.needs_reseal());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Codec {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ring: KeyRing,
    /// The primary key with its associated data precomputed.
    primary: RingKey,
    /// The accepted keys, likewise, in the order of [`KeyRing::accepted`].
    accepted: Box<[RingKey]>,
    purpose: Box<[u8]>,
    mode: Mode,
    policy: Policy,
    budget: usize,
    /// Checked at every open, after authentication and the expiry policy.
    revocations: Option<Arc<dyn Revocations>>,
    /// Largest sealed token so far, so that one allocation usually suffices.
    capacity_hint: AtomicUsize,
}

/// A key of the ring with the associated data (FORMAT.md §4.3) of tokens
/// under it, which depends only on the version byte, the key id and the
/// purpose: one for each version byte of the codec's mode.
#[derive(Debug)]
struct RingKey {
    key: Key,
    /// Of the version without the session's own lifetime.
    aad: Box<[u8]>,
    /// Of the version with it (FORMAT.md §5.3).
    aad_lifetime: Box<[u8]>,
}

impl RingKey {
    fn new(key: &Key, mode: Mode, purpose: &[u8]) -> Self {
        let aad = |own_lifetime| {
            let header = Header {
                mode,
                own_lifetime,
                key_id: key.id(),
            };
            associated_data(&header.to_bytes(), purpose).into()
        };
        Self {
            key: key.clone(),
            aad: aad(false),
            aad_lifetime: aad(true),
        }
    }

    fn aad(&self, own_lifetime: bool) -> &[u8] {
        if own_lifetime {
            &self.aad_lifetime
        } else {
            &self.aad
        }
    }
}

/// Settings of a [`Codec`]; every one has a default.
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing};
/// use time::Duration;
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .purpose("session")
///     .idle_timeout(Duration::hours(2))
///     .build()?;
/// # let _ = codec;
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct CodecBuilder {
    ring: KeyRing,
    purpose: Vec<u8>,
    mode: Mode,
    max_lifetime: Duration,
    idle_timeout: Option<Duration>,
    leeway: Duration,
    budget: usize,
    revocations: Option<Arc<dyn Revocations>>,
}

impl CodecBuilder {
    /// What the tokens are for, bound into every seal: a token sealed for one
    /// purpose never opens under another. Use the cookie name or another
    /// app-chosen context. Default `"session"`; 1 to 255 bytes.
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Key, KeyRing};
    /// let key = Key::generate();
    /// let session = Codec::builder(KeyRing::new(key.clone())).purpose("session").build()?;
    /// let csrf = Codec::builder(KeyRing::new(key)).purpose("csrf").build()?;
    /// let token = session.seal(&1u8)?;
    /// assert!(matches!(csrf.open::<u8>(&token), Err(Error::Invalid)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn purpose(mut self, purpose: impl AsRef<[u8]>) -> Self {
        self.purpose = purpose.as_ref().to_vec();
        self
    }

    /// Absolute lifetime, counted from the session's `created`: re-sealing
    /// does not extend it. Default 7 days, at most 400 days.
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Key, KeyRing};
    /// use time::{Duration, OffsetDateTime};
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .max_lifetime(Duration::hours(8))
    ///     .leeway(Duration::ZERO)
    ///     .build()?;
    /// let start = OffsetDateTime::now_utc();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().at(start))?;
    /// assert!(codec.open_at::<u8>(&token, start + Duration::hours(7)).is_ok());
    /// let late = codec.open_at::<u8>(&token, start + Duration::hours(8));
    /// assert!(matches!(late, Err(Error::Expired { .. })));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// Idle timeout, counted from the token's `issued`: every re-seal extends
    /// it, up to the absolute lifetime. Default: none.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// use time::{Duration, OffsetDateTime};
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .idle_timeout(Duration::minutes(30))
    ///     .leeway(Duration::ZERO)
    ///     .build()?;
    /// let start = OffsetDateTime::now_utc();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().at(start))?;
    /// // Re-sealed after 20 minutes: idle again from then.
    /// let later = start + Duration::minutes(20);
    /// let renewed = codec.reseal_with(&codec.open_at::<u8>(&token, later)?, sealed_session::SealOptions::new().at(later))?;
    /// assert!(codec.open_at::<u8>(&renewed, start + Duration::minutes(45)).is_ok());
    /// assert!(codec.open_at::<u8>(&token, start + Duration::minutes(45)).is_err());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Clock skew tolerated between the node that sealed and the one that
    /// opens, both for expiry and for `issued` in the future. Default 30 s,
    /// at most 10 minutes.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// use time::{Duration, OffsetDateTime};
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .leeway(Duration::seconds(5))
    ///     .build()?;
    /// // Sealed by a node whose clock runs 3 s ahead.
    /// let now = OffsetDateTime::now_utc();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().at(now + Duration::seconds(3)))?;
    /// assert!(codec.open_at::<u8>(&token, now).is_ok());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Largest token, in bytes of text. Default [`DEFAULT_BUDGET`] (3840:
    /// a 4096-byte cookie less 256 for its name and attributes); from
    /// [`MIN_BUDGET`] to [`MAX_BUDGET`].
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).budget(256).build()?;
    /// let big = "x".repeat(300);
    /// match codec.seal(&big) {
    ///     Err(Error::TooLarge { size, limit }) => assert!(size > limit && limit == 256),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// Checks every authenticated session against `revocations` at open
    /// (before the payload is decoded): a revoked one is
    /// [`Error::Revoked`]. Without it, a copy of a cookie taken before
    /// log-out opens until it expires.
    ///
    /// ```
    /// # #[cfg(feature = "revocation")] {
    /// use std::sync::Arc;
    /// use sealed_session::{Codec, Key, KeyRing, MemoryRevocations};
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .revocations(Arc::new(MemoryRevocations::new()))
    ///     .build()?;
    /// assert!(codec.revocations().is_some());
    /// # }
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn revocations(mut self, revocations: Arc<dyn Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Signed mode: HMAC-SHA256 instead of XAES-256-GCM. The payload and
    /// claims are readable by anyone who decodes the token, but cannot be
    /// changed. Use it only for values the client may see.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, Mode, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// assert_eq!(codec.mode(), Mode::Signed);
    /// let token = codec.seal(&"visible")?;
    /// // Anyone can read it; only the key holder can change it.
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.unverified_value::<String>()?.as_deref(), Some("visible"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn signed(mut self) -> Self {
        self.mode = Mode::Signed;
        self
    }

    /// Checks the settings and builds the codec.
    ///
    /// ```
    /// use sealed_session::{Codec, ConfigError, Error, Key, KeyRing};
    /// use time::Duration;
    /// let refused = Codec::builder(KeyRing::new(Key::generate()))
    ///     .max_lifetime(Duration::days(500))
    ///     .build();
    /// assert!(matches!(refused, Err(Error::Config(ConfigError::DurationTooLong { .. }))));
    /// assert_eq!(
    ///     refused.unwrap_err().to_string(),
    ///     "invalid codec setting: max_lifetime is 43200000 s, at most 34560000 s is allowed"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a purpose that is empty or over 255 bytes, a
    /// non-positive or over-long duration, a budget out of range, or a leeway
    /// under 1 s with a revocation store;
    /// [`Error::DuplicateKeyId`] if two keys of the ring share a key id.
    pub fn build(self) -> Result<Codec, Error> {
        if self.purpose.is_empty() || self.purpose.len() > MAX_PURPOSE_LEN {
            return Err(ConfigError::PurposeLength {
                len: self.purpose.len(),
            }
            .into());
        }
        let policy = Policy::new(self.max_lifetime, self.idle_timeout, self.leeway)?;
        if self.revocations.is_some() && policy.leeway < 1 {
            return Err(ConfigError::RevocationsNeedLeeway {
                seconds: policy.leeway,
            }
            .into());
        }
        if !(MIN_BUDGET..=MAX_BUDGET).contains(&self.budget) {
            return Err(ConfigError::Budget {
                budget: self.budget,
                min: MIN_BUDGET,
                max: MAX_BUDGET,
            }
            .into());
        }
        self.ring.check_ids()?;
        Ok(Codec {
            inner: Arc::new(Inner {
                primary: RingKey::new(self.ring.primary(), self.mode, &self.purpose),
                accepted: self
                    .ring
                    .accepted()
                    .iter()
                    .map(|k| RingKey::new(k, self.mode, &self.purpose))
                    .collect(),
                ring: self.ring,
                purpose: self.purpose.into_boxed_slice(),
                mode: self.mode,
                policy,
                budget: self.budget,
                revocations: self.revocations,
                capacity_hint: AtomicUsize::new(INITIAL_CAPACITY),
            }),
        })
    }
}

/// An authenticated, unexpired session: the value, its claims, and whether
/// the token should be re-sealed.
///
/// ```
/// # use sealed_session::{Codec, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let opened = codec.open::<String>(&codec.seal("hello")?)?;
/// assert_eq!(opened.value(), "hello");
/// assert!(!opened.needs_reseal());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Opened<T> {
    value: T,
    claims: Claims,
    key_id: KeyId,
    needs_reseal: bool,
}

impl<T> Opened<T> {
    /// The session value.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let opened = codec.open::<u32>(&codec.seal(&7u32)?)?;
    /// assert_eq!(*opened.value(), 7);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The session value, to change before [`Codec::reseal`].
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let mut opened = codec.open::<u32>(&codec.seal(&7u32)?)?;
    /// *opened.value_mut() += 1;
    /// let token = codec.reseal(&opened)?; // same session id, new value
    /// assert_eq!(*codec.open::<u32>(&token)?.value(), 8);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The session value, dropping the claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let value: String = codec.open::<String>(&codec.seal("hi")?)?.into_value();
    /// assert_eq!(value, "hi");
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn into_value(self) -> T {
        self.value
    }

    /// The authenticated claims: session id, subject, times.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42"))?;
    /// let opened = codec.open::<u8>(&token)?;
    /// assert_eq!(opened.claims().subject(), Some("user-42"));
    /// assert!(opened.claims().expires() > opened.claims().issued());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The value apart from the rest, which keeps what a re-seal needs.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    pub(crate) fn split(self) -> (T, Opened<()>) {
        let Self {
            value,
            claims,
            key_id,
            needs_reseal,
        } = self;
        let rest = Opened {
            value: (),
            claims,
            key_id,
            needs_reseal,
        };
        (value, rest)
    }

    /// The id of the key that opened the token: which key sessions are still
    /// sealed under, during a rotation.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// let key = Key::generate();
    /// let codec = Codec::builder(KeyRing::new(key.clone())).build()?;
    /// let opened = codec.open::<u8>(&codec.seal(&1u8)?)?;
    /// assert_eq!(opened.key_id(), key.id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// True when the token was sealed under an accepted (not primary) key:
    /// re-seal it so that the old key can be retired.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let (old, new) = (Key::generate(), Key::generate());
    /// let before = Codec::builder(KeyRing::new(old.clone())).build()?;
    /// let token = before.seal(&1u8)?;
    /// // The new key is primary now; the old one still opens.
    /// let after = Codec::builder(KeyRing::new(new).with_accepted(old)).build()?;
    /// let opened = after.open::<u8>(&token)?;
    /// assert!(opened.needs_reseal());
    /// let renewed = after.reseal(&opened)?;
    /// assert!(!after.open::<u8>(&renewed)?.needs_reseal());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn needs_reseal(&self) -> bool {
        self.needs_reseal
    }
}

impl Opened<()> {
    /// The opened session with `value` in place of the one it carried.
    #[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
    pub(crate) fn with_value<U>(self, value: U) -> Opened<U> {
        Opened {
            value,
            claims: self.claims,
            key_id: self.key_id,
            needs_reseal: self.needs_reseal,
        }
    }
}

impl Codec {
    /// Starts configuring a codec that seals with `ring`'s primary key and
    /// opens with any of its keys.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?; // every default
    /// assert_eq!(codec.purpose(), b"session");
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn builder(ring: KeyRing) -> CodecBuilder {
        CodecBuilder {
            ring,
            purpose: DEFAULT_PURPOSE.as_bytes().to_vec(),
            mode: Mode::Encrypted,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            idle_timeout: None,
            leeway: DEFAULT_LEEWAY,
            budget: DEFAULT_BUDGET,
            revocations: None,
        }
    }

    /// The mode this codec seals and opens.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// assert_eq!(codec.mode(), sealed_session::Mode::Encrypted);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The purpose bound into every token.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).purpose("csrf").build()?;
    /// assert_eq!(codec.purpose(), b"csrf");
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn purpose(&self) -> &[u8] {
        &self.inner.purpose
    }

    /// The size budget, in bytes of token text.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// assert_eq!(codec.budget(), sealed_session::DEFAULT_BUDGET);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn budget(&self) -> usize {
        self.inner.budget
    }

    /// The latest instant any token of a session created at `created` can
    /// open under this codec, re-seals included: `created` plus the
    /// absolute lifetime plus the leeway. What a revocation entry must
    /// outlive (a token's own `expires` is earlier than a later re-seal's).
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// use time::{Duration, OffsetDateTime};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let created = OffsetDateTime::UNIX_EPOCH;
    /// assert_eq!(codec.latest_end(created), created + Duration::days(7) + Duration::seconds(30));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn latest_end(&self, created: OffsetDateTime) -> OffsetDateTime {
        created.saturating_add(self.max_lifetime() + self.leeway())
    }

    /// The revocation store every open checks, if the codec has one.
    pub fn revocations(&self) -> Option<&Arc<dyn Revocations>> {
        self.inner.revocations.as_ref()
    }

    /// The key ring.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&1u8)?;
    /// let primary = codec.key_ring().primary().id();
    /// assert_eq!(sealed_session::UntrustedToken::parse(&token)?.key_id(), primary);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn key_ring(&self) -> &KeyRing {
        &self.inner.ring
    }

    /// The longest a session lives from its creation, re-seals included.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// use time::Duration;
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// assert_eq!(codec.max_lifetime(), Duration::days(7)); // the default
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn max_lifetime(&self) -> Duration {
        Duration::seconds(self.inner.policy.max_lifetime)
    }

    /// How long a session lives without a re-seal, if the codec has an idle
    /// timeout. A middleware re-seals once half of it has passed.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// use time::Duration;
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .idle_timeout(Duration::minutes(30))
    ///     .build()?;
    /// assert_eq!(codec.idle_timeout(), Some(Duration::minutes(30)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.inner.policy.idle_timeout.map(Duration::seconds)
    }

    /// The clock skew tolerated between the nodes that seal and open.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// assert_eq!(codec.leeway(), time::Duration::seconds(30)); // the default
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn leeway(&self) -> Duration {
        Duration::seconds(self.inner.policy.leeway)
    }

    /// Seals `value` as a new session (fresh id, no subject), now.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&vec!["admin", "editor"])?;
    /// assert!(token.len() < 200);
    /// assert_eq!(codec.open::<Vec<String>>(&token)?.value(), &["admin", "editor"]);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Serialize`] if the value does not serialize;
    /// [`Error::TooLarge`] if the token would exceed the budget;
    /// [`Error::TimeOutOfRange`] if the system clock is before 1970.
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, Error> {
        self.seal_with(value, SealOptions::new())
    }

    /// Seals `value` as a new session with `options`: a subject, a time.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal_with(&1u8, SealOptions::new().subject("user-42"))?;
    /// assert_eq!(codec.open::<u8>(&token)?.claims().subject(), Some("user-42"));
    /// assert!(codec.seal_with(&1u8, SealOptions::new().subject("")).is_err()); // 1 to 255 bytes
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SubjectLength`] unless a subject is 1 to 255 bytes;
    /// [`Error::TimeOutOfRange`] for a time before 1970; then as
    /// [`Codec::seal`].
    pub fn seal_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: SealOptions<'_>,
    ) -> Result<String, Error> {
        let mut token = String::new();
        self.seal_into(value, options, &mut token)?;
        Ok(token)
    }

    /// Seals `value` as a new session into `token`, replacing what it held
    /// (a server that keeps one `String` per worker seals without allocating
    /// for the token), and says what it sealed: the session id and the end.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let mut token = String::with_capacity(512);
    /// for user_id in 0..3u64 {
    ///     let sealed = codec.seal_into(&user_id, SealOptions::new(), &mut token)?;
    ///     let opened = codec.open::<u64>(&token)?;
    ///     assert_eq!(*opened.value(), user_id);
    ///     assert_eq!(opened.claims().session_id(), sealed.session_id());
    ///     assert_eq!(opened.claims().expires(), sealed.expires());
    /// }
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Codec::seal_with`]; `token` is left empty.
    pub fn seal_into<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: SealOptions<'_>,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        self.seal_into_limit(value, options, self.inner.budget, token)
    }

    /// [`Codec::seal_into`] within `limit` bytes (a cookie's budget).
    pub(crate) fn seal_into_limit<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: SealOptions<'_>,
        limit: usize,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        token.clear();
        let now = options.unix_time()?;
        let subject = match options.subject {
            Subject::Set(subject) => Some(subject),
            Subject::Keep | Subject::Clear => None,
        };
        let lifetime = options.lifetime_seconds(&self.inner.policy, None)?;
        self.seal_new(value, subject, lifetime, options.id, now, limit, token)
    }

    /// Re-seals an opened session, now: same session id, subject and
    /// `created`, a new `issued`, `expires` recomputed, under the primary key.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let opened = codec.open::<u8>(&codec.seal(&1u8)?)?;
    /// let renewed = codec.open::<u8>(&codec.reseal(&opened)?)?;
    /// assert_eq!(renewed.claims().session_id(), opened.claims().session_id());
    /// assert_eq!(renewed.claims().created(), opened.claims().created());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Expired`] if the session has reached its absolute lifetime;
    /// then as [`Codec::seal`].
    pub fn reseal<T: Serialize>(&self, opened: &Opened<T>) -> Result<String, Error> {
        self.reseal_with(opened, SealOptions::new())
    }

    /// Re-seals an opened session with `options`. A subject in the options
    /// replaces the session's; without one the session's is kept. On log-in,
    /// add [`SealOptions::new_id`].
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// use time::{Duration, OffsetDateTime};
    /// let start = OffsetDateTime::now_utc();
    /// let token = codec.seal_with(&1u8, SealOptions::new().at(start))?;
    /// let opened = codec.open_at::<u8>(&token, start)?;
    /// let later = start + Duration::hours(1);
    /// let renewed = codec.reseal_with(&opened, SealOptions::new().at(later))?;
    /// assert_eq!(codec.open_at::<u8>(&renewed, later)?.claims().issued_unix(), later.unix_timestamp());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Codec::reseal`] and [`Codec::seal_with`].
    pub fn reseal_with<T: Serialize>(
        &self,
        opened: &Opened<T>,
        options: SealOptions<'_>,
    ) -> Result<String, Error> {
        let mut token = String::new();
        self.reseal_into(opened, options, &mut token)?;
        Ok(token)
    }

    /// Re-seals an opened session with `options` into `token`, replacing what
    /// it held.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let opened = codec.open::<u8>(&codec.seal(&1u8)?)?;
    /// let mut token = String::new();
    /// let sealed = codec.reseal_into(&opened, SealOptions::new(), &mut token)?;
    /// assert_eq!(sealed.session_id(), opened.claims().session_id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Codec::reseal_with`]; `token` is left empty.
    pub fn reseal_into<T: Serialize>(
        &self,
        opened: &Opened<T>,
        options: SealOptions<'_>,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        self.reseal_into_limit(opened, options, self.inner.budget, token)
    }

    /// [`Codec::reseal_into`] within `limit` bytes (a cookie's budget).
    pub(crate) fn reseal_into_limit<T: Serialize>(
        &self,
        opened: &Opened<T>,
        options: SealOptions<'_>,
        limit: usize,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        token.clear();
        let now = options.unix_time()?;
        self.reseal_unix(opened, options, now, limit, token)
    }

    /// Opens a token sealed by a codec with the same keys, purpose and mode,
    /// now. The token is read in place, never copied.
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&42u64)?;
    /// assert_eq!(*codec.open::<u64>(&token)?.value(), 42);
    /// // A tampered, truncated or foreign token is refused, never a panic.
    /// assert!(matches!(codec.open::<u64>(&token[..token.len() - 1]), Err(Error::Invalid | Error::Malformed(_))));
    /// // Authentic, but not the type asked for: start a new session.
    /// assert!(matches!(codec.open::<String>(&token), Err(Error::Payload(_))));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InputTooLarge`] for input over the budget (checked first, before
    /// decoding); [`Error::Malformed`] for input that is not a token of this
    /// codec's mode; [`Error::UnknownKey`] if no key of the ring has the
    /// token's key id; [`Error::Invalid`] if authentication fails;
    /// [`Error::Expired`] or [`Error::NotYetValid`] by the claims and this
    /// codec's policy; [`Error::Payload`] or [`Error::PayloadTooDeep`] if the
    /// authenticated payload does not deserialize into `T`.
    pub fn open<T: DeserializeOwned>(&self, token: &str) -> Result<Opened<T>, Error> {
        self.open_unix(token, unix_now()?, self.inner.budget)
    }

    /// Opens a token at `now`.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// use time::{Duration, OffsetDateTime};
    /// let now = OffsetDateTime::now_utc();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().at(now))?;
    /// assert!(codec.open_at::<u8>(&token, now + Duration::days(6)).is_ok());
    /// assert!(codec.open_at::<u8>(&token, now + Duration::days(8)).is_err()); // 7-day default
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Codec::open`], and [`Error::TimeOutOfRange`] for a `now` before
    /// 1970.
    pub fn open_at<T: DeserializeOwned>(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Opened<T>, Error> {
        self.open_unix(token, unix_seconds(now)?, self.inner.budget)
    }

    /// Re-seals `opened` at `now` into `token`, within `limit` bytes, as
    /// `options` say: a new subject or none, a new session id.
    pub(crate) fn reseal_unix<T: Serialize>(
        &self,
        opened: &Opened<T>,
        options: SealOptions<'_>,
        now: i64,
        limit: usize,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        token.clear();
        let old = &opened.claims;
        // An `Opened` kept past its end must not come back to life: the same
        // checks as an open, at the time of the re-seal (FORMAT.md §6.1).
        self.inner.policy.check(old, now)?;
        // Nor a session revoked since it was opened (a re-seal with a new
        // id or no subject must not escape the revocation).
        if let Some(revocations) = &self.inner.revocations {
            revocations.check(old)?;
        }
        // A re-seal never moves `issued` backwards nor before `created`.
        let issued = now.max(old.issued_unix());
        let lifetime = options.lifetime_seconds(&self.inner.policy, old.lifetime_seconds())?;
        let expires = self
            .inner
            .policy
            .expires_for(old.created_unix(), issued, lifetime);
        if expires <= issued {
            return Err(Error::Expired { at: expires, now });
        }
        let subject = match options.subject {
            Subject::Keep => old.subject(),
            Subject::Set(subject) => Some(subject),
            Subject::Clear => None,
        };
        let session_id = match (options.new_id, options.id) {
            (true, Some(id)) => id,
            (true, None) => SessionId::random(),
            (false, _) => old.session_id(),
        };
        let claims = Claims::new(
            session_id,
            subject.map(str::to_owned),
            old.created_unix(),
            issued,
            expires,
        )
        .with_lifetime(lifetime);
        self.seal_claims(&opened.value, &claims, Nonce::random, limit, token)?;
        Ok(Sealed {
            session_id,
            expires,
        })
    }

    /// The key with this id, and whether it is the primary (FORMAT.md §3.2).
    fn find_key(&self, id: KeyId) -> Option<(&RingKey, bool)> {
        match self.inner.ring.position(id)? {
            0 => Some((&self.inner.primary, true)),
            i => self.inner.accepted.get(i - 1).map(|k| (k, false)),
        }
    }

    /// Opens `token` at `now`, refusing input over `limit` bytes before
    /// anything else.
    pub(crate) fn open_unix<T: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
        limit: usize,
    ) -> Result<Opened<T>, Error> {
        self.open_unix_keeping(token, now, limit, &mut None)
    }

    /// [`open_unix`](Self::open_unix), and when the revocation store
    /// cannot answer, the authenticated claims of the refused session in
    /// `unchecked` (a log-out must still revoke it).
    pub(crate) fn open_unix_keeping<T: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
        limit: usize,
        unchecked: &mut Option<Opened<()>>,
    ) -> Result<Opened<T>, Error> {
        let inner = &*self.inner;
        if token.len() > limit {
            return Err(Error::InputTooLarge {
                size: token.len(),
                limit,
            });
        }
        if token.is_empty() {
            return Err(Malformed::Empty.into());
        }
        let mut stack = [const { MaybeUninit::<u8>::uninit() }; format::STACK_TOKEN];
        let mut heap = Vec::new();
        let bytes: &mut [u8] = if format::fits_stack(token.len()) {
            format::decode_into_stack(token, &mut stack)?
        } else {
            format::decode_into(token, &mut heap)?;
            &mut heap
        };
        let header = Header::parse(bytes)?;
        if header.mode != inner.mode {
            return Err(Malformed::WrongMode {
                token: header.mode,
                codec: inner.mode,
            }
            .into());
        }
        let (ring_key, is_primary) = self
            .find_key(header.key_id)
            .ok_or(Error::UnknownKey(header.key_id))?;

        // Nothing after a failed authentication: the rejection path does no
        // more work than an open.
        let body: &[u8] = match inner.mode {
            Mode::Encrypted => {
                let parts = format::split_encrypted(bytes)?;
                ring_key
                    .key
                    .xaes()
                    .decrypt_inout_detached(
                        &parts.nonce.into(),
                        ring_key.aad(header.own_lifetime),
                        parts.body.into(),
                        &parts.tag.into(),
                    )
                    .map_err(|_| Error::Invalid)?;
                parts.body
            }
            Mode::Signed => {
                let parts = format::split_signed(bytes)?;
                let mut mac = ring_key.key.hmac().clone();
                mac.update(ring_key.aad(header.own_lifetime));
                mac.update(parts.body);
                // Constant-time comparison.
                mac.verify_slice_reset(parts.tag)
                    .map_err(|_| Error::Invalid)?;
                parts.body
            }
        };

        // Authenticated from here on.
        let (claims, payload) =
            Claims::decode(body, header.own_lifetime).map_err(Error::InvalidClaims)?;
        inner.policy.check(&claims, now)?;
        if let Some(revocations) = &inner.revocations {
            if let Err(e) = revocations.check(&claims) {
                if matches!(e, Error::RevocationUnavailable(_)) {
                    *unchecked = Some(Opened {
                        value: (),
                        claims,
                        key_id: header.key_id,
                        needs_reseal: !is_primary,
                    });
                }
                return Err(e);
            }
        }
        let value = payload::decode(payload)?;
        Ok(Opened {
            value,
            claims,
            key_id: header.key_id,
            needs_reseal: !is_primary,
        })
    }

    /// Seals `value` as a new session at `now` into `token`, within `limit`
    /// bytes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn seal_new<T: Serialize + ?Sized>(
        &self,
        value: &T,
        subject: Option<&str>,
        lifetime: Option<i64>,
        id: Option<SessionId>,
        now: i64,
        limit: usize,
        token: &mut String,
    ) -> Result<Sealed, Error> {
        // Whatever fails below, the caller's buffer holds no stale token.
        token.clear();
        // A new session is created after whatever the store refuses: a
        // log-in in the second of a "log out everywhere" (or of a floor)
        // is sealed one second ahead, within the leeway, and opens.
        let now = match self.inner.revocations.as_ref() {
            Some(store) => match store.refused_through(subject) {
                Some(line) if line >= now => line.saturating_add(1),
                _ => now,
            },
            None => now,
        };
        let expires = self.inner.policy.expires_for(now, now, lifetime);
        if expires <= now {
            // Only at the end of the representable time range.
            return Err(Error::Expired { at: expires, now });
        }
        let (session_id, nonce) = match id {
            Some(id) => {
                let mut nonce = [0; NONCE_LEN];
                crate::rng::fill(&mut nonce);
                (id, nonce)
            }
            None => {
                // One draw for both: one generator access (about 140
                // instructions fewer than two draws).
                let (id, nonce) = crate::rng::fill_pair::<{ SessionId::LEN }, NONCE_LEN>();
                (SessionId::from_bytes(id), nonce)
            }
        };
        let claims = Claims::new(session_id, subject.map(str::to_owned), now, now, expires)
            .with_lifetime(lifetime);
        self.seal_claims(value, &claims, || Nonce(nonce), limit, token)?;
        Ok(Sealed {
            session_id,
            expires,
        })
    }

    /// FORMAT.md §2: header, nonce, body = claims || payload, tag; then
    /// base64url into `token`.
    fn seal_claims<T: Serialize + ?Sized>(
        &self,
        value: &T,
        claims: &Claims,
        nonce: impl FnOnce() -> Nonce,
        limit: usize,
        token: &mut String,
    ) -> Result<(), Error> {
        self.seal_claims_with(claims, nonce, limit, token, |bytes| {
            payload::encode(value, bytes)
        })
    }

    /// Seals the claims followed by whatever `write_payload` appends: the
    /// app's value as CBOR, or, for the test hooks, raw bytes.
    pub(crate) fn seal_claims_with(
        &self,
        claims: &Claims,
        nonce: impl FnOnce() -> Nonce,
        limit: usize,
        token: &mut String,
        write_payload: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if let Some(subject) = claims.subject() {
            if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN {
                token.clear();
                return Err(Error::SubjectLength {
                    len: subject.len(),
                    max: MAX_SUBJECT_LEN,
                });
            }
        }
        let own_lifetime = claims.lifetime_seconds().is_some();
        self.seal_body(own_lifetime, nonce, limit, token, |bytes| {
            claims.encode(bytes);
            write_payload(bytes)
        })
    }

    /// Seals whatever `write_body` appends as the body (FORMAT.md §5), under
    /// the primary key, within `limit` bytes of token (the codec's budget, or
    /// a cookie's): the one sealing mechanism. The
    /// nonce is drawn only in encrypted mode; outside the test hooks a
    /// [`Nonce`] can only be random.
    pub(crate) fn seal_body(
        &self,
        own_lifetime: bool,
        nonce: impl FnOnce() -> Nonce,
        limit: usize,
        token: &mut String,
        write_body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        token.clear();
        let inner = &*self.inner;
        let primary = &inner.primary;
        let header = Header {
            mode: inner.mode,
            own_lifetime,
            key_id: primary.key.id(),
        }
        .to_bytes();
        let aad = primary.aad(own_lifetime);

        // The thread's buffer from the last seal, if it came back: no
        // allocation per seal. What it held is public by then (header,
        // nonce, ciphertext, tag, or a signed body that the token shows);
        // a seal that fails drops it instead, with whatever it held.
        let mut bytes = SEAL_BUFFER.take();
        bytes.clear();
        bytes.reserve(inner.capacity_hint.load(Ordering::Relaxed));
        bytes.extend_from_slice(&header);
        let nonce = match inner.mode {
            Mode::Encrypted => {
                let nonce = nonce().0;
                bytes.extend_from_slice(&nonce);
                Some(nonce)
            }
            Mode::Signed => None,
        };
        let body_start = bytes.len();
        write_body(&mut bytes)?;

        let total = bytes.len() + inner.mode.tag_len();
        let size = format::encoded_len(total);
        if size > limit {
            return Err(Error::TooLarge { size, limit });
        }

        let body = bytes.get_mut(body_start..).unwrap_or_default();
        match nonce {
            Some(nonce) => {
                let tag = primary
                    .key
                    .xaes()
                    .encrypt_inout_detached(&nonce.into(), aad, body.into())
                    // Only fails beyond 64 GiB of plaintext.
                    .map_err(|_| Error::TooLarge { size, limit })?;
                bytes.extend_from_slice(&tag);
            }
            None => {
                // Keyed state is cloned in place, used by reference and
                // wiped when it goes out of scope (FORMAT.md §2.2).
                let mut mac = primary.key.hmac().clone();
                mac.update(aad);
                mac.update(body);
                bytes.extend_from_slice(&mac.finalize_reset().into_bytes());
            }
        }
        debug_assert_eq!(bytes.len(), total);
        if bytes.len() > inner.capacity_hint.load(Ordering::Relaxed) {
            inner.capacity_hint.store(bytes.len(), Ordering::Relaxed);
        }

        token.reserve(size);
        format::encode_into(&bytes, token);
        // Kept for the next seal unless a rare large one grew it.
        if bytes.capacity() <= KEPT_SEAL_BUFFER {
            SEAL_BUFFER.set(bytes);
        }
        Ok(())
    }
}

thread_local! {
    /// A seal's working buffer (header, nonce, body, tag before base64),
    /// reused by the thread's next seal. `take` leaves an empty `Vec`, so a
    /// seal inside a seal (a `Serialize` that seals) gets its own.
    static SEAL_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest buffer a thread keeps between seals: a browser's cookie
/// budget, with room.
const KEPT_SEAL_BUFFER: usize = 16 * 1024;

/// How to seal: for whom and when. Every option has a default (no subject,
/// now), so `SealOptions::new()` seals as [`Codec::seal`] does.
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, SealOptions};
/// use time::OffsetDateTime;
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
/// let options = SealOptions::new().subject("user-42").at(now);
/// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, options)?, now)?;
/// assert_eq!(opened.claims().subject(), Some("user-42"));
/// assert_eq!(opened.claims().created_unix(), 1_700_000_000);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct SealOptions<'a> {
    subject: Subject<'a>,
    at: Option<OffsetDateTime>,
    new_id: bool,
    /// The new id, drawn before the seal (the axum layer tells a handler
    /// the id its new session will have).
    id: Option<SessionId>,
    lifetime: Lifetime,
}

/// What a seal does with the session's own lifetime: a re-seal keeps the
/// session's (within the codec's maximum) unless told otherwise; a new
/// session has none unless given one.
#[derive(Clone, Copy, Debug, Default)]
enum Lifetime {
    #[default]
    Keep,
    Set(Duration),
    Clear,
}

/// What a seal does with the subject: a re-seal keeps the session's unless
/// told otherwise; a new session has none unless given one.
#[derive(Clone, Copy, Debug, Default)]
enum Subject<'a> {
    #[default]
    Keep,
    Set(&'a str),
    Clear,
}

impl<'a> SealOptions<'a> {
    /// No subject, the current time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session's subject (a user id, 1 to 255 bytes): the key for "log
    /// out everywhere".
    pub fn subject(mut self, subject: &'a str) -> Self {
        self.subject = Subject::Set(subject);
        self
    }

    /// A re-seal drops the session's subject (a user logs out but keeps
    /// the session). A new session has no subject anyway.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let opened = codec.open::<u8>(&codec.seal_with(&1u8, SealOptions::new().subject("u"))?)?;
    /// let token = codec.reseal_with(&opened, SealOptions::new().without_subject())?;
    /// assert_eq!(codec.open::<u8>(&token)?.claims().subject(), None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn without_subject(mut self) -> Self {
        self.subject = Subject::Clear;
        self
    }

    /// A re-seal gives the session a new id, keeping its value and its
    /// `created` (so its absolute lifetime does not restart): on log-in and
    /// on every change of privilege, against session fixation. A new
    /// session always has a new id.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let opened = codec.open::<u8>(&codec.seal(&1u8)?)?;
    /// let renewed = codec.open::<u8>(&codec.reseal_with(&opened, SealOptions::new().new_id())?)?;
    /// assert_ne!(renewed.claims().session_id(), opened.claims().session_id());
    /// assert_eq!(renewed.claims().created(), opened.claims().created());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn new_id(mut self) -> Self {
        self.new_id = true;
        self
    }

    /// A new session, or a re-seal with a new id, gets `id`, drawn at
    /// random by the caller beforehand. Never public: a chosen id is
    /// session fixation.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn with_id(mut self, id: SessionId) -> Self {
        self.id = Some(id);
        self.new_id = true;
        self
    }

    /// The session lives at most `lifetime` from its start, however often
    /// it is renewed: a "remember me" choice (say 12 hours without, 30 days
    /// with), kept across re-seals, and bounded by the codec's
    /// `max_lifetime` (which an operator may lower later: the shorter
    /// wins). On a re-seal it replaces the session's own lifetime, still
    /// counted from the session's start. Without it a new session lives as
    /// long as the codec allows; the token is the same as before
    /// (FORMAT.md §5.3: a lifetime adds one to four bytes and its own
    /// version byte). A re-seal without it keeps the session's own
    /// lifetime, lowered to the codec's `max_lifetime` if an operator has
    /// lowered that below it since (FORMAT.md §6.1: a sealer never writes
    /// a lifetime beyond its maximum, so the lowered one stays if the
    /// maximum is raised again); [`without_lifetime`](Self::without_lifetime)
    /// removes it.
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Key, KeyRing, SealOptions};
    /// use time::Duration;
    /// let codec = Codec::builder(KeyRing::new(Key::generate()))
    ///     .max_lifetime(Duration::days(30))
    ///     .build()?;
    /// let now = time::OffsetDateTime::now_utc();
    /// let remembered = codec.seal_with(&1u8, SealOptions::new().lifetime(Duration::days(30)))?;
    /// let brief = codec.seal_with(&1u8, SealOptions::new().lifetime(Duration::hours(12)))?;
    /// assert!(codec.open::<u8>(&brief)?.claims().expires() <= now + Duration::hours(12) + Duration::seconds(1));
    /// let e = codec.seal_with(&1u8, SealOptions::new().lifetime(Duration::days(31))).unwrap_err();
    /// assert!(matches!(e, Error::Lifetime { seconds: 2_678_400, max: 2_592_000 }));
    /// # let _ = remembered;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Lifetime::Set(lifetime);
        self
    }

    /// A re-seal drops the session's own lifetime: the session lives as
    /// long as the codec allows again, still counted from its start, and
    /// the token takes version `0x01` or `0x02` again (a "remember me"
    /// withdrawn). A new session has none anyway.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// use time::Duration;
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let remembered = SealOptions::new().lifetime(Duration::hours(12));
    /// let opened = codec.open::<u8>(&codec.seal_with(&1u8, remembered)?)?;
    /// assert_eq!(opened.claims().lifetime(), Some(Duration::hours(12)));
    /// let token = codec.reseal_with(&opened, SealOptions::new().without_lifetime())?;
    /// assert_eq!(codec.open::<u8>(&token)?.claims().lifetime(), None);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn without_lifetime(mut self) -> Self {
        self.lifetime = Lifetime::Clear;
        self
    }

    /// The lifetime to seal, in whole seconds, for a session whose own
    /// lifetime is `old` (`None` for a new one): one asked for, checked
    /// against the codec's maximum; else the session's, lowered to that
    /// maximum (FORMAT.md §6.1); or none.
    fn lifetime_seconds(&self, policy: &Policy, old: Option<i64>) -> Result<Option<i64>, Error> {
        let lifetime = match self.lifetime {
            Lifetime::Keep => return Ok(old.map(|old| old.min(policy.max_lifetime))),
            Lifetime::Clear => return Ok(None),
            Lifetime::Set(lifetime) => lifetime,
        };
        let seconds = lifetime.whole_seconds();
        if !(1..=policy.max_lifetime).contains(&seconds) {
            return Err(Error::Lifetime {
                seconds,
                max: policy.max_lifetime,
            });
        }
        Ok(Some(seconds))
    }

    /// Seal as if the time were `at` instead of now (tests, replays, a
    /// request's own clock).
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = Some(at);
        self
    }

    /// The time given with [`at`](Self::at), if any.
    pub(crate) fn fixed_time(&self) -> Option<OffsetDateTime> {
        self.at
    }

    fn unix_time(&self) -> Result<i64, Error> {
        match self.at {
            Some(at) => unix_seconds(at),
            None => unix_now(),
        }
    }
}

/// What a seal wrote, beside the token: the session id and the end of the
/// session, for a `Set-Cookie`'s `Expires` or a revocation entry's lifetime.
///
/// ```
/// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let mut token = String::new();
/// let sealed = codec.seal_into(&1u8, SealOptions::new(), &mut token)?;
/// let claims = codec.open::<u8>(&token)?.claims().clone();
/// assert_eq!(sealed.session_id(), claims.session_id());
/// assert_eq!(sealed.expires_unix(), claims.expires_unix());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    session_id: SessionId,
    expires: i64,
}

impl Sealed {
    /// The session id sealed: new for a new session, kept by a re-seal.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// When the sealed token stops opening.
    pub fn expires(&self) -> OffsetDateTime {
        crate::clock::to_datetime(self.expires)
    }

    /// When the sealed token stops opening, in unix seconds.
    pub fn expires_unix(&self) -> i64 {
        self.expires
    }
}

/// A 24-byte XAES-256-GCM nonce. In a default build a nonce comes only from
/// the CSPRNG (`rng`): a chosen nonce exists only behind the
/// `dangerous-test-hooks` feature, for the known-answer vectors.
pub(crate) struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// 192 bits from the thread's fork-safe CSPRNG (`rng`).
    pub(crate) fn random() -> Self {
        let mut n = [0u8; NONCE_LEN];
        crate::rng::fill(&mut n);
        Self(n)
    }

    /// A chosen nonce: GCM nonce reuse if it repeats under one key.
    #[cfg(feature = "dangerous-test-hooks")]
    pub(crate) fn chosen(bytes: [u8; NONCE_LEN]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `seal_into` promises an empty buffer on any error, also on the ones
    /// found before anything is sealed (here: the format's last second).
    #[test]
    fn a_failed_seal_leaves_the_buffer_empty() {
        let codec = Codec::builder(KeyRing::new(Key::generate()))
            .build()
            .unwrap();
        let mut token = String::from("a token of the previous request");
        let e = codec
            .seal_new(
                &1u8,
                None,
                None,
                None,
                crate::clock::MAX_UNIX,
                codec.budget(),
                &mut token,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Expired { .. }), "{e:?}");
        assert!(token.is_empty(), "{token:?}");
    }
}
