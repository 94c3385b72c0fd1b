//! The two public identifiers of the format, printed as hex: the key id in a
//! token's header (FORMAT.md §3.2) and the session id in its claims (§5.1).
//! Neither is secret.

use std::fmt;

/// The 4-byte id of a key, written in the token header so that `open` finds
/// its key directly (FORMAT.md §3.2). Not secret.
///
/// ```
/// use sealed_session::Key;
/// let key = Key::generate();
/// println!("sealing with key {}", key.id()); // 8 hex digits, not secret
/// assert_eq!(key.id().to_string().len(), 8);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 4]);

impl KeyId {
    /// Length of a key id, in bytes.
    ///
    /// ```
    /// assert_eq!(sealed_session::KeyId::LEN, 4);
    /// ```
    pub const LEN: usize = 4;

    /// A key id from its bytes.
    ///
    /// ```
    /// use sealed_session::KeyId;
    /// let id = KeyId::from_bytes([0x2e, 0xe8, 0xcb, 0xfa]);
    /// assert_eq!(id.to_string(), "2ee8cbfa");
    /// ```
    pub const fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The bytes of the key id, as written in a token.
    ///
    /// ```
    /// use sealed_session::{Key, KeyId};
    /// let key = Key::generate();
    /// assert_eq!(KeyId::from_bytes(key.id().to_bytes()), key.id());
    /// ```
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }

    /// Parses exactly 8 hex digits, lowercase or uppercase, as `Display`
    /// writes them: no sign, no prefix, no whitespace.
    ///
    /// ```
    /// use sealed_session::KeyId;
    /// let id = KeyId::from_hex("2ee8cbfa").unwrap();
    /// assert_eq!(id.to_bytes(), [0x2e, 0xe8, 0xcb, 0xfa]);
    /// assert_eq!(KeyId::from_hex("2EE8CBFA"), Some(id));
    /// assert_eq!(KeyId::from_hex("+e+8+b+a"), None);
    /// assert_eq!(KeyId::from_hex("2ee8cbf"), None);
    /// ```
    pub fn from_hex(text: &str) -> Option<Self> {
        parse_hex(text).map(Self)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        pad_hex(&self.0, f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The 128-bit random id of a session. It stays the same across re-seals, so
/// it can name the session in logs and in a revocation list.
///
/// ```
/// # use sealed_session::{Codec, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let a = codec.open::<u8>(&codec.seal(&1u8)?)?.claims().session_id();
/// let b = codec.open::<u8>(&codec.seal(&1u8)?)?.claims().session_id();
/// assert_ne!(a, b); // 128 random bits per new session
/// assert_eq!(a.to_string().len(), 32);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// Length of a session id, in bytes.
    ///
    /// ```
    /// assert_eq!(sealed_session::SessionId::LEN, 16);
    /// ```
    pub const LEN: usize = 16;

    /// A session id from its bytes.
    ///
    /// ```
    /// use sealed_session::SessionId;
    /// let id = SessionId::from_bytes([0xab; 16]);
    /// assert_eq!(id.to_string(), "ab".repeat(16));
    /// ```
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the id.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let id = codec.open::<u8>(&codec.seal(&1u8)?)?.claims().session_id();
    /// let bytes: [u8; 16] = id.to_bytes(); // e.g. a key in a revocation list
    /// assert_eq!(sealed_session::SessionId::from_bytes(bytes), id);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// A new id: 128 bits from the thread's CSPRNG.
    pub(crate) fn random() -> Self {
        let mut id = [0u8; Self::LEN];
        crate::rng::fill(&mut id);
        Self(id)
    }

    /// Reads the 32 hex digits its `Display` writes (either case), as an
    /// operator pastes them from a log or `sealed-session open`.
    ///
    /// ```
    /// use sealed_session::SessionId;
    /// let id = SessionId::from_bytes([0xab; 16]);
    /// assert_eq!(SessionId::from_hex(&id.to_string()), Some(id));
    /// assert_eq!(SessionId::from_hex("ab"), None);
    /// ```
    pub fn from_hex(text: &str) -> Option<Self> {
        parse_hex(text).map(Self)
    }
}

impl fmt::Display for SessionId {
    /// 32 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        pad_hex(&self.0, f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// Exactly `2 * N` hex digits, no sign, prefix or whitespace.
fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// Writes `bytes` as lowercase hex through [`fmt::Formatter::pad`], so that
/// width and alignment flags apply (ids in tables and logs).
fn pad_hex(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use fmt::Write as _;
    let mut hex = String::with_capacity(2 * bytes.len());
    for b in bytes {
        write!(hex, "{b:02x}")?;
    }
    f.pad(&hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_lowercase_hex_honouring_width() {
        let id = SessionId::from_bytes(
            *b"\x00\x01\xab\xcd\xef\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xff",
        );
        assert_eq!(id.to_string(), "0001abcdef102030405060708090a0ff");
        assert_eq!(format!("{id:?}"), format!("SessionId({id})"));
        let key = KeyId::from_bytes([0x2e, 0xe8, 0xcb, 0xfa]);
        assert_eq!(format!("[{key:>10}]"), "[  2ee8cbfa]");
        assert_eq!(format!("[{key:<9}]"), "[2ee8cbfa ]");
    }
}
