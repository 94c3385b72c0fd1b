//! Web sessions kept entirely in the client's cookie: no server-side store.
//!
//! A session value (any serde type) is serialized as CBOR, stamped with
//! expiry claims and a random session id, sealed with XAES-256-GCM (or signed
//! with HMAC-SHA256) under the primary key of a [`KeyRing`], bound to its
//! purpose, and encoded as unpadded base64url within the browser's cookie
//! budget. Any node holding the key ring opens any session.
//!
//! ```
//! use sealed_session::{Codec, Key, KeyRing};
//! use serde::{Deserialize, Serialize};
//! use time::{Duration, OffsetDateTime};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct MySession { user_id: u64, roles: Vec<String> }
//!
//! // Load keys with `Key::from_base64`, `Key::from_env` or `Key::from_file`.
//! let previous = Key::generate();
//! let primary = Key::generate();
//! let ring = KeyRing::new(primary)            // seals
//!     .with_accepted(previous.clone());       // still opens
//! let codec = Codec::builder(ring)
//!     .purpose("session")                     // bound into the seal
//!     .max_lifetime(Duration::days(7))        // absolute, from `created`
//!     .idle_timeout(Duration::hours(2))       // from `issued`
//!     .leeway(Duration::seconds(30))
//!     .build()?;
//!
//! let session = MySession { user_id: 42, roles: vec!["admin".into()] };
//! let token: String = codec.seal(&session)?;   // new session, fresh id
//! let opened = codec.open::<MySession>(&token)?;
//! assert_eq!(opened.value(), &session);
//! assert!(!opened.needs_reseal());
//!
//! // An hour later: re-sealing keeps the id and `created`, renews `issued`.
//! let later = OffsetDateTime::now_utc() + Duration::hours(1);
//! let renewed = codec.reseal_with(&opened, sealed_session::SealOptions::new().at(later))?;
//! let reopened = codec.open_at::<MySession>(&renewed, later)?;
//! assert_eq!(reopened.claims().session_id(), opened.claims().session_id());
//! assert_eq!(reopened.claims().created(), opened.claims().created());
//! # Ok::<(), sealed_session::Error>(())
//! ```
//!
//! # What a token is
//! The bytes are specified in `FORMAT.md` at the root of the repository,
//! with known-answer vectors in `tests/vectors/v1.json`. In short: a version
//! byte, a 4-byte key id, a 24-byte nonce, the encrypted claims and payload,
//! and a 16-byte tag: 70 bytes of framing for a new session with an idle
//! timeout of up to 4.5 hours, 71 with the defaults (FORMAT.md §2.3).
//!
//! # Cookies
//! [`SessionCookie`] carries the token in `Set-Cookie` and `Cookie` headers:
//! secure attributes by default, checked when configured; the browser's
//! limits measured as the browser measures them; opt-in chunking over
//! several cookies, with stale chunks deleted (FORMAT.md §11). With the
//! `axum` feature, the `axum` module's `SessionLayer` does it for every
//! request of an axum (or any tower) app; with the `actix` feature, the
//! `actix` module's `SessionMiddleware` does the same for actix-web, by the
//! same rules (one framework-neutral core) and with the same `Session<T>`.
//! Their `CodecHandle` replaces either one's codec while it serves.
//!
//! # Revocation
//! A codec built with [`CodecBuilder::revocations`] refuses revoked
//! sessions ([`Error::Revoked`]): log-out that holds even against a copy of
//! the cookie, and "log out everywhere" for a subject ([`Revocations`]).
//!
//! # Errors
//! Everything fallible returns [`Error`]. Authentication failures of every
//! kind are the one opaque [`Error::Invalid`]; a payload that authenticates
//! but does not fit the requested type is [`Error::Payload`] (start a new
//! session). [`Error::is_rejection`] sorts what a client sent from the
//! server's own faults.
//!
//! # Features
//! The default build is the codec and the session cookie (RustCrypto's
//! `xaes-256-gcm`, `hkdf`, `hmac`, `sha2`, `base64ct`, `subtle`, `zeroize`;
//! `cbor4ii`, `half`, `smallvec` and `serde`; `base64-simd`; `time`;
//! `rand`; `cookie` for the headers). The command-line tool is the separate
//! package in `cli/`, so `clap` never enters a library user's build.
//!
//! - `revocation`: `MemoryRevocations`, revoked sessions kept in this
//!   process, bounded and fail-closed, and checked at every open (with
//!   `tracing`).
//! - `ring-source`: `FileRingSource`, a key-ring file that a running app
//!   follows (polling; new keys, activations and retirements without a
//!   restart), with `tracing`.
//! - `redis`: `RedisRevocations`, revocations shared by a cluster through
//!   Redis with a local replica per node, and `RedisRingSource`, a key ring
//!   held in Redis, encrypted (with `redis`, `tokio`, `futures-util`,
//!   `tracing`; implies `ring-source`).
//! - `axum`: the `axum` module, a tower layer and an axum extractor, with
//!   `axum-core`, `http`, `tower-layer`, `tower-service` and `tracing`
//!   (neither axum itself nor tokio).
//! - `actix`: the `actix` module, an actix-web middleware and extractor,
//!   with `actix-web` (without its default features) and `tracing`.
//! - `dangerous-test-hooks`: the `vectors` and `fuzzing` modules, which seal
//!   with a chosen nonce, session id and time, for the known-answer vectors,
//!   the fuzz targets and the adversarial tests. Never enable it in an
//!   application: a nonce that repeats under one key is GCM nonce reuse,
//!   which lets an attacker forge tokens.
#![cfg_attr(
    not(feature = "dangerous-test-hooks"),
    doc = r#"
