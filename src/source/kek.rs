//! The key-encryption key of a key ring held in a shared store
//! (FORMAT.md §12.4): the ring's text is sealed with XAES-256-GCM under a
//! key derived from a secret every node holds, bound to the store's key
//! name, so the store (and its backups) never hold key material in clear.

use std::path::Path;

use hmac::digest::KeyInit as _;
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::AeadInOut as _;
use zeroize::Zeroizing;

use crate::error::{Error, RotationError};
use crate::key::Key;

/// HKDF-SHA256 label of the ring's sealing key (FORMAT.md §12.4).
const LABEL: &[u8] = b"sealed-session v1 ring kek";
/// The first byte of a sealed ring: the layout. `0x02` carries the ring's
/// generation in clear (for a store's compare-and-set) and binds it in the
/// associated data; `0x01`, without it, is still opened (generation 0).
const VERSION: u8 = 0x02;
const VERSION_1: u8 = 0x01;
const GENERATION_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// XAES-256-GCM seals at most 2^36 - 32 bytes at once.
const MAX_TEXT: u64 = (1 << 36) - 32;

/// A ring's text opened by [`RingKek::open`], with the generation it was
/// sealed under (0 for the layout without one).
#[derive(Debug)]
#[non_exhaustive]
pub struct OpenedRing {
    /// The generation bound to the sealed value (FORMAT.md §12.4).
    pub generation: u64,
    /// The ring's text; wiped on drop.
    pub text: Zeroizing<Vec<u8>>,
}

/// The key-encryption key that seals a key ring held in Redis. A secret of
/// 32 random bytes or more, like a [`Key`], kept apart from the ring
/// (an environment variable, a mounted file). Never shown by `Debug`.
///
/// ```
/// use sealed_session::{Key, RingKek};
/// let kek = RingKek::from_base64(&Key::generate().export_base64())?;
/// let sealed = kek.seal(b"sealed-session key ring v2\n...", "app:ring", 7)?;
/// let opened = kek.open(&sealed, "app:ring")?;
/// assert_eq!((opened.generation, &opened.text[..]), (7, &b"sealed-session key ring v2\n..."[..]));
/// assert!(kek.open(&sealed, "other:ring").is_err()); // bound to its key name
/// assert!(!format!("{kek:?}").contains("secret"));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct RingKek {
    cipher: Xaes256Gcm,
}

impl std::fmt::Debug for RingKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RingKek(<redacted>)")
    }
}

impl RingKek {
    /// From base64 text, as [`Key::from_base64`].
    ///
    /// # Errors
    /// As [`Key::from_base64`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        Key::from_base64(text).map(|k| Self::of(&k))
    }

    /// From an environment variable, as [`Key::from_env`].
    ///
    /// # Errors
    /// As [`Key::from_env`].
    pub fn from_env(var: &str) -> Result<Self, Error> {
        Key::from_env(var).map(|k| Self::of(&k))
    }

    /// From a file, as [`Key::from_file`].
    ///
    /// # Errors
    /// As [`Key::from_file`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        Key::from_file(path).map(|k| Self::of(&k))
    }

    fn of(key: &Key) -> Self {
        let sub = key.derive_for(LABEL);
        Self {
            cipher: Xaes256Gcm::new((&*sub).into()),
        }
    }

    /// Seals a ring's text for the store key `name`, under its
    /// `generation` (the ring's own, [`StoredRing::generation`]): `0x02`, the
    /// generation (8 bytes, big-endian, in clear), a random 24-byte nonce,
    /// the ciphertext and its tag; the name and the generation are the
    /// associated data.
    ///
    /// # Errors
    /// [`RotationError::RingTooLarge`] beyond 64 GiB of text, which
    /// XAES-256-GCM does not seal (never the text in clear).
    ///
    /// [`StoredRing::generation`]: crate::StoredRing::generation
    pub fn seal(&self, text: &[u8], name: &str, generation: u64) -> Result<Vec<u8>, Error> {
        let too_large = || RotationError::RingTooLarge { len: text.len() };
        if u64::try_from(text.len()).map_or(true, |n| n > MAX_TEXT) {
            return Err(too_large().into());
        }
        let mut nonce = [0u8; NONCE_LEN];
        crate::rng::fill(&mut nonce);
        let head = 1 + GENERATION_LEN + NONCE_LEN;
        let mut out = Vec::with_capacity(head + text.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&generation.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(text);
        let body = out.get_mut(head..).unwrap_or_default();
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce.into(), &aad(name, Some(generation)), body.into())
            .map_err(|_| too_large())?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens what [`RingKek::seal`] sealed for `name` (either layout).
    ///
    /// # Errors
    /// [`RotationError::SealedRing`] if it was sealed under another key or
    /// for another name, or changed (its generation included).
    pub fn open(&self, sealed: &[u8], name: &str) -> Result<OpenedRing, Error> {
        let refused = || Error::Rotation(RotationError::SealedRing);
        let (version, rest) = sealed.split_first().ok_or_else(refused)?;
        let (generation, rest) = match *version {
            VERSION => {
                let (generation, rest) =
                    rest.split_at_checked(GENERATION_LEN).ok_or_else(refused)?;
                let generation: [u8; GENERATION_LEN] =
                    generation.try_into().map_err(|_| refused())?;
                (Some(u64::from_be_bytes(generation)), rest)
            }
            VERSION_1 => (None, rest),
            _ => return Err(refused()),
        };
        let (nonce, rest) = rest.split_at_checked(NONCE_LEN).ok_or_else(refused)?;
        let body_len = rest.len().checked_sub(TAG_LEN).ok_or_else(refused)?;
        let (body, tag) = rest.split_at(body_len);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| refused())?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| refused())?;
        let mut text = Zeroizing::new(body.to_vec());
        self.cipher
            .decrypt_inout_detached(
                &nonce.into(),
                &aad(name, generation),
                text.as_mut_slice().into(),
                &tag.into(),
            )
            .map_err(|_| refused())?;
        Ok(OpenedRing {
            generation: generation.unwrap_or(0),
            text,
        })
    }
}

/// The associated data: the store key's name, then (layout `0x02`) the
/// generation, 8 bytes big-endian.
fn aad(name: &str, generation: Option<u64>) -> Vec<u8> {
    let mut aad = name.as_bytes().to_vec();
    if let Some(generation) = generation {
        aad.extend_from_slice(&generation.to_be_bytes());
    }
    aad
}
