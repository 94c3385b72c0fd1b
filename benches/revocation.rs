//! What a revocation check costs at every open: `MemoryRevocations::check`
//! on the typical path (the session is not revoked), with an empty store
//! and with a store holding many entries, and `open` with and without a
//! store.
//!
//! `cargo bench --bench revocation --features revocation`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sealed_session::{
    Codec, Key, KeyRing, MemoryRevocations, Revocations, RevokedSession, SealOptions, SessionId,
};
use time::{Duration, OffsetDateTime};

/// A store holding `sessions` revoked sessions, each of a distinct user
/// (the densest case: no folding), created over the past week, and
/// `subjects` subjects.
fn filled(sessions: u32, subjects: u32) -> MemoryRevocations {
    let store = MemoryRevocations::new();
    let now = OffsetDateTime::now_utc();
    let until = now + Duration::days(7);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let week = 7 * 86_400;
    rt.block_on(async {
        for i in 0..sessions {
            let mut id = [0u8; 16];
            rand::fill(&mut id);
            let created = now - Duration::seconds(i64::from(i) % week);
            let session = RevokedSession::new(
                SessionId::from_bytes(id),
                Some(&format!("user-{i}")),
                Some(created),
                until,
            );
            store.revoke_session(&session).await.expect("revokes");
        }
        for i in 0..subjects {
            store
                .revoke_subject(&format!("user-{i}"), until - Duration::days(7), until)
                .await
                .expect("revokes");
        }
    });
    store
}

/// Resident memory of this process, in bytes (Linux).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn checks(c: &mut Criterion) {
    // What the entries cost in memory: resident size before and after.
    if let Some(before) = resident() {
        let store = filled(1_000_000, 0);
        let held = store.stats().sessions.max(1); // after pending maintenance
        if let Some(after) = resident() {
            eprintln!(
                "memory: {held} revoked sessions take {} MB resident, {} bytes per entry",
                (after.saturating_sub(before)) >> 20,
                after.saturating_sub(before) / held
            );
        }
        drop(store);
    }

    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let anonymous = codec.seal(&common::typical()).expect("seals");
    let signed_in = codec
        .seal_with(&common::typical(), SealOptions::new().subject("alice"))
        .expect("seals");
    let claims_of = |token: &str| {
        codec
            .open::<common::Typical>(token)
            .expect("opens")
            .claims()
            .clone()
    };
    let (anonymous_claims, subject_claims) = (claims_of(&anonymous), claims_of(&signed_in));

    let mut g = c.benchmark_group("revocation/check");
    for (name, store) in [
        ("empty store", filled(0, 0)),
        ("1M sessions, 10k subjects", filled(1_000_000, 10_000)),
    ] {
        g.bench_function(format!("{name}, no subject"), |b| {
            b.iter(|| store.check(black_box(&anonymous_claims)))
        });
        g.bench_function(format!("{name}, with subject"), |b| {
            b.iter(|| store.check(black_box(&subject_claims)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("revocation/open typical");
    let with_store = Codec::builder(codec.key_ring().clone())
        .revocations(Arc::new(filled(1_000_000, 10_000)))
        .build()
        .expect("codec");
    g.bench_function("no store", |b| {
        b.iter(|| codec.open::<common::Typical>(black_box(&signed_in)))
    });
    g.bench_function("memory store, 1M entries", |b| {
        b.iter(|| with_store.open::<common::Typical>(black_box(&signed_in)))
    });
    g.finish();
}

criterion_group!(benches, checks);
criterion_main!(benches);
