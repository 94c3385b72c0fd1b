//! The two modes of the format (FORMAT.md §1): which algorithm protects a
//! token, named by its version byte.

use std::fmt;

/// Version byte of format v1 in encrypted mode (XAES-256-GCM).
pub(crate) const VERSION_V1_ENCRYPTED: u8 = 0x01;
/// Version byte of format v1 in signed mode (HMAC-SHA256).
pub(crate) const VERSION_V1_SIGNED: u8 = 0x02;
/// Encrypted mode, the claims ending with the session's own lifetime
/// (FORMAT.md §5.3).
pub(crate) const VERSION_V1_ENCRYPTED_LIFETIME: u8 = 0x03;
/// Signed mode, likewise.
pub(crate) const VERSION_V1_SIGNED_LIFETIME: u8 = 0x04;

/// Version byte and key id.
pub(crate) const HEADER_LEN: usize = 1 + crate::ids::KeyId::LEN;
/// XAES-256-GCM nonce.
pub(crate) const NONCE_LEN: usize = 24;
/// XAES-256-GCM tag.
pub(crate) const GCM_TAG_LEN: usize = 16;
/// HMAC-SHA256 tag (untruncated).
pub(crate) const HMAC_TAG_LEN: usize = 32;

/// How a token is protected. The codec chooses the mode; a token whose
/// version byte names the other mode is refused, never followed.
///
/// ```
/// use sealed_session::{Codec, Error, Key, KeyRing, Malformed, Mode};
/// let key = Key::generate();
/// let signed = Codec::builder(KeyRing::new(key.clone())).signed().build()?;
/// let encrypted = Codec::builder(KeyRing::new(key)).build()?;
/// let token = signed.seal(&1u8)?;
/// // The token's version byte never chooses the algorithm: a codec opens its own mode only.
/// let e = encrypted.open::<u8>(&token).unwrap_err();
/// assert!(matches!(e, Error::Malformed(Malformed::WrongMode { token: Mode::Signed, codec: Mode::Encrypted })));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// XAES-256-GCM: the payload is confidential and authenticated (default).
    Encrypted,
    /// HMAC-SHA256: the payload is readable by whoever decodes the token, but
    /// cannot be changed.
    Signed,
}

impl Mode {
    /// The mode a version byte names, and whether its claims end with the
    /// session's own lifetime; `None` for a reserved byte.
    pub(crate) const fn from_version_byte(byte: u8) -> Option<(Self, bool)> {
        match byte {
            VERSION_V1_ENCRYPTED => Some((Self::Encrypted, false)),
            VERSION_V1_SIGNED => Some((Self::Signed, false)),
            VERSION_V1_ENCRYPTED_LIFETIME => Some((Self::Encrypted, true)),
            VERSION_V1_SIGNED_LIFETIME => Some((Self::Signed, true)),
            _ => None,
        }
    }

    /// The version byte of a token of this mode, whose claims end with the
    /// session's own lifetime or not.
    pub(crate) const fn version_byte(self, own_lifetime: bool) -> u8 {
        match (self, own_lifetime) {
            (Self::Encrypted, false) => VERSION_V1_ENCRYPTED,
            (Self::Signed, false) => VERSION_V1_SIGNED,
            (Self::Encrypted, true) => VERSION_V1_ENCRYPTED_LIFETIME,
            (Self::Signed, true) => VERSION_V1_SIGNED_LIFETIME,
        }
    }

    /// Length of the authentication tag.
    pub(crate) const fn tag_len(self) -> usize {
        match self {
            Self::Encrypted => GCM_TAG_LEN,
            Self::Signed => HMAC_TAG_LEN,
        }
    }

    /// Length of the nonce (none in signed mode).
    pub(crate) const fn nonce_len(self) -> usize {
        match self {
            Self::Encrypted => NONCE_LEN,
            Self::Signed => 0,
        }
    }

    /// Bytes a token of this mode adds around the body: header, nonce, tag.
    pub(crate) const fn overhead(self) -> usize {
        HEADER_LEN + self.nonce_len() + self.tag_len()
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Encrypted => "encrypted",
            Self::Signed => "signed",
        })
    }
}
