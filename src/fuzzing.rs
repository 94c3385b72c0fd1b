//! Entry points for the fuzz targets in `fuzz/` (see `fuzz/README.md`) and
//! for the adversarial tests. Not public API: these seal with fixed keys and
//! fixed nonces, and panic (on purpose) when a property fails.
//!
//! Every check here judges an outcome by *when* it failed. Errors that come
//! before authentication ([`Error::InputTooLarge`], [`Error::Malformed`],
//! [`Error::UnknownKey`]) or from it ([`Error::Invalid`]) are a rejection.
//! Any other outcome for input that was not sealed by us (a value, or an
//! error about claims, times or payload) means the input authenticated: a
//! forgery, and a panic.

use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

use crate::codec::Nonce;
use crate::mode::NONCE_LEN;
use crate::vectors::{Fixed, seal_fixed, seal_raw_payload};
use crate::{
    Codec, Error, Extracted, InputError, Key, KeyRing, MAX_BUDGET, MAX_CHUNKS, MAX_SUBJECT_LEN,
    Mode, SealOptions, SessionCookie, extract_session, extract_token,
};

/// The self-describing CBOR value the fuzz targets decode payloads into:
/// `cbor4ii`'s own, already a dependency, so the fuzz crate carries no second
/// CBOR implementation and decoding goes through the library's serde path
/// (`deserialize_any`) and its depth limit.
pub use cbor4ii::core::Value;

/// The time every entry point seals and opens at (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;

/// Longest input `extract_token` looks at (`input::MAX_INPUT`).
const MAX_EXTRACT_INPUT: usize = 64 * 1024;

/// [`NOW`] as a date.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::seconds(NOW)
}

/// A fixed, valid master key; `seed` picks one of 256.
pub fn fixed_key(seed: u8) -> Key {
    let mut master = [0u8; 32];
    for (i, b) in (0u8..).zip(master.iter_mut()) {
        *b = i.wrapping_mul(37) ^ seed;
    }
    match Key::from_bytes(&master) {
        Ok(key) => key,
        Err(e) => panic!("fixed key {seed}: {e}"),
    }
}

/// The key ring of every entry point: key 1 seals, key 2 is accepted.
pub fn key_ring() -> KeyRing {
    KeyRing::new(fixed_key(1)).with_accepted(fixed_key(2))
}

/// A codec over [`key_ring`] for purpose `"session"`, in `mode`, with a
/// `budget`.
pub fn codec(mode: Mode, budget: usize) -> Codec {
    let builder = Codec::builder(key_ring()).purpose("session").budget(budget);
    let builder = match mode {
        Mode::Signed => builder.signed(),
        Mode::Encrypted => builder,
    };
    match builder.build() {
        Ok(codec) => codec,
        Err(e) => panic!("fixed codec: {e}"),
    }
}

/// The two codecs (encrypted, signed) with the default budget.
pub fn codecs() -> &'static [Codec; 2] {
    static CODECS: OnceLock<[Codec; 2]> = OnceLock::new();
    CODECS.get_or_init(|| {
        [
            codec(Mode::Encrypted, crate::DEFAULT_BUDGET),
            codec(Mode::Signed, crate::DEFAULT_BUDGET),
        ]
    })
}

/// The two codecs (encrypted, signed) with the largest budget.
pub fn large_codecs() -> &'static [Codec; 2] {
    static CODECS: OnceLock<[Codec; 2]> = OnceLock::new();
    CODECS.get_or_init(|| {
        [
            codec(Mode::Encrypted, MAX_BUDGET),
            codec(Mode::Signed, MAX_BUDGET),
        ]
    })
}

/// Fixed claims and nonce: created and issued a minute before [`NOW`],
/// expiring an hour after.
pub fn fixed() -> Fixed<'static> {
    Fixed {
        session_id: [0x5e; 16],
        subject: None,
        created: NOW - 60,
        issued: NOW - 60,
        expires: NOW + 3600,
        lifetime: None,
        nonce: [0x4e; 24],
    }
}

/// True for the errors that reject input before or at authentication.
pub fn is_rejection(e: &Error) -> bool {
    matches!(
        e,
        Error::InputTooLarge { .. } | Error::Malformed(_) | Error::UnknownKey(_) | Error::Invalid
    )
}

/// Fuzz target `open`: `text` is refused by both codecs, before or at
/// authentication, and nothing panics.
pub fn open(text: &str) {
    assert_never_opens(text, &[]);
}

