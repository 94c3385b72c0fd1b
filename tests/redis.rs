//! `RedisRevocations` against a real `redis-server` (Debian's package),
//! started by the test on a free loopback port and stopped after: two
//! nodes, a log-out on one refused on the other within the bound; Redis
//! killed mid-run (the policy holds, nothing panics) and restarted (checks
//! recover); entries stored with native expiry; a new node loads what was
//! revoked before it started; the same against a 3-primary Redis
//! Cluster and through Sentinel, across a failover.
//!
//! Without `redis-server` each test says so in one line and passes, unless
//! `CI=true`, where its absence fails them.

use std::time::{Duration, Instant};

use sealed_session::{
    Claims, Codec, Error, Key, KeyRing, RedisOptions, RedisRevocations, Revocations,
    RevokedSession, SealOptions, SessionId, Unavailable,
};
use time::OffsetDateTime;

#[path = "support/redis_server.rs"]
mod redis_server;

#[path = "support/redis_topologies.rs"]
mod redis_topologies;

use redis_server::RedisServer;
use redis_topologies::{RedisCluster, RedisSentinel};

async fn node(url: &str, policy: Unavailable) -> RedisRevocations {
    RedisRevocations::connect(url, RedisOptions::default().when_unavailable(policy))
        .await
        .expect("connects")
}

