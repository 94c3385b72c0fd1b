//! Keys, key ids, sub-key derivation and the key ring (FORMAT.md §3).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::KeyInit;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::error::Error;

/// Smallest accepted master secret, in bytes.
pub const MIN_KEY_LEN: usize = 32;
/// Largest accepted master secret, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Length of a generated master secret, in bytes.
const GENERATED_KEY_LEN: usize = 32;

/// HKDF-SHA256 `info` labels (FORMAT.md §3.1). They name the format version
/// and the algorithm, so a sub-key never serves two purposes.
const LABEL_KEY_ID: &[u8] = b"sealed-session v1 key-id";
const LABEL_XAES: &[u8] = b"sealed-session v1 xaes-256-gcm";
const LABEL_HMAC: &[u8] = b"sealed-session v1 hmac-sha256";

/// The 4-byte id of a key, written in the token header so that `open` finds
/// its key directly (FORMAT.md §3.2). Not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 4]);

impl KeyId {
    /// Length of a key id, in bytes.
    pub const LEN: usize = 4;

    /// A key id from its bytes.
    pub const fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The bytes of the key id, as written in a token.
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }

    /// Parses the 8 lowercase or uppercase hex digits that `Display` writes.
    pub fn from_hex(text: &str) -> Option<Self> {
        let digits = text.as_bytes();
        if digits.len() != 8 {
            return None;
        }
        let mut out = [0u8; 4];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::format::pad_hex(&self.0, f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A master secret and the sub-keys derived from it.
///
/// Cheap to clone (the secret is shared, not copied). Zeroized when the last
/// clone is dropped; `Debug` shows only the key id; equality is constant-time.
///
/// ```
/// use sealed_session::Key;
/// let key = Key::generate();
/// let text = key.export_base64(); // store this in your secret manager
/// let again = Key::from_base64(&text)?;
/// assert_eq!(key, again);
/// assert!(!format!("{key:?}").contains(text.as_str()));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Key(Arc<KeyInner>);

#[derive(ZeroizeOnDrop)]
struct KeyInner {
    #[zeroize(skip)]
    id: KeyId,
    master: Box<[u8]>,
    /// The HMAC sub-key in its first 32 bytes, zeros after (see `codec::hmac_for`).
    mac: [u8; 64],
    #[zeroize(skip)] // zeroizes itself on drop (the `zeroize` feature of xaes-256-gcm)
    xaes: Xaes256Gcm,
}

impl Key {
    /// A new random 32-byte key from the operating system's RNG.
    ///
    /// # Panics
    /// If the operating system cannot provide randomness.
    pub fn generate() -> Self {
        let mut master = Zeroizing::new([0u8; GENERATED_KEY_LEN]);
        crate::rng::fill_from_os(master.as_mut());
        Self::derive(&master[..])
    }

    /// A key from the raw bytes of a master secret.
    ///
    /// # Errors
    /// [`Error::KeyTooShort`] below 32 bytes, [`Error::KeyTooLong`] above 1024,
    /// [`Error::WeakKey`] when every byte is the same.
    pub fn from_bytes(master: &[u8]) -> Result<Self, Error> {
        if master.len() < MIN_KEY_LEN {
            return Err(Error::KeyTooShort {
                len: master.len(),
                min: MIN_KEY_LEN,
            });
        }
        if master.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong {
                len: master.len(),
                max: MAX_KEY_LEN,
            });
        }
        if master.iter().all(|b| Some(b) == master.first()) {
            return Err(Error::WeakKey);
        }
        Ok(Self::derive(master))
    }

    /// A key from base64 text (either alphabet, padding optional, surrounding
    /// whitespace ignored), as written by [`Key::export_base64`] or
    /// `openssl rand -base64 32`.
    ///
    /// # Errors
    /// [`Error::KeyEncoding`] if the text is not base64, then as
    /// [`Key::from_bytes`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        // Either alphabet, padding optional: normalise to unpadded URL-safe.
        let normalised: Zeroizing<Vec<u8>> = Zeroizing::new(
            text.trim()
                .trim_end_matches('=')
                .bytes()
                .map(|b| match b {
                    b'+' => b'-',
                    b'/' => b'_',
                    other => other,
                })
                .collect(),
        );
        let mut master = Zeroizing::new(Vec::with_capacity(normalised.len()));
        base64_simd::URL_SAFE_NO_PAD
            .decode_append(normalised.as_slice(), &mut *master)
            .map_err(|_| Error::KeyEncoding)?;
        Self::from_bytes(&master)
    }

    /// A key from the base64 text held in an environment variable.
    ///
    /// # Errors
    /// [`Error::KeySource`] if the variable is unset or not UTF-8, then as
    /// [`Key::from_base64`].
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let text = Zeroizing::new(std::env::var(var).map_err(|e| Error::KeySource {
            source: format!("environment variable {var}"),
            reason: e.to_string(),
        })?);
        Self::from_base64(&text)
    }

    /// A key from a file holding its base64 text.
    ///
    /// # Errors
    /// [`Error::KeySource`] if the file cannot be read, then as
    /// [`Key::from_base64`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::KeySource {
            source: format!("file {}", path.display()),
            reason: e.to_string(),
        })?);
        Self::from_base64(&text)
    }

    /// The master secret as unpadded base64url, for storing a generated key.
    /// This is the only way key bytes leave the type; the returned string is
    /// zeroized on drop.
    pub fn export_base64(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(self.0.master.len() / 3 * 4 + 4));
        base64_simd::URL_SAFE_NO_PAD.encode_append(&self.0.master, &mut *text);
        text
    }

    /// The key id written in tokens sealed under this key.
    pub fn id(&self) -> KeyId {
        self.0.id
    }

    pub(crate) fn xaes(&self) -> &Xaes256Gcm {
        &self.0.xaes
    }

    pub(crate) fn mac_key(&self) -> &[u8; 64] {
        &self.0.mac
    }

    /// FORMAT.md §3.1: PRK = HKDF-Extract(salt = none, IKM = master), then one
    /// HKDF-Expand per label.
    fn derive(master: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(None, master);
        let mut id = [0u8; KeyId::LEN];
        let mut enc = Zeroizing::new([0u8; 32]);
        let mut mac = [0u8; 64];
        // Expanding at most 255 * 32 bytes cannot fail; these are 4 and 32.
        let expanded = hk
            .expand(LABEL_KEY_ID, &mut id)
            .and_then(|()| hk.expand(LABEL_XAES, enc.as_mut()))
            .and_then(|()| hk.expand(LABEL_HMAC, &mut mac[..32]));
        debug_assert!(expanded.is_ok());
        let xaes = Xaes256Gcm::new((&*enc).into());
        Self(Arc::new(KeyInner {
            id: KeyId(id),
            master: master.into(),
            mac,
            xaes,
        }))
    }
}

