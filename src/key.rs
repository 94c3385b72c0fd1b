//! Keys, key ids, sub-key derivation and the key ring (FORMAT.md §3).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64ct::{Base64Unpadded, Base64UrlUnpadded, Encoding as _};
use hkdf::Hkdf;
use hmac::HmacReset;
use hmac::digest::KeyInit as _;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use xaes_256_gcm::Xaes256Gcm;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::error::Error;
use crate::ids::KeyId;

/// Smallest accepted master secret, in bytes.
///
/// ```
/// use sealed_session::{Key, MIN_KEY_LEN};
/// assert!(Key::from_bytes(&[1u8; MIN_KEY_LEN - 1]).is_err());
/// ```
pub const MIN_KEY_LEN: usize = 32;
/// Largest accepted master secret, in bytes.
///
/// ```
/// use sealed_session::{Key, MAX_KEY_LEN};
/// let long: Vec<u8> = (0..=MAX_KEY_LEN).map(|i| i as u8).collect();
/// assert!(Key::from_bytes(&long).is_err());
/// ```
pub const MAX_KEY_LEN: usize = 1024;
/// Length of a generated master secret, in bytes.
const GENERATED_KEY_LEN: usize = 32;

/// HKDF-SHA256 `info` labels (FORMAT.md §3.1). They name the format version
/// and the algorithm, so a sub-key never serves two purposes.
const LABEL_KEY_ID: &[u8] = b"sealed-session v1 key-id";
const LABEL_XAES: &[u8] = b"sealed-session v1 xaes-256-gcm";
const LABEL_HMAC: &[u8] = b"sealed-session v1 hmac-sha256";

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

/// HMAC-SHA256 with its keyed state kept for reuse.
pub(crate) type HmacSha256 = HmacReset<Sha256>;

#[derive(ZeroizeOnDrop)]
struct KeyInner {
    #[zeroize(skip)]
    id: KeyId,
    master: Box<[u8]>,
    /// HMAC-SHA256 keyed with the HMAC sub-key: the padded key already hashed
    /// in, so a message clones it instead of keying afresh. Wipes itself on
    /// drop (the `zeroize` feature of `hmac` and `sha2`).
    #[zeroize(skip)]
    hmac: HmacSha256,
    /// Wipes itself on drop (the `zeroize` feature of `xaes-256-gcm`).
    #[zeroize(skip)]
    xaes: Xaes256Gcm,
}

impl Key {
    /// A new random 32-byte key from the operating system's RNG.
    ///
    /// ```
    /// use sealed_session::Key;
    /// let key = Key::generate();
    /// println!("new key {}", key.id()); // the id only: key bytes are never printed
    /// assert_ne!(key, Key::generate());
    /// ```
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
    /// ```
    /// use sealed_session::{Error, Key};
    /// let master: Vec<u8> = (0u8..32).collect();
    /// let key = Key::from_bytes(&master)?;
    /// assert_eq!(key.id().to_string(), "2ee8cbfa");
    /// assert!(matches!(Key::from_bytes(&master[..16]), Err(Error::KeyTooShort { len: 16, min: 32 })));
    /// assert!(matches!(Key::from_bytes(&[7; 32]), Err(Error::WeakKey)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
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