/// Polls `done` for up to `bound` (yielding, so that the measured delay
/// is not rounded up to the timer's millisecond); how long it took.
async fn within(bound: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < bound {
        if done() {
            return Some(start.elapsed());
        }
        if start.elapsed() < Duration::from_millis(100) {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    None
}

/// The claims of a new session of `subject`, created at `at`.
fn claims_of(codec: &Codec, subject: Option<&str>) -> Claims {
    claims_at(codec, subject, OffsetDateTime::now_utc())
}

fn claims_at(codec: &Codec, subject: Option<&str>, at: OffsetDateTime) -> Claims {
    let mut options = SealOptions::new().at(at);
    if let Some(subject) = subject {
        options = options.subject(subject);
    }
    let token = codec.seal_with(&1u8, options).expect("seals");
    codec.open::<u8>(&token).expect("opens").claims().clone()
}

/// A Redis server, two fail-closed nodes on it, and a codec; `None`
/// (after one line) without redis-server.
async fn two_nodes() -> Option<(RedisServer, RedisRevocations, RedisRevocations, Codec)> {
    let server = RedisServer::start()?;
    let a = node(&server.url(), Unavailable::FailClosed).await;
    let b = node(&server.url(), Unavailable::FailClosed).await;
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    Some((server, a, b, codec))
}

/// How far propagation may take and still pass: far above what loopback
/// pub/sub takes, so a slow shared machine never fails it.
const BOUND: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_out_on_one_node_is_refused_on_the_other_within_the_bound() {
    let Some((_server, a, b, codec)) = two_nodes().await else {
        return;
    };
    let mut delays = Vec::new();
    for _ in 0..200 {
        let claims = claims_of(&codec, None);
        assert!(b.check(&claims).is_ok());
        let start = Instant::now();
        a.revoke_session(&RevokedSession::of(&claims, claims.expires()))
            .await
            .expect("revokes");
        assert!(
            matches!(a.check(&claims), Err(Error::Revoked)),
            "at once on A"
        );
        within(BOUND, || matches!(b.check(&claims), Err(Error::Revoked)))
            .await
            .expect("refused on B within the bound");
        delays.push(start.elapsed());
    }
    // Log out everywhere, from B this time.
    let alice = claims_of(&codec, Some("alice"));
    let now = OffsetDateTime::now_utc();
    b.revoke_subject(
        "alice",
        now + time::Duration::seconds(1),
        now + time::Duration::days(7),
    )
    .await
    .expect("revokes");
    within(BOUND, || matches!(a.check(&alice), Err(Error::Revoked)))
        .await
        .expect("refused on A within the bound");
    delays.sort();
    let p99 = delays[delays.len() * 99 / 100 - 1];
    println!(
        "revoke on A -> refused on B: median {:?}, p99 {p99:?}, max {:?} (200 revocations, loopback)",
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    assert_eq!(b.sync_counts().0, 200 + 1, "every revocation arrived once");
}

/// A Redis that keeps its connections but never answers (a hung host)
/// fails a log-out with an error the handler sees, within the write's
/// deadline, instead of holding the request forever; this node refuses
/// the session all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_fails_a_revocation_instead_of_holding_it() {
    let Some((server, a, _b, codec)) = two_nodes().await else {
        return;
    };
    // The write connection is open before the server hangs.
    let first = claims_of(&codec, None);
    a.revoke_session(&RevokedSession::of(&first, first.expires()))
        .await
        .expect("revokes");
    server.pause();
    let claims = claims_of(&codec, None);
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        a.revoke_session(&RevokedSession::of(&claims, claims.expires())),
    )
    .await
    .expect("the write gives up by itself");
    assert!(
        matches!(outcome, Err(Error::RevocationUnavailable(_))),
        "{outcome:?}"
    );
    assert!(a.check(&claims).is_err(), "refused on this node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_the_policy_holds_and_checks_recover_when_it_is_back() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let closed = node(&server.url(), Unavailable::FailClosed).await;
    let open = node(&server.url(), Unavailable::FailOpen).await;
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let revoked = claims_of(&codec, None);
    closed
        .revoke_session(&RevokedSession::of(&revoked, revoked.expires()))
        .await
        .expect("revokes");
    within(BOUND, || open.check(&revoked).is_err())
        .await
        .expect("propagated");
    let fine = claims_of(&codec, None);

    server.kill();
    within(BOUND, || !closed.is_in_sync() && !open.is_in_sync())
        .await
        .expect("both nodes notice the outage");
    // Fail closed: every session refused, as unavailable (not revoked).
    assert!(matches!(
        closed.check(&fine),
        Err(Error::RevocationUnavailable(_))
    ));
    // Fail open: the replica still answers, revocations included.
    assert!(open.check(&fine).is_ok());
    assert!(matches!(open.check(&revoked), Err(Error::Revoked)));
    // Revoking during the outage fails cleanly, and holds on this node.
    let during = claims_of(&codec, None);
    let e = open
        .revoke_session(&RevokedSession::of(&during, during.expires()))
        .await
        .expect_err("Redis is down");
    assert!(matches!(e, Error::RevocationUnavailable(_)), "{e:?}");
    assert!(matches!(open.check(&during), Err(Error::Revoked)));

    server.restart();
    within(Duration::from_secs(20), || {
        closed.is_in_sync() && open.is_in_sync()
    })
    .await
    .expect("both nodes are back in sync");
    assert!(closed.check(&fine).is_ok());
    // The revocation made during the outage was written back: the other
    // node and a node started now refuse it too.
    within(BOUND, || {
        matches!(closed.check(&during), Err(Error::Revoked))
    })
    .await
    .expect("written back and published after the outage");
    let newcomer = node(&server.url(), Unavailable::FailClosed).await;
    assert!(matches!(newcomer.check(&during), Err(Error::Revoked)));
    // Revocations flow again.
    let after = claims_of(&codec, None);
    open.revoke_session(&RevokedSession::of(&after, after.expires()))
        .await
        .expect("revokes");
    within(BOUND, || {
        matches!(closed.check(&after), Err(Error::Revoked))
    })
    .await
    .expect("propagated after the restart");
    assert!(closed.sync_counts().1 >= 2, "loaded again after the outage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_expire_in_redis_and_a_new_node_loads_the_live_ones() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = node(&server.url(), Unavailable::FailClosed).await;
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let later = OffsetDateTime::now_utc() + time::Duration::days(1);
    let (short, long) = (
        SessionId::from_bytes([1; 16]),
        SessionId::from_bytes([2; 16]),
    );
    a.revoke_session(&RevokedSession::by_id(short, soon))
        .await
        .expect("revokes");
    a.revoke_session(&RevokedSession::by_id(long, later))
        .await
        .expect("revokes");

    let client = redis::Client::open(server.url()).expect("url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let ttl = |id: SessionId| {
        redis::cmd("TTL")
            .arg(format!("sealed-session:s:{id}"))
            .clone()
    };
    let short_ttl: i64 = ttl(short).query_async(&mut connection).await.expect("TTL");
    assert!((0..=2).contains(&short_ttl), "native expiry: {short_ttl}");
    let long_ttl: i64 = ttl(long).query_async(&mut connection).await.expect("TTL");
    assert!(long_ttl > 86_000, "{long_ttl}");

    // A node that starts now loads what is still revoked.
    let b = node(&server.url(), Unavailable::FailClosed).await;
    assert_eq!(b.replica().stats().sessions, 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let gone: i64 = ttl(short).query_async(&mut connection).await.expect("TTL");
    assert_eq!(gone, -2, "the key expired in Redis");
    let c = node(&server.url(), Unavailable::FailClosed).await;
    assert_eq!(c.replica().stats().sessions, 1);
    assert_eq!(b.replica().stats().sessions, 1, "and in the replicas");
    drop(a);
}

/// Subjects are any text: one with spaces and colons reaches the other
/// node intact, and one that looks like a message names only itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_subject_text_reaches_other_nodes_as_itself() {
    let Some((server, a, b, codec)) = two_nodes().await else {
        return;
    };
    let hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let of = |subject: &str| claims_at(&codec, Some(subject), hour_ago);
    let now = OffsetDateTime::now_utc();
    let week = now + time::Duration::days(7);
    let odd = "john smith: admin@example";
    a.revoke_subject(odd, now, week).await.expect("revokes");
    within(BOUND, || matches!(b.check(&of(odd)), Err(Error::Revoked)))
        .await
        .expect("the subject with spaces and colons arrived");
    // A subject crafted to read as another entry revokes only itself.
    let crafted = "victim u 4102444800 4102444800";
    a.revoke_subject(crafted, now, week).await.expect("revokes");
    within(BOUND, || {
        matches!(b.check(&of(crafted)), Err(Error::Revoked))
    })
    .await
    .expect("arrived");
    for node in [&a, &b] {
        assert!(node.check(&of("victim")).is_ok());
    }
    // A node that starts now loads both from Redis.
    let c = node(&server.url(), Unavailable::FailClosed).await;
    assert!(matches!(c.check(&of(odd)), Err(Error::Revoked)));
    assert!(c.check(&of("victim")).is_ok());
}

#[tokio::test]
async fn a_prefix_that_could_mix_keys_is_refused() {
    for prefix in ["", "app:u", "app[1]", "a b"] {
        let e = RedisRevocations::connect(
            "redis://127.0.0.1:1",
            RedisOptions::default().prefix(prefix),
        )
        .await
        .expect_err("refused before connecting");
        assert!(matches!(e, Error::Config(_)), "{prefix:?}: {e:?}");
    }
}

/// Anti-entropy: a Redis restarted without persistence comes back empty,
/// and the nodes that kept their replicas write back what it lost, so a
/// node started afterwards refuses the sessions revoked before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restarted_empty_is_refilled_from_the_replicas() {
    let Some((mut server, a, b, codec)) = two_nodes().await else {
        return;
    };
    let session = claims_of(&codec, Some("dave"));
    a.revoke_session(&RevokedSession::of(&session, session.expires()))
        .await
        .expect("revokes");
    let now = OffsetDateTime::now_utc();
    let carol = claims_at(&codec, Some("carol"), now - time::Duration::hours(1));
    b.revoke_subject("carol", now, now + time::Duration::days(7))
        .await
        .expect("revokes");
    within(BOUND, || {
        a.check(&carol).is_err() && b.check(&session).is_err()
    })
    .await
    .expect("propagated");

    server.kill();
    within(BOUND, || !a.is_in_sync() && !b.is_in_sync())
        .await
        .expect("both nodes notice the outage");
    server.restart(); // no persistence: empty
    within(Duration::from_secs(20), || a.is_in_sync() && b.is_in_sync())
        .await
        .expect("both nodes are back in sync");

    let client = redis::Client::open(server.url()).expect("url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let keys = [
        format!("sealed-session:s:{}", session.session_id()),
        "sealed-session:u:carol".to_owned(),
    ];
    let deadline = Instant::now() + BOUND;
    loop {
        let present: u64 = redis::cmd("EXISTS")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .expect("EXISTS");
        if present == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "written back: {present} of 2");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let newcomer = node(&server.url(), Unavailable::FailClosed).await;
    assert!(matches!(newcomer.check(&session), Err(Error::Revoked)));
    assert!(matches!(newcomer.check(&carol), Err(Error::Revoked)));
    assert!(newcomer.check(&claims_of(&codec, Some("erin"))).is_ok());
}

/// A node that has not heard of a later line (the message is on its way,
/// or it was written while this node was away) never lowers it in Redis:
/// writes merge, the later line and end win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_never_lowers_what_redis_holds() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = node(&server.url(), Unavailable::FailClosed).await;
    let client = redis::Client::open(server.url()).expect("url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (later_line, later_end) = (now + 100, now + 86_400);
    // Written behind `a`'s back: no message, so its replica does not know.
    let _: () = redis::cmd("SET")
        .arg("sealed-session:u:frank")
        .arg(format!("u {later_line} {later_end}"))
        .arg("EXAT")
        .arg(later_end)
        .query_async(&mut connection)
        .await
        .expect("SET");
    let at = |t: i64| OffsetDateTime::from_unix_timestamp(t).expect("time");
    a.revoke_subject("frank", at(now), at(now + 3600))
        .await
        .expect("revokes");
    let value: String = redis::cmd("GET")
        .arg("sealed-session:u:frank")
        .query_async(&mut connection)
        .await
        .expect("GET");
    assert_eq!(value, format!("u {later_line} {later_end}"));
    // The merged line was published: `a` now refuses up to it.
    within(BOUND, || {
        a.refused_through(Some("frank")) == Some(later_line)
    })
    .await
    .expect("the merged line reached the replica");
    // A later line raises it; a longer end lengthens it.
    a.revoke_subject("frank", at(now + 200), at(now + 2 * 86_400))
        .await
        .expect("revokes");
    let value: String = redis::cmd("GET")
        .arg("sealed-session:u:frank")
        .query_async(&mut connection)
        .await
        .expect("GET");
    assert_eq!(value, format!("u {} {}", now + 200, now + 2 * 86_400));
}

/// Revokes `count` sessions and one subject on `node`; their claims.
async fn revoke_some(node: &RedisRevocations, codec: &Codec, count: usize) -> Vec<Claims> {
    let mut revoked = Vec::new();
    for _ in 0..count {
        let claims = claims_of(codec, None);
        node.revoke_session(&RevokedSession::of(&claims, claims.expires()))
            .await
            .expect("revokes");
        revoked.push(claims);
    }
    let now = OffsetDateTime::now_utc();
    let grace = claims_at(codec, Some("grace"), now - time::Duration::hours(1));
    node.revoke_subject("grace", now, now + time::Duration::days(7))
        .await
        .expect("revokes");
    revoked.push(grace);
    revoked
}

fn refuses_all(node: &RedisRevocations, revoked: &[Claims]) -> bool {
    revoked
        .iter()
        .all(|claims| matches!(node.check(claims), Err(Error::Revoked)))
}

/// A Redis Cluster of three primaries: revocations land on the primary of
/// their slot (so on every primary), reach the other node through one
/// subscription, and a node started afterwards loads them from all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_spreads_revocations_and_every_node_refuses_them() {
    let Some(cluster) = RedisCluster::start(3) else {
        return;
    };
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let connect = || RedisRevocations::connect_cluster(&urls, RedisOptions::default());
    let (a, b) = (
        connect().await.expect("connects"),
        connect().await.expect("connects"),
    );
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let revoked = revoke_some(&a, &codec, 60).await;
    assert!(refuses_all(&a, &revoked), "at once on A");
    within(BOUND, || refuses_all(&b, &revoked))
        .await
        .expect("every revocation reached B");
    assert!(b.check(&claims_of(&codec, Some("heidi"))).is_ok());

    let spread = cluster.keys_per_node("sealed-session");
    assert_eq!(spread.iter().sum::<usize>(), 61, "{spread:?}");
    assert!(
        spread.iter().all(|&keys| keys > 0),
        "every primary holds some: {spread:?}"
    );
    let newcomer = connect().await.expect("connects");
    assert_eq!(newcomer.replica().stats().sessions, 60);
    assert_eq!(newcomer.replica().stats().subjects, 1);
    assert!(refuses_all(&newcomer, &revoked));
    assert!(newcomer.is_in_sync());

    // Hung primaries (connections kept, nothing answered): the cluster
    // client has no response timeout of its own, so without the write's
    // deadline a log-out would wait forever. It fails, and says so.
    for node in &cluster.nodes {
        node.pause();
    }
    let claims = claims_of(&codec, None);
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        a.revoke_session(&RevokedSession::of(&claims, claims.expires())),
    )
    .await
    .expect("the write gives up by itself");
    assert!(
        matches!(outcome, Err(Error::RevocationUnavailable(_))),
        "{outcome:?}"
    );
    assert!(a.check(&claims).is_err(), "refused on this node");
}

