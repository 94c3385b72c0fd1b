//! Shared output helpers: times, durations, CBOR as JSON.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealed_session::{Claims, SessionId, UnverifiedClaims};
use serde::Serialize;
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::value::Value;

/// What every subcommand needs to know about the invocation.
pub(crate) struct Context {
    pub(crate) json: bool,
    pub(crate) now: OffsetDateTime,
}

pub(crate) fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-23T10:00:00Z ({e})"))
}

pub(crate) fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("expected a duration such as 7d, 2h or 90s ({e})"))?;
    time::Duration::try_from(d).map_err(|e| e.to_string())
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// "in 1h 59m" / "3m 2s ago" / "now", relative to `now`.
pub(crate) fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (t - now).whole_seconds();
    let span = humantime::format_duration(std::time::Duration::from_secs(seconds.unsigned_abs()));
    match seconds {
        0 => "now".into(),
        s if s > 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    }
}

/// A CBOR value as JSON: byte strings become base64url text, bignums (tags
/// 2 and 3) their integer, other tags are dropped, non-text map keys are
/// written as their JSON text, and maps are sorted by key, the last of equal
/// keys winning (as `serde_json`'s map printed them).
///
/// The library's decoder hands over integers and bignums up to 64 bits as
/// integers, larger bignums as tags over their bytes, and refuses bignums
/// beyond 128 bits (and tag-3 ones below -2^127); what this cannot print
/// exactly is an error, never a wrong number.
pub(crate) fn cbor_to_json(value: &ciborium::Value) -> Result<Value, String> {
    use ciborium::Value as V;
    Ok(match value {
        V::Integer(i) => integer(i128::from(*i)),
        V::Tag(tag @ (2 | 3), inner) => bignum(*tag, inner)?,
        V::Bytes(b) => Value::Text(URL_SAFE_NO_PAD.encode(b)),
        V::Float(f) if f.is_finite() => Value::Float(*f),
        V::Text(s) => Value::Text(s.clone()),
        V::Bool(b) => Value::Bool(*b),
        V::Tag(_, inner) => cbor_to_json(inner)?,
        V::Array(items) => Value::Array(items.iter().map(cbor_to_json).collect::<Result<_, _>>()?),
        V::Map(entries) => {
            let mut sorted = BTreeMap::new();
            for (k, v) in entries {
                let key = match k {
                    V::Text(s) => s.clone(),
                    other => {
                        serde_json::to_string(&cbor_to_json(other)?).map_err(|e| e.to_string())?
                    }
                };
                let value = cbor_to_json(v)?;
                match sorted.entry(key) {
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                    // Never drop an entry: `1` and `"1"`, `true` and
                    // `"true"`, or two NaNs are distinct CBOR keys that
                    // JSON writes alike.
                    std::collections::btree_map::Entry::Occupied(slot) => {
                        return Err(format!(
                            "a map has two distinct keys that JSON writes as the same key {:?} \
                             (such as the integer 1 and the text \"1\")",
                            slot.key()
                        ));
                    }
                }
            }
            Value::Object(sorted.into_iter().collect())
        }
        // Null, and floats JSON cannot write (NaN, infinities).
        _ => Value::Null,
    })
}

fn integer(n: i128) -> Value {
    u128::try_from(n).map_or(Value::Negative(n), Value::Unsigned)
}

/// Tag 2 over big-endian bytes `n` is n; tag 3 is -1 - n (RFC 8949 §3.4.3).
fn bignum(tag: u64, inner: &ciborium::Value) -> Result<Value, String> {
    let ciborium::Value::Bytes(bytes) = inner else {
        return Err(format!(
            "a bignum (tag {tag}) over something other than bytes"
        ));
    };
    let n = bytes
        .iter()
        .try_fold(0u128, |n, &b| n.checked_mul(256).map(|n| n | u128::from(b)));
    let len = bytes.len();
    match tag {
        2 => n
            .map(Value::Unsigned)
            .ok_or_else(|| format!("a bignum of {len} bytes, beyond 128 bits")),
        _ => n
            .and_then(|n| i128::try_from(n).ok())
            .map(|n| integer(-1 - n))
            .ok_or_else(|| format!("a negative bignum of {len} bytes, below -2^127")),
    }
}

