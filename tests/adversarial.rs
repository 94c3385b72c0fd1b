//! The adversarial suite: a session cookie is attacker-controlled input on
//! every request. Every test here makes a real assertion about how each hostile
//! input is refused; none accepts "some error".
//!
//! Outcomes are judged by *where* `open` refused (FORMAT.md §8): before
//! decoding (too large), while parsing public structure (malformed, unknown
//! key), at authentication (invalid), or after it (claims, expiry, payload).
//! For input we did not seal, anything after authentication is a forgery.

mod common;

use std::collections::HashSet;
use std::error::Error as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{Typical, typical};
use sealed_session::fuzzing::{
    Value, decode_payload, fixed, fixed_key, key_ring, now, seal_body, seed_tokens,
};
use sealed_session::vectors::{seal_fixed, seal_raw_payload};
use sealed_session::{
    Codec, DEFAULT_BUDGET, Error, Key, KeyRing, MAX_BUDGET, Malformed, Mode, SealOptions,
};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NOW: i64 = sealed_session::fuzzing::NOW;

fn build(ring: KeyRing, mode: Mode, purpose: &str, budget: usize) -> Codec {
    let b = Codec::builder(ring).purpose(purpose).budget(budget);
    match mode {
        Mode::Signed => b.signed(),
        _ => b,
    }
    .build()
    .expect("valid codec")
}

fn codec(mode: Mode) -> Codec {
    build(key_ring(), mode, "session", DEFAULT_BUDGET)
}

fn modes() -> [Mode; 2] {
    [Mode::Encrypted, Mode::Signed]
}

fn version(mode: Mode) -> u8 {
    match mode {
        Mode::Signed => 0x02,
        _ => 0x01,
    }
}

fn min_len(mode: Mode) -> usize {
    match mode {
        Mode::Signed => 38,
        _ => 46,
    }
}

/// Where `open` refused.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Stage {
    TooLarge,
    Malformed,
    UnknownKey,
    Invalid,
}

fn stage(e: &Error) -> Option<Stage> {
    match e {
        Error::InputTooLarge { .. } => Some(Stage::TooLarge),
        Error::Malformed(_) => Some(Stage::Malformed),
        Error::UnknownKey(_) => Some(Stage::UnknownKey),
        Error::Invalid => Some(Stage::Invalid),
        _ => None,
    }
}

/// The stage at which `codec` must refuse `text`, a mutation of a token it
/// sealed, following FORMAT.md §8 step by step.
fn expected_stage(codec: &Codec, text: &str) -> Stage {
    if text.len() > codec.budget() {
        return Stage::TooLarge;
    }
    let Ok(bytes) = B64.decode(text) else {
        return Stage::Malformed;
    };
    let mode = codec.mode();
    // The mode's version bytes: without and with the session's own
    // lifetime (FORMAT.md §5.3).
    let own = [version(mode), version(mode) + 2];
    if !bytes.first().is_some_and(|v| own.contains(v)) || bytes.len() < min_len(mode) {
        return Stage::Malformed;
    }
    let id: [u8; 4] = bytes[1..5].try_into().expect("4 bytes");
    let ring = codec.key_ring();
    let known = std::iter::once(ring.primary())
        .chain(ring.accepted())
        .any(|k| k.id().to_bytes() == id);
    if known {
        Stage::Invalid
    } else {
        Stage::UnknownKey
    }
}

/// `text` (not sealed by `codec`) is refused, at the stage FORMAT.md §8
/// predicts.
#[track_caller]
fn assert_refused(codec: &Codec, text: &str) {
    let err = match codec.open_at::<Value>(text, now()) {
        Ok(opened) => panic!("{text:?} opened: {:?}", opened.value()),
        Err(e) => e,
    };
    assert_eq!(
        stage(&err),
        Some(expected_stage(codec, text)),
        "{text:?}: {err:?}"
    );
}

/// The smallest token that opens: a one-byte payload (CBOR `0`).
fn smallest(c: &Codec) -> String {
    seal_raw_payload(c, &[0x00], &fixed()).expect("seals")
}

fn typical_token(c: &Codec) -> String {
    seal_fixed(c, &typical(), &fixed()).expect("seals")
}

/// A token of exactly the codec's budget: a CBOR text string as long as fits.
fn at_budget(c: &Codec) -> String {
    let budget_bytes = c.budget() / 4 * 3;
    for n in (0..budget_bytes).rev() {
        let mut payload = vec![0x79, (n >> 8) as u8, n as u8];
        payload.resize(3 + n, b'a');
        if let Ok(token) = seal_raw_payload(c, &payload, &fixed()) {
            assert_eq!(token.len(), c.budget(), "budgets are multiples of 4");
            return token;
        }
    }
    unreachable!("nothing fits the budget")
}

fn three_sizes(c: &Codec) -> [String; 3] {
    [smallest(c), typical_token(c), at_budget(c)]
}

fn splice(text: &str, at: usize, remove: usize, insert: &str) -> String {
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(insert);
    out.push_str(&text[at + remove..]);
    out
}

/// Runs `f` over `items` on two threads (the machine has two cores).
fn in_parallel<T: Sync>(items: &[T], f: impl Fn(&T) + Sync) {
    let mid = items.len() / 2;
    std::thread::scope(|s| {
        let (a, b) = items.split_at(mid);
        let f = &f;
        s.spawn(move || a.iter().for_each(f));
        b.iter().for_each(f);
    });
}

