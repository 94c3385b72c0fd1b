//! Behaviour of seal and open through the public API.

// A type nested 300 levels deep (`options!` below).
#![recursion_limit = "1024"]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{Typical, large, typical};
use sealed_session::vectors::{Fixed, seal_raw_payload};
use sealed_session::{Codec, Error, Key, KeyRing, Malformed, Mode, Opened, SealOptions};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

const T0: i64 = 1_700_000_000;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("valid time")
}

fn key(byte: u8) -> Key {
    let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(31) ^ byte).collect();
    Key::from_bytes(&bytes).expect("valid key")
}

fn codec(mode: Mode) -> Codec {
    let b = Codec::builder(KeyRing::new(key(1))).purpose("session");
    match mode {
        Mode::Signed => b.signed(),
        _ => b,
    }
    .build()
    .expect("valid codec")
}

fn both_modes() -> [Codec; 2] {
    [codec(Mode::Encrypted), codec(Mode::Signed)]
}

fn is_invalid(r: Result<sealed_session::Opened<Typical>, Error>) -> bool {
    matches!(r, Err(Error::Invalid))
}

#[test]
fn round_trip_in_both_modes() {
    for c in both_modes() {
        let token = c
            .seal_with(&typical(), SealOptions::new().at(at(T0)))
            .expect("seals");
        let opened = c.open_at::<Typical>(&token, at(T0 + 60)).expect("opens");
        assert_eq!(opened.value(), &typical());
        assert_eq!(opened.claims().created_unix(), T0);
        assert_eq!(opened.claims().issued_unix(), T0);
        assert_eq!(opened.claims().expires_unix(), T0 + 7 * 86_400);
        assert_eq!(opened.claims().subject(), None);
        assert!(!opened.needs_reseal());

        let token = c
            .seal_with(&large(), SealOptions::new().at(at(T0)))
            .expect("seals large");
        let opened = c
            .open_at::<common::Large>(&token, at(T0))
            .expect("opens large");
        assert_eq!(opened.into_value(), large());
    }
}

#[test]
fn system_clock_round_trip() {
    let c = codec(Mode::Encrypted);
    let token = c
        .seal_with(&typical(), SealOptions::new().subject("user-42"))
        .expect("seals");
    let opened = c.open::<Typical>(&token).expect("opens");
    assert_eq!(opened.claims().subject(), Some("user-42"));
}

#[test]
fn tokens_are_fresh_each_seal() {
    let c = codec(Mode::Encrypted);
    let a = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let b = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    assert_ne!(a, b, "nonce and session id are random");
    let ida = c.open_at::<Typical>(&a, at(T0)).expect("opens");
    let idb = c.open_at::<Typical>(&b, at(T0)).expect("opens");
    assert_ne!(ida.claims().session_id(), idb.claims().session_id());
}

#[test]
fn signed_mode_payload_is_readable_encrypted_is_not() {
    let [enc, signed] = both_modes();
    let needle = b"alice.example";
    let e = B64
        .decode(
            enc.seal_with(&typical(), SealOptions::new().at(at(T0)))
                .expect("seals"),
        )
        .expect("b64");
    let s = B64
        .decode(
            signed
                .seal_with(&typical(), SealOptions::new().at(at(T0)))
                .expect("seals"),
        )
        .expect("b64");
    assert!(!e.windows(needle.len()).any(|w| w == needle));
    assert!(s.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn every_bit_flip_and_truncation_is_rejected() {
    for c in both_modes() {
        let token = c
            .seal_with(&typical(), SealOptions::new().at(at(T0)))
            .expect("seals");
        let bytes = B64.decode(&token).expect("b64");
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut t = bytes.clone();
                t[i] ^= 1 << bit;
                let r = c.open_at::<Typical>(&B64.encode(&t), at(T0));
                assert!(r.is_err(), "{} flip byte {i} bit {bit} opened", c.mode());
                // Flips after the header can only fail authentication.
                if i >= 5 {
                    assert!(is_invalid(r), "{} byte {i}: not Invalid", c.mode());
                }
            }
        }
        for n in 0..token.len() {
            assert!(
                c.open_at::<Typical>(&token[..n], at(T0)).is_err(),
                "{} truncation to {n} opened",
                c.mode()
            );
        }
    }
}

#[test]
fn wrong_purpose_is_invalid() {
    let ring = KeyRing::new(key(1));
    for signed in [false, true] {
        let build = |p: &str| {
            let b = Codec::builder(ring.clone()).purpose(p);
            if signed { b.signed() } else { b }.build().expect("codec")
        };
        let token = build("session")
            .seal_with(&typical(), SealOptions::new().at(at(T0)))
            .expect("seals");
        assert!(build("session").open_at::<Typical>(&token, at(T0)).is_ok());
        for other in ["csrf", "Session", "session ", "sessio", "flash"] {
            assert!(
                is_invalid(build(other).open_at::<Typical>(&token, at(T0))),
                "opened under purpose {other:?}"
            );
        }
    }
}

