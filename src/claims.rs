//! Session claims: their wire encoding inside the seal (FORMAT.md §5) and the
//! expiry checks (FORMAT.md §6).

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::format::{Reader, put_varint};

/// Latest time the format carries: 9999-12-31T23:59:59Z, in unix seconds.
pub(crate) const MAX_UNIX: i64 = 253_402_300_799;
/// Longest subject, in bytes.
pub const MAX_SUBJECT_LEN: usize = 255;

/// The 128-bit random id of a session. It stays the same across re-seals, so
/// it can name the session in logs and in a revocation list.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh random id from the thread's CSPRNG.
    pub(crate) fn random() -> Self {
        let mut id = [0u8; 16];
        crate::rng::fill(&mut id);
        Self(id)
    }

    /// A session id from its bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the id.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }
}

impl fmt::Display for SessionId {
    /// 32 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::format::pad_hex(&self.0, f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// What a token says about its session, sealed with the payload. Returned only
/// after authentication, so every field can be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    session_id: SessionId,
    subject: Option<String>,
    created: i64,
    issued: i64,
    expires: i64,
}

impl Claims {
    /// The session's random id.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// Whose session this is, if the app said so when sealing (the key for
    /// "log out everywhere").
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// When the session began; kept across re-seals.
    pub fn created(&self) -> OffsetDateTime {
        to_datetime(self.created)
    }

    /// When this token was sealed; renewed by every re-seal.
    pub fn issued(&self) -> OffsetDateTime {
        to_datetime(self.issued)
    }

    /// When this token stops opening (exclusive: at this second it is expired).
    pub fn expires(&self) -> OffsetDateTime {
        to_datetime(self.expires)
    }

    /// `created` in unix seconds.
    pub fn created_unix(&self) -> i64 {
        self.created
    }

    /// `issued` in unix seconds.
    pub fn issued_unix(&self) -> i64 {
        self.issued
    }

    /// `expires` in unix seconds.
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
        }
    }

    /// Appends the FORMAT.md §5 encoding. The caller guarantees
    /// `0 <= created <= issued <= expires <= MAX_UNIX` and a subject of 1 to
    /// 255 bytes.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.session_id.0);
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
    }

    /// Reads the FORMAT.md §5 encoding from an authenticated body and returns
    /// the claims and the payload bytes that follow.
    pub(crate) fn decode(body: &[u8]) -> Result<(Self, &[u8]), &'static str> {
        let mut r = Reader::new(body);
        let session_id = SessionId(r.take_array::<16>().ok_or("truncated session id")?);
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
        let payload = r.rest();
        if payload.is_empty() {
            return Err("missing payload");
        }
        Ok((
            Self::new(session_id, subject, created, issued, expires),
            payload,
        ))
    }
}

fn to_datetime(unix: i64) -> OffsetDateTime {
    // Every stored time is within 0..=MAX_UNIX, which `time` represents.
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The system clock in unix seconds, without building a calendar date (that
/// took 4% of an open).
pub(crate) fn unix_now() -> Result<i64, Error> {
    let unix = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    if (0..=MAX_UNIX).contains(&unix) {
        Ok(unix)
    } else {
        Err(Error::TimeOutOfRange { unix })
    }
}

/// Converts the caller's clock to unix seconds within the format's range.
pub(crate) fn unix_seconds(now: OffsetDateTime) -> Result<i64, Error> {
    let unix = now.unix_timestamp();
    if (0..=MAX_UNIX).contains(&unix) {
        Ok(unix)
    } else {
        Err(Error::TimeOutOfRange { unix })
    }
}

/// The expiry settings of a codec, in whole seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) max_lifetime: i64,
    pub(crate) idle_timeout: Option<i64>,
    pub(crate) leeway: i64,
}

impl Policy {
    /// The `expires` to seal for a session created at `created` and sealed
    /// now at `issued` (FORMAT.md §6.1).
    pub(crate) fn expires_for(&self, created: i64, issued: i64) -> i64 {
        let absolute = created.saturating_add(self.max_lifetime);
        let idle = self
            .idle_timeout
            .map_or(i64::MAX, |t| issued.saturating_add(t));
        absolute.min(idle).min(MAX_UNIX)
    }

    /// FORMAT.md §6.2: the token's own `expires`, and this policy's limits
    /// recomputed from `created` and `issued`, all with the leeway.
    pub(crate) fn check(&self, claims: &Claims, now: i64) -> Result<(), Error> {
        if claims.issued > now.saturating_add(self.leeway) {
            return Err(Error::NotYetValid {
                issued: claims.issued,
                now,
            });
        }
        let end = claims
            .expires
            .min(self.expires_for(claims.created, claims.issued));
        if now >= end.saturating_add(self.leeway) {
            return Err(Error::Expired { at: end, now });
        }
        Ok(())
    }
}

/// Whole seconds of a duration setting, checked to be positive (or zero where
/// allowed) and at most `max`.
pub(crate) fn seconds_of(
    setting: &'static str,
    d: Duration,
    allow_zero: bool,
    max: i64,
) -> Result<i64, crate::error::ConfigError> {
    let seconds = d.whole_seconds();
    if seconds < 0 || (seconds == 0 && !allow_zero) {
        return Err(crate::error::ConfigError::NonPositiveDuration { setting, seconds });
    }
    if seconds > max {
        return Err(crate::error::ConfigError::DurationTooLong {
            setting,
            seconds,
            max,
        });
    }
    Ok(seconds)
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
        let key = crate::key::KeyId::from_bytes([0x2e, 0xe8, 0xcb, 0xfa]);
        assert_eq!(format!("[{key:>10}]"), "[  2ee8cbfa]");
        assert_eq!(format!("[{key:<9}]"), "[2ee8cbfa ]");
    }

    fn claims(created: i64, issued: i64, expires: i64, subject: Option<&str>) -> Claims {
        Claims::new(
            SessionId([7; 16]),
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
            let (back, payload) = Claims::decode(&buf).expect("decodes");
            assert_eq!(back, c);
            assert_eq!(payload, [0xf6]);
        }
    }

    #[test]
    fn typical_claims_are_25_bytes() {
        // Fresh session, 2-hour idle timeout: 16 + 5 + 1 + 2 + 1.
        let mut buf = Vec::new();
        claims(1_700_000_000, 1_700_000_000, 1_700_007_200, None).encode(&mut buf);
        assert_eq!(buf.len(), 25);
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
            Claims::decode(&with(&[101, 0, 0], &[0xf6])).is_err(),
            "created < 0"
        );
        assert!(
            Claims::decode(&with(&[0, MAX_UNIX as u64, 0], &[0xf6])).is_err(),
            "expires > max"
        );
        assert!(
            Claims::decode(&with(&[0, 0, 0], &[])).is_err(),
            "no payload"
        );
        assert!(
            Claims::decode(&with(&[0, 0, 256], &[0xf6])).is_err(),
            "subject too long"
        );
        assert!(
            Claims::decode(&with(&[0, 0, 2], &[0xff, 0xfe, 0xf6])).is_err(),
            "bad UTF-8"
        );
        assert!(Claims::decode(&[7u8; 15]).is_err(), "short id");
    }

    #[test]
    fn exactly_at_expires_is_expired() {
        let policy = Policy {
            max_lifetime: 100,
            idle_timeout: None,
            leeway: 0,
        };
        let c = claims(1000, 1000, 1100, None);
        assert!(policy.check(&c, 1099).is_ok());
        assert!(matches!(
            policy.check(&c, 1100),
            Err(Error::Expired {
                at: 1100,
                now: 1100
            })
        ));
    }
}
