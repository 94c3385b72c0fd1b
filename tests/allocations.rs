//! Memory spent on hostile input, counted byte by byte.
//!
//! `allocation_counter` installs a counting `#[global_allocator]` in this test
//! binary only (the one that uses it), and `measure` counts what the calling
//! thread allocates, so tests running in parallel do not disturb each other.
//! The bounds are absolute numbers of bytes: never "less than the input".

mod common;

use allocation_counter::{AllocationInfo, measure};
use common::{Typical, typical};
use sealed_session::fuzzing::{Value, codec, decode_payload, fixed, now};
use sealed_session::vectors::{seal_fixed, seal_raw_payload};
use sealed_session::{Codec, DEFAULT_BUDGET, Error, MAX_BUDGET, Mode, extract_token};

/// What the library may allocate around a payload of `n` bytes that it
/// refuses: a constant for its own buffers (the decoded token is at most
/// 6 KiB; the largest pre-allocation `cbor4ii` makes for one string is
/// 16 KiB), plus a bounded amount per byte *present* (a one-byte CBOR item
/// becomes one value of at most 64 bytes). Never by a declared length.
const FIXED_ALLOWANCE: u64 = 32 << 10;
const PER_PAYLOAD_BYTE: u64 = 64;

fn modes() -> [Mode; 2] {
    [Mode::Encrypted, Mode::Signed]
}

fn open_measured<T: serde::de::DeserializeOwned>(c: &Codec, text: &str) -> (AllocationInfo, Error) {
    let mut outcome = None;
    let info = measure(|| {
        outcome = Some(c.open_at::<T>(text, now()).map(drop));
    });
    let err = outcome.expect("ran").expect_err("refused");
    (info, err)
}

#[test]
fn oversized_input_allocates_nothing() {
    for mode in modes() {
        for budget in [128, DEFAULT_BUDGET, MAX_BUDGET] {
            let c = codec(mode, budget);
            for n in [budget + 1, 64 << 10, 1 << 20, 16 << 20] {
                let input = "A".repeat(n);
                let (info, err) = open_measured::<Value>(&c, &input);
                assert!(
                    matches!(err, Error::InputTooLarge { size, .. } if size == n),
                    "{err:?}"
                );
                assert_eq!(info.bytes_total, 0, "{mode:?} {n}: {info:?}");
                assert_eq!(info.count_total, 0, "{mode:?} {n}: {info:?}");
            }
        }
    }
}

#[test]
fn input_at_the_budget_allocates_at_most_the_decoded_token() {
    for mode in modes() {
        for budget in [DEFAULT_BUDGET, MAX_BUDGET] {
            let c = codec(mode, budget);
            // Junk that is not base64, junk that decodes but is no token,
            // and a token that fails authentication.
            let not_base64 = "!".repeat(budget);
            let no_token = "A".repeat(budget);
            let forged = format!("AQ{}", "B".repeat(budget - 2));
            for text in [&not_base64, &no_token, &forged] {
                let (info, err) = open_measured::<Value>(&c, text);
                assert!(sealed_session::fuzzing::is_rejection(&err), "{err:?}");
                let decoded = (budget / 4 * 3 + 3) as u64;
                assert!(info.bytes_max <= decoded, "{mode:?} {budget}: {info:?}");
                assert!(info.bytes_total <= decoded, "{mode:?} {budget}: {info:?}");
            }
        }
    }
}

#[test]
fn a_valid_token_at_the_budget_is_opened_within_a_budget_sized_allowance() {
    // The control for the bounds here: a real session of the largest size.
    let c = codec(Mode::Encrypted, MAX_BUDGET);
    let mut session = typical();
    session.username = "u".repeat(5900);
    let token = seal_fixed(&c, &session, &fixed()).expect("seals");
    assert!(token.len() > MAX_BUDGET - 300, "{}", token.len());
    let mut opened = None;
    let info = measure(|| opened = Some(c.open_at::<Typical>(&token, now())));
    assert_eq!(opened.expect("ran").expect("opens").into_value(), session);
    assert!(info.bytes_max <= 3 * MAX_BUDGET as u64, "{info:?}");
}

#[test]
fn extracting_from_a_huge_header_allocates_a_bounded_amount() {
    // 16 MiB of cookies, none of them the one wanted: only the first 64 KiB
    // is looked at, and at most 16 names are kept for the message.
    let header = format!("Cookie: {}", "name=value; ".repeat(16 << 20 >> 4));
    let long_names = format!("Cookie: {}=1", "n".repeat(16 << 20));
    for input in [&header, &long_names] {
        let mut outcome = None;
        let info = measure(|| outcome = Some(extract_token(input, "session").is_err()));
        assert_eq!(outcome, Some(true));
        assert!(info.bytes_max <= 66 << 10, "{info:?}");
    }
}

