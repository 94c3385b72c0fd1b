//! The size budget of a token (FORMAT.md §7).
//!
//! Browsers silently drop a cookie whose name and value exceed 4096 bytes.
//! The default budget leaves 256 of those bytes for the cookie's name, the
//! `=` and the usual attributes (`Path`, `Max-Age`, `Expires`, `Domain`,
//! `HttpOnly`, `Secure`, `SameSite`), so a default token always fits.

/// Default budget for a token, in bytes of base64url text: 4096 − 256.
pub const DEFAULT_BUDGET: usize = 3840;
/// Smallest budget a codec accepts.
pub const MIN_BUDGET: usize = 128;
/// Largest budget a codec accepts: servers refuse request headers much
/// beyond 8 KiB (nginx, Apache).
pub const MAX_BUDGET: usize = 8192;