/// Through Sentinel: the nodes write to the primary it names; after a
/// failover they follow the promoted replica, what was revoked before is
/// still refused, and a revocation made after it reaches the other node
/// and a node started later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_sentinel_revocations_survive_a_failover() {
    let Some(servers) = RedisSentinel::start() else {
        return;
    };
    let sentinels = [servers.sentinel.url()];
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let connect = || {
        RedisRevocations::connect_sentinel(
            &sentinels,
            RedisSentinel::SERVICE,
            "redis://primary",
            RedisOptions::default(),
        )
    };
    let (a, b) = (
        connect().await.expect("connects"),
        connect().await.expect("connects"),
    );
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let before = revoke_some(&a, &codec, 5).await;
    within(BOUND, || refuses_all(&b, &before))
        .await
        .expect("reached B before the failover");
    assert_eq!(servers.primary_port(), servers.primary.port());

    servers.fail_over();
    // Sentinel closes the old primary's connections when it demotes it.
    // If A has not replaced its write connection yet (its health check
    // does within 2 s of silence; a failover here takes longer, so in
    // practice it has), the write fails (A refuses at once anyway) and is
    // written back through the new primary; either way it gets there.
    let after = claims_of(&codec, None);
    if let Err(e) = a
        .revoke_session(&RevokedSession::of(&after, after.expires()))
        .await
    {
        assert!(matches!(e, Error::RevocationUnavailable(_)), "{e:?}");
    }
    assert!(matches!(a.check(&after), Err(Error::Revoked)));
    within(Duration::from_secs(20), || {
        refuses_all(&b, &before) && matches!(b.check(&after), Err(Error::Revoked))
    })
    .await
    .expect("B refuses what was revoked before and after the failover");
    // Written back to the new primary (the health check retries it).
    let mut promoted = redis::Client::open(servers.replica.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let key = format!("sealed-session:s:{}", after.session_id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !redis::cmd("EXISTS")
        .arg(&key)
        .query_async::<bool>(&mut promoted)
        .await
        .expect("EXISTS")
    {
        assert!(
            Instant::now() < deadline,
            "not written back to the new primary"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let newcomer = connect().await.expect("connects to the new primary");
    assert!(refuses_all(&newcomer, &before));
    assert!(matches!(newcomer.check(&after), Err(Error::Revoked)));
    assert!(newcomer.check(&claims_of(&codec, None)).is_ok());
}

/// Revokes `count` bare session ids on `node`, `first` upwards (a few at a
/// time, as busy servers would).
async fn revoke_ids(node: &RedisRevocations, first: u32, count: u32) {
    let until = OffsetDateTime::now_utc() + time::Duration::days(1);
    let mut writes = tokio::task::JoinSet::new();
    for i in first..first + count {
        let mut bytes = [0xa5; 16];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        let write =
            node.revoke_session(&RevokedSession::by_id(SessionId::from_bytes(bytes), until));
        writes.spawn(write);
        if writes.len() >= 32 {
            writes
                .join_next()
                .await
                .expect("a write")
                .expect("joins")
                .expect("revokes");
        }
    }
    while let Some(done) = writes.join_next().await {
        done.expect("joins").expect("revokes");
    }
}

/// Whether the server at `url` holds more keys than the store's first
/// `SCAN` call returns (its cursor is not back to 0).
async fn more_than_a_page(url: &str) -> bool {
    let mut connection = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let (cursor, _): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("MATCH")
        .arg("sealed-session:*")
        .arg("COUNT")
        .arg(1000)
        .query_async(&mut connection)
        .await
        .expect("SCAN");
    cursor != 0
}

/// A node's load walks every page of `SCAN` (1000 keys asked per call):
/// one server holding 2,500 revocations, and a cluster whose every
/// primary holds more than 1,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_node_loads_every_page_of_every_server() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = node(&server.url(), Unavailable::FailClosed).await;
    revoke_ids(&a, 0, 2_500).await;
    assert!(more_than_a_page(&server.url()).await);
    let b = node(&server.url(), Unavailable::FailClosed).await;
    assert_eq!(b.replica().stats().sessions, 2_500);
    drop(server);

    let Some(cluster) = RedisCluster::start(3) else {
        return;
    };
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let connect = || RedisRevocations::connect_cluster(&urls, RedisOptions::default());
    let a = connect().await.expect("connects");
    revoke_ids(&a, 0, 3_600).await;
    let spread = cluster.keys_per_node("sealed-session");
    assert!(spread.iter().all(|&keys| keys > 1_000), "{spread:?}");
    for url in &urls {
        assert!(more_than_a_page(url).await, "{url}");
    }
    let newcomer = connect().await.expect("connects");
    assert_eq!(newcomer.replica().stats().sessions, 3_600);
    assert!(newcomer.is_in_sync());
}

/// A cluster with a replica hung (stopped: it accepts connections and
/// never answers, as a stalled host or a partition looks), then another
/// one down (killed), still takes revocations, on a node that was running
/// and on one that starts meanwhile, and a node started afterwards loads
/// them. A cluster client sends `SCRIPT LOAD` to every node it holds a
/// connection to, replicas included: the store loads the script on the
/// primaries only, best effort and without waiting, and a primary that
/// lacks it (flushed here, as after a restart) gets it with the write
/// (`EVAL`, routed by the key). Before, a write that met `NOSCRIPT` sent
/// `SCRIPT LOAD` to every node and waited on the replicas: the writes
/// after the kill did not finish within the bound, while every node
/// reported itself in sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_a_replica_down_still_takes_revocations() {
    let Some(mut cluster) = RedisCluster::start_with_replicas(3, 1) else {
        return;
    };
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let connect = || RedisRevocations::connect_cluster(&urls, RedisOptions::default());
    let b = connect().await.expect("connects");
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let flush = redis::cmd("SCRIPT").arg("FLUSH").clone();

    cluster.replicas[1][0].pause();
    cluster.on_each_primary(&flush);
    let a = connect().await.expect("connects with a replica hung");
    assert!(a.is_in_sync() && b.is_in_sync());
    let mut all = Vec::new();
    for (from, to) in [(&b, &a), (&a, &b)] {
        let revoked = tokio::time::timeout(BOUND, revoke_some(from, &codec, 20))
            .await
            .expect("the writes finish with a replica hung");
        within(BOUND, || refuses_all(to, &revoked))
            .await
            .expect("every revocation reached the other node");
        all.extend(revoked);
    }

    cluster.replicas[0][0].kill();
    cluster.on_each_primary(&flush);
    for (from, to) in [(&b, &a), (&a, &b)] {
        let revoked = tokio::time::timeout(BOUND, revoke_some(from, &codec, 20))
            .await
            .expect("the writes finish with a replica down");
        within(BOUND, || refuses_all(to, &revoked))
            .await
            .expect("every revocation reached the other node");
        all.extend(revoked);
    }
    let spread = cluster.keys_per_node("sealed-session");
    assert_eq!(spread.iter().sum::<usize>(), 81, "{spread:?}");
    let newcomer = connect().await.expect("connects");
    assert_eq!(newcomer.replica().stats().sessions, 80);
    assert!(refuses_all(&newcomer, &all));
}
