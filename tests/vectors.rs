//! Known-answer vectors of FORMAT.md (`tests/vectors/v1.json`).
//!
//! Every vector is checked both ways: sealing its inputs with the fixed nonce
//! gives exactly its token, and opening its token gives its claims and payload
//! (or, for `expect_fail` cases, the error class it names). Sub-keys are
//! recomputed here with HKDF directly, independently of the library.
//!
//! The file is written by a separate command, never by the check: after a
//! deliberate format change (which also bumps the version rules of
//! FORMAT.md), `cargo test --all-features --test vectors -- --ignored
//! write_vectors`, then review the diff.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hkdf::Hkdf;
use sealed_session::fuzzing::{seal_body, seal_body_with_lifetime};
use sealed_session::vectors::{Fixed, seal_raw_payload};
use sealed_session::{Codec, Error, Key, KeyRing};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct File {
    format: String,
    description: String,
    vectors: Vec<Vector>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Vector {
    name: String,
    /// "encrypted" or "signed": the mode of the codec that opens.
    mode: String,
    /// Base64url master secrets; the first is the primary.
    ring: Vec<String>,
    purpose: String,
    max_lifetime: i64,
    idle_timeout: Option<i64>,
    leeway: i64,
    open_at: i64,
    token: String,
    expect_fail: bool,
    /// For `expect_fail`, the class of FORMAT.md §8: too_large, malformed,
    /// unknown_key, invalid, invalid_claims, not_yet_valid, expired, payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

/// The inputs of a seal, and its intermediate values for implementers.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Sealed {
    key_id: String,
    xaes_key: String,
    hmac_key: String,
    session_id: String,
    subject: Option<String>,
    created: i64,
    issued: i64,
    expires: i64,
    /// The session's own lifetime (FORMAT.md §5.3), in seconds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifetime: Option<i64>,
    nonce: String,
    associated_data: String,
    /// The body before sealing: claims then payload (FORMAT.md §5).
    body: String,
    payload_cbor: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("time")
}

fn codec_for(v: &Vector) -> Codec {
    let mut keys = v.ring.iter().map(|k| Key::from_base64(k).expect("key"));
    let mut ring = KeyRing::new(keys.next().expect("primary"));
    for k in keys {
        ring = ring.with_accepted(k);
    }
    let mut b = Codec::builder(ring)
        .purpose(&v.purpose)
        .max_lifetime(Duration::seconds(v.max_lifetime))
        .leeway(Duration::seconds(v.leeway));
    if let Some(idle) = v.idle_timeout {
        b = b.idle_timeout(Duration::seconds(idle));
    }
    if v.mode == "signed" {
        b = b.signed();
    }
    b.build().expect("codec")
}

fn derive(master_b64: &str, label: &str, len: usize) -> Vec<u8> {
    let master = B64.decode(master_b64).expect("b64");
    let mut out = vec![0; len];
    Hkdf::<Sha256>::new(None, &master)
        .expand(label.as_bytes(), &mut out)
        .expect("hkdf");
    out
}

fn error_class(e: &Error) -> &'static str {
    match e {
        Error::Invalid => "invalid",
        Error::Malformed(_) => "malformed",
        Error::UnknownKey(_) => "unknown_key",
        Error::Expired { .. } => "expired",
        Error::NotYetValid { .. } => "not_yet_valid",
        Error::InputTooLarge { .. } => "too_large",
        Error::InvalidClaims(_) => "invalid_claims",
        Error::Payload(_) | Error::PayloadTooDeep { .. } => "payload",
        other => panic!("unexpected error class: {other}"),
    }
}

// --- generation -----------------------------------------------------------

const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"; // 00 01 .. 1f
const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"; // 20 21 .. 3f
const T0: i64 = 1_700_000_000;

struct Case {
    name: &'static str,
    mode: &'static str,
    ring: Vec<&'static str>,
    purpose: &'static str,
    idle: Option<i64>,
    subject: Option<&'static str>,
    created: i64,
    issued: i64,
    /// The session's own lifetime, in seconds.
    lifetime: Option<i64>,
    payload: Vec<u8>,
}

fn cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("cbor");
    out
}

