//! Session claims and their wire encoding inside the seal (FORMAT.md §5.1).

use time::OffsetDateTime;

use crate::clock::{MAX_UNIX, to_datetime};
use crate::format::{Reader, put_varint};
use crate::ids::SessionId;

/// Longest subject, in bytes.
///
/// ```
/// # use sealed_session::{Codec, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// use sealed_session::{Error, MAX_SUBJECT_LEN};
/// let long = "x".repeat(MAX_SUBJECT_LEN + 1);
/// assert!(matches!(codec.seal_with(&1u8, sealed_session::SealOptions::new().subject(&long)), Err(Error::SubjectLength { len: 256, max: 255 })));
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub const MAX_SUBJECT_LEN: usize = 255;

/// What a token says about its session, sealed with the payload. Returned
/// only by [`Codec::open`](crate::Codec::open) and
/// [`Codec::open_at`](crate::Codec::open_at), after authentication and the
/// expiry checks, so every field can be trusted. (What a token says before
/// that is an [`UnverifiedClaims`].)
///
/// ```
/// # use sealed_session::{Codec, Key, KeyRing};
/// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// let opened = codec.open::<u8>(&codec.seal(&1u8)?)?;
/// let claims = opened.claims();
/// assert!(claims.created() <= claims.issued() && claims.issued() < claims.expires());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    session_id: SessionId,
    subject: Option<String>,
    created: i64,
    issued: i64,
    expires: i64,
    /// The session's own lifetime from `created`, in seconds, if it was
    /// given one (FORMAT.md §5.3).
    lifetime: Option<i64>,
}

impl Claims {
    /// The session's random id.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// let renewed = codec.open_at::<u8>(&codec.reseal_with(&opened, sealed_session::SealOptions::new().at(now))?, now)?;
    /// assert_eq!(renewed.claims().session_id(), claims.session_id()); // kept across re-seals
    /// println!("session {}", claims.session_id()); // 32 hex digits
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// Whose session this is, if the app said so when sealing (the key for
    /// "log out everywhere").
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.subject(), Some("user-42"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// When the session began; kept across re-seals.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.created(), now);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn created(&self) -> OffsetDateTime {
        to_datetime(self.created)
    }

