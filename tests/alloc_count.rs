//! Heap allocations per seal and per open (BENCHMARKS.md): a seal makes
//! only its token (none into a reused `String`), an open at most 2 of its
//! own on the typical payload (`tests/common/mod.rs`). The app's own `String`s
//! and `Vec`s, made while its type deserializes, are counted separately.

mod common;

use allocation_counter::measure;
use common::{Typical, typical};
use sealed_session::{Codec, Key, KeyRing, SealOptions};
use serde::{Deserialize, Serialize};

fn codec() -> Codec {
    Codec::builder(KeyRing::new(Key::generate()))
        .idle_timeout(time::Duration::hours(2))
        .build()
        .expect("codec")
}

/// A payload whose deserialization allocates nothing: what remains is the
/// codec's own.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Flat {
    user_id: u64,
    created: i64,
    admin: bool,
    theme: [u8; 4],
}

fn warm(codec: &Codec) {
    // The first seal sizes the codec's buffer estimate; steady state is what
    // a server sees.
    for _ in 0..3 {
        let t = codec.seal(&typical()).expect("seals");
        codec.open::<Typical>(&t).expect("opens");
    }
}

#[test]
fn seal_allocates_only_its_token() {
    let codec = codec();
    warm(&codec);
    let value = typical();
    let info = measure(|| {
        std::hint::black_box(codec.seal(&value).expect("seals"));
    });
    println!(
        "seal(typical): {} allocations, {} bytes",
        info.count_total, info.bytes_total
    );
    assert!(info.count_total <= 1, "{info:?}");

    // Into a reused String: nothing (the working buffer is the thread's).
    let mut token = String::with_capacity(512);
    codec
        .seal_into(&value, SealOptions::new(), &mut token)
        .expect("seals");
    let info = measure(|| {
        codec
            .seal_into(&value, SealOptions::new(), &mut token)
            .expect("seals");
    });
    println!("seal_into(typical): {} allocations", info.count_total);
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn open_allocates_at_most_twice_beside_the_apps_own() {
    let codec = codec();
    warm(&codec);
    let token = codec.seal(&typical()).expect("seals");

    let info = measure(|| {
        std::hint::black_box(codec.open::<Typical>(&token).expect("opens"));
    });
    // What `Typical` itself allocates when deserialized from the same CBOR:
    // username, roles, "admin", "editor", csrf, theme.
    let cbor = cbor4ii::serde::to_vec(Vec::new(), &typical()).expect("cbor");
    let app = measure(|| {
        std::hint::black_box(cbor4ii::serde::from_slice::<Typical>(&cbor).expect("cbor"));
    });
    let own = info.count_total - app.count_total;
    println!(
        "open(typical): {} allocations = {} by the codec + {} by the app's type",
        info.count_total, own, app.count_total
    );
    assert_eq!(app.count_total, 6, "{app:?}");
    // Tokens up to 512 decoded bytes are decoded on the stack: none at all.
    assert_eq!(own, 0, "codec made {own}: {info:?}");

    // A payload that allocates nothing itself shows the codec's share alone.
    let flat = Flat {
        user_id: 1,
        created: 2,
        admin: true,
        theme: *b"dark",
    };
    let token = codec.seal(&flat).expect("seals");
    let info = measure(|| {
        assert_eq!(codec.open::<Flat>(&token).expect("opens").value(), &flat);
    });
    println!("open(flat): {} allocations", info.count_total);
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn a_subject_costs_one_more_allocation_on_open() {
    let codec = codec();
    let token = codec
        .seal_with(&1u8, SealOptions::new().subject("user-42"))
        .expect("seals");
    let info = measure(|| {
        std::hint::black_box(codec.open::<u8>(&token).expect("opens"));
    });
    assert_eq!(info.count_total, 1, "the subject String: {info:?}");
}

#[test]
fn tokens_up_to_512_decoded_bytes_open_without_a_codec_allocation() {
    let codec = codec();
    let mut seen = [false; 2];
    for n in 400..500 {
        let token = codec.seal(&"x".repeat(n)).expect("seals");
        let decoded = sealed_session::UntrustedToken::parse(&token)
            .expect("parses")
            .decoded_len();
        if decoded != 512 && decoded != 513 {
            continue;
        }
        let info = measure(|| {
            std::hint::black_box(codec.open::<String>(&token).expect("opens"));
        });
        // One allocation is the app's own `String`.
        let expected = if decoded == 512 { 1 } else { 2 };
        assert_eq!(
            info.count_total, expected,
            "{decoded} decoded bytes: {info:?}"
        );
        seen[decoded - 512] = true;
    }
    assert_eq!(seen, [true, true], "both sides of the boundary were tried");
}