    /// A key from base64 text (the standard or the URL-safe alphabet, one of
    /// them per key; padding optional; surrounding whitespace ignored), as
    /// written by [`Key::export_base64`] or `openssl rand -base64 32`.
    /// Decoded in constant time (`base64ct`).
    ///
    /// ```
    /// use sealed_session::Key;
    /// // `openssl rand -base64 32` writes this alphabet, padded:
    /// let key = Key::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")?;
    /// assert_eq!(key.id().to_string(), "2ee8cbfa");
    /// assert!(Key::from_base64("not a key").is_err());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::KeyEncoding`] if the text is not base64, then as
    /// [`Key::from_bytes`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let master = decode_key_text(text).ok_or(Error::KeyEncoding)?;
        Self::from_bytes(&master)
    }

    /// A key from the base64 text held in an environment variable.
    ///
    /// ```
    /// use sealed_session::{Error, Key};
    /// // In production: `let key = Key::from_env("SESSION_KEY")?;`
    /// let e = Key::from_env("SEALED_SESSION_EXAMPLE_UNSET").unwrap_err();
    /// assert!(matches!(e, Error::KeySource { .. }));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "cannot read key from environment variable SEALED_SESSION_EXAMPLE_UNSET: it is not set"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`Error::KeySource`] if the variable is unset or not UTF-8 text, then
    /// as [`Key::from_base64`]. No error quotes the variable's value.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let unreadable = |reason: String| Error::KeySource {
            source: describe_env(var),
            reason,
        };
        let value = std::env::var_os(var).ok_or_else(|| unreadable("it is not set".into()))?;
        let text = Zeroizing::new(value.into_string().map_err(|raw| {
            // Raw key bytes, as a Kubernetes `secretKeyRef` can hold: say
            // how many, never which.
            let len = raw.len();
            drop(Zeroizing::new(raw.into_encoded_bytes()));
            unreadable(not_text(len))
        })?);
        Self::from_base64(&text)
    }

    /// A key from an environment variable that may be unset (`None`): a
    /// previous key that exists only during a rotation.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let mut ring = KeyRing::new(Key::generate()); // Key::from_env("SESSION_KEY")? in production
    /// if let Some(previous) = Key::from_env_if_set("SEALED_SESSION_EXAMPLE_UNSET")? {
    ///     ring = ring.with_accepted(previous); // still opens
    /// }
    /// assert!(ring.accepted().is_empty());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Key::from_env`] for a variable that is set.
    pub fn from_env_if_set(var: &str) -> Result<Option<Self>, Error> {
        match std::env::var_os(var) {
            None => Ok(None),
            Some(_) => Self::from_env(var).map(Some),
        }
    }

    /// A key from a file holding its base64 text.
    ///
    /// ```
    /// use sealed_session::Key;
    /// let path = std::env::temp_dir().join(format!("doc-key-{}", std::process::id()));
    /// let key = Key::generate();
    /// std::fs::write(&path, key.export_base64().as_bytes()).unwrap();
    /// assert_eq!(Key::from_file(&path)?, key);
    /// std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::KeySource`] if the file cannot be read or is not UTF-8 text,
    /// then as [`Key::from_base64`]. No error quotes the file's contents.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let text = read_secret_file(path.as_ref())?;
        Self::from_base64(&text)
    }

    /// The master secret as unpadded base64url, for storing a generated key.
    /// This is the only way key bytes leave the type; the returned string is
    /// zeroized on drop.
    ///
    /// ```
    /// use sealed_session::Key;
    /// let key = Key::generate();
    /// let text = key.export_base64(); // 43 characters of base64url, wiped on drop
    /// assert_eq!(text.len(), 43);
    /// assert_eq!(Key::from_base64(&text)?, key);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn export_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64UrlUnpadded::encode_string(&self.0.master))
    }

    /// The key id written in tokens sealed under this key.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let key = Key::generate();
    /// let codec = Codec::builder(KeyRing::new(key.clone())).build()?;
    /// let token = codec.seal(&1u8)?;
    /// assert_eq!(UntrustedToken::parse(&token)?.key_id(), key.id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn id(&self) -> KeyId {
        self.0.id
    }

    pub(crate) fn xaes(&self) -> &Xaes256Gcm {
        &self.0.xaes
    }

    pub(crate) fn hmac(&self) -> &HmacSha256 {
        &self.0.hmac
    }

    /// A 32-byte key for another use of this secret, HKDF-SHA256 of the
    /// master under `label` (which names the use, never one of §3.1's).
    #[cfg(feature = "redis")]
    pub(crate) fn derive_for(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // Expanding 32 bytes cannot fail.
        let expanded = Hkdf::<Sha256>::new(None, &self.0.master).expand(label, out.as_mut());
        debug_assert!(expanded.is_ok());
        out
    }

    /// FORMAT.md §3.1: PRK = HKDF-Extract(salt = none, IKM = master), then one
    /// HKDF-Expand per label.
    fn derive(master: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(None, master);
        let mut id = [0u8; KeyId::LEN];
        let mut enc = Zeroizing::new([0u8; 32]);
        // The 32-byte sub-key then 32 zeros: HMAC pads a short key to its
        // 64-byte block the same way, and a full block keys it infallibly.
        let mut mac = Zeroizing::new([0u8; 64]);
        // Expanding at most 255 * 32 bytes cannot fail; these are 4 and 32.
        let expanded = hk
            .expand(LABEL_KEY_ID, &mut id)
            .and_then(|()| hk.expand(LABEL_XAES, enc.as_mut()))
            .and_then(|()| hk.expand(LABEL_HMAC, mac.split_at_mut(32).0));
        debug_assert!(expanded.is_ok());
        Self(Arc::new(KeyInner {
            id: KeyId::from_bytes(id),
            master: master.into(),
            hmac: HmacSha256::new((&*mac).into()),
            xaes: Xaes256Gcm::new((&*enc).into()),
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
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing};
/// let (old, new) = (Key::generate(), Key::generate());
/// let ring = KeyRing::new(new).with_accepted(old);
/// let codec = Codec::builder(ring).build()?;
/// assert_eq!(codec.key_ring().accepted().len(), 1);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyRing {
    primary: Key,
    accepted: Vec<Key>,
}

impl KeyRing {
    /// A ring whose only key is `primary`.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let ring = KeyRing::new(Key::generate());
    /// assert!(ring.accepted().is_empty());
    /// ```
    pub fn new(primary: Key) -> Self {
        Self {
            primary,
            accepted: Vec::new(),
        }
    }

    /// Adds a key that opens tokens but does not seal. Adding the primary key
    /// or a key already in the ring changes nothing.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let (new, old) = (Key::generate(), Key::generate());
    /// let ring = KeyRing::new(new.clone()).with_accepted(old.clone()).with_accepted(new);
    /// assert_eq!(ring.accepted(), [old]); // the primary is not added twice
    /// ```
    #[must_use]
    pub fn with_accepted(mut self, key: Key) -> Self {
        if key != self.primary && !self.accepted.contains(&key) {
            self.accepted.push(key);
        }
        self
    }

    /// The key that seals.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let key = Key::generate();
    /// assert_eq!(KeyRing::new(key.clone()).primary(), &key);
    /// ```
    pub fn primary(&self) -> &Key {
        &self.primary
    }

    /// The keys that only open.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let old = Key::generate();
    /// let ring = KeyRing::new(Key::generate()).with_accepted(old.clone());
    /// assert_eq!(ring.accepted(), std::slice::from_ref(&old));
    /// ```
    pub fn accepted(&self) -> &[Key] {
        &self.accepted
    }

    /// The key with this id, and whether it is the primary.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let (new, old) = (Key::generate(), Key::generate());
    /// let ring = KeyRing::new(new.clone()).with_accepted(old.clone());
    /// assert_eq!(ring.find(old.id()), Some((&old, false)));
    /// assert_eq!(ring.find(new.id()), Some((&new, true)));
    /// assert_eq!(ring.find(Key::generate().id()), None);
    /// ```
    pub fn find(&self, id: KeyId) -> Option<(&Key, bool)> {
        let i = self.position(id)?;
        self.keys().nth(i).map(|k| (k, i == 0))
    }

    /// Every key, the primary first, then the accepted keys in the order
    /// they were added.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing};
    /// let ring = KeyRing::new(Key::generate()).with_accepted(Key::generate());
    /// for key in ring.keys() {
    ///     println!("{}", key.id());
    /// }
    /// assert_eq!(ring.keys().count(), 2);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.primary).chain(&self.accepted)
    }

    /// Where the key with this id is in [`KeyRing::keys`] (0 is the
    /// primary). A lookup by id, never a trial of every key (FORMAT.md §3.2).
    pub(crate) fn position(&self, id: KeyId) -> Option<usize> {
        self.keys().position(|k| k.id() == id)
    }

    /// # Errors
    /// [`Error::DuplicateKeyId`] if two different keys share an id (odds of
    /// about 2^-32 per pair; the fix is to generate another key).
    pub(crate) fn check_ids(&self) -> Result<(), Error> {
        for (i, a) in self.keys().enumerate() {
            if let Some(dup) = self.keys().skip(i + 1).find(|b| b.id() == a.id()) {
                return Err(Error::DuplicateKeyId(dup.id()));
            }
        }
        Ok(())
    }
}

/// Decodes key text in constant time (`base64ct`): unpadded base64url or
/// standard base64, padding optional, surrounding whitespace ignored. Which
/// alphabet the text uses is the only thing its timing may tell.
fn decode_key_text(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let text = text.trim().trim_end_matches('=');
    let mut buf = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 2]);
    let len = match Base64UrlUnpadded::decode(text, &mut buf) {
        Ok(decoded) => decoded.len(),
        Err(_) => Base64Unpadded::decode(text, &mut buf).ok()?.len(),
    };
    buf.truncate(len);
    Some(buf)
}

