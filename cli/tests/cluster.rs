//! Three app processes on loopback ports share one key ring (a file, then
//! a ring held in Redis, restarted mid-run) while a client loop logs in and
//! counts against random nodes and `sealed-session ring rotate` runs every
//! second on a schedule of seconds (keys seal 6 s, announced 4 s ahead;
//! sessions live 10 s, leeway 1 s). Checked: no session is refused; every
//! response is sealed by the key that seals at that moment; each node drops
//! a retired key when its last session has ended, not before; after `ring
//! revoke`, every node refuses the revoked key's tokens.
//!
//! No harness: the same binary runs as a node (`--node`), so that the test
//! needs no other program than the CLI. The loop is bounded in requests
//! and in time; what it checks does not depend on how fast the machine is,
//! only that a node reads a file within the 4 s activation delay.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealed_session::{KeyId, KeyRing, Lifecycle, StoredRing, UntrustedToken};
use time::OffsetDateTime;

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

const EVERY: &str = "6s";
const DELAY: &str = "4s";
const LIFETIME_S: i64 = 10;
const LEEWAY_S: i64 = 1;
/// How far a node may be from the schedule: its poll (0.1 s), plus the
/// time between reading the clock and sealing on a loaded machine.
const SLACK: time::Duration = time::Duration::seconds(1);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--node") {
        node::run();
        return;
    }
    // `cargo test` passes its own filters and flags: run when nothing
    // filters this test out.
    let filters: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "cluster".contains(f.as_str())) {
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("cluster: test");
        return;
    }
    scenario(Shared::File);
    println!("cluster over a shared file: ok");
    if let Some(server) = redis_server::RedisServer::start() {
        scenario(Shared::Redis(server));
        println!("cluster over Redis, restarted mid-run: ok");
    }
}

enum Shared {
    File,
    Redis(redis_server::RedisServer),
}

fn cli() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("sealed-session"))
}

