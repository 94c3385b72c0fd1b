//! The size budget of a token (FORMAT.md §7).
//!
//! Browsers silently drop a cookie whose name and value exceed 4096 bytes.
//! The default budget leaves 256 of those bytes for the cookie's name, the
//! `=` and the usual attributes (`Path`, `Max-Age`, `Expires`, `Domain`,
//! `HttpOnly`, `Secure`, `SameSite`), so a default token always fits.

/// Default budget for a token, in bytes of base64url text: 4096 − 256.
///
/// ```
/// use sealed_session::{Codec, DEFAULT_BUDGET, Key, KeyRing};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// assert_eq!(codec.budget(), DEFAULT_BUDGET);
/// assert_eq!(DEFAULT_BUDGET, 4096 - 256);
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub const DEFAULT_BUDGET: usize = 3840;
/// Smallest budget a codec accepts.
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, MIN_BUDGET};
/// assert!(Codec::builder(KeyRing::new(Key::generate())).budget(MIN_BUDGET - 1).build().is_err());
/// ```
pub const MIN_BUDGET: usize = 128;
/// Largest budget a codec accepts: servers refuse request headers much
/// beyond 8 KiB (nginx, Apache).
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, MAX_BUDGET};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).budget(MAX_BUDGET).build()?;
/// assert_eq!(codec.budget(), 8192);
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub const MAX_BUDGET: usize = 8192;