fn valid(case: &Case) -> Vector {
    let mut v = Vector {
        name: case.name.into(),
        mode: case.mode.into(),
        ring: case.ring.iter().map(|s| s.to_string()).collect(),
        purpose: case.purpose.into(),
        max_lifetime: 7 * 86_400,
        idle_timeout: case.idle,
        leeway: 0,
        open_at: case.issued + 60,
        token: String::new(),
        expect_fail: false,
        error: None,
        sealed: None,
    };
    let codec = codec_for(&v);
    let lifetime = case
        .lifetime
        .map_or(v.max_lifetime, |l| l.min(v.max_lifetime));
    let expires = (case.created + lifetime).min(case.idle.map_or(i64::MAX, |i| case.issued + i));
    let fixed = Fixed {
        session_id: core::array::from_fn(|i| 0xa0 + i as u8),
        subject: case.subject,
        created: case.created,
        issued: case.issued,
        expires,
        lifetime: case.lifetime,
        nonce: core::array::from_fn(|i| 0x40 + i as u8),
    };
    v.token = seal_raw_payload(&codec, &case.payload, &fixed).expect("seals");
    let raw = B64.decode(&v.token).expect("b64");
    let primary = case.ring[0];
    let key_id = derive(primary, "sealed-session v1 key-id", 4);
    let mut aad = raw[..5].to_vec();
    aad.push(case.purpose.len() as u8);
    aad.extend_from_slice(case.purpose.as_bytes());
    let (nonce, body) = if case.mode == "signed" {
        (String::new(), hex(&raw[5..raw.len() - 32]))
    } else {
        // Recompute the body as the library writes it, to show implementers.
        let mut body = fixed.session_id.to_vec();
        for n in [
            fixed.issued as u64,
            (fixed.issued - fixed.created) as u64,
            (fixed.expires - fixed.issued) as u64,
        ] {
            leb128(&mut body, n);
        }
        match case.subject {
            None => body.push(0),
            Some(s) => {
                leb128(&mut body, s.len() as u64);
                body.extend_from_slice(s.as_bytes());
            }
        }
        if let Some(lifetime) = case.lifetime {
            leb128(&mut body, lifetime as u64);
        }
        body.extend_from_slice(&case.payload);
        (hex(&fixed.nonce), hex(&body))
    };
    v.sealed = Some(Sealed {
        key_id: hex(&key_id),
        xaes_key: hex(&derive(primary, "sealed-session v1 xaes-256-gcm", 32)),
        hmac_key: hex(&derive(primary, "sealed-session v1 hmac-sha256", 32)),
        session_id: hex(&fixed.session_id),
        subject: case.subject.map(str::to_owned),
        created: fixed.created,
        issued: fixed.issued,
        expires,
        lifetime: case.lifetime,
        nonce,
        associated_data: hex(&aad),
        body,
        payload_cbor: hex(&case.payload),
    });
    v
}