fn assert_never_opens(text: &str, except: &[String]) {
    for codec in codecs() {
        match codec.open_at::<Value>(text, now()) {
            Err(e) if is_rejection(&e) => {}
            outcome => assert!(
                except.iter().any(|t| t == text),
                "{} codec: {text:?} authenticated: {outcome:?}",
                codec.mode()
            ),
        }
    }
}

/// Fuzz target `roundtrip`: `value` seals and opens to itself in both
/// modes, with `subject`, and so does its re-seal. Sealing may refuse only a
/// token over the budget or a subject of the wrong length.
pub fn roundtrip<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
    subject: Option<&str>,
) {
    for codec in large_codecs() {
        let sealed = match subject {
            Some(s) => codec.seal_with(value, SealOptions::new().subject(s).at(now())),
            None => codec.seal_with(value, SealOptions::new().at(now())),
        };
        let token = match sealed {
            Ok(token) => token,
            Err(Error::TooLarge { size, limit }) => {
                assert!(size > limit, "too large: {size} <= {limit}");
                continue;
            }
            Err(Error::SubjectLength { len, .. }) => {
                assert!(
                    len == 0 || len > MAX_SUBJECT_LEN,
                    "subject of {len} refused"
                );
                continue;
            }
            Err(e) => panic!("{} codec: sealing {value:?} failed: {e}", codec.mode()),
        };
        assert!(token.len() <= codec.budget());
        let opened = match codec.open_at::<T>(&token, now()) {
            Ok(opened) => opened,
            Err(e) => panic!("{} codec: {value:?} does not reopen: {e}", codec.mode()),
        };
        assert_eq!(opened.value(), value);
        assert_eq!(opened.claims().subject(), subject);
        assert_eq!(opened.claims().created_unix(), NOW);
        let later = now() + Duration::minutes(5);
        match codec.reseal_with(&opened, SealOptions::new().at(later)) {
            Ok(token) => match codec.open_at::<T>(&token, later) {
                Ok(again) => {
                    assert_eq!(again.value(), value);
                    assert_eq!(again.claims().session_id(), opened.claims().session_id());
                    assert_eq!(again.claims().created_unix(), NOW);
                }
                Err(e) => panic!("re-sealed {value:?} does not reopen: {e}"),
            },
            // The re-seal's `issued` varint can be a byte longer.
            Err(Error::TooLarge { .. }) => {}
            Err(e) => panic!("re-sealing {value:?} failed: {e}"),
        }
    }
}

/// The valid tokens the `mutate` target starts from: a few payloads, a
/// subject and a session's own lifetime, both modes, fixed nonces. `fuzz/corpus/mutate` holds them.
pub fn seed_tokens() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let text = |s: &str| Value::Text(s.to_owned());
        let typical = Value::Map(vec![
            (text("user_id"), Value::Integer(123_456_789)),
            (text("username"), text("alice.example")),
            (
                text("roles"),
                Value::Array(vec![text("admin"), text("editor")]),
            ),
            (
                text("csrf"),
                text("q1xDgW0o2Vd8oS4pJq3m0mJtqS1x8b9K7q0f5kq2Zc8"),
            ),
            (text("created"), Value::Integer(1_700_000_000)),
            (text("theme"), text("dark")),
        ]);
        let nested = Value::Array(vec![
            Value::Null,
            Value::Bool(true),
            Value::Integer(-1),
            Value::Bytes(vec![0, 1, 2]),
            Value::Text(String::new()),
            Value::Map(vec![(Value::Integer(1), Value::Array(vec![]))]),
        ]);
        let mut seeds = Vec::new();
        for codec in codecs() {
            for (value, subject) in [
                (Value::Integer(0), None),
                (typical.clone(), None),
                (typical.clone(), Some("user-42")),
                (nested.clone(), None),
            ] {
                let fixed = Fixed { subject, ..fixed() };
                match seal_fixed(codec, &value, &fixed) {
                    Ok(token) => seeds.push(token),
                    Err(e) => panic!("seed token: {e}"),
                }
            }
        }
        // A session with its own lifetime (versions 0x03 and 0x04), after
        // the others so that their indices hold.
        for codec in codecs() {
            let fixed = Fixed {
                subject: Some("user-42"),
                lifetime: Some(7200),
                ..fixed()
            };
            match seal_fixed(codec, &typical, &fixed) {
                Ok(token) => seeds.push(token),
                Err(e) => panic!("seed token: {e}"),
            }
        }
        seeds
    })
}

/// Fuzz target `mutate`: a token that opens is byte for byte one of
/// [`seed_tokens`]; anything else is refused before or at authentication.
pub fn mutate(text: &str) {
    assert_never_opens(text, seed_tokens());
}