#[test]
fn wrong_retired_and_foreign_keys_are_rejected() {
    let c = codec(Mode::Encrypted);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");

    // Another ring: its key id is unknown here.
    let foreign = Codec::builder(KeyRing::new(key(2))).build().expect("codec");
    let r = foreign.open_at::<Typical>(&token, at(T0));
    assert!(
        matches!(r, Err(Error::UnknownKey(id)) if id == key(1).id()),
        "{r:?}"
    );

    // Retired: the key is no longer in the ring.
    let rotated = Codec::builder(KeyRing::new(key(3)).with_accepted(key(4)))
        .build()
        .expect("codec");
    assert!(matches!(
        rotated.open_at::<Typical>(&token, at(T0)),
        Err(Error::UnknownKey(_))
    ));

    // Wrong key under a known id: relabel the token with key(2)'s id.
    let mut bytes = B64.decode(&token).expect("b64");
    bytes[1..5].copy_from_slice(&key(2).id().to_bytes());
    assert!(is_invalid(foreign.open_at(&B64.encode(&bytes), at(T0))));
}

#[test]
fn version_bytes_other_than_the_codecs_are_refused() {
    for c in both_modes() {
        let token = c
            .seal_with(&typical(), SealOptions::new().at(at(T0)))
            .expect("seals");
        let bytes = B64.decode(&token).expect("b64");
        for v in 0..=255u8 {
            let mut t = bytes.clone();
            t[0] = v;
            let r = c.open_at::<Typical>(&B64.encode(&t), at(T0));
            match (v, c.mode()) {
                (1, Mode::Encrypted) | (2, Mode::Signed) => assert!(r.is_ok()),
                // The same mode with the session's own lifetime: another
                // associated data, so the tag fails.
                (3, Mode::Encrypted) | (4, Mode::Signed) => {
                    assert!(matches!(r, Err(Error::Invalid)), "{v}: {r:?}")
                }
                (1..=4, _) => assert!(
                    matches!(r, Err(Error::Malformed(Malformed::WrongMode { .. }))),
                    "{v}: {r:?}"
                ),
                _ => assert!(
                    matches!(r, Err(Error::Malformed(Malformed::UnknownVersion(x))) if x == v),
                    "{v}: {r:?}"
                ),
            }
        }
    }
}

#[test]
fn non_canonical_base64_is_malformed() {
    let c = codec(Mode::Encrypted);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let mut variants = vec![
        format!("{token}="),
        format!(" {token}"),
        format!("{token}\n"),
        token.replacen('-', "+", 1),
        token.replacen('_', "/", 1),
        format!("{token}\0"),
    ];
    // Non-zero trailing bits: the last character encodes bits past the end.
    let bits_left = (token.len() * 6) % 8;
    if bits_left > 0 {
        let mut t = token.clone().into_bytes();
        let last = t.pop().expect("non-empty");
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&a| a == last).expect("alphabet");
        t.push(alphabet[idx ^ 1]);
        variants.push(String::from_utf8(t).expect("ascii"));
    }
    for v in &variants {
        if v == &token {
            continue;
        }
        let r = c.open_at::<Typical>(v, at(T0));
        assert!(
            matches!(r, Err(Error::Malformed(Malformed::Base64))),
            "{v:?}: {r:?}"
        );
    }
    assert!(matches!(
        c.open_at::<Typical>("", at(T0)),
        Err(Error::Malformed(Malformed::Empty))
    ));
    assert!(matches!(
        c.open_at::<Typical>("AQID", at(T0)),
        Err(Error::Malformed(Malformed::TooShort { len: 3, min: 46 }))
    ));
}

/// A codec with a 1-hour absolute lifetime, a 10-minute idle timeout and the
/// given leeway.
fn expiry_codec(leeway: i64) -> Codec {
    Codec::builder(KeyRing::new(key(1)))
        .max_lifetime(Duration::hours(1))
        .idle_timeout(Duration::minutes(10))
        .leeway(Duration::seconds(leeway))
        .build()
        .expect("codec")
}

