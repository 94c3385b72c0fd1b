//! A key ring held in a real redis-server: sealed at rest under the nodes'
//! key-encryption key, followed by every node, and kept through a restart
//! of Redis that lost it. Skips (one line) where redis-server is absent,
//! unless CI=true.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis_server::RedisServer;
use sealed_session::{
    Codec, Key, KeyId, KeySchedule, Lifecycle, RedisRingSource, RingFollower, RingKek,
};
use time::OffsetDateTime;

const RING_KEY: &str = "test-app:ring";

/// A ring whose only key seals from an hour ago for a day.
fn ring_text(key: &Key) -> String {
    ring_text_of(key, 0)
}

/// The same, of this generation.
fn ring_text_of(key: &Key, generation: u64) -> String {
    let now = OffsetDateTime::now_utc();
    let hour = time::Duration::hours(1);
    let mut s = KeySchedule::new();
    s.add(
        key.clone(),
        Lifecycle::new(now - hour, now - hour, now + time::Duration::days(1)),
    )
    .unwrap();
    s.set_generation(generation);
    s.to_text().to_string()
}

/// A node: the codec it serves with, replaced by its follower.
struct Node {
    codec: Arc<Mutex<Codec>>,
    follower: RingFollower,
}

impl Node {
    async fn start(source: &RedisRingSource) -> Self {
        let loaded = source
            .clone()
            .load(|ring| Codec::builder(ring).build())
            .await
            .unwrap();
        let codec = Arc::new(Mutex::new(loaded.codec().clone()));
        let held = Arc::clone(&codec);
        let follower = loaded.follow(move |next| {
            *held.lock().unwrap() = next;
            Ok(())
        });
        Self { codec, follower }
    }

    fn primary(&self) -> KeyId {
        self.codec.lock().unwrap().key_ring().primary().id()
    }
}

async fn raw_value(url: &str) -> Option<Vec<u8>> {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.ok()?;
    redis::cmd("GET")
        .arg(RING_KEY)
        .query_async::<Option<Vec<u8>>>(&mut c)
        .await
        .ok()?
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_follow_a_sealed_ring_in_redis_through_a_restart_that_lost_it() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let kek = RingKek::from_base64(&Key::generate().export_base64()).unwrap();
    let source = RedisRingSource::new(&server.url(), RING_KEY, kek)
        .unwrap()
        .poll_every(Duration::from_millis(50));
    let (a, b, c) = (Key::generate(), Key::generate(), Key::generate());
    source.publish(&ring_text(&a)).await.unwrap();

    let nodes = [Node::start(&source).await, Node::start(&source).await];
    assert!(nodes.iter().all(|n| n.primary() == a.id()));

    // At rest, Redis holds neither the secrets nor the ring's text.
    let stored = raw_value(&server.url()).await.unwrap();
    for needle in [
        a.export_base64().as_bytes(),
        b"sealed-session key ring",
        a.id().to_string().as_bytes(),
    ] {
        assert!(!stored.windows(needle.len()).any(|w| w == needle));
    }

    source.publish(&ring_text(&b)).await.unwrap();
    wait_until("both nodes on b", || {
        nodes.iter().all(|n| n.primary() == b.id())
    })
    .await;

    // Redis restarts without persistence: empty. The nodes keep b, and
    // write it back for nodes that start later.
    server.kill();
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    while raw_value(&server.url()).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "waited 30 s for the ring written back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(nodes.iter().all(|n| n.primary() == b.id()));
    let late = Node::start(&source).await;
    assert_eq!(late.primary(), b.id(), "a node started after the restart");

    // A change after the restart reaches every node (resubscribed).
    source.publish(&ring_text(&c)).await.unwrap();
    wait_until("every node on c", || {
        nodes.iter().chain([&late]).all(|n| n.primary() == c.id())
    })
    .await;

    // A ring sealed under another key-encryption key (or changed bytes)
    // never replaces the one in use; it is counted.
    let intruder = RingKek::from_base64(&Key::generate().export_base64()).unwrap();
    let forged = RedisRingSource::new(&server.url(), RING_KEY, intruder).unwrap();
    forged.publish(&ring_text(&a)).await.unwrap();
    wait_until("the forged ring refused", || {
        nodes.iter().all(|n| n.follower.stats().rejected >= 1)
    })
    .await;
    assert!(nodes.iter().chain([&late]).all(|n| n.primary() == c.id()));
    // And publishing refuses text that is not a ring, writing nothing.
    assert!(source.publish("not a ring").await.is_err());
}

