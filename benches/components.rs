//! The parts of a seal and an open, measured one by one, to show where the
//! time goes.
//!
//! `cargo bench --bench components`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use serde::Serialize;
use serde::de::DeserializeOwned;
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::{AeadInOut, KeyInit};

fn parts<T: Serialize + DeserializeOwned>(c: &mut Criterion, name: &str, value: &T) {
    let mut cbor = Vec::new();
    ciborium::into_writer(value, &mut cbor).expect("cbor");
    let json = serde_json::to_vec(value).expect("json");
    eprintln!(
        "{name}: CBOR {} bytes, JSON {} bytes",
        cbor.len(),
        json.len()
    );
    let mut g = c.benchmark_group(format!("components/{name}"));

    g.bench_function("ciborium serialize", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(256);
            ciborium::into_writer(black_box(value), &mut out).expect("cbor");
            out
        })
    });
    g.bench_function("ciborium deserialize", |b| {
        b.iter(|| {
            ciborium::de::from_reader_with_recursion_limit::<T, _>(black_box(&cbor[..]), 32)
                .expect("cbor")
        })
    });
    g.bench_function("cbor4ii deserialize", |b| {
        b.iter(|| cbor4ii::serde::from_slice::<T>(black_box(&cbor[..])).expect("cbor4ii"))
    });
    g.bench_function("cbor4ii serialize", |b| {
        b.iter(|| {
            cbor4ii::serde::to_vec(Vec::with_capacity(256), black_box(value)).expect("cbor4ii")
        })
    });
    g.bench_function("serde_json deserialize", |b| {
        b.iter(|| serde_json::from_slice::<T>(black_box(&json)).expect("json"))
    });

    let cipher = Xaes256Gcm::new(&[7u8; 32].into());
    let nonce = [9u8; 24].into();
    let mut sealed = cbor.clone();
    let tag = cipher
        .encrypt_inout_detached(&nonce, b"aad", sealed.as_mut_slice().into())
        .expect("seal");
    g.bench_function("xaes-256-gcm decrypt", |b| {
        b.iter(|| {
            let mut buf = sealed.clone();
            cipher
                .decrypt_inout_detached(&nonce, b"aad", buf.as_mut_slice().into(), &tag)
                .expect("open");
            buf
        })
    });
    let text = URL_SAFE_NO_PAD.encode(&sealed);
    g.bench_function("base64 crate decode", |b| {
        b.iter(|| URL_SAFE_NO_PAD.decode(black_box(&text)).expect("b64"))
    });
    g.bench_function("base64 crate encode", |b| {
        b.iter(|| URL_SAFE_NO_PAD.encode(black_box(&sealed)))
    });
    g.bench_function("base64-simd decode", |b| {
        b.iter(|| {
            base64_simd::URL_SAFE_NO_PAD
                .decode_to_vec(black_box(&text))
                .expect("b64")
        })
    });
    g.bench_function("base64-simd encode", |b| {
        b.iter(|| base64_simd::URL_SAFE_NO_PAD.encode_to_string(black_box(&sealed)))
    });
    g.bench_function(
        "xaes-256-gcm cipher for a nonce (2 AES blocks + AES-GCM init)",
        |b| {
            b.iter(|| {
                let mut empty = [0u8; 0];
                cipher
                    .encrypt_inout_detached(black_box(&nonce), b"", empty.as_mut_slice().into())
                    .expect("seal")
            })
        },
    );
    g.finish();
}

/// What fork safety adds to a draw of randomness (src/rng.rs): one
/// `getpid` per draw, two per new seal (session id, nonce).
fn randomness(c: &mut Criterion) {
    use rand::Rng as _;
    let mut g = c.benchmark_group("randomness");
    g.bench_function("getpid (the fork check)", |b| {
        b.iter(|| black_box(std::process::id()))
    });
    g.bench_function("ThreadRng, 24 bytes", |b| {
        let mut rng = rand::rng();
        b.iter(|| {
            let mut nonce = [0u8; 24];
            rng.fill_bytes(&mut nonce);
            black_box(nonce)
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    parts(c, "typical", &common::typical());
    parts(c, "large", &common::large());
    randomness(c);
}

criterion_group!(components, benches);
criterion_main!(components);
