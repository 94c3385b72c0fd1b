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
/// The first byte of a sealed ring: the version of this layout.
const VERSION: u8 = 0x01;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The key-encryption key that seals a key ring held in Redis. A secret of
/// 32 random bytes or more, like a [`Key`], kept apart from the ring
/// (an environment variable, a mounted file). Never shown by `Debug`.
///
/// ```
/// use sealed_session::{Key, RingKek};
/// let kek = RingKek::from_base64(&Key::generate().export_base64())?;
/// let sealed = kek.seal(b"sealed-session key ring v2\n...", "app:ring");
/// assert_eq!(&kek.open(&sealed, "app:ring")?[..], b"sealed-session key ring v2\n...");
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

    /// Seals a ring's text for the store key `name`: `0x01`, a random
    /// 24-byte nonce, the ciphertext and its tag. (Empty beyond 64 GiB of
    /// text, which XAES-256-GCM does not seal: never the text in clear.)
    pub fn seal(&self, text: &[u8], name: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::rng::fill(&mut nonce);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + text.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(text);
        let body = out.get_mut(1 + NONCE_LEN..).unwrap_or_default();
        // Fails only beyond 64 GiB of plaintext.
        if let Ok(tag) =
            self.cipher
                .encrypt_inout_detached(&nonce.into(), name.as_bytes(), body.into())
        {
            out.extend_from_slice(&tag);
        }
        out
    }

    /// Opens what [`RingKek::seal`] sealed for `name`; the text is wiped
    /// on drop.
    ///
    /// # Errors
    /// [`RotationError::SealedRing`] if it was sealed under another key or
    /// for another name, or changed.
    pub fn open(&self, sealed: &[u8], name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let refused = || Error::Rotation(RotationError::SealedRing);
        let (version, rest) = sealed.split_first().ok_or_else(refused)?;
        let (nonce, rest) = rest.split_at_checked(NONCE_LEN).ok_or_else(refused)?;
        let body_len = rest.len().checked_sub(TAG_LEN).ok_or_else(refused)?;
        let (body, tag) = rest.split_at(body_len);
        if *version != VERSION {
            return Err(refused());
        }
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| refused())?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| refused())?;
        let mut text = Zeroizing::new(body.to_vec());
        self.cipher
            .decrypt_inout_detached(
                &nonce.into(),
                name.as_bytes(),
                text.as_mut_slice().into(),
                &tag.into(),
            )
            .map_err(|_| refused())?;
        Ok(text)
    }
}