#[test]
fn a_kek_opens_only_what_it_sealed_for_that_name() {
    let kek = RingKek::from_base64(&Key::generate().export_base64()).unwrap();
    let text = ring_text(&Key::generate());
    let sealed = kek.seal(text.as_bytes(), RING_KEY, 9).unwrap();
    let opened = kek.open(&sealed, RING_KEY).unwrap();
    assert_eq!((opened.generation, &opened.text[..]), (9, text.as_bytes()));
    assert!(kek.open(&sealed, "other:ring").is_err());
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 1;
        assert!(kek.open(&bad, RING_KEY).is_err(), "byte {i} changed");
    }
    assert!(kek.open(&sealed[..sealed.len() - 1], RING_KEY).is_err());
    assert!(kek.open(&[], RING_KEY).is_err());
    assert_ne!(
        kek.seal(text.as_bytes(), RING_KEY, 9).unwrap(),
        sealed,
        "a fresh nonce each time"
    );
}

async fn set_raw(url: &str, value: &[u8]) {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg(RING_KEY)
        .arg(value)
        .query_async::<()>(&mut c)
        .await
        .unwrap();
}

/// Anyone who can write to Redis could SET an older sealed value again
/// (captured before a revocation), and a stale node could write an older
/// ring back after Redis restarted empty: nodes refuse a lower generation,
/// write the newer ring back over it, and a publish of an older ring is
/// refused (compare-and-set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_ring_written_again_never_brings_a_revoked_key_back() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let kek = RingKek::from_base64(&Key::generate().export_base64()).unwrap();
    let source = RedisRingSource::new(&server.url(), RING_KEY, kek.clone())
        .unwrap()
        .poll_every(Duration::from_millis(50));
    let (revoked, fresh) = (Key::generate(), Key::generate());
    source.publish(&ring_text_of(&revoked, 1)).await.unwrap();
    let captured = raw_value(&server.url()).await.unwrap();
    let nodes = [Node::start(&source).await, Node::start(&source).await];
    source.publish(&ring_text_of(&fresh, 2)).await.unwrap();
    wait_until("both nodes on the fresh key", || {
        nodes.iter().all(|n| n.primary() == fresh.id())
    })
    .await;

    // The attacker's replay: refused by every node, and overwritten by the
    // newer ring they hold.
    set_raw(&server.url(), &captured).await;
    let generation_held = |value: Option<Vec<u8>>| {
        value
            .and_then(|v| kek.open(&v, RING_KEY).ok())
            .map(|o| o.generation)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while generation_held(raw_value(&server.url()).await) != Some(2) {
        assert!(Instant::now() < deadline, "waited 30 s for the write-back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(nodes.iter().all(|n| n.primary() == fresh.id()));
    // The node that wrote the newer ring back had refused the replay (the
    // other may never have seen it).
    assert!(nodes.iter().any(|n| n.follower.stats().rejected >= 1));

    // An operator pushing the old file again is refused, writing nothing.
    let e = source
        .publish(&ring_text_of(&revoked, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            sealed_session::Error::Rotation(sealed_session::RotationError::RolledBack {
                held: 2,
                offered: 1
            })
        ),
        "{e}"
    );
    assert_eq!(generation_held(raw_value(&server.url()).await), Some(2));

    // Redis restarts empty and a stale node's write-back of the old ring
    // lands first: the nodes holding the newer one write it over.
    server.kill();
    server.restart();
    set_raw(&server.url(), &captured).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while generation_held(raw_value(&server.url()).await) != Some(2) {
        assert!(Instant::now() < deadline, "waited 30 s for the write-back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(nodes.iter().all(|n| n.primary() == fresh.id()));
    let late = Node::start(&source).await;
    assert_eq!(late.primary(), fresh.id());
}

/// A value whose sealed generation is not its text's own (sealed by hand
/// with `RingKek::seal`) is refused and counted: the compare-and-set reads
/// the sealed one, so taking it would wedge every later publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_whose_generation_disagrees_with_its_ring_is_refused() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let kek = RingKek::from_base64(&Key::generate().export_base64()).unwrap();
    let source = RedisRingSource::new(&server.url(), RING_KEY, kek.clone())
        .unwrap()
        .poll_every(Duration::from_millis(50));
    let (a, b) = (Key::generate(), Key::generate());
    source.publish(&ring_text_of(&a, 7)).await.unwrap();
    let node = Node::start(&source).await;
    assert_eq!(node.primary(), a.id());
    // The text says 8, the head 9.
    let sealed = kek
        .seal(ring_text_of(&b, 8).as_bytes(), RING_KEY, 9)
        .unwrap();
    set_raw(&server.url(), &sealed).await;
    wait_until("the value refused", || node.follower.stats().rejected >= 1).await;
    assert_eq!(node.primary(), a.id(), "the ring in use is kept");
}