fn run_cli(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

const KEK_VAR: &str = "CLUSTER_TEST_KEK";
const RING_KEY: &str = "cluster-test:ring";

fn scenario(mut shared: Shared) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    let kek = sealed_session::Key::generate().export_base64();
    run_cli(cli().args(["keygen", "--ring", s(&ring)])).expect("keygen");
    let rotate = |ring: &Path| {
        run_cli(
            cli()
                .args(["ring", "rotate", "--ring", s(ring), "--every", EVERY])
                .args([
                    "--activation-delay",
                    DELAY,
                    "--lifetime",
                    &format!("{LIFETIME_S}s"),
                    "--leeway",
                    &format!("{LEEWAY_S}s"),
                ]),
        )
    };
    let push = |ring: &Path, shared: &Shared| match shared {
        Shared::File => Ok(String::new()),
        Shared::Redis(server) => run_cli(
            cli()
                .args(["ring", "push", "--ring", s(ring), "--redis", &server.url()])
                .args(["--redis-key", RING_KEY, "--kek-env", KEK_VAR])
                .env(KEK_VAR, kek.as_str()),
        ),
    };
    rotate(&ring).expect("first rotation");
    push(&ring, &shared).expect("first push");

    let mut history = History::default();
    history.learn(&ring);
    let logs: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("node-{i}.log")))
        .collect();
    let nodes: Vec<Node> = logs
        .iter()
        .map(|log| Node::start(&ring, &shared, &kek, log))
        .collect();

    let started = Instant::now();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sessions: Vec<Option<Client>> = (0..4).map(|_| None).collect();
    let (mut requests, mut logins, mut refused) = (0u32, 0u32, Vec::new());
    let mut last_rotation = Instant::now();
    let mut last_check = Instant::now();
    let mut restarted = false;
    let mut seen_keys = BTreeMap::<KeyId, u32>::new();
    while started.elapsed() < Duration::from_secs(26) && requests < 50_000 {
        if last_rotation.elapsed() >= Duration::from_secs(1) {
            last_rotation = Instant::now();
            rotate(&ring).expect("rotation");
            history.learn(&ring);
            // Redis may be restarting: the next second's push sends it.
            let _ = push(&ring, &shared);
        }
        if let Shared::Redis(server) = &mut shared
            && !restarted
            && started.elapsed() >= Duration::from_secs(9)
        {
            restarted = true;
            server.kill();
            server.restart();
        }
        if last_check.elapsed() >= Duration::from_secs(2) {
            last_check = Instant::now();
            for node in &nodes {
                history.check_drops(node);
            }
        }
        let slot = usize::try_from(next() % 4).expect("small");
        let node = &nodes[usize::try_from(next() % 3).expect("small")];
        let client = sessions[slot].get_or_insert_with(|| {
            logins += 1;
            Client::default()
        });
        let before = OffsetDateTime::now_utc();
        let (count, token) = node.count(client.token.as_deref());
        let after = OffsetDateTime::now_utc();
        requests += 1;
        if count != client.count + 1 {
            refused.push(format!(
                "node {} answered {count} for a session at {} ({:?} old)",
                node.port,
                client.count,
                client.since.elapsed()
            ));
        }
        let key = UntrustedToken::parse(&token).expect("a token").key_id();
        *seen_keys.entry(key).or_default() += 1;
        history.sealed_in_time(key, before, after);
        client.count = count;
        client.token = Some(token);
        // A paced client: the run spans several rotations, not a burst.
        std::thread::sleep(Duration::from_millis(2));
        // Sessions end (log out, log in again) well within their 10 s.
        if client.since.elapsed() > Duration::from_secs(5) {
            sessions[slot] = None;
        }
    }
    assert!(refused.is_empty(), "sessions refused: {refused:#?}");
    assert!(
        restarted || matches!(shared, Shared::File),
        "Redis restarted mid-run"
    );
    assert!(
        seen_keys.len() >= 4,
        "several rotations: sealed by {seen_keys:?}"
    );
    assert!(
        history.drops_checked >= 3,
        "keys seen dropping: {}",
        history.drops_checked
    );
    println!(
        "{requests} requests, {logins} log-ins, 0 refused, sealed by {} keys, {} drop-outs checked",
        seen_keys.len(),
        history.drops_checked
    );

    // Emergency: the key that seals now is revoked. Once each node has
    // reloaded, none opens a token it sealed.
    let client = sessions.iter().flatten().next().expect("a live session");
    let token = client.token.clone().expect("a token");
    let leaked = UntrustedToken::parse(&token).expect("token").key_id();
    let out = run_cli(cli().args([
        "ring",
        "revoke",
        "--ring",
        s(&ring),
        &leaked.to_string(),
        "--every",
        EVERY,
        "--lifetime",
        &format!("{LIFETIME_S}s"),
        "--leeway",
        &format!("{LEEWAY_S}s"),
    ]))
    .expect("revoke");
    assert!(out.contains(&format!("revoked key {leaked}")), "{out}");
    push(&ring, &shared).expect("push after revoke");
    for node in &nodes {
        wait_for("the revocation on every node", || {
            !node.keys().contains(&leaked)
        });
        let (count, fresh) = node.count(Some(&token));
        assert_eq!(count, 1, "node {} opened a revoked key's token", node.port);
        assert_ne!(
            UntrustedToken::parse(&fresh).expect("token").key_id(),
            leaked
        );
    }
    history.learn(&ring);

    // The nodes logged their reloads, and no key byte: not one secret the
    // ring ever held, nor the key-encryption key, appears in their logs.
    drop(nodes);
    for log in &logs {
        let text = std::fs::read_to_string(log).expect("node log");
        assert!(text.contains("key ring: codec replaced"), "{text}");
        for secret in history.secrets.iter().chain([&kek.to_string()]) {
            assert!(
                !text.contains(&secret[..16]),
                "a secret in {}:\n{text}",
                log.display()
            );
        }
    }
    println!(
        "node logs: {} lines, no secret of {} keys",
        logs.iter()
            .map(|l| std::fs::read_to_string(l).map_or(0, |t| t.lines().count()))
            .sum::<usize>(),
        history.secrets.len()
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One user's session as the client holds it.
struct Client {
    token: Option<String>,
    count: u64,
    since: Instant,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            token: None,
            count: 0,
            since: Instant::now(),
        }
    }
}