/// Fuzz target `payload`: `bytes` sealed verbatim as the payload under a
/// valid key, then opened as `T` in both modes, and also decoded directly (for
/// payloads beyond any budget). Never a panic; the two agree; failures are
/// payload errors; the structural pass's fast path accepts nothing its
/// general pass refuses.
pub fn payload<T: DeserializeOwned>(bytes: &[u8]) {
    assert!(
        crate::payload::fast_path_agrees(bytes),
        "the structural pass's fast path accepted what the general pass refuses"
    );
    let direct = decode_payload::<T>(bytes);
    if let Err(e) = &direct {
        assert!(
            matches!(e, Error::Payload(_) | Error::PayloadTooDeep { .. }),
            "direct decode: {e:?}"
        );
    }
    for codec in large_codecs() {
        let token = match seal_raw_payload(codec, bytes, &fixed()) {
            Ok(token) => token,
            Err(Error::TooLarge { .. }) => continue,
            Err(e) => panic!("sealing raw payload: {e}"),
        };
        match codec.open_at::<T>(&token, now()) {
            Ok(_) => assert!(direct.is_ok(), "opens, but direct decode failed"),
            // An empty payload is refused by the claims parser (FORMAT.md
            // §5.2: a payload is never empty).
            Err(Error::InvalidClaims(_)) if bytes.is_empty() => {}
            Err(e) => {
                assert!(
                    matches!(e, Error::Payload(_) | Error::PayloadTooDeep { .. }),
                    "{e:?}"
                );
                assert!(direct.is_err(), "only open failed: {e}");
            }
        }
    }
}

/// Runs the library's payload decoder (FORMAT.md §5.2) on `bytes` directly:
/// for bombs larger than any token can carry.
///
/// # Errors
/// As the payload step of [`Codec::open`].
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    crate::payload::decode(bytes)
}

/// Seals `body` (claims and payload bytes, FORMAT.md §5, taken verbatim and
/// possibly invalid) under `codec`'s primary key and purpose, with `nonce` in
/// encrypted mode, through the codec's own sealing mechanism.
///
/// # Errors
/// [`Error::TooLarge`] beyond the codec's budget.
pub fn seal_body(codec: &Codec, body: &[u8], nonce: [u8; NONCE_LEN]) -> Result<String, Error> {
    seal_body_as(codec, false, body, nonce)
}