#[test]
fn every_bit_flip_is_refused_at_three_sizes() {
    for mode in modes() {
        let c = codec(mode);
        for token in three_sizes(&c) {
            assert!(c.open_at::<Value>(&token, now()).is_ok(), "control");
            let bytes = B64.decode(&token).expect("base64");
            let bits: Vec<usize> = (0..bytes.len() * 8).collect();
            in_parallel(&bits, |&bit| {
                let mut flipped = bytes.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert_refused(&c, &B64.encode(&flipped));
            });
        }
    }
}

#[test]
fn every_character_substitution_is_refused_at_three_sizes() {
    for mode in modes() {
        let c = codec(mode);
        for token in three_sizes(&c) {
            let positions: Vec<usize> = (0..token.len()).collect();
            in_parallel(&positions, |&i| {
                let mut text = token.clone().into_bytes();
                for &sub in ALPHABET.iter().filter(|&&a| a != token.as_bytes()[i]) {
                    text[i] = sub;
                    assert_refused(&c, std::str::from_utf8(&text).expect("ascii"));
                }
            });
        }
    }
}

#[test]
fn truncations_deletions_and_appends_are_refused() {
    for mode in modes() {
        let c = codec(mode);
        for token in three_sizes(&c) {
            let bytes = B64.decode(&token).expect("base64");
            // Every truncation, of the text and of the bytes.
            for len in 0..token.len() {
                assert_refused(&c, &token[..len]);
            }
            for len in 0..bytes.len() {
                assert_refused(&c, &B64.encode(&bytes[..len]));
            }
            // Every single deletion, of a character and of a byte.
            for i in 0..token.len() {
                assert_refused(&c, &splice(&token, i, 1, ""));
            }
            for i in 0..bytes.len() {
                let mut shorter = bytes.clone();
                shorter.remove(i);
                assert_refused(&c, &B64.encode(&shorter));
            }
            // Appending 1 to 64 characters, and 1 to 64 bytes.
            for n in 1..=64 {
                let tail: String = (0..n).map(|i| ALPHABET[(i * 7 + n) % 64] as char).collect();
                assert_refused(&c, &format!("{token}{tail}"));
                let mut longer = bytes.clone();
                longer.extend((0..n).map(|i| (i * 31 + n) as u8));
                assert_refused(&c, &B64.encode(&longer));
            }
        }
    }
}

#[test]
fn every_version_byte_but_the_codecs_own_is_malformed() {
    for mode in modes() {
        let c = codec(mode);
        let token = typical_token(&c);
        let bytes = B64.decode(&token).expect("base64");
        for v in 0..=255u8 {
            let mut relabelled = bytes.clone();
            relabelled[0] = v;
            let text = B64.encode(&relabelled);
            let r = c.open_at::<Value>(&text, now());
            if v == version(mode) {
                assert!(r.is_ok(), "the original token");
                continue;
            }
            let err = r.expect_err("another version");
            match v {
                // The codec's mode with the session's own lifetime (FORMAT.md
                // §5.3): the associated data differs, so it never authenticates.
                3 | 4 if v == version(mode) + 2 => {
                    assert!(matches!(err, Error::Invalid), "{v}: {err:?}")
                }
                1..=4 => assert!(
                    matches!(err, Error::Malformed(Malformed::WrongMode { .. })),
                    "{v}: {err:?}"
                ),
                _ => assert!(
                    matches!(err, Error::Malformed(Malformed::UnknownVersion(x)) if x == v),
                    "{v}: {err:?}"
                ),
            }
        }
    }
}

#[test]
fn relabelled_key_ids_and_foreign_rings_are_refused() {
    let ours = key_ring(); // key 1 primary, key 2 accepted
    let foreign = KeyRing::new(fixed_key(3));
    for mode in modes() {
        let c = build(ours.clone(), mode, "session", DEFAULT_BUDGET);
        let other = build(foreign.clone(), mode, "session", DEFAULT_BUDGET);
        let only_key2 = build(KeyRing::new(fixed_key(2)), mode, "session", DEFAULT_BUDGET);

        let relabel = |token: &str, key: &Key| {
            let mut bytes = B64.decode(token).expect("base64");
            bytes[1..5].copy_from_slice(&key.id().to_bytes());
            B64.encode(&bytes)
        };
        // Ours, under key 1, relabelled as sealed by the accepted key 2.
        let token = typical_token(&c);
        let r = c.open_at::<Value>(&relabel(&token, &fixed_key(2)), now());
        assert!(matches!(r, Err(Error::Invalid)), "{r:?}");
        // Sealed by key 2, which our ring accepts: opens (control), but not
        // relabelled as the primary's.
        let token2 = typical_token(&only_key2);
        let opened = c.open_at::<Value>(&token2, now()).expect("accepted key");
        assert!(opened.needs_reseal());
        let r = c.open_at::<Value>(&relabel(&token2, &fixed_key(1)), now());
        assert!(matches!(r, Err(Error::Invalid)), "{r:?}");
        // A token from another ring: unknown key; relabelled with one of our
        // ids: invalid.
        let foreign_token = typical_token(&other);
        let r = c.open_at::<Value>(&foreign_token, now());
        assert!(
            matches!(r, Err(Error::UnknownKey(id)) if id == fixed_key(3).id()),
            "{r:?}"
        );
        for key in [fixed_key(1), fixed_key(2)] {
            let r = c.open_at::<Value>(&relabel(&foreign_token, &key), now());
            assert!(matches!(r, Err(Error::Invalid)), "{r:?}");
        }
    }
}