fn outcome(c: &Codec, token: &str, now: i64) -> Result<(), String> {
    c.open_at::<Typical>(token, at(now))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn idle_timeout_boundaries() {
    let c = expiry_codec(0);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let idle_end = T0 + 600;
    assert!(outcome(&c, &token, idle_end - 1).is_ok());
    assert_eq!(
        outcome(&c, &token, idle_end),
        Err(format!(
            "session expired 0 s ago (at unix time {idle_end}, now {idle_end})"
        ))
    );
    assert!(outcome(&c, &token, idle_end + 1).is_err());
}

#[test]
fn absolute_lifetime_boundaries_survive_reseals() {
    let c = expiry_codec(0);
    let mut token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    // Re-seal every 9 minutes: the idle timeout never bites, the lifetime does.
    let mut now = T0;
    while now + 540 < T0 + 3600 {
        now += 540;
        let opened = c.open_at::<Typical>(&token, at(now)).expect("opens");
        token = c
            .reseal_with(&opened, SealOptions::new().at(at(now)))
            .expect("reseals");
    }
    let end = T0 + 3600;
    let opened = c
        .open_at::<Typical>(&token, at(end - 1))
        .expect("opens at end - 1");
    assert_eq!(opened.claims().created_unix(), T0);
    assert_eq!(opened.claims().expires_unix(), end);
    assert!(matches!(
        c.open_at::<Typical>(&token, at(end)),
        Err(Error::Expired { at, now }) if at == end && now == end
    ));
    assert!(c.open_at::<Typical>(&token, at(end + 1)).is_err());
    // Past the absolute lifetime a re-seal is refused rather than minting a
    // token that is already dead.
    assert!(matches!(
        c.reseal_with(&opened, SealOptions::new().at(at(end))),
        Err(Error::Expired { .. })
    ));
}

#[test]
fn a_session_past_its_end_is_not_resealed() {
    let c = expiry_codec(0);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let opened = c.open_at::<Typical>(&token, at(T0 + 599)).expect("opens");
    // Kept in memory past the idle timeout: re-sealing must not revive it.
    assert!(matches!(
        c.reseal_with(&opened, SealOptions::new().at(at(T0 + 600))),
        Err(Error::Expired { at, .. }) if at == T0 + 600
    ));
    assert!(
        c.reseal_with(&opened, SealOptions::new().at(at(T0 + 599)))
            .is_ok()
    );
}

#[test]
fn leeway_applies_both_ways() {
    let c = expiry_codec(30);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let idle_end = T0 + 600;
    assert!(outcome(&c, &token, idle_end + 29).is_ok(), "within leeway");
    assert!(
        outcome(&c, &token, idle_end + 30).is_err(),
        "leeway exhausted"
    );
    // `issued` in the future: tolerated up to the leeway.
    assert!(outcome(&c, &token, T0 - 30).is_ok());
    assert_eq!(
        outcome(&c, &token, T0 - 31),
        Err(format!(
            "session is issued 31 s in the future (at unix time {T0}, now {})",
            T0 - 31
        ))
    );
    let strict = expiry_codec(0);
    assert!(outcome(&strict, &token, T0 - 1).is_err());
    assert!(outcome(&strict, &token, T0).is_ok());
}

#[test]
fn tightened_policy_applies_to_tokens_already_issued() {
    let lax = Codec::builder(KeyRing::new(key(1)))
        .max_lifetime(Duration::days(7))
        .build()
        .expect("codec");
    let token = lax
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let strict = expiry_codec(0);
    assert!(outcome(&lax, &token, T0 + 3600).is_ok());
    assert!(outcome(&strict, &token, T0 + 600).is_err(), "idle timeout");
    assert!(outcome(&strict, &token, T0 + 599).is_ok());
}

#[test]
fn rotation_reports_and_performs_reseal() {
    let old = key(1);
    let new = key(2);
    let before = Codec::builder(KeyRing::new(old.clone()))
        .build()
        .expect("codec");
    let token = before
        .seal_with(&typical(), SealOptions::new().subject("user-42").at(at(T0)))
        .expect("seals");

    let after = Codec::builder(KeyRing::new(new.clone()).with_accepted(old))
        .build()
        .expect("codec");
    let opened = after
        .open_at::<Typical>(&token, at(T0 + 60))
        .expect("opens");
    assert!(opened.needs_reseal());

    let resealed = after
        .reseal_with(&opened, SealOptions::new().at(at(T0 + 60)))
        .expect("reseals");
    let only_new = Codec::builder(KeyRing::new(new)).build().expect("codec");
    let reopened = only_new
        .open_at::<Typical>(&resealed, at(T0 + 61))
        .expect("opens under the new key alone");
    assert!(!reopened.needs_reseal());
    assert_eq!(reopened.claims().session_id(), opened.claims().session_id());
    assert_eq!(reopened.claims().subject(), Some("user-42"));
    assert_eq!(reopened.claims().created_unix(), T0);
    assert_eq!(reopened.claims().issued_unix(), T0 + 60);
    assert!(matches!(
        only_new.open_at::<Typical>(&token, at(T0 + 61)),
        Err(Error::UnknownKey(_))
    ));
}

#[test]
fn size_budget_is_enforced_on_seal_and_open() {
    let c = Codec::builder(KeyRing::new(key(1)))
        .budget(400)
        .build()
        .expect("codec");
    assert!(
        c.seal_with(&typical(), SealOptions::new().at(at(T0)))
            .is_ok()
    );
    match c.seal_with(&large(), SealOptions::new().at(at(T0))) {
        Err(e @ Error::TooLarge { size, limit: 400 }) => {
            assert!(size > 400);
            assert_eq!(
                e.to_string(),
                format!(
                    "token is {size} bytes, limit is 400: {} bytes over",
                    size - 400
                )
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Every payload length up to the budget: the token never exceeds it.
    for n in 0..400 {
        if let Ok(t) = c.seal_with(&"x".repeat(n), SealOptions::new().at(at(T0))) {
            assert!(t.len() <= 400, "{n}: {} bytes", t.len());
            assert_eq!(
                c.open_at::<String>(&t, at(T0))
                    .expect("opens")
                    .into_value()
                    .len(),
                n
            );
        }
    }
    let huge = "A".repeat(401);
    assert!(matches!(
        c.open_at::<Typical>(&huge, at(T0)),
        Err(Error::InputTooLarge {
            size: 401,
            limit: 400
        })
    ));
    // The default budget fits a 4096-byte cookie.
    let default = codec(Mode::Encrypted);
    assert_eq!(default.budget(), 3840);
    let r = default.seal_with(&"y".repeat(4000), SealOptions::new().at(at(T0)));
    assert!(
        matches!(r, Err(Error::TooLarge { limit: 3840, .. })),
        "{r:?}"
    );
}

#[test]
fn payload_of_another_type_is_its_own_error() {
    #[derive(Deserialize, Debug)]
    struct Other {
        #[allow(dead_code)]
        account: String,
    }
    let c = codec(Mode::Encrypted);
    let token = c
        .seal_with(&typical(), SealOptions::new().at(at(T0)))
        .expect("seals");
    let r = c.open_at::<Other>(&token, at(T0));
    assert!(matches!(r, Err(Error::Payload(_))), "{r:?}");
}

fn fixed(created: i64) -> Fixed<'static> {
    Fixed {
        session_id: [9; 16],
        subject: None,
        created,
        issued: created,
        expires: created + 3600,
        lifetime: None,
        nonce: [7; 24],
    }
}

#[test]
fn deeply_nested_cbor_is_rejected_cleanly() {
    let c = codec(Mode::Encrypted);
    // 2000 nested one-element arrays, then a final item: far past the limit.
    for opener in [0x81u8, 0x9f, 0xa1, 0xc6] {
        let mut payload = vec![opener; 2000];
        payload.push(0x00);
        let token = seal_raw_payload(&c, &payload, &fixed(T0)).expect("seals");
        let r = c.open_at::<ciborium::Value>(&token, at(T0));
        assert!(r.is_err(), "opener {opener:#x} accepted");
        let r = c.open_at::<Typical>(&token, at(T0));
        assert!(r.is_err(), "opener {opener:#x} accepted as Typical");
    }
    let mut payload = vec![0x81u8; 200];
    payload.push(0x00);
    let token = seal_raw_payload(&c, &payload, &fixed(T0)).expect("seals");
    assert!(matches!(
        c.open_at::<ciborium::Value>(&token, at(T0)),
        Err(Error::PayloadTooDeep { limit: 64 })
    ));
    // Nesting within the limit still opens.
    let mut payload = vec![0x81u8; 20];
    payload.push(0x00);
    let token = seal_raw_payload(&c, &payload, &fixed(T0)).expect("seals");
    let r = c.open_at::<ciborium::Value>(&token, at(T0));
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn trailing_bytes_after_the_payload_are_rejected() {
    let c = codec(Mode::Encrypted);
    let token = seal_raw_payload(&c, &[0x01, 0x02], &fixed(T0)).expect("seals");
    let r = c.open_at::<u8>(&token, at(T0));
    assert!(
        matches!(&r, Err(Error::Payload(m)) if m.contains("1 bytes after")),
        "{r:?}"
    );
    let token = seal_raw_payload(&c, &[0x01], &fixed(T0)).expect("seals");
    assert_eq!(
        c.open_at::<u8>(&token, at(T0)).expect("opens").into_value(),
        1
    );
}

#[test]
fn keys_refuse_weak_material_and_never_print_bytes() {
    assert!(matches!(
        Key::from_bytes(&[1; 31]),
        Err(Error::KeyTooShort { len: 31, min: 32 })
    ));
    assert!(matches!(Key::from_bytes(&[0xab; 64]), Err(Error::WeakKey)));
    assert!(matches!(
        Key::from_base64("not base64!"),
        Err(Error::KeyEncoding)
    ));
    assert_eq!(
        Key::from_bytes(&[1; 16]).expect_err("short").to_string(),
        "key is 16 bytes, at least 32 are required"
    );

    let k = Key::generate();
    let b64 = k.export_base64();
    let raw = B64.decode(b64.as_bytes()).expect("b64");
    for shown in [format!("{k:?}"), format!("{:?}", KeyRing::new(k.clone()))] {
        assert!(!shown.contains(b64.as_str()), "{shown}");
        assert!(!shown.contains(&format!("{raw:?}")), "{shown}");
        assert!(!shown.contains(&format!("{:?}", &raw[..8])), "{shown}");
        assert!(shown.contains(&k.id().to_string()));
    }
    let codec = Codec::builder(KeyRing::new(k.clone()))
        .build()
        .expect("codec");
    assert!(!format!("{codec:?}").contains(b64.as_str()));

    // Text forms: either alphabet, padded or not, surrounding whitespace.
    let std_padded = base64::engine::general_purpose::STANDARD.encode(&raw);
    assert_eq!(
        Key::from_base64(&format!("  {std_padded}\n")).expect("std"),
        k
    );
    assert_eq!(Key::from_base64(&b64).expect("url"), k);
}

#[test]
fn keys_load_from_env_and_file() {
    let k = Key::generate();
    let dir = std::env::temp_dir().join(format!("sealed-session-key-{}", std::process::id()));
    std::fs::write(&dir, format!("{}\n", k.export_base64().as_str())).expect("write");
    assert_eq!(Key::from_file(&dir).expect("file"), k);
    std::fs::remove_file(&dir).expect("cleanup");
    let missing = Key::from_file(&dir).expect_err("missing");
    assert!(
        missing.to_string().starts_with("cannot read key from file"),
        "{missing}"
    );
    let e = Key::from_env("SEALED_SESSION_TEST_UNSET_VARIABLE").expect_err("unset");
    assert!(matches!(e, Error::KeySource { .. }));
}

#[test]
fn builder_refuses_bad_settings() {
    let ring = || KeyRing::new(key(1));
    let cases: Vec<(Result<Codec, Error>, &str)> = vec![
        (
            Codec::builder(ring()).purpose("").build(),
            "purpose is 0 bytes, it must be 1 to 255",
        ),
        (
            Codec::builder(ring()).purpose("p".repeat(256)).build(),
            "purpose is 256 bytes, it must be 1 to 255",
        ),
        (
            Codec::builder(ring()).max_lifetime(Duration::ZERO).build(),
            "max_lifetime is 0 s, it must be positive",
        ),
        (
            Codec::builder(ring())
                .idle_timeout(Duration::seconds(-5))
                .build(),
            "idle_timeout is -5 s, it must be positive",
        ),
        (
            Codec::builder(ring())
                .max_lifetime(Duration::days(401))
                .build(),
            "max_lifetime is 34646400 s, at most 34560000 s is allowed",
        ),
        (
            Codec::builder(ring()).leeway(Duration::hours(1)).build(),
            "leeway is 3600 s, at most 600 s is allowed",
        ),
        (
            Codec::builder(ring()).budget(100).build(),
            "budget is 100 bytes, it must be 128 to 8192",
        ),
        (
            Codec::builder(ring()).budget(9000).build(),
            "budget is 9000 bytes, it must be 128 to 8192",
        ),
    ];
    for (r, msg) in cases {
        let e = r.expect_err(msg);
        assert_eq!(e.to_string(), format!("invalid codec setting: {msg}"));
    }
    let subject = codec(Mode::Encrypted).seal_with(&1, SealOptions::new().subject(""));
    assert!(matches!(
        subject,
        Err(Error::SubjectLength { len: 0, max: 255 })
    ));
    let subject =
        codec(Mode::Encrypted).seal_with(&1, SealOptions::new().subject(&"s".repeat(256)));
    assert!(matches!(
        subject,
        Err(Error::SubjectLength { len: 256, .. })
    ));
}

#[test]
fn clones_and_threads_share_a_codec() {
    let c = codec(Mode::Encrypted);
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                s.spawn(move || {
                    c.seal_with(&typical(), SealOptions::new().at(at(T0)))
                        .expect("seals")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for t in &tokens {
        assert!(c.open_at::<Typical>(t, at(T0)).is_ok());
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct AnyValue {
    id: u64,
    neg: i32,
    name: String,
    tags: Vec<String>,
    maybe: Option<bool>,
    nested: Vec<(u8, Option<String>)>,
    #[serde(with = "serde_bytes_compat")]
    blob: Vec<u8>,
    /// Written by ciborium in the shortest width that holds it exactly.
    ratio: f64,
    scale: f32,
    unit: (),
}

/// A value nested through options, lists, enum variants and newtypes: the
/// shapes whose nesting in the bytes and in serde's steps differ.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Nest {
    Leaf(u32),
    Opt(Option<Box<Nest>>),
    List(Vec<Nest>),
    Wrapped(Box<Wrapper>),
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Wrapper(Nest);

/// Serialize a byte vector as a CBOR byte string (what `serde_bytes` does).
mod serde_bytes_compat {
    use serde::{Deserialize, Deserializer, Serializer};
    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        ciborium::Value::deserialize(d)?
            .into_bytes()
            .map_err(|_| serde::de::Error::custom("expected bytes"))
    }
}

#[test]
fn payload_bytes_are_the_standard_cbor_of_the_value() {
    // Signed mode leaves the body readable: the payload is its tail, and it
    // is byte for byte what another encoder (ciborium) writes.
    let c = codec(Mode::Signed);
    for (value, name) in [
        (
            ciborium::Value::serialized(&typical()).expect("value"),
            "typical",
        ),
        (
            ciborium::Value::serialized(&large()).expect("value"),
            "large",
        ),
    ] {
        let mut expected = Vec::new();
        ciborium::into_writer(&value, &mut expected).expect("cbor");
        let token = c
            .seal_with(&value, SealOptions::new().at(at(T0)))
            .expect("seals");
        let raw = B64.decode(&token).expect("b64");
        let body = &raw[5..raw.len() - 32];
        assert!(body.ends_with(&expected), "{name}");
        // 16 id + 5 issued + 1 age + 3 lifetime (7 days) + 1 subject length.
        assert_eq!(
            body.len(),
            26 + expected.len(),
            "{name}: 26 bytes of claims"
        );
    }
}

/// `Option<Option<...<u8>>>`, one `Option` per `x`.
macro_rules! options {
    ($t:ty;) => { $t };
    ($t:ty; x $($tail:tt)*) => { options!(Option<$t>; $($tail)*) };
}

/// 300 nested options: the bytes of `Some(Some(...(5)))` are one integer,
/// but a decoder that counts serde's steps takes 300 of them.
type Options300 = options!(u8; x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x);

#[test]
fn a_value_that_seals_opens_however_deep_its_type() {
    let value: Options300 = serde_json::from_str("5").expect("json");
    for c in both_modes() {
        let token = c
            .seal_with(&value, SealOptions::new().at(at(T0)))
            .expect("seals");
        let opened = c.open_at::<Options300>(&token, at(T0)).expect("opens");
        assert_eq!(opened.value(), &value);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn arbitrary() -> impl Strategy<Value = AnyValue> {
        (
            any::<u64>(),
            any::<i32>(),
            ".{0,40}",
            prop::collection::vec(".{0,12}", 0..6),
            any::<Option<bool>>(),
            prop::collection::vec((any::<u8>(), prop::option::of(".{0,8}")), 0..5),
            prop::collection::vec(any::<u8>(), 0..64),
            prop_oneof![
                Just(1.5),
                Just(0.1),
                Just(-0.0),
                Just(65504.0),
                Just(1e300),
                any::<f64>().prop_filter("not NaN", |f| !f.is_nan())
            ],
            prop_oneof![
                Just(0.5f32),
                Just(f32::MAX),
                Just(f32::INFINITY),
                any::<f32>().prop_filter("not NaN", |f| !f.is_nan())
            ],
        )
            .prop_map(|(id, neg, name, tags, maybe, nested, blob, ratio, scale)| {
                AnyValue {
                    id,
                    neg,
                    name,
                    tags,
                    maybe,
                    nested,
                    blob,
                    ratio,
                    scale,
                    unit: (),
                }
            })
    }

    /// Nests of depth up to about 45 steps (90 byte levels): both sides of
    /// the limit of 64.
    fn nest() -> impl Strategy<Value = Nest> {
        any::<u32>()
            .prop_map(Nest::Leaf)
            .prop_recursive(45, 200, 3, |inner| {
                prop_oneof![
                    prop::option::of(inner.clone()).prop_map(|n| Nest::Opt(n.map(Box::new))),
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Nest::List),
                    inner.prop_map(|n| Nest::Wrapped(Box::new(Wrapper(n)))),
                ]
            })
    }

    /// Tokens that get past decoding: valid base64url of a plausible length
    /// (at least the smallest encrypted token, 46 bytes)
    /// whose header names this codec's mode and a key of its ring, followed
    /// by random bytes.
    fn hostile() -> impl Strategy<Value = (String, bool)> {
        (any::<bool>(), prop::collection::vec(any::<u8>(), 41..400)).prop_map(|(signed, rest)| {
            let mut bytes = vec![if signed { 2 } else { 1 }];
            bytes.extend_from_slice(&key(1).id().to_bytes());
            bytes.extend_from_slice(&rest);
            (B64.encode(&bytes), signed)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn seal_then_open_is_identity(value in arbitrary(), signed in any::<bool>(), now in 0i64..253_402_000_000) {
            let c = if signed { codec(Mode::Signed) } else { codec(Mode::Encrypted) };
            let token = c.seal_with(&value, SealOptions::new().at(at(now))).expect("seals");
            let opened = c.open_at::<AnyValue>(&token, at(now)).expect("opens");
            prop_assert_eq!(opened.value(), &value);
            prop_assert_eq!(opened.claims().issued_unix(), now);
        }

        #[test]
        fn payloads_from_another_encoder_open(value in arbitrary()) {
            let c = codec(Mode::Encrypted);
            let mut cbor = Vec::new();
            ciborium::into_writer(&value, &mut cbor).expect("cbor");
            let token = seal_raw_payload(&c, &cbor, &fixed(T0)).expect("seals");
            let opened = c.open_at::<AnyValue>(&token, at(T0)).expect("opens");
            prop_assert_eq!(opened.value(), &value);
        }

        #[test]
        fn every_value_that_seals_opens(value in nest(), signed in any::<bool>()) {
            let c = if signed { codec(Mode::Signed) } else { codec(Mode::Encrypted) };
            match c.seal_with(&value, SealOptions::new().at(at(T0))) {
                Ok(token) => {
                    let opened = c.open_at::<Nest>(&token, at(T0));
                    prop_assert!(opened.is_ok(), "sealed but refused: {:?}", opened.err());
                    prop_assert_eq!(opened.map(Opened::into_value).ok(), Some(value));
                }
                Err(Error::Serialize(why)) => prop_assert!(why.contains("deeper than 64"), "{}", why),
                Err(Error::TooLarge { .. }) => {}
                Err(e) => prop_assert!(false, "{}", e),
            }
        }

        #[test]
        fn hostile_tokens_past_decoding_are_refused_at_authentication((token, signed) in hostile()) {
            let c = if signed { codec(Mode::Signed) } else { codec(Mode::Encrypted) };
            let r = c.open_at::<ciborium::Value>(&token, at(T0));
            prop_assert!(matches!(r, Err(Error::Invalid)), "{:?}", r);
            // The other mode refuses it for its version byte alone.
            let other = if signed { codec(Mode::Encrypted) } else { codec(Mode::Signed) };
            let r = other.open_at::<ciborium::Value>(&token, at(T0));
            prop_assert!(matches!(r, Err(Error::Malformed(Malformed::WrongMode { .. }))), "{:?}", r);
        }

        #[test]
        fn random_bytes_behind_a_valid_header_never_open(body in prop::collection::vec(any::<u8>(), 0..400), signed in any::<bool>()) {
            let c = if signed { codec(Mode::Signed) } else { codec(Mode::Encrypted) };
            let mut bytes = vec![if signed { 2 } else { 1 }];
            bytes.extend_from_slice(&key(1).id().to_bytes());
            bytes.extend_from_slice(&body);
            let r = c.open_at::<ciborium::Value>(&B64.encode(&bytes), at(T0));
            prop_assert!(matches!(r, Err(Error::Invalid) | Err(Error::Malformed(Malformed::TooShort { .. }))), "{:?}", r);
        }
    }
}

/// In signed mode anyone can write claims: a forger relabels a token of
/// their own key with our key id. Inspection shows what it says, as
/// `UnverifiedClaims`; only `open` gives `Claims`, and it refuses.
#[test]
fn inspection_shows_unverified_claims_that_open_refuses() {
    let ours = codec(Mode::Signed);
    let forger = Codec::builder(KeyRing::new(key(99)))
        .purpose("session")
        .signed()
        .build()
        .expect("codec");
    let forged = forger
        .seal_with(&1u8, SealOptions::new().subject("admin").at(at(T0)))
        .expect("seals");
    let mut bytes = B64.decode(&forged).expect("b64");
    bytes[1..5].copy_from_slice(&key(1).id().to_bytes());
    let forged = B64.encode(&bytes);

    let seen = sealed_session::UntrustedToken::parse(&forged).expect("parses");
    let claims: sealed_session::UnverifiedClaims = seen.unverified_claims().expect("signed");
    assert_eq!(claims.subject(), Some("admin"));
    assert_eq!(seen.key_id(), key(1).id());
    assert!(matches!(
        ours.open_at::<u8>(&forged, at(T0)),
        Err(Error::Invalid)
    ));
}

/// A middleware sorts errors with `is_rejection`: everything a client can
/// send is a rejection (start a new session), a session the server cannot
/// seal is not (report it).
#[test]
fn rejections_are_what_a_client_sent_and_only_that() {
    let c = codec(Mode::Encrypted);
    let token = c
        .seal_with(&1u8, SealOptions::new().at(at(T0)))
        .expect("seals");
    let foreign = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec")
        .seal_with(&1u8, SealOptions::new().at(at(T0)))
        .expect("seals");
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let rejections = [
        c.open_at::<u8>(&"A".repeat(c.budget() + 1), at(T0))
            .unwrap_err(),
        c.open_at::<u8>("", at(T0)).unwrap_err(),
        c.open_at::<u8>(&foreign, at(T0)).unwrap_err(),
        c.open_at::<u8>(&tampered, at(T0)).unwrap_err(),
        c.open_at::<u8>(&token, at(T0 + 30 * 86_400)).unwrap_err(),
        c.open_at::<u8>(&token, at(T0 - 3600)).unwrap_err(),
        c.open_at::<String>(&token, at(T0)).unwrap_err(),
    ];
    for e in &rejections {
        assert!(e.is_rejection(), "{e:?}");
    }
    let server_faults = [
        c.seal_with(&"x".repeat(4000), SealOptions::new().at(at(T0)))
            .unwrap_err(),
        c.seal_with(&1u8, SealOptions::new().subject(&"s".repeat(256)))
            .unwrap_err(),
        Key::from_bytes(&[7; 8]).unwrap_err(),
    ];
    for e in &server_faults {
        assert!(!e.is_rejection(), "{e:?}");
    }
}

/// `Opened::key_id` names the key that opened the token, primary or not,
/// and a re-seal with options keeps the id and takes a new subject.
#[test]
fn opened_names_its_key_and_reseal_options_apply() {
    let (old, new) = (Key::generate(), Key::generate());
    let before = Codec::builder(KeyRing::new(old.clone()))
        .build()
        .expect("codec");
    let after = Codec::builder(KeyRing::new(new.clone()).with_accepted(old.clone()))
        .build()
        .expect("codec");
    let token = before
        .seal_with(&1u8, SealOptions::new().at(at(T0)))
        .expect("seals");
    let opened = after.open_at::<u8>(&token, at(T0)).expect("opens");
    assert_eq!(opened.key_id(), old.id());
    assert!(opened.needs_reseal());
    let mut buffer = String::from("stale");
    let sealed = after
        .reseal_into(
            &opened,
            SealOptions::new().subject("user-9").at(at(T0 + 60)),
            &mut buffer,
        )
        .expect("reseals");
    let renewed = after.open_at::<u8>(&buffer, at(T0 + 60)).expect("opens");
    assert_eq!(renewed.key_id(), new.id());
    assert_eq!(renewed.claims().session_id(), opened.claims().session_id());
    assert_eq!(sealed.session_id(), opened.claims().session_id());
    assert_eq!(renewed.claims().subject(), Some("user-9"));
    assert_eq!(sealed.expires_unix(), renewed.claims().expires_unix());
    assert_eq!(after.max_lifetime(), time::Duration::days(7));
}

/// A "remember me" lifetime (FORMAT.md §5.3): kept across sliding
/// renewals, never past `created + lifetime`, bounded by the codec's
/// maximum, under its own version byte; without one the token is as before.
#[test]
fn a_sessions_own_lifetime_holds_across_renewals() {
    for c in both_modes() {
        let brief = Duration::hours(12);
        let token = c
            .seal_with(&typical(), SealOptions::new().at(at(T0)).lifetime(brief))
            .expect("seals");
        let plain = c
            .seal_with(&typical(), SealOptions::new().at(at(T0)))
            .expect("seals");
        let version = |t: &str| B64.decode(t).expect("b64")[0];
        let own = match c.mode() {
            Mode::Encrypted => 0x03,
            _ => 0x04,
        };
        assert_eq!(version(&token), own);
        assert_eq!(version(&plain), own - 2, "no lifetime, no new version byte");
        assert!(
            B64.decode(&token).expect("b64").len() > B64.decode(&plain).expect("b64").len(),
            "the lifetime takes bytes"
        );

        // Renewed every hour: the end stays at created + 12 h.
        let mut opened: Opened<Typical> = c.open_at(&token, at(T0)).expect("opens");
        assert_eq!(opened.claims().lifetime(), Some(brief));
        for hour in 1..12 {
            let now = at(T0 + hour * 3600);
            let renewed = c
                .reseal_with(&opened, SealOptions::new().at(now))
                .expect("re-seals");
            opened = c.open_at(&renewed, now).expect("opens");
            assert_eq!(opened.claims().lifetime(), Some(brief));
            assert_eq!(opened.claims().expires_unix(), T0 + 12 * 3600);
        }
        let last = c
            .reseal_with(&opened, SealOptions::new().at(at(T0 + 11 * 3600 + 1800)))
            .expect("re-seals");
        // Expired at its end, past the default 30 s leeway.
        let past = T0 + 12 * 3600 + 30;
        assert!(c.open_at::<Typical>(&last, at(past - 1)).is_ok());
        assert!(matches!(
            c.open_at::<Typical>(&last, at(past)),
            Err(Error::Expired { at: end, .. }) if end == T0 + 12 * 3600
        ));
        // The codec's default session (7 days) outlives it.
        assert!(c.open_at::<Typical>(&plain, at(past)).is_ok());

        // A re-seal with a lifetime replaces it, still from `created`.
        let extended = c
            .reseal_with(
                &opened,
                SealOptions::new()
                    .at(at(T0 + 11 * 3600))
                    .lifetime(Duration::days(2)),
            )
            .expect("re-seals");
        let extended: Opened<Typical> = c.open_at(&extended, at(T0 + 11 * 3600)).expect("opens");
        assert_eq!(extended.claims().expires_unix(), T0 + 2 * 86_400);
        assert_eq!(extended.claims().created_unix(), T0);

        // Bounded by the codec's maximum (7 days), with the numbers.
        for (asked, seconds) in [
            (Duration::days(8), 8 * 86_400),
            (Duration::ZERO, 0),
            (Duration::milliseconds(999), 0),
        ] {
            let e = c
                .seal_with(&typical(), SealOptions::new().lifetime(asked))
                .expect_err("refused");
            assert!(
                matches!(e, Error::Lifetime { seconds: s, max: 604_800 } if s == seconds),
                "{e:?}"
            );
            let e = c
                .reseal_with(
                    &opened,
                    SealOptions::new().at(at(T0 + 11 * 3600)).lifetime(asked),
                )
                .expect_err("refused");
            assert!(matches!(e, Error::Lifetime { .. }), "{e:?}");
        }
    }
}

/// An operator who lowers `max_lifetime` below a session's own lifetime
/// shortens it: the opener applies the shorter of the two, and a re-seal
/// writes the lowered lifetime (FORMAT.md §6.1: a sealer never writes one
/// beyond its maximum), which the session keeps if the maximum is raised
/// again.
#[test]
fn a_lower_max_lifetime_shortens_a_remembered_session() {
    let long = Codec::builder(KeyRing::new(key(1)))
        .max_lifetime(Duration::days(30))
        .build()
        .expect("codec");
    let short = Codec::builder(KeyRing::new(key(1)))
        .max_lifetime(Duration::days(7))
        .build()
        .expect("codec");
    let token = long
        .seal_with(
            &typical(),
            SealOptions::new().at(at(T0)).lifetime(Duration::days(30)),
        )
        .expect("seals");
    assert!(
        long.open_at::<Typical>(&token, at(T0 + 20 * 86_400))
            .is_ok()
    );
    assert!(matches!(
        short.open_at::<Typical>(&token, at(T0 + 20 * 86_400)),
        Err(Error::Expired { at: end, .. }) if end == T0 + 7 * 86_400
    ));
    let opened: Opened<Typical> = short.open_at(&token, at(T0 + 86_400)).expect("opens");
    let renewed = short
        .reseal_with(&opened, SealOptions::new().at(at(T0 + 86_400)))
        .expect("re-seals");
    let renewed: Opened<Typical> = short.open_at(&renewed, at(T0 + 86_400)).expect("opens");
    assert_eq!(renewed.claims().expires_unix(), T0 + 7 * 86_400);
    assert_eq!(
        renewed.claims().lifetime(),
        Some(Duration::days(7)),
        "lowered to the maximum"
    );
    let token = short
        .reseal_with(&renewed, SealOptions::new().at(at(T0 + 2 * 86_400)))
        .expect("re-seals");
    let raised: Opened<Typical> = long.open_at(&token, at(T0 + 2 * 86_400)).expect("opens");
    assert_eq!(raised.claims().lifetime(), Some(Duration::days(7)));
    assert!(matches!(
        long.open_at::<Typical>(&token, at(T0 + 20 * 86_400)),
        Err(Error::Expired { at: end, .. }) if end == T0 + 7 * 86_400
    ));
}

/// `SealOptions::without_lifetime`: a re-seal drops the session's own
/// lifetime, and the token takes version 0x01 or 0x02 again; the session
/// keeps its id and `created`, and lives as long as the codec allows.
#[test]
fn a_reseal_without_lifetime_drops_it() {
    for c in both_modes() {
        let token = c
            .seal_with(
                &typical(),
                SealOptions::new().at(at(T0)).lifetime(Duration::hours(12)),
            )
            .expect("seals");
        let version = |t: &str| B64.decode(t).expect("b64")[0];
        let (plain, own) = match c.mode() {
            Mode::Encrypted => (0x01, 0x03),
            _ => (0x02, 0x04),
        };
        assert_eq!(version(&token), own);
        let opened: Opened<Typical> = c.open_at(&token, at(T0 + 3600)).expect("opens");
        let dropped = c
            .reseal_with(
                &opened,
                SealOptions::new().at(at(T0 + 3600)).without_lifetime(),
            )
            .expect("re-seals");
        assert_eq!(version(&dropped), plain);
        let dropped: Opened<Typical> = c.open_at(&dropped, at(T0 + 3600)).expect("opens");
        assert_eq!(dropped.claims().lifetime(), None);
        assert_eq!(dropped.claims().session_id(), opened.claims().session_id());
        assert_eq!(dropped.claims().created_unix(), T0);
        assert_eq!(dropped.claims().expires_unix(), T0 + 7 * 86_400);
        // A plain re-seal keeps it; on a new session there is none to drop.
        let kept = c
            .reseal_with(&opened, SealOptions::new().at(at(T0 + 3600)))
            .expect("re-seals");
        assert_eq!(version(&kept), own);
        let fresh = c
            .seal_with(&typical(), SealOptions::new().without_lifetime())
            .expect("seals");
        assert_eq!(version(&fresh), plain);
    }
}