/// Reads a file holding key text; errors say why without quoting it.
pub(crate) fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, Error> {
    let unreadable = |reason: String| Error::KeySource {
        source: describe_path(path),
        reason,
    };
    let bytes = read_capped(path).map_err(|e| unreadable(e.to_string()))?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(unreadable(not_text(bytes.len()))),
    }
}

/// The most a key or key-ring file may hold: a ring of hundreds of keys
/// of the largest size. A ring source reads its file at every poll; a file
/// grown by mistake (or by an attacker) is refused, not read whole.
pub(crate) const MAX_SECRET_FILE: u64 = 1 << 20;

/// Reads at most [`MAX_SECRET_FILE`] bytes of a file, wiped on drop.
///
/// # Errors
/// The I/O error, or `InvalidData` if the file is larger.
pub(crate) fn read_capped(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(4096));
    file.take(MAX_SECRET_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than {MAX_SECRET_FILE} bytes"),
        ));
    }
    Ok(bytes)
}

fn not_text(len: usize) -> String {
    format!("its {len} bytes are not UTF-8 text; store the key as base64")
}

/// Names an environment variable in an error, unless the name is itself a
/// key (`--key-env "$KEY"` instead of `--key-env KEY`).
fn describe_env(var: &str) -> String {
    if looks_like_key(var) {
        "an environment variable whose name looks like a key (pass the variable's name, not its value)".into()
    } else {
        format!("environment variable {}", var.escape_debug())
    }
}