/// As [`seal_body`], under the version byte whose claims end with the
/// session's own lifetime (FORMAT.md §5.3): `body` must carry it.
///
/// # Errors
/// [`Error::TooLarge`] beyond the codec's budget.
pub fn seal_body_with_lifetime(
    codec: &Codec,
    body: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Result<String, Error> {
    seal_body_as(codec, true, body, nonce)
}

fn seal_body_as(
    codec: &Codec,
    own_lifetime: bool,
    body: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Result<String, Error> {
    let mut token = String::new();
    codec.seal_body(
        own_lifetime,
        || Nonce::chosen(nonce),
        codec.budget(),
        &mut token,
        |out| {
            out.extend_from_slice(body);
            Ok(())
        },
    )?;
    Ok(token)
}

/// Fuzz target `input`: [`extract_session`] never panics; what it returns is a
/// non-empty part of the input, which then never opens (as in the CLI);
/// a bare token, or one wrapped in a `Cookie:` header or a `Set-Cookie:`
/// line, comes back unchanged.
pub fn input(text: &str) {
    let whole = text.as_bytes().as_ptr_range();
    for name in ["session", "a", "Session", "session.1"] {
        match extract_session(text, name) {
            Ok(Extracted {
                token,
                cookie_budget,
                ..
            }) => {
                assert!(!token.is_empty());
                // A token from cookies is within what they carry.
                assert!(cookie_budget.is_none_or(|budget| token.len() <= budget));
                // A token in one cookie is borrowed from the input; a
                // chunked one is joined from parts of it.
                if let Cow::Borrowed(token) = token {
                    let part = token.as_bytes().as_ptr_range();
                    assert!(
                        whole.start <= part.start && part.end <= whole.end,
                        "not a part of the input"
                    );
                }
                assert!(token.len() <= MAX_EXTRACT_INPUT);
                assert_never_opens(&token, seed_tokens());
            }
            Err(InputError::CookieNotFound { name: n, present }) => {
                assert_eq!(n, name);
                assert!(present.len() <= 16);
            }
            Err(InputError::Unrecognised { found, .. }) => {
                assert!(!(found.is_ascii_alphanumeric() || found == '-' || found == '_'));
            }
            Err(_) => {}
        }
    }
    let is_token_shaped = !text.is_empty()
        && text.len() <= MAX_EXTRACT_INPUT / 2
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if is_token_shaped {
        for wrapped in [
            text.to_owned(),
            format!(" \"{text}\"\n"),
            format!("Cookie: theme=dark; session={text}; lang=en"),
            format!("session={text}"),
            format!("Set-Cookie: session={text}; Path=/; Secure; HttpOnly"),
        ] {
            assert_eq!(
                extract_token(&wrapped, "session").as_deref(),
                Ok(text),
                "{wrapped:?}"
            );
        }
    }
}

/// Fuzz target `cookies`: reading any `Cookie` headers (the input's lines,
/// under one of four configurations picked by its first byte) never
/// panics; a token it yields is within the budget and comes back unchanged
/// when written and read again, chunks in reverse order; a removal only
/// ever names cookie-name tokens.
pub fn cookies(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let max_chunks = if pick & 1 == 1 { MAX_CHUNKS } else { 1 };
    let Ok(cookie) = SessionCookie::builder("s")
        .chunked(max_chunks)
        .cookie_limit(if pick & 2 == 2 {
            256
        } else {
            crate::COOKIE_LIMIT
        })
        .build()
    else {
        unreachable!("the four configurations are valid")
    };
    let text = String::from_utf8_lossy(rest);
    let request = cookie.read(text.lines());
    // Only the session's own cookies are ever deleted: never another
    // party's `s.sig` or `s.10`.
    let ours =
        |name: &str| name == "s" || (1..max_chunks).any(|index| name == format!("s.{index}"));
    for header in &cookie.remove(&request) {
        let name = header.split('=').next().unwrap_or_default();
        assert!(ours(name), "{header:?}");
    }
    let Ok(Some(token)) = request.token() else {
        return;
    };
    assert!(token.len() <= cookie.token_budget());
    let Ok(set) = cookie.set(&token, None, &request) else {
        // Read but not base64url: the codec refuses it as malformed.
        assert!(
            !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        return;
    };
    let pairs: Vec<&str> = set
        .headers()
        .iter()
        .filter(|h| !h.contains("Max-Age=0"))
        .filter_map(|h| h.split(';').next())
        .rev()
        .collect();
    let again = cookie.read(pairs);
    assert_eq!(again.token().ok().flatten().as_deref(), Some(&*token));
}

/// A key-ring file of either version (FORMAT.md §12), as a node reads it
/// from disk or Redis: parsing never panics and never quotes a secret; a
/// ring that parses writes back to text that parses to the same keys and
/// lifecycles; its ring at a fixed time, where one seals, has the sealing
/// key as primary; and a rotation run twice at one instant changes nothing
/// the second time.
pub fn ring(text: &str) {
    use crate::rotation::{RotationPolicy, StoredRing};
    use time::{Duration, OffsetDateTime};

    let Ok(stored) = StoredRing::parse(text) else {
        return;
    };
    let again = StoredRing::parse(&stored.to_text());
    let Ok(again) = again else {
        unreachable!("a parsed ring writes back to text that parses")
    };
    assert_eq!(
        stored.generation(),
        again.generation(),
        "the generation reads back"
    );
    let now =
        OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let keep = Duration::days(7);
    assert_eq!(
        stored.key_ring_at(now, keep).ok().map(|r| r.primary().id()),
        again.key_ring_at(now, keep).ok().map(|r| r.primary().id())
    );
    let Ok(policy) = RotationPolicy::new(Duration::days(30), Duration::days(2), keep) else {
        unreachable!("a valid policy")
    };
    let mut schedule = stored.into_schedule(now, &policy);
    if let Some(k) = schedule.sealing_key_at(now) {
        let id = k.id();
        assert!(
            schedule
                .key_ring_at(now, keep)
                .is_ok_and(|r| r.primary().id() == id)
        );
    }
    let generation = schedule.generation();
    let changed = !schedule.rotate(now, &policy).is_empty();
    assert!(
        schedule.generation() >= generation.saturating_add(u64::from(changed)),
        "a rotation that changes the ring raises its generation"
    );
    let generation = schedule.generation();
    assert!(
        schedule.rotate(now, &policy).is_empty(),
        "rotate is idempotent"
    );
    assert_eq!(
        schedule.generation(),
        generation,
        "and leaves the generation"
    );
    assert!(
        schedule.sealing_key_at(now).is_some(),
        "after a rotation a key seals"
    );
}