#[test]
fn tokens_open_only_under_their_own_purpose() {
    let long = "p".repeat(255);
    let purposes = [
        "session",
        "csrf",
        "flash",
        "remember-me",
        "Session",
        "sessio",
        "session\0",
        "sessions",
        long.as_str(),
    ];
    for mode in modes() {
        let codecs: Vec<Codec> = purposes
            .iter()
            .map(|p| build(key_ring(), mode, p, DEFAULT_BUDGET))
            .collect();
        for (i, sealer) in codecs.iter().enumerate() {
            let token = typical_token(sealer);
            for (j, opener) in codecs.iter().enumerate() {
                let r = opener.open_at::<Typical>(&token, now());
                if i == j {
                    assert_eq!(r.expect("own purpose").into_value(), typical());
                } else {
                    assert!(
                        matches!(r, Err(Error::Invalid)),
                        "{:?} opened under {:?}: {r:?}",
                        purposes[i],
                        purposes[j]
                    );
                }
            }
        }
    }
}

#[test]
fn non_canonical_base64url_is_malformed() {
    for mode in modes() {
        let c = codec(mode);
        // Payloads of 1, 2 and 3 bytes give all three text lengths mod 4.
        let tokens: Vec<String> = [&[0x00][..], &[0x18, 0x18], &[0x19, 0x01, 0x00]]
            .iter()
            .map(|p| seal_raw_payload(&c, p, &fixed()).expect("seals"))
            .collect();
        let residues: HashSet<usize> = tokens.iter().map(|t| t.len() % 4).collect();
        assert_eq!(residues.len(), 3, "{residues:?}");
        for token in &tokens {
            assert!(c.open_at::<Value>(token, now()).is_ok(), "control");
            let mut bad: Vec<String> = Vec::new();
            // Padding, whether the length needs it or not.
            let pad = "=".repeat((4 - token.len() % 4) % 4);
            bad.extend([
                format!("{token}="),
                format!("{token}=="),
                format!("{token}{pad}="),
                format!("={token}"),
                splice(token, 10, 0, "="),
            ]);
            if !pad.is_empty() {
                bad.push(format!("{token}{pad}"));
            }
            // The standard alphabet: '+' and '/' in place of '-' and '_', and
            // each of them at a few positions.
            let standard = token.replace('-', "+").replace('_', "/");
            if standard != *token {
                bad.push(standard);
            }
            for ch in ["+", "/", "%2D", "%5F", ".", "~", "!", "*"] {
                for at in [0, 5, token.len() / 2, token.len() - 1] {
                    bad.push(splice(token, at, 1, ch));
                    bad.push(splice(token, at, 0, ch));
                }
            }
            // Whitespace, NUL and non-ASCII, before, inside and after.
            for junk in [
                " ",
                "\t",
                "\n",
                "\r\n",
                "\u{b}",
                "\u{c}",
                "\0",
                "é",
                "\u{feff}",
                "\u{a0}",
                "\u{ff21}",
                "\u{410}",
                "\u{10348}",
            ] {
                bad.push(format!("{junk}{token}"));
                bad.push(format!("{token}{junk}"));
                bad.push(splice(token, token.len() / 2, 0, junk));
            }
            // A lookalike replacing a character: fullwidth and Cyrillic 'A'.
            bad.push(splice(token, 3, 1, "\u{ff21}"));
            bad.push(splice(token, 3, 1, "\u{410}"));
            // MIME-style line breaks every 76 characters.
            let wrapped: Vec<&str> = token
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).expect("ascii"))
                .collect();
            if wrapped.len() > 1 {
                bad.push(wrapped.join("\n"));
            }
            // Non-zero unused bits in the last character: every character
            // that decodes to the same bytes but is not the canonical one.
            let unused = match token.len() % 4 {
                2 => 4,
                3 => 2,
                _ => 0,
            };
            let last = token.as_bytes()[token.len() - 1];
            let index = ALPHABET.iter().position(|&a| a == last).expect("alphabet");
            assert_eq!(index % (1 << unused), 0, "canonical");
            for low in 1..(1usize << unused) {
                let other = ALPHABET[index + low] as char;
                bad.push(splice(token, token.len() - 1, 1, &other.to_string()));
            }
            for text in &bad {
                let r = c.open_at::<Value>(text, now());
                assert!(
                    matches!(r, Err(Error::Malformed(Malformed::Base64))),
                    "{text:?}: {r:?}"
                );
            }
        }
    }
}

#[test]
fn oversized_input_is_refused_by_its_length_alone() {
    let junk = |n: usize| "!".repeat(n); // would be malformed if ever decoded
    for mode in modes() {
        for budget in [128, DEFAULT_BUDGET, MAX_BUDGET] {
            let c = build(key_ring(), mode, "session", budget);
            // A valid token padded by one character of the alphabet.
            let over = format!("{}A", at_budget(&c));
            let r = c.open_at::<Value>(&over, now());
            assert!(
                matches!(r, Err(Error::InputTooLarge { size, limit }) if size == budget + 1 && limit == budget),
                "{r:?}"
            );
            for n in [budget + 1, 64 << 10, 1 << 20, 16 << 20] {
                let r = c.open_at::<Value>(&junk(n), now());
                assert!(
                    matches!(r, Err(Error::InputTooLarge { size, limit }) if size == n && limit == budget),
                    "{n}: {r:?}"
                );
            }
            // At the budget it is decoded, and so malformed.
            let r = c.open_at::<Value>(&junk(budget), now());
            assert!(matches!(r, Err(Error::Malformed(Malformed::Base64))));
        }
    }
}

