//! Seal and open of DESIGN.md's reference payloads, side by side with the
//! `cookie` crate's `PrivateJar` carrying the payload as serde_json (what
//! actix-session does), in the same run.
//!
//! `cargo bench --bench codec`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use cookie::{Cookie, CookieJar};
use criterion::{Criterion, criterion_group, criterion_main};
use sealed_session::{Codec, Key, KeyRing};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn ours() -> Codec {
    Codec::builder(KeyRing::new(Key::generate()))
        .purpose("session")
        .idle_timeout(time::Duration::hours(2))
        .build()
        .expect("codec")
}

fn peer_seal<T: Serialize>(key: &cookie::Key, value: &T) -> String {
    let mut jar = CookieJar::new();
    let json = serde_json::to_string(value).expect("json");
    jar.private_mut(key).add(Cookie::new("session", json));
    jar.get("session").expect("added").value().to_owned()
}

fn peer_open<T: DeserializeOwned>(key: &cookie::Key, token: &str) -> T {
    let jar = CookieJar::new();
    let cookie = jar
        .private(key)
        .decrypt(Cookie::new("session", token.to_owned()))
        .expect("authentic");
    serde_json::from_str(cookie.value()).expect("json")
}

fn compare<T>(c: &mut Criterion, name: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let codec = ours();
    let jar_key = cookie::Key::generate();
    let token = codec.seal(value).expect("seals");
    let peer_token = peer_seal(&jar_key, value);
    // Benchmarks open real tokens: check they really open first.
    assert_eq!(codec.open::<T>(&token).expect("opens").value(), value);
    assert_eq!(&peer_open::<T>(&jar_key, &peer_token), value);
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
        b.iter(|| peer_seal(&jar_key, black_box(value)))
    });
    g.finish();

    let mut g = c.benchmark_group(format!("open/{name}"));
    g.bench_function("sealed-session", |b| {
        b.iter(|| codec.open::<T>(black_box(&token)).expect("opens"))
    });
    g.bench_function("PrivateJar+json", |b| {
        b.iter(|| peer_open::<T>(&jar_key, black_box(&peer_token)))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    compare(c, "typical", &common::typical());
    compare(c, "large", &common::large());
}

criterion_group!(codec, benches);
criterion_main!(codec);