/// Names a file in an error, unless the path is itself a key.
fn describe_path(path: &Path) -> String {
    if path.to_str().is_some_and(looks_like_key) {
        "a file whose path looks like a key (pass the file's path, not the key)".into()
    } else {
        format!("file {}", path.display())
    }
}

/// Whether `text` decodes as base64 to at least [`MIN_KEY_LEN`] bytes.
fn looks_like_key(text: &str) -> bool {
    decode_key_text(text).is_some_and(|bytes| bytes.len() >= MIN_KEY_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type that holds key-equivalent state wipes itself when dropped.
    /// An HMAC state (the HKDF PRK inside `Hkdf<Sha256>`, the keyed HMAC of
    /// a key and its per-message clones) is two SHA-256 cores that have
    /// absorbed the padded key; the XAES key wipes its subkeys (and the
    /// crate its per-message AES-GCM key). Fails to compile without the
    /// `zeroize` features of `sha2` and `xaes-256-gcm`.
    #[test]
    fn key_equivalent_state_wipes_itself() {
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<<Sha256 as hmac::EagerHash>::Core>();
        wiped_on_drop::<Xaes256Gcm>();
        wiped_on_drop::<KeyInner>();
    }

    #[test]
    fn key_text_is_either_alphabet_never_both() {
        // Starts with fb ff bf: "-_-_" in base64url, "+/+/" in base64.
        let master: Vec<u8> = [0xfb, 0xff, 0xbf].into_iter().chain(3u8..32).collect();
        let url = Base64UrlUnpadded::encode_string(&master);
        let std = Base64Unpadded::encode_string(&master);
        assert!(
            url.contains(['-', '_']) && std.contains(['+', '/']),
            "{url} {std}"
        );
        let key = Key::from_bytes(&master).unwrap();
        for text in [
            url.clone(),
            std.clone(),
            format!(" {std}==\n"),
            format!("{url}="),
        ] {
            assert_eq!(Key::from_base64(&text).unwrap(), key, "{text:?}");
        }
        // One alphabet per key: a key that mixes them is damaged.
        let mixed = url.replacen('-', "+", 1).replacen('_', "/", 1);
        assert!(mixed.contains(['-', '_']) || mixed.contains(['+', '/']));
        assert!(
            matches!(Key::from_base64(&mixed), Err(Error::KeyEncoding)),
            "{mixed}"
        );
        assert_eq!(key.export_base64().as_str(), url);
    }
}