fn leb128(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn failing(base: &Vector, name: &str, error: &str, edit: impl FnOnce(&mut Vector)) -> Vector {
    let mut v = base.clone();
    v.name = name.into();
    v.expect_fail = true;
    v.error = Some(error.into());
    v.sealed = None;
    edit(&mut v);
    v
}

fn generate() -> File {
    let typical = cbor(&common::typical());
    let enc = valid(&Case {
        name: "encrypted, typical payload, new session, 2 h idle timeout",
        mode: "encrypted",
        ring: vec![KEY_A],
        purpose: "session",
        idle: Some(7200),
        subject: None,
        created: T0,
        issued: T0,
        lifetime: None,
        payload: typical.clone(),
    });
    let resealed = valid(&Case {
        name: "encrypted, re-sealed 6 days in, with subject, opened by a ring whose primary is another key",
        mode: "encrypted",
        ring: vec![KEY_B, KEY_A],
        purpose: "session",
        idle: Some(7200),
        subject: Some("user-42"),
        created: T0,
        issued: T0 + 6 * 86_400,
        lifetime: None,
        payload: cbor(&serde_json::json!({"n": 1})),
    });
    // Sealed by KEY_A, opened by [KEY_B, KEY_A]: fix the token's key.
    let resealed = {
        let mut v = resealed;
        let mut c = v.clone();
        c.ring = vec![KEY_A.into()];
        let codec = codec_for(&c);
        let s = v.sealed.as_ref().expect("sealed");
        let session_id: [u8; 16] = unhex(&s.session_id).try_into().expect("16");
        let nonce: [u8; 24] = unhex(&s.nonce).try_into().expect("24");
        v.token = seal_raw_payload(
            &codec,
            &unhex(&s.payload_cbor),
            &Fixed {
                session_id,
                subject: s.subject.as_deref(),
                created: s.created,
                issued: s.issued,
                expires: s.expires,
                lifetime: s.lifetime,
                nonce,
            },
        )
        .expect("seals");
        let sealed = v.sealed.as_mut().expect("sealed");
        sealed.key_id = hex(&derive(KEY_A, "sealed-session v1 key-id", 4));
        sealed.xaes_key = hex(&derive(KEY_A, "sealed-session v1 xaes-256-gcm", 32));
        sealed.hmac_key = hex(&derive(KEY_A, "sealed-session v1 hmac-sha256", 32));
        let raw = B64.decode(&v.token).expect("b64");
        let mut aad = raw[..5].to_vec();
        aad.push(7);
        aad.extend_from_slice(b"session");
        sealed.associated_data = hex(&aad);
        v
    };
    let signed = valid(&Case {
        name: "signed, typical payload, no idle timeout",
        mode: "signed",
        ring: vec![KEY_A],
        purpose: "csrf-form",
        idle: None,
        subject: Some("alice"),
        created: T0,
        issued: T0,
        lifetime: None,
        payload: typical,
    });

    let flip = |token: &str, index: usize| {
        let mut raw = B64.decode(token).expect("b64");
        raw[index] ^= 0x01;
        B64.encode(raw)
    };
    // FORMAT.md §5.3: the session's own lifetime, versions 0x03 and 0x04.
    let remembered = valid(&Case {
        name: "encrypted, own lifetime of 12 h (version 0x03), re-sealed 11 h in: ends at created + 12 h",
        mode: "encrypted",
        ring: vec![KEY_A],
        purpose: "session",
        idle: Some(7200),
        subject: Some("user-42"),
        created: T0,
        issued: T0 + 11 * 3600,
        lifetime: Some(12 * 3600),
        payload: cbor(&serde_json::json!({"n": 1})),
    });
    let signed_remembered = valid(&Case {
        name: "signed, own lifetime of 1 day (version 0x04), no idle timeout",
        mode: "signed",
        ring: vec![KEY_A],
        purpose: "session",
        idle: None,
        subject: None,
        created: T0,
        issued: T0,
        lifetime: Some(86_400),
        payload: cbor(&serde_json::json!({"n": 1})),
    });
    let mut vectors = vec![
        enc.clone(),
        resealed,
        signed.clone(),
        remembered.clone(),
        signed_remembered.clone(),
    ];
    vectors.push(failing(
        &remembered,
        "own lifetime: opened at created + 12 h, its end",
        "expired",
        |v| v.open_at = T0 + 12 * 3600,
    ));
    vectors.push(failing(
        &enc,
        "own lifetime: version 0x01 relabelled 0x03 (the associated data differs)",
        "invalid",
        |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            raw[0] = 0x03;
            v.token = B64.encode(raw);
        },
    ));
    // And back: a token with a lifetime cannot shed it by its version byte
    // (the sub-keys are the same; the associated data is not).
    for (from, name, to) in [
        (
            &remembered,
            "own lifetime: version 0x03 relabelled 0x01 (the associated data differs)",
            0x01,
        ),
        (
            &signed_remembered,
            "own lifetime: version 0x04 relabelled 0x02 (the associated data differs)",
            0x02,
        ),
    ] {
        vectors.push(failing(from, name, "invalid", |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            raw[0] = to;
            v.token = B64.encode(raw);
        }));
    }
    vectors.push(failing(
        &enc,
        "tampered ciphertext (one bit of the body)",
        "invalid",
        |v| {
            v.token = flip(&v.token, 40);
        },
    ));
    vectors.push(failing(&enc, "tampered tag (last byte)", "invalid", |v| {
        let n = B64.decode(&v.token).expect("b64").len();
        v.token = flip(&v.token, n - 1);
    }));
    vectors.push(failing(&enc, "tampered nonce", "invalid", |v| {
        v.token = flip(&v.token, 10);
    }));
    vectors.push(failing(&enc, "wrong purpose", "invalid", |v| {
        v.purpose = "csrf".into();
    }));
    vectors.push(failing(
        &enc,
        "expired: opened exactly at expires",
        "expired",
        |v| {
            v.open_at = T0 + 7200;
        },
    ));
    vectors.push(failing(
        &enc,
        "not yet valid: issued 1 s in the future",
        "not_yet_valid",
        |v| {
            v.open_at = T0 - 1;
        },
    ));
    vectors.push(failing(
        &enc,
        "unknown key id: ring holds only another key",
        "unknown_key",
        |v| {
            v.ring = vec![KEY_B.into()];
        },
    ));
    vectors.push(failing(
        &enc,
        "key id relabelled to a key of the ring",
        "invalid",
        |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            raw[1..5].copy_from_slice(&derive(KEY_B, "sealed-session v1 key-id", 4));
            v.token = B64.encode(raw);
            v.ring = vec![KEY_B.into()];
        },
    ));
    vectors.push(failing(
        &enc,
        "unknown version byte 0x05 (0x03 and 0x04 are assigned, §5.3)",
        "malformed",
        |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            raw[0] = 0x05;
            v.token = B64.encode(raw);
        },
    ));
    vectors.push(failing(
        &enc,
        "signed-mode version byte to an encrypted codec",
        "malformed",
        |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            raw[0] = 0x02;
            v.token = B64.encode(raw);
        },
    ));
    vectors.push(failing(
        &enc,
        "non-canonical base64url: padding",
        "malformed",
        |v| {
            v.token.push('=');
        },
    ));
    vectors.push(failing(
        &enc,
        "non-canonical base64url: standard alphabet",
        "malformed",
        |v| {
            v.token = v.token.replace('-', "+").replace('_', "/");
            if !v.token.contains(['+', '/']) {
                v.token.insert(10, '+');
            }
        },
    ));
    vectors.push(failing(
        &enc,
        "non-canonical base64url: non-zero trailing bits",
        "malformed",
        |v| {
            let mut raw = B64.decode(&v.token).expect("b64");
            if raw.len() % 3 == 0 {
                // A partial final group is needed for trailing bits to exist.
                raw.pop();
                v.token = B64.encode(&raw);
            }
            let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = v.token.pop().expect("char");
            let i = alphabet.find(last).expect("alphabet");
            v.token.push(alphabet.as_bytes()[i | 1] as char);
        },
    ));
    vectors.push(failing(&enc, "truncated: header only", "malformed", |v| {
        let raw = B64.decode(&v.token).expect("b64");
        v.token = B64.encode(&raw[..5]);
    }));
    vectors.push(failing(
        &enc,
        "over the size budget (3841 characters)",
        "too_large",
        |v| {
            v.token = "A".repeat(3841);
        },
    ));
    vectors.push(failing(
        &signed,
        "signed: payload byte changed",
        "invalid",
        |v| {
            v.token = flip(&v.token, 60);
        },
    ));
    vectors.push(failing(
        &signed,
        "signed: tag truncated by one byte",
        "invalid",
        |v| {
            let raw = B64.decode(&v.token).expect("b64");
            v.token = B64.encode(&raw[..raw.len() - 1]);
        },
    ));
    vectors.push(failing(
        &signed,
        "signed token to an encrypted codec",
        "malformed",
        |v| {
            v.mode = "encrypted".into();
        },
    ));
    vectors.push(failing(&enc, "empty token", "malformed", |v| {
        v.token = String::new();
    }));

    // Authenticated, but the claims or the payload break FORMAT.md §5: only
    // a key holder can seal these. The body is given whole, so these use a
    // fixed session id and times like the valid vectors.
    let claims = |subject_len: u8, subject: &[u8]| {
        let mut body: Vec<u8> = (0xa0..0xb0).collect();
        leb128(&mut body, T0 as u64);
        leb128(&mut body, 0);
        leb128(&mut body, 7200);
        leb128(&mut body, u64::from(subject_len));
        body.extend_from_slice(subject);
        body
    };
    let sealed_body = |name: &str, error: &str, body: Vec<u8>| {
        failing(&enc, name, error, |v| {
            let nonce: [u8; 24] = core::array::from_fn(|i| 0x40 + i as u8);
            v.token = seal_body(&codec_for(v), &body, nonce).expect("seals");
        })
    };
    let with_payload = |payload: &[u8]| [claims(0, b""), payload.to_vec()].concat();
    vectors.push(sealed_body(
        "claims: subject length beyond the body",
        "invalid_claims",
        claims(200, b"user-42\xf6"),
    ));
    let with_lifetime = |name: &str, error: &str, body: Vec<u8>| {
        failing(&enc, name, error, |v| {
            let nonce: [u8; 24] = core::array::from_fn(|i| 0x40 + i as u8);
            v.token = seal_body_with_lifetime(&codec_for(v), &body, nonce).expect("seals");
        })
    };
    vectors.push(with_lifetime(
        "claims: own lifetime of 0 s (version 0x03)",
        "invalid_claims",
        [claims(0, b""), vec![0x00, 0xf6]].concat(),
    ));
    let mut span = [claims(0, b""), vec![]].concat();
    leb128(&mut span, 3600);
    span.push(0xf6);
    let mut past_span = with_lifetime(
        "own lifetime: 1 h, expires claimed 2 h after created, opened at 1 h: the opener bounds it",
        "expired",
        span,
    );
    past_span.open_at = T0 + 3600;
    vectors.push(past_span);
    vectors.push(with_lifetime(
        "claims: version 0x03 without the lifetime varint (the payload's first byte read as it, none left)",
        "invalid_claims",
        [claims(0, b""), vec![0x01]].concat(),
    ));
    vectors.push(sealed_body(
        "claims: a body shorter than the session id",
        "invalid_claims",
        (0xa0..0xaf).collect(),
    ));
    vectors.push(sealed_body(
        "claims: no payload byte after the claims",
        "invalid_claims",
        claims(0, b""),
    ));
    vectors.push(sealed_body(
        "payload: a byte after the CBOR item",
        "payload",
        with_payload(&[0xf6, 0x00]),
    ));
    vectors.push(sealed_body(
        "payload: text that is not UTF-8, in a map value",
        "payload",
        with_payload(&[0xa1, 0x61, b'k', 0x62, 0xc3, 0x28]),
    ));
    vectors.push(sealed_body(
        "payload: a character split across the chunks of a text string",
        "payload",
        with_payload(&[0x7f, 0x61, 0xc3, 0x61, 0xa9, 0xff]),
    ));
    vectors.push(sealed_body(
        "payload: the same map key twice, in two encodings",
        "payload",
        with_payload(&[0xa2, 0x01, 0xf6, 0x18, 0x01, 0xf6]),
    ));
    vectors.push(sealed_body(
        "payload: nested 65 levels",
        "payload",
        with_payload(&[vec![0x81; 64], vec![0x00]].concat()),
    ));
    vectors.push(sealed_body(
        "payload: simple value 16",
        "payload",
        with_payload(&[0xf0]),
    ));
    vectors.push(sealed_body(
        "payload: a half and a double signalling NaN with the same bits, as two map keys",
        "payload",
        with_payload(&[
            0xa2, 0xf9, 0x7c, 0x01, 0xf6, 0xfb, 0x7f, 0xf0, 0x04, 0, 0, 0, 0, 0, 0xf6,
        ]),
    ));
    vectors.push(sealed_body(
        "payload: a bignum around a text string",
        "payload",
        with_payload(&[0xc2, 0x61, b'1']),
    ));
    vectors.push(sealed_body(
        "payload: a bignum beyond 128 bits",
        "payload",
        with_payload(&[[0xc2, 0x51].as_slice(), &[1; 17]].concat()),
    ));
    vectors.push(sealed_body(
        "payload: a shared value reference (tag 29)",
        "payload",
        with_payload(&[0x82, 0xd8, 0x1c, 0x81, 0x01, 0xd8, 0x1d, 0x00]),
    ));
    File {
        format: "sealed-session v1".into(),
        description: "Known-answer vectors for FORMAT.md. Keys are base64url master secrets \
                      (the first is the primary); times are unix seconds; binary fields \
                      are hex. A valid vector's token is what sealing `sealed` under the key \
                      of `ring` whose id is `sealed.key_id` gives (the first key, except in \
                      the re-sealed vector, sealed by the ring's accepted key), and opening \
                      it at `open_at` with a codec of `mode`, `purpose`, `max_lifetime`, \
                      `idle_timeout` and `leeway` (seconds) succeeds. An `expect_fail` \
                      vector's open fails with `error`, a class of FORMAT.md §8."
            .into(),
        vectors,
    }
}