/// Hostile CBOR that grows with `n` (at least 16 bytes): each must be refused
/// after authentication as a payload error, never a panic or a stack
/// overflow.
fn scalable_bombs(n: usize) -> Vec<(String, Vec<u8>)> {
    let repeat = |b: u8| vec![b; n];
    vec![
        ("indefinite arrays 0x9f".into(), repeat(0x9f)),
        ("indefinite maps 0xbf".into(), repeat(0xbf)),
        ("one-element arrays 0x81".into(), repeat(0x81)),
        ("one-entry maps 0xa1".into(), repeat(0xa1)),
        ("tags 0xc6".into(), repeat(0xc6)),
        (
            "self-describe tags".into(),
            [0xd9, 0xd9, 0xf7].into_iter().cycle().take(n).collect(),
        ),
        (
            "64-bit tags".into(),
            [0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
                .into_iter()
                .cycle()
                .take(n)
                .collect(),
        ),
        (
            "indefinite byte string of empty chunks".into(),
            [&[0x5f][..], &vec![0x40; n - 1]].concat(),
        ),
        (
            "indefinite text string of empty chunks".into(),
            [&[0x7f][..], &vec![0x60; n - 1]].concat(),
        ),
        (
            "indefinite array of n-1 items, no break".into(),
            [&[0x9f][..], &vec![0x00; n - 1]].concat(),
        ),
    ]
}

/// Hostile CBOR of a fixed size: huge declared lengths, items that never end,
/// trailing bytes, bad UTF-8.
fn fixed_bombs() -> Vec<(String, Vec<u8>)> {
    let mut bombs = Vec::new();
    let u64_max = [0xff; 8];
    for (name, head) in [
        ("array of 2^32-1", &[0x9a, 0xff, 0xff, 0xff, 0xff][..]),
        ("bytes of 2^32-1", &[0x5a, 0xff, 0xff, 0xff, 0xff]),
        ("bytes of u64::MAX", &[&[0x5b][..], &u64_max].concat()),
        ("text of u64::MAX", &[&[0x7b][..], &u64_max].concat()),
        ("array of u64::MAX", &[&[0x9b][..], &u64_max].concat()),
        ("map of u64::MAX", &[&[0xbb][..], &u64_max].concat()),
    ] {
        bombs.push((name.into(), head.to_vec()));
        // The same as the `roles` of a typical session.
        let mut inside = vec![0xa1, 0x65];
        inside.extend_from_slice(b"roles");
        inside.extend_from_slice(head);
        bombs.push((format!("roles: {name}"), inside));
    }
    bombs.push((
        "indefinite array, never ends".into(),
        vec![0x9f, 0x01, 0x02],
    ));
    bombs.push(("indefinite map, never ends".into(), vec![0xbf, 0x01, 0x02]));
    bombs.push(("indefinite bytes, never end".into(), vec![0x5f, 0x41, 0x00]));
    bombs.push(("break alone".into(), vec![0xff]));
    bombs.push(("reserved additional info".into(), vec![0x1c]));
    bombs.push(("trailing bytes".into(), vec![0x01, 0x02]));
    bombs.push(("two maps".into(), vec![0xa0, 0xa0]));
    bombs.push(("bad UTF-8 text".into(), vec![0x62, 0xff, 0xfe]));
    bombs.push(("overlong UTF-8 text".into(), vec![0x62, 0xc0, 0xaf]));
    bombs.push(("UTF-16 surrogate".into(), vec![0x63, 0xed, 0xa0, 0x80]));
    bombs
}

/// A typical session whose `field` is encoded by `value` instead.
fn typical_with(field: &str, value: &[u8]) -> Vec<u8> {
    let t = typical();
    let usual: Vec<(&str, Vec<u8>)> = vec![
        ("user_id", cbor(&t.user_id)),
        ("username", cbor(&t.username)),
        ("roles", cbor(&t.roles)),
        ("csrf", cbor(&t.csrf)),
        ("created", cbor(&t.created)),
        ("theme", cbor(&t.theme)),
    ];
    let mut out = vec![0xa6];
    for (name, bytes) in usual {
        out.push(0x60 + name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        if name == field {
            out.extend_from_slice(value);
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("encodes");
    out
}

/// Payloads a typical session must refuse though a generic value accepts
/// them: duplicate keys, a bad type in one field, bad UTF-8 in one field.
fn typed_bombs() -> Vec<(String, Vec<u8>)> {
    let mut dup = typical_with("theme", &cbor(&"dark"));
    dup[0] = 0xa7; // seven entries, `user_id` twice
    dup.push(0x67);
    dup.extend_from_slice(b"user_id");
    dup.extend_from_slice(&cbor(&1u64));
    vec![
        ("duplicate key user_id".into(), dup),
        ("user_id: negative".into(), typical_with("user_id", &[0x20])),
        (
            "user_id: float".into(),
            typical_with("user_id", &[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
        ),
        (
            "user_id: text".into(),
            typical_with("user_id", &cbor(&"123")),
        ),
        (
            "created: u64::MAX".into(),
            typical_with(
                "created",
                &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ),
        (
            "username: bad UTF-8".into(),
            typical_with("username", &[0x62, 0xff, 0xfe]),
        ),
        (
            "roles: 2^32-1 declared".into(),
            typical_with("roles", &[0x9a, 0xff, 0xff, 0xff, 0xff]),
        ),
        (
            "roles: indefinite, never ends".into(),
            typical_with("roles", &[0x9f, 0x60, 0x60]),
        ),
    ]
}

fn is_payload_error(e: &Error) -> bool {
    matches!(e, Error::Payload(_) | Error::PayloadTooDeep { .. })
}

/// The largest `make(n)` bomb that fits a token of `codec`, sealed (binary
/// search: a bomb of `n` bytes fits or not by its size alone).
fn largest_sealed(codec: &Codec, make: impl Fn(usize) -> Vec<u8>) -> (usize, String) {
    let (mut fits, mut too_big) = (16, codec.budget());
    assert!(seal_raw_payload(codec, &make(fits), &fixed()).is_ok());
    while too_big - fits > 1 {
        let mid = (fits + too_big) / 2;
        match seal_raw_payload(codec, &make(mid), &fixed()) {
            Ok(_) => fits = mid,
            Err(Error::TooLarge { .. }) => too_big = mid,
            Err(e) => panic!("{e}"),
        }
    }
    let token = seal_raw_payload(codec, &make(fits), &fixed()).expect("fits");
    (fits, token)
}

/// Opens every bomb as a typical session and as two generic value types.
/// 128 KiB bombs cannot be sealed (the largest budget carries about 6 KiB),
/// so they go straight to the library's payload decoder; the largest bomb of
/// each kind that fits the 8192-byte budget goes through the real codec.
fn open_every_bomb() {
    const BIG: usize = 128 << 10;
    let everything = scalable_bombs(BIG).into_iter().chain(fixed_bombs());
    for (name, bomb) in everything {
        let typed = decode_payload::<Typical>(&bomb);
        assert!(
            matches!(&typed, Err(e) if is_payload_error(e)),
            "{name}: {typed:?}"
        );
        let value = decode_payload::<Value>(&bomb);
        assert!(
            matches!(&value, Err(e) if is_payload_error(e)),
            "{name}: {value:?}"
        );
        let value = decode_payload::<ciborium::Value>(&bomb);
        assert!(
            matches!(&value, Err(e) if is_payload_error(e)),
            "{name}: {value:?}"
        );
    }
    for mode in modes() {
        let c = build(key_ring(), mode, "session", MAX_BUDGET);
        let mut sealed: Vec<(String, String)> = Vec::new();
        for k in 0..scalable_bombs(16).len() {
            let (n, token) = largest_sealed(&c, |n| scalable_bombs(n)[k].1.clone());
            let name = scalable_bombs(16)[k].0.clone();
            assert!(token.len() > MAX_BUDGET - 8, "{name}: only {n} bytes fit");
            sealed.push((format!("{name} ({n} bytes)"), token));
        }
        for (name, bomb) in fixed_bombs() {
            sealed.push((name, seal_raw_payload(&c, &bomb, &fixed()).expect("seals")));
        }
        for (name, token) in sealed {
            let r = c.open_at::<Typical>(&token, now());
            assert!(matches!(&r, Err(e) if is_payload_error(e)), "{name}: {r:?}");
            let r = c.open_at::<Value>(&token, now());
            assert!(matches!(&r, Err(e) if is_payload_error(e)), "{name}: {r:?}");
            let r = c.open_at::<ciborium::Value>(&token, now());
            assert!(matches!(&r, Err(e) if is_payload_error(e)), "{name}: {r:?}");
        }
        for (name, bomb) in typed_bombs() {
            let token = seal_raw_payload(&c, &bomb, &fixed()).expect("seals");
            let r = c.open_at::<Typical>(&token, now());
            assert!(matches!(&r, Err(e) if is_payload_error(e)), "{name}: {r:?}");
        }
    }
}

#[test]
fn cbor_bombs_are_refused_cleanly() {
    open_every_bomb();
}

#[test]
fn cbor_bombs_are_refused_on_a_256_kib_stack() {
    std::thread::Builder::new()
        .name("small-stack".into())
        .stack_size(256 << 10)
        .spawn(open_every_bomb)
        .expect("spawns")
        .join()
        .expect("no panic and no stack overflow");
}

#[test]
fn the_control_payloads_do_open() {
    // The typed bombs differ from a valid session in one place only.
    let c = codec(Mode::Encrypted);
    let valid = typical_with("theme", &cbor(&"dark"));
    assert_eq!(valid, cbor(&typical()));
    let token = seal_raw_payload(&c, &valid, &fixed()).expect("seals");
    let opened = c.open_at::<Typical>(&token, now()).expect("opens");
    assert_eq!(opened.into_value(), typical());
    // Nesting just inside the limit still opens, on the small stack too.
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            let mut payload = vec![0x81u8; 31];
            payload.push(0x00);
            let c = codec(Mode::Encrypted);
            let token = seal_raw_payload(&c, &payload, &fixed()).expect("seals");
            c.open_at::<Value>(&token, now()).expect("31 levels open");
            c.open_at::<ciborium::Value>(&token, now())
                .expect("31 levels open");
        })
        .expect("spawns")
        .join()
        .expect("no stack overflow");
}

/// Claims per FORMAT.md §5.1, written by hand.
fn claims(issued: u64, age: u64, lifetime: u64, subject: &[u8]) -> Vec<u8> {
    let mut out = vec![0x5e; 16];
    for v in [issued, age, lifetime, subject.len() as u64] {
        varint(&mut out, v);
    }
    out.extend_from_slice(subject);
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[test]
fn seal_body_matches_the_codec() {
    // The hand-made claims and `seal_body` agree with the codec's own seal,
    // so the garbage-claims test below seals what it means to.
    for mode in modes() {
        let c = codec(mode);
        let f = fixed();
        let body = [
            claims(f.issued as u64, 0, (f.expires - f.issued) as u64, b""),
            vec![0x00],
        ]
        .concat();
        assert_eq!(
            seal_body(&c, &body, f.nonce).expect("seals"),
            seal_raw_payload(&c, &[0x00], &f).expect("seals")
        );
        let token = seal_body(
            &c,
            &[claims(NOW as u64, 5, 10, b"user-42"), vec![0x01]].concat(),
            [1; 24],
        )
        .expect("seals");
        let opened = c.open_at::<u8>(&token, now()).expect("opens");
        assert_eq!(opened.value(), &1);
        assert_eq!(opened.claims().subject(), Some("user-42"));
        assert_eq!(opened.claims().created_unix(), NOW - 5);
        assert_eq!(opened.claims().expires_unix(), NOW + 10);
    }
}

#[test]
fn claims_of_the_wrong_shape_are_refused_cleanly() {
    // FORMAT.md §5.1: claims are not CBOR, so "the wrong CBOR type" means
    // bytes shaped like CBOR text, floats and negative numbers where varints
    // are expected, and varints out of every range.
    let id = vec![0x5e; 16];
    let with_id = |tail: &[u8]| [&id[..], tail].concat();
    let max_unix: u64 = 253_402_300_799;
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", vec![]),
        ("15-byte session id", vec![0x5e; 15]),
        ("id only", id.clone()),
        ("issued: 11-byte varint", with_id(&[0xff; 11])),
        (
            "issued: varint over u64::MAX",
            with_id(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
        ),
        (
            "issued: non-shortest varint",
            with_id(&[0x80, 0x00, 0x00, 0x00, 0x00]),
        ),
        ("issued: varint cut short", with_id(&[0x80])),
        ("CBOR text where claims are", with_id(b"\x65hello")),
        (
            "CBOR float where claims are",
            with_id(&[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
        ),
        (
            "CBOR negative where claims are",
            with_id(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ),
        (
            "CBOR map where claims are",
            with_id(&[0xa1, 0x61, 0x61, 0x01]),
        ),
        ("issued: u64::MAX", claims(u64::MAX, 0, 0, b"")),
        ("issued: i64::MAX + 1", claims(1 << 63, 0, 0, b"")),
        ("age: u64::MAX", claims(NOW as u64, u64::MAX, 10, b"")),
        ("lifetime: u64::MAX", claims(NOW as u64, 0, u64::MAX, b"")),
        ("expires overflows i64", claims(i64::MAX as u64, 0, 1, b"")),
        ("created < 0", claims(NOW as u64, NOW as u64 + 1, 10, b"")),
        ("issued after 9999", claims(max_unix + 1, 0, 0, b"")),
        ("expires after 9999", claims(max_unix, 0, 1, b"")),
        (
            "subject: 256 bytes",
            claims(NOW as u64, 0, 10, &[b'a'; 256]),
        ),
        (
            "subject: bad UTF-8",
            claims(NOW as u64, 0, 10, &[0xff, 0xfe]),
        ),
    ];
    let mut long_subject = claims(NOW as u64, 0, 10, b"");
    long_subject.pop();
    varint(&mut long_subject, u64::MAX);
    cases.push(("subject length: u64::MAX", long_subject));
    let mut short_subject = claims(NOW as u64, 0, 10, b"");
    short_subject.pop();
    short_subject.extend_from_slice(&[0x05, b'a', b'b']);
    cases.push(("subject longer than the rest", short_subject));
    cases.push(("no payload", claims(NOW as u64, 0, 10, b"user")));

    for mode in modes() {
        let c = codec(mode);
        for (name, claims_bytes) in &cases {
            // Followed by a valid payload, except where the case says none.
            let mut body = claims_bytes.clone();
            if *name != "no payload" && !name.starts_with("subject longer") {
                body.push(0x00);
            }
            if body.is_empty() {
                // Nothing to seal behind the header: too short to be a token.
                let token = seal_body(&c, &body, [2; 24]).expect("seals");
                let r = c.open_at::<Value>(&token, now());
                assert!(
                    matches!(r, Err(Error::Malformed(Malformed::TooShort { .. }))),
                    "{r:?}"
                );
                continue;
            }
            let token = seal_body(&c, &body, [2; 24]).expect("seals");
            for r in [
                c.open_at::<Value>(&token, now()).map(drop),
                c.open_at::<Typical>(&token, now()).map(drop),
            ] {
                assert!(
                    matches!(&r, Err(Error::InvalidClaims(_))),
                    "{mode:?} {name}: {r:?}"
                );
            }
        }
    }
}

#[test]
fn a_million_nonces_from_threads_and_clones_never_repeat() {
    const SEALS: usize = 1 << 20;
    const THREADS: usize = 4;
    let shared = codec(Mode::Encrypted);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            // Two clones of one codec, and two codecs built apart from the
            // same key ring.
            let c = if t % 2 == 0 {
                shared.clone()
            } else {
                codec(Mode::Encrypted)
            };
            std::thread::spawn(move || {
                let mut nonces = Vec::with_capacity(SEALS / THREADS);
                let mut head = Vec::with_capacity(32);
                for _ in 0..SEALS / THREADS {
                    let token = c
                        .seal_with(&0u8, SealOptions::new().at(now()))
                        .expect("seals");
                    head.clear();
                    // The first 40 characters are bytes 0..30: header, nonce.
                    B64.decode_vec(&token[..40], &mut head).expect("base64");
                    let nonce: [u8; 24] = head[5..29].try_into().expect("24 bytes");
                    nonces.push(nonce);
                }
                nonces
            })
        })
        .collect();
    let mut seen = HashSet::with_capacity(SEALS);
    for h in handles {
        for nonce in h.join().expect("thread") {
            assert!(seen.insert(nonce), "nonce repeated: {nonce:02x?}");
        }
    }
    assert_eq!(seen.len(), SEALS);
}

#[test]
fn every_authentication_failure_is_the_same_opaque_error() {
    let mut failures: Vec<(String, Error)> = Vec::new();
    for mode in modes() {
        let c = codec(mode);
        let token = typical_token(&c);
        let bytes = B64.decode(&token).expect("base64");
        let n = bytes.len();
        let mut tamper = |what: &str, edit: &dyn Fn(&mut Vec<u8>)| {
            let mut b = bytes.clone();
            edit(&mut b);
            let e = c.open_at::<Value>(&B64.encode(&b), now()).expect_err(what);
            failures.push((format!("{mode:?}: {what}"), e));
        };
        tamper("first body byte", &|b| {
            b[5 + 24 * usize::from(mode == Mode::Encrypted)] ^= 1
        });
        tamper("last body byte", &|b| b[n - 40] ^= 0x80);
        tamper("first tag byte", &|b| {
            let tag = if mode == Mode::Signed { 32 } else { 16 };
            b[n - tag] ^= 1;
        });
        tamper("last tag byte", &|b| b[n - 1] ^= 1);
        tamper("tag cut by one byte", &|b| {
            b.pop();
        });
        tamper("tag zeroed", &|b| {
            let tag = if mode == Mode::Signed { 32 } else { 16 };
            b[n - tag..].fill(0);
        });
        tamper("relabelled to the accepted key", &|b| {
            b[1..5].copy_from_slice(&fixed_key(2).id().to_bytes());
        });
        if mode == Mode::Encrypted {
            tamper("nonce changed", &|b| b[5] ^= 1);
        }
        for purpose in ["csrf", "Session"] {
            let other = build(key_ring(), mode, purpose, DEFAULT_BUDGET);
            let e = other.open_at::<Value>(&token, now()).expect_err("purpose");
            failures.push((format!("{mode:?}: purpose {purpose}"), e));
        }
        // Sealed under a different master secret that has our key id: the
        // id is found, the secret is wrong. (Simulated by relabelling.)
        let other = build(KeyRing::new(fixed_key(9)), mode, "session", DEFAULT_BUDGET);
        let mut foreign = B64.decode(typical_token(&other)).expect("base64");
        foreign[1..5].copy_from_slice(&fixed_key(1).id().to_bytes());
        let e = c
            .open_at::<Value>(&B64.encode(&foreign), now())
            .expect_err("foreign secret");
        failures.push((format!("{mode:?}: another secret"), e));
    }
    assert!(failures.len() >= 20);
    for (what, e) in &failures {
        assert!(matches!(e, Error::Invalid), "{what}: {e:?}");
        assert_eq!(e.to_string(), "token failed authentication", "{what}");
        assert_eq!(format!("{e:?}"), "Invalid", "{what}");
        assert!(e.source().is_none(), "{what}");
    }
}

#[test]
fn mutate_seed_tokens_open_and_nothing_else_does() {
    // The `mutate` target's oracle: the seeds open under their own mode...
    let seeds = seed_tokens();
    assert_eq!(seeds.len(), 10);
    for token in seeds {
        let opened = sealed_session::fuzzing::codecs()
            .iter()
            .filter(|c| c.open_at::<Value>(token, now()).is_ok())
            .count();
        assert_eq!(opened, 1, "{token}");
    }
    // ...and the entry points accept what they should without panicking.
    for token in seeds {
        sealed_session::fuzzing::mutate(token);
        sealed_session::fuzzing::input(token);
        sealed_session::fuzzing::payload::<Typical>(token.as_bytes());
    }
    sealed_session::fuzzing::open("AQID");
    sealed_session::fuzzing::roundtrip(&typical(), Some("user-42"));
}

#[test]
#[should_panic(expected = "authenticated")]
fn the_open_oracle_fails_on_a_real_token() {
    // The fuzz oracle is not vacuous: a genuine token makes it panic.
    sealed_session::fuzzing::open(&sealed_session::fuzzing::seed_tokens()[0]);
}

/// Writes the committed seed corpora under `fuzz/corpus/` (a handful of small
/// files per target). Run after changing the format or the seeds:
/// `cargo test --test adversarial -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), bytes).expect("write");
    };
    let seeds = seed_tokens();
    for (i, token) in seeds.iter().enumerate() {
        write("mutate", &format!("seed-{i}"), token.as_bytes());
    }
    let enc = &seeds[1];
    let sig = &seeds[5];
    // `open` must never see a token that opens, so its seeds are tokens of
    // another key ring (their structure is right, their key is unknown) and
    // non-canonical forms of them.
    let foreign_ring = KeyRing::new(fixed_key(3));
    for mode in modes() {
        let c = build(foreign_ring.clone(), mode, "session", DEFAULT_BUDGET);
        let token = typical_token(&c);
        write("open", &format!("foreign-{mode:?}"), token.as_bytes());
        write(
            "open",
            &format!("truncated-{mode:?}"),
            &token.as_bytes()[..60],
        );
        write(
            "open",
            &format!("padded-{mode:?}"),
            format!("{token}==").as_bytes(),
        );
    }
    write("input", "bare", format!(" \"{enc}\"\n").as_bytes());
    write(
        "input",
        "cookie",
        format!("Cookie: theme=dark; session={enc}; lang=en").as_bytes(),
    );
    write(
        "input",
        "set-cookie",
        format!("Set-Cookie: session={sig}; Path=/; Secure; HttpOnly; SameSite=Lax").as_bytes(),
    );
    write("input", "pairs", b"a=1; b=\"2\"; session='AQID'");
    write("payload", "typical", &cbor(&typical()));
    write(
        "payload",
        "nested",
        &[0x81, 0x9f, 0xa1, 0x61, 0x61, 0xc6, 0x00, 0xff],
    );
    write(
        "payload",
        "huge-length",
        &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    write(
        "payload",
        "bad-utf8",
        &typical_with("username", &[0x62, 0xff, 0xfe]),
    );
    // `cookies`: a configuration byte (bit 0 chunking, bit 1 a 256-byte
    // cookie limit), then `Cookie` header lines.
    write("cookies", "one", b"\x00theme=dark; s=AQID");
    let chunked = sealed_session::SessionCookie::builder("s")
        .chunked(sealed_session::MAX_CHUNKS)
        .cookie_limit(256)
        .build()
        .expect("cookie");
    let pairs = |token: &str| -> Vec<String> {
        let set = chunked.set(token, None, &chunked.read([])).expect("fits");
        set.headers()
            .iter()
            .map(|h| h.split(';').next().expect("pair").to_owned())
            .collect()
    };
    let (a, b) = (
        pairs(&seed_tokens()[0].repeat(3)),
        pairs(&seed_tokens()[1].repeat(3)),
    );
    write(
        "cookies",
        "chunks",
        format!("\x03{}\n{}", a[1..].join("; "), a[0]).as_bytes(),
    );
    write(
        "cookies",
        "mixed",
        format!("\x03{}; {}", a[0], b[1]).as_bytes(),
    );
    write(
        "cookies",
        "others",
        b"\x01s=AQID; s.01=x; s.9=y; s.1=abcd.z; s.sig=q",
    );
    // `roundtrip` decodes its input with `arbitrary`: any bytes are a seed.
    write("roundtrip", "zeros", &[0; 64]);
    write("roundtrip", "counting", &(0..=255u8).collect::<Vec<_>>());
    write(
        "roundtrip",
        "text",
        b"session user-42 admin editor dark 1700000000",
    );
}

/// Seal and open must agree on what a payload may be: a value nested deeper
/// than the decoder's limit is sealed today (`payload::encode` has no depth
/// limit) into a token that can never open (`PayloadTooDeep` on every open),
/// a session the app believes it saved.
#[test]

fn seal_refuses_what_open_would_refuse_as_too_deep() {
    let c = codec(Mode::Encrypted);
    let mut value = ciborium::Value::Integer(0.into());
    for _ in 0..70 {
        value = ciborium::Value::Array(vec![value]);
    }
    match c.seal_with(&value, SealOptions::new().at(now())) {
        Err(_) => {}
        Ok(token) => panic!(
            "sealed a token that cannot open: {:?}",
            c.open_at::<ciborium::Value>(&token, now()).map(drop)
        ),
    }
}

/// The fuzz entry points hold on every committed seed and on the empty input
/// (libFuzzer's first run), so `cargo test` catches what would crash the fuzz
/// step of CI without needing the nightly toolchain. (`roundtrip` takes
/// structured input and is driven by the proptests of tests/codec.rs.)
#[test]
fn fuzz_entry_points_hold_on_their_seeds_and_the_empty_input() {
    use sealed_session::fuzzing;
    let corpus = |target: &str| -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed"))
            .collect();
        assert!(!seeds.is_empty(), "no seeds for {target}");
        seeds.push(Vec::new());
        seeds
    };
    for seed in corpus("payload") {
        fuzzing::payload::<fuzzing::Value>(&seed);
        fuzzing::payload::<ciborium::Value>(&seed);
    }
    for seed in corpus("cookies") {
        fuzzing::cookies(&seed);
    }
    for (target, run) in [
        ("open", fuzzing::open as fn(&str)),
        ("mutate", fuzzing::mutate),
        ("input", fuzzing::input),
    ] {
        for seed in corpus(target) {
            if let Ok(text) = std::str::from_utf8(&seed) {
                run(text);
            }
        }
    }
}