/// Payloads whose declared lengths promise far more than the bytes present.
fn declared_length_bombs() -> Vec<(&'static str, Vec<u8>)> {
    let u64_max = [0xff; 8];
    let mut bombs = Vec::new();
    for (name, head) in [
        ("array of 2^32-1", vec![0x9a, 0xff, 0xff, 0xff, 0xff]),
        ("bytes of 2^32-1", vec![0x5a, 0xff, 0xff, 0xff, 0xff]),
        ("bytes of u64::MAX", [&[0x5b][..], &u64_max].concat()),
        ("text of u64::MAX", [&[0x7b][..], &u64_max].concat()),
        ("array of u64::MAX", [&[0x9b][..], &u64_max].concat()),
        ("map of u64::MAX", [&[0xbb][..], &u64_max].concat()),
    ] {
        bombs.push((name, head.clone()));
        // The same inside a typical session's `roles` and `username`.
        let mut roles = vec![0xa1, 0x65];
        roles.extend_from_slice(b"roles");
        roles.extend_from_slice(&head);
        bombs.push((name, roles));
        let mut username = vec![0xa1, 0x68];
        username.extend_from_slice(b"username");
        username.extend_from_slice(&head);
        bombs.push((name, username));
    }
    bombs
}

/// Payloads that are large in the bytes present.
fn repeated_bombs(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("0x9f", vec![0x9f; n]),
        ("0xbf", vec![0xbf; n]),
        ("0x81", vec![0x81; n]),
        ("tags", vec![0xc6; n]),
        (
            "indefinite array of zeros",
            [&[0x9f][..], &vec![0; n - 1]].concat(),
        ),
        (
            "indefinite bytes of empty chunks",
            [&[0x5f][..], &vec![0x40; n - 1]].concat(),
        ),
        (
            "array of 2^32-1 zeros",
            [&[0x9a, 0xff, 0xff, 0xff, 0xff][..], &vec![0; n - 5]].concat(),
        ),
    ]
}

fn assert_bounded<T: serde::de::DeserializeOwned>(what: &str, payload: &[u8]) {
    let limit = FIXED_ALLOWANCE + PER_PAYLOAD_BYTE * payload.len() as u64;
    // Through the real codec when the payload fits the largest budget...
    for mode in modes() {
        let c = codec(mode, MAX_BUDGET);
        if let Ok(token) = seal_raw_payload(&c, payload, &fixed()) {
            let (info, err) = open_measured::<T>(&c, &token);
            assert!(
                matches!(err, Error::Payload(_) | Error::PayloadTooDeep { .. }),
                "{what}: {err:?}"
            );
            assert!(
                info.bytes_max <= limit,
                "{what} ({} bytes) as {}: peak {} bytes, limit {limit}",
                payload.len(),
                std::any::type_name::<T>(),
                info.bytes_max
            );
        }
    }
    // ...and straight into the payload decoder for the 128 KiB bombs.
    let mut outcome = None;
    let info = measure(|| outcome = Some(decode_payload::<T>(payload).map(drop)));
    assert!(outcome.expect("ran").is_err(), "{what}");
    assert!(
        info.bytes_max <= limit,
        "{what} ({} bytes) decoded as {}: peak {} bytes, limit {limit}",
        payload.len(),
        std::any::type_name::<T>(),
        info.bytes_max
    );
}

#[test]
fn repeated_cbor_bombs_use_memory_bounded_by_their_size() {
    for n in [6000, 128 << 10] {
        for (what, payload) in repeated_bombs(n) {
            assert_bounded::<Value>(what, &payload);
            assert_bounded::<ciborium::Value>(what, &payload);
            assert_bounded::<Typical>(what, &payload);
        }
    }
}

#[test]
fn declared_lengths_allocate_nothing_beyond_the_bytes_present_as_values() {
    for (what, payload) in declared_length_bombs() {
        assert_bounded::<Value>(what, &payload);
        assert_bounded::<ciborium::Value>(what, &payload);
    }
}

/// FORMAT.md §5.2: decoders "never allocate according to a declared length
/// beyond the bytes present". A typed session whose `roles` declares 2^32-1
/// strings in a 17-byte payload makes serde's `Vec` visitor pre-allocate
/// `min(hint, 1 MiB / size_of::<String>())` elements, 1 MiB, because
/// `cbor4ii`'s `SeqAccess::size_hint` passes the declared length through
/// unchecked against the bytes left (src/payload.rs, `decode`).
#[test]

fn declared_lengths_allocate_nothing_beyond_the_bytes_present_as_typed_sessions() {
    for (what, payload) in declared_length_bombs() {
        assert_bounded::<Typical>(what, &payload);
    }
}
