//! Seal and open of the reference payloads (`tests/common/mod.rs`), side by
//! side with the `cookie` crate's `PrivateJar` carrying the payload as serde_json (what
//! actix-session does), in the same run; a bare AES-256-GCM seal with the
//! cipher built once (the floor of a 96-bit-nonce design, no claims, no
//! purpose); and the rejection path (a tampered token), measured on purpose.
//!
//! `cargo bench --bench codec`

#[path = "../tests/common/mod.rs"]
mod common;
mod contenders;

use std::hint::black_box;

use aes_gcm::aead::{AeadInOut, KeyInit};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn compare<T>(c: &mut Criterion, name: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let contenders::Prepared {
        codec,
        jar_key,
        token,
        peer_token,
    } = contenders::prepare(value);
    eprintln!(
        "{name}: sealed-session token {} bytes, PrivateJar+JSON value {} bytes",
        token.len(),
        peer_token.len()
    );

    let mut g = c.benchmark_group(format!("seal/{name}"));
    g.bench_function("sealed-session", |b| {
        b.iter(|| codec.seal(black_box(value)).expect("seals"))
    });
    g.bench_function("PrivateJar+json", |b| {
        b.iter(|| contenders::peer_seal(&jar_key, black_box(value)))
    });

    // The floor: AES-256-GCM with a cached cipher, JSON payload, random
    // 96-bit nonce, base64url; no claims, no purpose, no key id.
    let floor = aes_gcm::Aes256Gcm::new(&[7u8; 32].into());
    g.bench_function("aes-gcm floor", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(256);
            let mut nonce = [0u8; 12];
            rand::fill(&mut nonce);
            buf.extend_from_slice(&nonce);
            serde_json::to_writer(&mut buf, black_box(value)).expect("json");
            let tag = floor
                .encrypt_inout_detached(&nonce.into(), b"", buf[12..].as_mut().into())
                .expect("seal");
            buf.extend_from_slice(&tag);
            base64_simd::URL_SAFE_NO_PAD.encode_to_string(&buf)
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("open/{name}"));
    g.bench_function("sealed-session", |b| {
        b.iter(|| codec.open::<T>(black_box(&token)).expect("opens"))
    });
    g.bench_function("PrivateJar+json", |b| {
        b.iter(|| contenders::peer_open::<T>(&jar_key, black_box(&peer_token)))
    });
    // The rejection path: one flipped character in the middle of the body.
    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert!(matches!(
        codec.open::<T>(&tampered),
        Err(sealed_session::Error::Invalid)
    ));
    g.bench_function("sealed-session rejects tampered", |b| {
        b.iter(|| codec.open::<T>(black_box(&tampered)).is_err())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    compare(c, "typical", &common::typical());
    compare(c, "large", &common::large());
}

criterion_group!(codec, benches);
criterion_main!(codec);