Without that feature, no public item seals with a chosen nonce:

```compile_fail
use sealed_session::vectors::seal_fixed;
```

```compile_fail
use sealed_session::fuzzing::seal_body;
```
"#
)]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

// The codec, bottom up: identifiers, modes and time; keys; the byte layout
// (no cryptography); claims and payload inside the seal; and `codec`, the one
// place that ties them together. `untrusted` reads a token without a key.
#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
mod budget;
mod claims;
mod clock;
mod codec;
#[cfg(any(feature = "axum", feature = "actix"))]
mod codec_handle;
mod cookies;
mod error;
mod format;
mod ids;
mod input;
mod key;
mod mode;
mod payload;
mod policy;
mod revocation;
mod ring_file;
mod rng;
mod rotation;
#[cfg(feature = "ring-source")]
mod source;
mod untrusted;
// The session rules that the framework adapters above share.
#[cfg(any(feature = "axum", feature = "actix"))]
mod web;

// The public interface.
pub use budget::{DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET};
pub use claims::{Claims, MAX_SUBJECT_LEN, UnverifiedClaims};
pub use codec::{Codec, CodecBuilder, Opened, SealOptions, Sealed};
#[cfg(any(feature = "axum", feature = "actix"))]
pub use codec_handle::CodecHandle;
pub use cookies::{
    ATTRIBUTE_LIMIT, COOKIE_LIMIT, CookiePrefix, DEFAULT_REQUEST_BUDGET, MAX_CHUNKS,
    MAX_REQUEST_BUDGET, RequestCookies, SameSite, SessionCookie, SessionCookieBuilder, SetCookies,
    SetCookiesIntoIter,
};
pub use error::{ConfigError, CookieConfigError, CookieError, Error, Malformed, RotationError};
pub use ids::{KeyId, SessionId};
pub use input::{Extracted, InputError, extract_session, extract_token};
pub use key::{Key, KeyRing, MAX_KEY_LEN, MIN_KEY_LEN};
pub use mode::Mode;
pub use payload::RECURSION_LIMIT;
#[cfg(feature = "revocation")]
pub use revocation::{MemoryRevocations, RevocationStats, SESSIONS_PER_SUBJECT};
#[cfg(feature = "redis")]
pub use revocation::{RedisOptions, RedisRevocations, Unavailable};
pub use revocation::{Revocations, RevokedSession, Revoking};
pub use ring_file::{KeyEntry, KeyRingFile, KeyRole};
pub use rotation::{
    Change, ChangeKind, KeySchedule, KeyState, Lifecycle, RotationPolicy, RotationStep,
    ScheduledKey, StoredRing, keep_for,
};
#[cfg(feature = "ring-source")]
pub use source::{FileRingSource, LoadedRing, RingFollower, RingSourceStats};
#[cfg(feature = "redis")]
pub use source::{LoadedRedisRing, OpenedRing, RedisRingSource, RingKek};
pub use untrusted::UntrustedToken;

// `cargo test --doc` compiles the README's Rust code, so it cannot drift
// from the API (its axum example only with the feature).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}

/// Entry points for the fuzz targets and the adversarial tests. They seal
/// with fixed keys and chosen nonces: only with the `dangerous-test-hooks`
/// feature, never in a default build.
#[cfg(feature = "dangerous-test-hooks")]
pub mod fuzzing;

/// Entry points for the known-answer vectors (`tests/vectors.rs`): sealing
/// with a chosen nonce, session id and times. Only with the
/// `dangerous-test-hooks` feature: a repeated nonce under one key is GCM
/// nonce reuse, which lets an attacker forge tokens.
#[cfg(feature = "dangerous-test-hooks")]
pub mod vectors;