    /// When this token was sealed; renewed by every re-seal.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.issued(), now);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn issued(&self) -> OffsetDateTime {
        to_datetime(self.issued)
    }

    /// When this token stops opening (exclusive: at this second it is expired).
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.expires(), now + time::Duration::days(7)); // the default lifetime
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn expires(&self) -> OffsetDateTime {
        to_datetime(self.expires)
    }

    /// The lifetime this session was given when it began
    /// ([`SealOptions::lifetime`](crate::SealOptions::lifetime), a "remember
    /// me" choice), kept across re-seals: it never outlives `created` plus
    /// this, nor the codec's maximum. `None` for a session that lives as
    /// long as the codec allows.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// use time::Duration;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let short = SealOptions::new().at(now).lifetime(Duration::hours(12));
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, short)?, now)?;
    /// assert_eq!(opened.claims().lifetime(), Some(Duration::hours(12)));
    /// assert_eq!(opened.claims().expires(), now + Duration::hours(12));
    /// let later = now + Duration::hours(11);
    /// let renewed = codec.open_at::<u8>(&codec.reseal_with(&opened, SealOptions::new().at(later))?, later)?;
    /// assert_eq!(renewed.claims().expires(), now + Duration::hours(12)); // kept
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn lifetime(&self) -> Option<time::Duration> {
        self.lifetime.map(time::Duration::seconds)
    }

    /// `created` in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.created_unix(), 1_700_000_000);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn created_unix(&self) -> i64 {
        self.created
    }

    /// `issued` in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.issued_unix(), 1_700_000_000);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn issued_unix(&self) -> i64 {
        self.issued
    }

    /// `expires` in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let opened = codec.open_at::<u8>(&codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?, now)?;
    /// let claims = opened.claims();
    /// assert_eq!(claims.expires_unix(), 1_700_000_000 + 7 * 86_400);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn expires_unix(&self) -> i64 {
        self.expires
    }

    pub(crate) fn new(
        session_id: SessionId,
        subject: Option<String>,
        created: i64,
        issued: i64,
        expires: i64,
    ) -> Self {
        Self {
            session_id,
            subject,
            created,
            issued,
            expires,
            lifetime: None,
        }
    }

    /// The same claims with the session's own lifetime (seconds from
    /// `created`, at least 1).
    pub(crate) fn with_lifetime(mut self, lifetime: Option<i64>) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The session's own lifetime in seconds, if any.
    pub(crate) fn lifetime_seconds(&self) -> Option<i64> {
        self.lifetime
    }

    /// Appends the FORMAT.md §5.1 encoding, and the lifetime of §5.3 if
    /// the session has one (the token's version byte says so). The caller
    /// guarantees `0 <= created <= issued <= expires <= MAX_UNIX`, a
    /// subject of 1 to 255 bytes, and a lifetime of 1 to `MAX_UNIX`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.session_id.to_bytes());
        put_varint(out, self.issued.unsigned_abs());
        put_varint(out, self.issued.abs_diff(self.created));
        put_varint(out, self.expires.abs_diff(self.issued));
        match &self.subject {
            None => put_varint(out, 0),
            Some(s) => {
                put_varint(out, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
        }
        if let Some(lifetime) = self.lifetime {
            put_varint(out, lifetime.unsigned_abs());
        }
    }

    /// Reads the FORMAT.md §5.1 encoding from a body (with the lifetime of
    /// §5.3 if the version byte says `own_lifetime`) and returns the claims
    /// and the payload bytes that follow. Whether they can be trusted is up
    /// to the caller: the codec calls this only after authentication.
    pub(crate) fn decode(body: &[u8], own_lifetime: bool) -> Result<(Self, &[u8]), &'static str> {
        let mut r = Reader::new(body);
        let session_id = SessionId::from_bytes(
            r.take_array::<{ SessionId::LEN }>()
                .ok_or("truncated session id")?,
        );
        let issued = r.varint().ok_or("bad issued varint")?;
        let age = r.varint().ok_or("bad age varint")?;
        let lifetime = r.varint().ok_or("bad lifetime varint")?;
        let subject_len = r.varint().ok_or("bad subject length varint")?;

        let issued = i64::try_from(issued).map_err(|_| "issued out of range")?;
        let age = i64::try_from(age).map_err(|_| "age out of range")?;
        let lifetime = i64::try_from(lifetime).map_err(|_| "lifetime out of range")?;
        let created = issued.checked_sub(age).ok_or("created out of range")?;
        let expires = issued.checked_add(lifetime).ok_or("expires out of range")?;
        if created < 0 || expires > MAX_UNIX {
            return Err("time outside 1970..=9999");
        }

        let subject = match subject_len {
            0 => None,
            n if n <= MAX_SUBJECT_LEN as u64 => {
                let n = usize::try_from(n).map_err(|_| "subject too long")?;
                let bytes = r.take(n).ok_or("truncated subject")?;
                let text = std::str::from_utf8(bytes).map_err(|_| "subject is not UTF-8")?;
                Some(text.to_owned())
            }
            _ => return Err("subject longer than 255 bytes"),
        };
        let lifetime = if own_lifetime {
            let span = r.varint().ok_or("bad lifetime-span varint")?;
            match i64::try_from(span) {
                Ok(span @ 1..=MAX_UNIX) => Some(span),
                _ => return Err("session lifetime outside 1..=253402300799 s"),
            }
        } else {
            None
        };
        let payload = r.rest();
        if payload.is_empty() {
            return Err("missing payload");
        }
        Ok((
            Self::new(session_id, subject, created, issued, expires).with_lifetime(lifetime),
            payload,
        ))
    }
}

/// What a signed token's claims say, read without a key: **nothing here is
/// verified**. A forger writes any session id, subject and times they like.
/// Show it (as `sealed-session inspect` does), never decide with it: only
/// [`Codec::open`](crate::Codec::open) returns [`Claims`].
///
/// ```
/// use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
/// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("alice"))?;
/// let said = UntrustedToken::parse(&token)?.unverified_claims();
/// assert_eq!(said.as_ref().and_then(|c| c.subject()), Some("alice"));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedClaims(Claims);

impl UnverifiedClaims {
    pub(crate) fn new(claims: Claims) -> Self {
        Self(claims)
    }