impl PartialEq for Key {
    /// Constant-time in the key bytes.
    fn eq(&self, other: &Self) -> bool {
        self.0.master.ct_eq(&other.0.master).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.0.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// One primary key that seals, and any number of accepted keys that only open.
///
/// Staged rotation across a cluster: add the new key as accepted everywhere,
/// then make it primary everywhere, then drop the old key once the longest
/// session lifetime has passed. A token opened under an accepted key reports
/// [`Opened::needs_reseal`](crate::Opened::needs_reseal).
#[derive(Clone, Debug)]
pub struct KeyRing {
    primary: Key,
    accepted: Vec<Key>,
}

impl KeyRing {
    /// A ring whose only key is `primary`.
    pub fn new(primary: Key) -> Self {
        Self {
            primary,
            accepted: Vec::new(),
        }
    }

    /// Adds a key that opens tokens but does not seal. Adding the primary key
    /// or a key already in the ring changes nothing.
    #[must_use]
    pub fn with_accepted(mut self, key: Key) -> Self {
        if key != self.primary && !self.accepted.contains(&key) {
            self.accepted.push(key);
        }
        self
    }

    /// The key that seals.
    pub fn primary(&self) -> &Key {
        &self.primary
    }

    /// The keys that only open.
    pub fn accepted(&self) -> &[Key] {
        &self.accepted
    }

    /// The key with this id, and whether it is the primary.
    pub fn find(&self, id: KeyId) -> Option<(&Key, bool)> {
        if self.primary.id() == id {
            return Some((&self.primary, true));
        }
        self.accepted
            .iter()
            .find(|k| k.id() == id)
            .map(|k| (k, false))
    }

    /// # Errors
    /// [`Error::DuplicateKeyId`] if two different keys share an id (odds of
    /// about 2^-32 per pair; the fix is to generate another key).
    pub(crate) fn check_ids(&self) -> Result<(), Error> {
        let ids = std::iter::once(&self.primary).chain(&self.accepted);
        for (i, a) in ids.clone().enumerate() {
            if let Some(dup) = ids.clone().skip(i + 1).find(|b| b.id() == a.id()) {
                return Err(Error::DuplicateKeyId(dup.id()));
            }
        }
        Ok(())
    }
}
