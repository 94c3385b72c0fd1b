//! `sealed-session revoke` against a real `redis-server`: what it revokes
//! is refused by an app's `RedisRevocations` node; an unreachable Redis and
//! a malformed id are clear errors.

#[allow(dead_code)]
#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use assert_cmd::Command;
use redis_server::RedisServer;
use sealed_session::{
    Codec, Error, Key, KeyRing, RedisOptions, RedisRevocations, Revocations, SealOptions,
};

fn bin() -> Command {
    Command::cargo_bin("sealed-session").expect("the binary is built")
}

/// Waits (up to 5 s, far above loopback pub/sub) until `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_revoke_revokes_is_refused_by_the_apps() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let node = RedisRevocations::connect(&server.url(), RedisOptions::default())
        .await
        .expect("connects");
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let open = |token: &str| codec.open::<u8>(token).expect("opens").claims().clone();
    let session = open(&codec.seal(&1u8).expect("seals"));
    // Logged in a minute ago (a "not before" has a one-second resolution).
    let a_minute_ago = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let alice = open(
        &codec
            .seal_with(&1u8, SealOptions::new().subject("alice").at(a_minute_ago))
            .expect("seals"),
    );
    assert!(node.check(&session).is_ok() && node.check(&alice).is_ok());

    let out = bin()
        .args(["revoke", "--session-id", &session.session_id().to_string()])
        .env("SEALED_SESSION_REDIS", server.url())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("revoked session {}", session.session_id())),
        "{stdout}"
    );
    assert!(eventually(|| matches!(node.check(&session), Err(Error::Revoked))).await);
    assert!(node.check(&alice).is_ok());

    let out = bin()
        .args([
            "revoke",
            "--redis",
            &server.url(),
            "--subject",
            "alice",
            "--json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["subject"], "alice");
    assert!(eventually(|| matches!(node.check(&alice), Err(Error::Revoked))).await);
}

#[test]
fn an_unreachable_redis_and_a_malformed_id_are_clear_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = bin()
        .args([
            "revoke",
            "--redis",
            &format!("redis://127.0.0.1:{port}"),
            "--subject",
            "bob",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("sealed-session: revocation store unavailable"),
        "{stderr}"
    );

    let out = bin()
        .args([
            "revoke",
            "--redis",
            "redis://127.0.0.1:1",
            "--session-id",
            "xyz",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected 32 hex digits"));

    let out = bin()
        .args(["revoke", "--redis", "redis://127.0.0.1:1"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "one of --session-id and --subject"
    );
}
