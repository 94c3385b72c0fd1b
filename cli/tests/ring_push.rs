//! `ring push`: a key-ring file published to the Redis key the apps'
//! `RedisRingSource` follows, sealed under their key-encryption key.
//! Skips (one line) where redis-server is absent, unless CI=true.

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use assert_cmd::Command;
use predicates::prelude::*;
use redis_server::RedisServer;
use sealed_session::{Key, RedisRingSource, RingKek};

#[test]
fn push_publishes_the_ring_sealed_and_prints_no_secret() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    let r = ring.to_str().expect("utf-8");
    Command::cargo_bin("sealed-session")
        .expect("binary")
        .args(["keygen", "--ring", r])
        .assert()
        .success();
    Command::cargo_bin("sealed-session")
        .expect("binary")
        .args([
            "ring",
            "rotate",
            "--ring",
            r,
            "--every",
            "30d",
            "--lifetime",
            "7d",
        ])
        .assert()
        .success();
    let kek_text = Key::generate().export_base64();
    let out = Command::cargo_bin("sealed-session")
        .expect("binary")
        .args([
            "ring",
            "push",
            "--ring",
            r,
            "--redis-key",
            "app:ring",
            "--kek-env",
            "KEK",
            "--json",
        ])
        .env("KEK", kek_text.as_str())
        .env("SEALED_SESSION_REDIS", server.url())
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v,
        serde_json::json!({ "action": "published", "redis_key": "app:ring", "keys": 1 })
    );

    let file = std::fs::read_to_string(&ring).expect("ring");
    let secret = file
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().last())
        .expect("secret");
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(secret));
    }
    let kek = RingKek::from_base64(&kek_text).expect("kek");
    let source = RedisRingSource::new(&server.url(), "app:ring", kek).expect("source");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let text = runtime
        .block_on(source.fetch())
        .expect("fetch")
        .expect("present");
    assert_eq!(&text[..], file.as_bytes());

    // The file as it was, pushed again after a revocation raised the
    // generation: refused (compare-and-set), Redis keeps the newer ring.
    let id = file
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .expect("key id")
        .to_owned();
    let old = dir.path().join("old");
    std::fs::copy(&ring, &old).expect("copy");
    let push = |path: &std::path::Path| {
        let mut c = Command::cargo_bin("sealed-session").expect("binary");
        c.args(["ring", "push", "--ring", path.to_str().expect("utf-8")])
            .args(["--redis-key", "app:ring", "--kek-env", "KEK"])
            .env("KEK", kek_text.as_str())
            .env("SEALED_SESSION_REDIS", server.url());
        c
    };
    Command::cargo_bin("sealed-session")
        .expect("binary")
        .args(["ring", "revoke", &id, "--ring", r, "--lifetime", "7d"])
        .assert()
        .success();
    push(&ring).assert().success();
    push(&old)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the ring's generation 1 is lower than the generation 2 held",
        ));
    let held = runtime
        .block_on(source.fetch())
        .expect("fetch")
        .expect("present");
    assert_eq!(
        &held[..],
        std::fs::read_to_string(&ring).expect("ring").as_bytes()
    );

    // Without its key-encryption key, nothing is pushed.
    Command::cargo_bin("sealed-session")
        .expect("binary")
        .args([
            "ring",
            "push",
            "--ring",
            r,
            "--kek-env",
            "UNSET_KEK_FOR_TEST",
        ])
        .env("SEALED_SESSION_REDIS", server.url())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "UNSET_KEK_FOR_TEST: it is not set",
        ));
}
