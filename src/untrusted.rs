//! A token parsed but not verified: what `inspect` shows without a key.

use crate::claims::{Claims, UnverifiedClaims};
use crate::error::{Error, Malformed};
use crate::format::{self, Header};
use crate::ids::KeyId;
use crate::mode::{HEADER_LEN, Mode, NONCE_LEN};

/// The public structure of a token, read without any key. **Nothing here is
/// authenticated**: a forger chooses every byte. Use it to look at a token
/// from a bug report, never to make a decision; [`Codec::open`] is the only
/// way to a trusted session.
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, Mode, UntrustedToken};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let token = codec.seal(&"hello")?;
/// let seen = UntrustedToken::parse(&token)?;
/// assert_eq!(seen.mode(), Mode::Encrypted);
/// assert_eq!(seen.key_id(), codec.key_ring().primary().id());
/// assert!(seen.unverified_claims().is_none()); // encrypted: claims are sealed
/// # Ok::<(), sealed_session::Error>(())
/// ```
///
/// [`Codec::open`]: crate::Codec::open
#[derive(Debug, Clone)]
pub struct UntrustedToken {
    header: Header,
    text_len: usize,
    bytes: Vec<u8>,
}

impl UntrustedToken {
    /// Decodes the text and reads the header.
    ///
    /// ```
    /// use sealed_session::{Error, Malformed, UntrustedToken};
    /// assert!(matches!(UntrustedToken::parse(""), Err(Error::Malformed(Malformed::Empty))));
    /// assert!(matches!(UntrustedToken::parse("AQ=="), Err(Error::Malformed(Malformed::Base64))));
    /// assert!(matches!(UntrustedToken::parse("BgAAAAAA"), Err(Error::Malformed(Malformed::UnknownVersion(6)))));
    /// ```
    ///
    /// # Errors
    /// [`Error::InputTooLarge`] over [`MAX_BUDGET`](crate::MAX_BUDGET) characters;
    /// [`Error::Malformed`] if it is not strict base64url, has an unknown
    /// version byte or is too short for its mode.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > crate::MAX_BUDGET {
            return Err(Error::InputTooLarge {
                size: text.len(),
                limit: crate::MAX_BUDGET,
            });
        }
        if text.is_empty() {
            return Err(Malformed::Empty.into());
        }
        let mut bytes = Vec::with_capacity(text.len() / 4 * 3 + 3);
        format::decode_into(text, &mut bytes)?;
        let header = Header::parse(&bytes)?;
        Ok(Self {
            header,
            text_len: text.len(),
            bytes,
        })
    }

    /// The mode named by the version byte.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.mode(), sealed_session::Mode::Encrypted);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn mode(&self) -> Mode {
        self.header.mode
    }

    /// The version byte.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.version_byte(), 0x01);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn version_byte(&self) -> u8 {
        self.header.version_byte()
    }

    /// The key id in the header.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.key_id(), codec.key_ring().primary().id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn key_id(&self) -> KeyId {
        self.header.key_id
    }

    /// The 24-byte nonce (encrypted mode only).
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.nonce().map(<[u8]>::len), Some(24));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn nonce(&self) -> Option<&[u8]> {
        match self.header.mode {
            Mode::Encrypted => self.bytes.get(HEADER_LEN..HEADER_LEN + NONCE_LEN),
            Mode::Signed => None,
        }
    }

    /// The length of the token text, in bytes.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.text_len(), token.len());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn text_len(&self) -> usize {
        self.text_len
    }

    /// The length of the decoded token, in bytes.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.decoded_len(), token.len() * 3 / 4);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn decoded_len(&self) -> usize {
        self.bytes.len()
    }

    /// The length of the body (claims and payload), in bytes.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// // header 5 + nonce 24 + body + tag 16
    /// assert_eq!(seen.body_len(), seen.decoded_len() - 45);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn body_len(&self) -> usize {
        self.bytes.len().saturating_sub(self.header.mode.overhead())
    }

    /// The length of the authentication tag, in bytes.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let token = codec.seal(&"hello")?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.tag_len(), 16);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn tag_len(&self) -> usize {
        self.header.mode.tag_len()
    }

    /// In signed mode, the claims as written, **unverified**; `None` in
    /// encrypted mode or if they do not parse.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let token = codec.seal_with(&"hello", sealed_session::SealOptions::new().subject("user-42"))?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// let claims = seen.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.subject(), Some("user-42")); // what it says, not verified
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn unverified_claims(&self) -> Option<UnverifiedClaims> {
        self.signed_body()
            .and_then(|body| Claims::decode(body, self.header.own_lifetime).ok())
            .map(|(claims, _)| UnverifiedClaims::new(claims))
    }

    /// In signed mode, the payload's CBOR bytes as written, **unverified**.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let token = codec.seal_with(&"hello", sealed_session::SealOptions::new().subject("user-42"))?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// // "hello" as CBOR: a 5-byte text string.
    /// assert_eq!(seen.unverified_payload(), Some(&b"\x65hello"[..]));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn unverified_payload(&self) -> Option<&[u8]> {
        self.signed_body()
            .and_then(|body| Claims::decode(body, self.header.own_lifetime).ok())
            .map(|(_, payload)| payload)
    }

    /// In signed mode, the payload decoded as `T` (with the same limits as
    /// [`Codec::open`](crate::Codec::open)), **unverified**.
    ///
    /// ```
    /// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let token = codec.seal_with(&"hello", sealed_session::SealOptions::new().subject("user-42"))?;
    /// let seen = UntrustedToken::parse(&token)?;
    /// assert_eq!(seen.unverified_value::<String>()?.as_deref(), Some("hello"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Payload`] or [`Error::PayloadTooDeep`]; `Ok(None)` in
    /// encrypted mode or if the claims do not parse.
    pub fn unverified_value<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.unverified_payload()
            .map(crate::payload::decode)
            .transpose()
    }

    fn signed_body(&self) -> Option<&[u8]> {
        match self.header.mode {
            Mode::Signed => format::split_signed(&self.bytes).ok().map(|p| p.body),
            Mode::Encrypted => None,
        }
    }
}