/// Every key the file has held, with its lifecycle (rotation removes keys
/// from the file; the test remembers them).
#[derive(Default)]
struct History {
    keys: BTreeMap<KeyId, Lifecycle>,
    /// Every secret the ring held, to look for in the nodes' logs.
    secrets: Vec<String>,
    drops_checked: u32,
}

impl History {
    fn learn(&mut self, ring: &Path) {
        match StoredRing::load(ring).expect("ring") {
            StoredRing::Scheduled(schedule) => {
                for k in schedule.keys() {
                    self.keys.insert(k.id(), *k.lifecycle());
                    let secret = k.key().export_base64().to_string();
                    if !self.secrets.contains(&secret) {
                        self.secrets.push(secret);
                    }
                }
            }
            StoredRing::Fixed(_) => panic!("rotate writes version 2"),
        }
    }

    fn keep() -> time::Duration {
        time::Duration::seconds(LIFETIME_S + LEEWAY_S)
    }

    /// The key that sealed a response is the key that seals, by the
    /// schedule, at some moment of the request (within the slack).
    fn sealed_in_time(&self, key: KeyId, before: OffsetDateTime, after: OffsetDateTime) {
        let life = self
            .keys
            .get(&key)
            .unwrap_or_else(|| panic!("unknown key {key}"));
        let mut t = before - SLACK;
        let mut ok = false;
        while t <= after + SLACK {
            ok |= self.sealing_key_at(t) == Some(key);
            t += time::Duration::milliseconds(100);
        }
        assert!(
            ok,
            "key {key} (activates {}, retires {}) sealed a response between {before} and {after}",
            life.activates(),
            life.retires()
        );
    }

    /// The newest activated, unretired key at `t` (FORMAT.md §12.2).
    fn sealing_key_at(&self, t: OffsetDateTime) -> Option<KeyId> {
        self.keys
            .iter()
            .filter(|(_, l)| l.activates() <= t && t < l.retires())
            .max_by_key(|(_, l)| (l.activates(), l.created()))
            .map(|(id, _)| *id)
    }

    /// A node holds every key that may still open a session, and none past
    /// its drop-out.
    fn check_drops(&mut self, node: &Node) {
        let before = OffsetDateTime::now_utc();
        let held = node.keys();
        let after = OffsetDateTime::now_utc();
        for (id, life) in &self.keys {
            let drops = life.drops_out(Self::keep());
            if drops + SLACK < before {
                assert!(
                    !held.contains(id),
                    "node {} still opens key {id}, dropped at {drops}",
                    node.port
                );
                self.drops_checked += 1;
            } else if after + SLACK < drops && life.activates() < before {
                assert!(
                    held.contains(id),
                    "node {} dropped key {id} before {drops}",
                    node.port
                );
            }
        }
    }
}