/// What `open` (verified) and `inspect` (unverified) both show of claims.
pub(crate) struct ClaimsView<'a> {
    session_id: SessionId,
    subject: Option<&'a str>,
    created: OffsetDateTime,
    issued: OffsetDateTime,
    expires: OffsetDateTime,
    /// The session's own lifetime (a token of version 0x03 or 0x04).
    lifetime: Option<time::Duration>,
}

impl<'a> From<&'a Claims> for ClaimsView<'a> {
    fn from(c: &'a Claims) -> Self {
        Self {
            session_id: c.session_id(),
            subject: c.subject(),
            created: c.created(),
            issued: c.issued(),
            expires: c.expires(),
            lifetime: c.lifetime(),
        }
    }
}

impl<'a> From<&'a UnverifiedClaims> for ClaimsView<'a> {
    fn from(c: &'a UnverifiedClaims) -> Self {
        Self {
            session_id: c.session_id(),
            subject: c.subject(),
            created: c.created(),
            issued: c.issued(),
            expires: c.expires(),
            lifetime: c.lifetime(),
        }
    }
}

pub(crate) fn claims_json<'a>(claims: impl Into<ClaimsView<'a>>, now: OffsetDateTime) -> Json {
    let claims = claims.into();
    let mut json = json!({
        "session_id": claims.session_id.to_string(),
        "subject": claims.subject,
        "created": rfc3339(claims.created),
        "issued": rfc3339(claims.issued),
        "expires": rfc3339(claims.expires),
        "expires_in_seconds": (claims.expires - now).whole_seconds(),
    });
    // Only sessions given a lifetime of their own carry one.
    if let (Some(lifetime), Some(object)) = (claims.lifetime, json.as_object_mut()) {
        object.insert("lifetime_seconds".into(), lifetime.whole_seconds().into());
    }
    json
}

pub(crate) fn claims_lines<'a>(
    claims: impl Into<ClaimsView<'a>>,
    now: OffsetDateTime,
) -> Vec<(&'static str, String)> {
    let claims = claims.into();
    let mut lines = vec![
        ("session id", claims.session_id.to_string()),
        // Escaped: a subject is app data and may hold control characters.
        (
            "subject",
            claims
                .subject
                .map_or_else(|| "(none)".to_owned(), |s| s.escape_debug().to_string()),
        ),
        (
            "created",
            format!(
                "{} ({})",
                rfc3339(claims.created),
                relative(claims.created, now)
            ),
        ),
        (
            "issued",
            format!(
                "{} ({})",
                rfc3339(claims.issued),
                relative(claims.issued, now)
            ),
        ),
        (
            "expires",
            format!(
                "{} ({})",
                rfc3339(claims.expires),
                relative(claims.expires, now)
            ),
        ),
    ];
    if let Some(lifetime) = claims.lifetime {
        let end = claims.created.saturating_add(lifetime);
        lines.push((
            "lifetime",
            format!(
                "{} s of its own, until {} at the latest",
                lifetime.whole_seconds(),
                rfc3339(end)
            ),
        ));
    }
    lines
}

/// Prints aligned `label  value` lines.
pub(crate) fn print_lines(lines: &[(&str, String)]) {
    for (label, value) in lines {
        outln!("{label:<12}{value}");
    }
}

/// Prints `value` as indented JSON.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), serde_json::Error> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use ciborium::Value as V;

    use super::*;

    fn tagged(tag: u64, bytes: &[u8]) -> V {
        V::Tag(tag, Box::new(V::Bytes(bytes.to_vec())))
    }

    #[test]
    fn bignums_the_decoder_never_hands_over_are_errors_not_numbers() {
        // The library refuses these on open (tests/cli.rs); were one to
        // arrive, it must not print as some other number.
        let mut two127 = [0; 16];
        two127[0] = 0x80;
        for bad in [
            tagged(2, &[1; 17]),
            tagged(3, &[1; 17]),
            tagged(3, &two127),
            V::Tag(2, Box::new(V::Text("1".into()))),
        ] {
            assert!(cbor_to_json(&bad).is_err(), "{bad:?}");
        }
        // Leading zeros do not count towards the 128 bits.
        let mut padded = vec![0; 8];
        padded.extend_from_slice(&[0xff; 16]);
        assert_eq!(
            cbor_to_json(&tagged(2, &padded)),
            Ok(Value::Unsigned(u128::MAX))
        );
        assert_eq!(
            cbor_to_json(&tagged(3, &[0x7f; 1])),
            Ok(Value::Negative(-128))
        );
    }
}
