//! Entry points for the known-answer vectors: sealing with a chosen nonce,
//! session id and times. Not public API: a fixed nonce is catastrophic in
//! production.

use serde::Serialize;

use crate::claims::Claims;
use crate::clock::unix_seconds;
use crate::codec::Nonce;
use crate::ids::SessionId;
use crate::{Codec, Error};

/// The inputs a normal seal draws at random or from the clock.
#[derive(Debug, Clone)]
pub struct Fixed<'a> {
    /// Session id.
    pub session_id: [u8; 16],
    /// Optional subject.
    pub subject: Option<&'a str>,
    /// `created`, unix seconds.
    pub created: i64,
    /// `issued`, unix seconds.
    pub issued: i64,
    /// `expires`, unix seconds.
    pub expires: i64,
    /// The session's own lifetime in seconds (FORMAT.md §5.3), if any.
    pub lifetime: Option<i64>,
    /// Nonce (ignored in signed mode).
    pub nonce: [u8; 24],
}

/// Seals with every random and time input fixed.
///
/// # Errors
/// As [`Codec::seal`], and [`Error::TimeOutOfRange`] unless
/// `0 <= created <= issued <= expires <= 9999-12-31`.
pub fn seal_fixed<T: Serialize + ?Sized>(
    codec: &Codec,
    value: &T,
    fixed: &Fixed<'_>,
) -> Result<String, Error> {
    let mut token = String::new();
    let claims = fixed.claims()?;
    codec.seal_claims_with(
        &claims,
        || Nonce::chosen(fixed.nonce),
        codec.budget(),
        &mut token,
        |out| crate::payload::encode(value, out),
    )?;
    Ok(token)
}

/// Seals `payload` verbatim as the payload bytes (not necessarily CBOR),
/// so tests can put hostile CBOR under a valid seal.
///
/// # Errors
/// As [`seal_fixed`].
pub fn seal_raw_payload(codec: &Codec, payload: &[u8], fixed: &Fixed<'_>) -> Result<String, Error> {
    let mut token = String::new();
    codec.seal_claims_with(
        &fixed.claims()?,
        || Nonce::chosen(fixed.nonce),
        codec.budget(),
        &mut token,
        |out| {
            out.extend_from_slice(payload);
            Ok(())
        },
    )?;
    Ok(token)
}

impl Fixed<'_> {
    fn claims(&self) -> Result<Claims, Error> {
        let fixed = self;
        for t in [fixed.created, fixed.issued, fixed.expires] {
            unix_seconds(
                time::OffsetDateTime::from_unix_timestamp(t)
                    .map_err(|_| Error::TimeOutOfRange { unix: t })?,
            )?;
        }
        if fixed.created > fixed.issued || fixed.issued > fixed.expires {
            return Err(Error::TimeOutOfRange { unix: fixed.issued });
        }
        if let Some(lifetime) = fixed.lifetime {
            if !(1..=crate::clock::MAX_UNIX).contains(&lifetime) {
                return Err(Error::TimeOutOfRange { unix: lifetime });
            }
        }
        Ok(Claims::new(
            SessionId::from_bytes(fixed.session_id),
            fixed.subject.map(str::to_owned),
            fixed.created,
            fixed.issued,
            fixed.expires,
        )
        .with_lifetime(fixed.lifetime))
    }
}