/// An app process.
struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn start(ring: &Path, shared: &Shared, kek: &str, log: &Path) -> Self {
        let mut cmd = Command::new(std::env::current_exe().expect("this binary"));
        let log = std::fs::File::create(log).expect("log file");
        cmd.arg("--node").stdout(Stdio::piped()).stderr(log);
        match shared {
            Shared::File => cmd.env("NODE_RING_FILE", ring),
            Shared::Redis(server) => cmd.env("NODE_RING_REDIS", server.url()).env(KEK_VAR, kek),
        };
        let mut child = cmd.spawn().expect("a node starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the node says its port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("node said {line:?}"));
        Self { child, port }
    }

    fn get(&self, path: &str, cookie: Option<&str>) -> (String, Option<String>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        let cookie = cookie.map_or(String::new(), |t| format!("Cookie: session={t}\r\n"));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\n{cookie}Connection: close\r\n\r\n"
        )
        .expect("writes");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("reads");
        let (head, body) = response.split_once("\r\n\r\n").expect("a response");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let token = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie: session="))
            .map(|l| {
                l["set-cookie: session=".len()..]
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .find(|v| !v.is_empty());
        (body.to_owned(), token)
    }

    /// Counts once; the count and the token the response set.
    fn count(&self, token: Option<&str>) -> (u64, String) {
        let (body, set) = self.get("/count", token);
        let count = body
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("body {body:?}"));
        (count, set.expect("a counting response sets the cookie"))
    }

    /// The key ids of the node's codec of the moment.
    fn keys(&self) -> Vec<KeyId> {
        let (body, _) = self.get("/keys", None);
        body.split_whitespace()
            .map(|id| KeyId::from_hex(id).expect("key id"))
            .collect()
    }
}

/// The app: a counter in a session cookie, a layer whose codec follows the
/// ring (a file, or Redis), and `/keys` saying which keys it holds.
mod node {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use sealed_session::axum::{CodecHandle, Session, SessionLayer};
    use sealed_session::{
        Codec, FileRingSource, MemoryRevocations, RedisRingSource, Revocations, RingKek,
        SessionCookie,
    };

    pub(super) fn run() {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("sealed_session=info"))
            .init();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(serve());
    }

    fn build(
        store: Arc<dyn Revocations>,
    ) -> impl Fn(KeyRing) -> Result<Codec, sealed_session::Error> + Send + Sync + 'static {
        move |ring| {
            Codec::builder(ring)
                .max_lifetime(time::Duration::seconds(LIFETIME_S))
                .leeway(time::Duration::seconds(LEEWAY_S))
                .revocations(Arc::clone(&store))
                .build()
        }
    }

    async fn serve() {
        let store: Arc<dyn Revocations> = Arc::new(MemoryRevocations::new());
        let cookie = SessionCookie::builder("session").build().expect("cookie");
        let poll = Duration::from_millis(100);
        let (layer, _follower) = if let Some(path) = std::env::var_os("NODE_RING_FILE") {
            let loaded = FileRingSource::new(PathBuf::from(path))
                .poll_every(poll)
                .load(build(store))
                .expect("the ring file loads");
            let layer = SessionLayer::<u64>::new(loaded.codec().clone(), cookie);
            let handle = layer.codec_handle();
            let follower = loaded.follow(move |c| handle.replace(c)).expect("follows");
            (layer, follower)
        } else {
            let url = std::env::var("NODE_RING_REDIS").expect("NODE_RING_REDIS");
            let kek = RingKek::from_env(KEK_VAR).expect("kek");
            let loaded = RedisRingSource::new(&url, RING_KEY, kek)
                .expect("source")
                .poll_every(poll)
                .load(build(store))
                .await
                .expect("the ring in Redis loads");
            let layer = SessionLayer::<u64>::new(loaded.codec().clone(), cookie);
            let handle = layer.codec_handle();
            let follower = loaded.follow(move |c| handle.replace(c));
            (layer, follower)
        };
        let handle = layer.codec_handle();
        let app: Router = Router::new()
            .route("/count", get(count))
            .route("/keys", get(move || keys(handle.clone())))
            .layer(layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let port = listener.local_addr().expect("address").port();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "port {port}").expect("says its port");
        stdout.flush().expect("flush");
        axum::serve(listener, app).await.expect("serves");
    }

    async fn count(session: Session<u64>) -> String {
        session
            .update_or_insert_with(
                || 0,
                |n| {
                    *n += 1;
                    *n
                },
            )
            .to_string()
    }

    async fn keys(handle: CodecHandle) -> String {
        handle
            .current()
            .key_ring()
            .keys()
            .map(|k| k.id().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