// --- checking -------------------------------------------------------------

/// The writer: a separate command, so that the check below can never pass
/// by comparing the generator with its own output.
#[test]
#[ignore = "writes tests/vectors/v1.json; run by hand after a format change"]
fn write_vectors() {
    let text = serde_json::to_string_pretty(&generate()).expect("json") + "\n";
    std::fs::write(PATH, text).expect("write vectors");
}

#[test]
fn vectors_hold() {
    let generated = generate();
    let text = std::fs::read_to_string(PATH).expect("tests/vectors/v1.json exists");
    let file: File = serde_json::from_str(&text).expect("vectors parse");
    // Vector by vector, so that a failure names the one that changed.
    assert_eq!(file.description, generated.description, "description");
    let names = |f: &File| f.vectors.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&file), names(&generated), "the list of vectors");
    for (frozen, now) in file.vectors.iter().zip(&generated.vectors) {
        assert!(
            frozen == now,
            "the library no longer produces the frozen vector {:?}",
            frozen.name
        );
    }
    assert!(file.vectors.iter().filter(|v| v.expect_fail).count() >= 10);
    let classes: std::collections::BTreeSet<_> = file
        .vectors
        .iter()
        .filter_map(|v| v.error.as_deref())
        .collect();
    assert_eq!(
        classes.into_iter().collect::<Vec<_>>(),
        [
            "expired",
            "invalid",
            "invalid_claims",
            "malformed",
            "not_yet_valid",
            "payload",
            "too_large",
            "unknown_key"
        ],
        "every class of FORMAT.md §8 has a vector"
    );

    for v in &file.vectors {
        let codec = codec_for(v);
        let result = codec.open_at::<ciborium::Value>(&v.token, at(v.open_at));
        match (&v.expect_fail, result) {
            (true, Ok(_)) => panic!("{}: opened but must fail", v.name),
            (true, Err(e)) => {
                assert_eq!(Some(error_class(&e)), v.error.as_deref(), "{}: {e}", v.name)
            }
            (false, Err(e)) => panic!("{}: {e}", v.name),
            (false, Ok(opened)) => {
                let s = v.sealed.as_ref().expect("valid vectors carry their inputs");
                let c = opened.claims();
                assert_eq!(hex(&c.session_id().to_bytes()), s.session_id, "{}", v.name);
                assert_eq!(c.subject(), s.subject.as_deref());
                assert_eq!(
                    (c.created_unix(), c.issued_unix(), c.expires_unix()),
                    (s.created, s.issued, s.expires)
                );
                assert_eq!(c.lifetime().map(|l| l.whole_seconds()), s.lifetime);
                assert_eq!(hex(&cbor(opened.value())), s.payload_cbor, "{}", v.name);
                // The header's key id is the HKDF output for the sealing key.
                let raw = B64.decode(&v.token).expect("b64");
                assert_eq!(hex(&raw[1..5]), s.key_id);
                assert_eq!(hex(&raw[..5]), s.associated_data[..10]);
                if v.mode == "encrypted" {
                    assert_eq!(hex(&raw[5..29]), s.nonce);
                    // Decrypt with the XAES-256-GCM primitive directly, from
                    // the vector's own sub-key, nonce and associated data.
                    use xaes_256_gcm::aead::{Aead, KeyInit, Payload};
                    let key: [u8; 32] = unhex(&s.xaes_key).try_into().expect("32");
                    let nonce: [u8; 24] = unhex(&s.nonce).try_into().expect("24");
                    let body = xaes_256_gcm::Xaes256Gcm::new(&key.into())
                        .decrypt(
                            &nonce.into(),
                            Payload {
                                msg: &raw[29..],
                                aad: &unhex(&s.associated_data),
                            },
                        )
                        .expect("decrypts");
                    assert_eq!(hex(&body), s.body, "{}", v.name);
                } else {
                    assert_eq!(hex(&raw[5..raw.len() - 32]), s.body);
                }
            }
        }
    }
}