    /// The session id the token claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.session_id(), codec.open_at::<u8>(&token, now)?.claims().session_id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn session_id(&self) -> SessionId {
        self.0.session_id()
    }

    /// The subject the token claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.subject(), Some("user-42")); // says the token; nothing verified
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.0.subject()
    }

    /// The `created` time the token claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.created(), now);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn created(&self) -> OffsetDateTime {
        self.0.created()
    }

    /// The `issued` time the token claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.issued(), now);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn issued(&self) -> OffsetDateTime {
        self.0.issued()
    }

    /// The `expires` time the token claims.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert!(claims.expires() > now);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn expires(&self) -> OffsetDateTime {
        self.0.expires()
    }

    /// The session's own lifetime the token claims (FORMAT.md §5.3).
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, SealOptions, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let token = codec.seal_with(&1u8, SealOptions::new().lifetime(time::Duration::days(1)))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.lifetime(), Some(time::Duration::days(1)));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn lifetime(&self) -> Option<time::Duration> {
        self.0.lifetime()
    }

    /// The claimed `created`, in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.created_unix(), 1_700_000_000);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn created_unix(&self) -> i64 {
        self.0.created_unix()
    }

    /// The claimed `issued`, in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.issued_unix(), 1_700_000_000);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn issued_unix(&self) -> i64 {
        self.0.issued_unix()
    }

    /// The claimed `expires`, in unix seconds.
    ///
    /// ```
    /// # use sealed_session::{Codec, Key, KeyRing, UntrustedToken};
    /// # let codec = Codec::builder(KeyRing::new(Key::generate())).signed().build()?;
    /// let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let token = codec.seal_with(&1u8, sealed_session::SealOptions::new().subject("user-42").at(now))?;
    /// let claims = UntrustedToken::parse(&token)?.unverified_claims().expect("signed mode");
    /// assert_eq!(claims.expires_unix(), 1_700_000_000 + 7 * 86_400);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn expires_unix(&self) -> i64 {
        self.0.expires_unix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(created: i64, issued: i64, expires: i64, subject: Option<&str>) -> Claims {
        Claims::new(
            SessionId::from_bytes([7; 16]),
            subject.map(str::to_owned),
            created,
            issued,
            expires,
        )
    }

    #[test]
    fn encoding_round_trips() {
        for c in [
            claims(0, 0, 0, None),
            claims(1_700_000_000, 1_700_000_000, 1_700_604_800, None),
            claims(1_700_000_000, 1_700_500_000, 1_700_507_200, Some("user-42")),
            claims(0, MAX_UNIX, MAX_UNIX, Some(&"é".repeat(127))),
        ] {
            let mut buf = Vec::new();
            c.encode(&mut buf);
            buf.push(0xf6);
            let (back, payload) = Claims::decode(&buf, false).expect("decodes");
            assert_eq!(back, c);
            assert_eq!(payload, [0xf6]);
            for lifetime in [1, 86_400, MAX_UNIX] {
                let c = c.clone().with_lifetime(Some(lifetime));
                let mut buf = Vec::new();
                c.encode(&mut buf);
                buf.push(0xf6);
                let (back, payload) = Claims::decode(&buf, true).expect("decodes");
                assert_eq!(back, c);
                assert_eq!(payload, [0xf6]);
            }
        }
    }

    #[test]
    fn a_lifetime_of_zero_or_past_9999_is_refused() {
        let mut buf = Vec::new();
        claims(0, 0, 0, None).encode(&mut buf);
        for span in [0, MAX_UNIX as u64 + 1, u64::MAX] {
            let mut b = buf.clone();
            put_varint(&mut b, span);
            b.push(0xf6);
            assert_eq!(
                Claims::decode(&b, true).map(|_| ()),
                Err("session lifetime outside 1..=253402300799 s"),
                "{span}"
            );
        }
    }

    #[test]
    fn without_the_lifetime_the_payload_is_read_as_it_and_none_is_left() {
        // A body of the layout without a lifetime, whose one payload byte
        // (CBOR `1`) is also a valid span of 1 s: read with the lifetime
        // layout, the byte is taken as the span and no payload is left.
        let mut buf = Vec::new();
        claims(0, 0, 0, None).encode(&mut buf);
        buf.push(0x01);
        assert_eq!(
            Claims::decode(&buf, true).map(|_| ()),
            Err("missing payload"),
            "no lifetime, no payload"
        );
        // With a payload byte after it, the same span decodes.
        buf.push(0xf6);
        let (claims, payload) = Claims::decode(&buf, true).expect("decodes");
        assert_eq!((claims.lifetime_seconds(), payload), (Some(1), &[0xf6][..]));
    }

    #[test]
    fn typical_claims_are_25_bytes() {
        // Fresh session, 2-hour idle timeout: 16 + 5 + 1 + 2 + 1.
        let mut buf = Vec::new();
        claims(1_700_000_000, 1_700_000_000, 1_700_007_200, None).encode(&mut buf);
        assert_eq!(buf.len(), 25);
    }

    impl Claims {
        fn decode_v1(body: &[u8]) -> Result<(Self, &[u8]), &'static str> {
            Self::decode(body, false)
        }
    }

    #[test]
    fn decoding_rejects_inconsistent_claims() {
        let mut base = vec![7u8; 16];
        put_varint(&mut base, 100);
        let with = |tail: &[u64], payload: &[u8]| {
            let mut b = base.clone();
            for &v in tail {
                put_varint(&mut b, v);
            }
            b.extend_from_slice(payload);
            b
        };
        assert!(
            Claims::decode_v1(&with(&[101, 0, 0], &[0xf6])).is_err(),
            "created < 0"
        );
        assert!(
            Claims::decode_v1(&with(&[0, MAX_UNIX as u64, 0], &[0xf6])).is_err(),
            "expires > max"
        );
        assert!(
            Claims::decode_v1(&with(&[0, 0, 0], &[])).is_err(),
            "no payload"
        );
        assert!(
            Claims::decode_v1(&with(&[0, 0, 256], &[0xf6])).is_err(),
            "subject too long"
        );
        assert!(
            Claims::decode_v1(&with(&[0, 0, 2], &[0xff, 0xfe, 0xf6])).is_err(),
            "bad UTF-8"
        );
        assert!(Claims::decode(&[7u8; 15], false).is_err(), "short id");
    }
}
