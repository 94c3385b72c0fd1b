//! Three app processes on loopback ports share one key ring (a file, then
//! a ring held in Redis, restarted mid-run) while a client loop logs in and
//! counts against random nodes and `sealed-session ring rotate` runs
//! whenever the schedule calls for it (keys seal 8 s, announced 6 s ahead;
//! sessions live 10 s, leeway 1 s). Checked: no session is refused that
//! could not have expired; every response is sealed by a key that seals at
//! some moment of its request, or the node catches up; no node seals with a
//! key before its activation, or drops a key before its drop-out; after
//! `ring revoke`, every node refuses the revoked key's tokens.
//!
//! No timing margins: the nodes run on this machine's clock, so each check
//! compares what a node reports with the clock read just before and after
//! asking it; the run is bounded by rotations (it ends once keys have
//! sealed and dropped out on every node), and after each new key the
//! client waits until every node holds it, so a stalled machine makes the
//! run longer, not red.
//!
//! No harness: the same binary runs as a node (`--node`), so that the test
//! needs no other program than the CLI.

use std::collections::{BTreeMap, BTreeSet};
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

const EVERY: &str = "8s";
const DELAY_S: i64 = 6;
const LIFETIME_S: i64 = 10;
const LEEWAY_S: i64 = 1;

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
                    &format!("{DELAY_S}s"),
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
    let mut held: Vec<HeldKeys> = nodes.iter().map(|_| HeldKeys::default()).collect();

    let started = Instant::now();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sessions: Vec<Option<Client>> = (0..4).map(|_| None).collect();
    let (mut requests, mut logins, mut refused, mut expired) = (0u32, 0u32, Vec::new(), 0u32);
    let mut stale = 0u32;
    let mut rotations = 0u32;
    let mut restarted = false;
    let mut seen_keys = BTreeMap::<KeyId, u32>::new();
    // Bounded by rotations, not by time: the run ends once keys have
    // sealed and dropped out on every node, however slow the machine.
    // (The time bound only stops a hung run.)
    while seen_keys.len() < 4 || history.dropped_everywhere(&held) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the run hung: {rotations} rotations, sealed by {seen_keys:?}"
        );
        if history.rotation_due() {
            let before = history.keys.len();
            rotate(&ring).expect("rotation");
            rotations += 1;
            history.learn(&ring);
            if history.keys.len() > before {
                // Redis restarts empty mid-run, at the second new key.
                if let Shared::Redis(server) = &mut shared
                    && !restarted
                    && rotations >= 2
                {
                    restarted = true;
                    server.kill();
                    server.restart();
                }
                wait_for("the push", || push(&ring, &shared).is_ok());
                // Every node holds the new key before any request: that is
                // what the activation delay is for, and on a stalled
                // machine the test waits for it rather than assuming it.
                let file = StoredRing::load(&ring).expect("ring");
                for (node, held) in nodes.iter().zip(&mut held) {
                    wait_for("every node holding the new key", || {
                        let (keys, after) = held.observe(node, &history);
                        file_keys_opening_after(&file, after)
                            .iter()
                            .all(|k| keys.contains(k))
                    });
                }
            }
        }
        let slot = usize::try_from(next() % 4).expect("small");
        let i = usize::try_from(next() % 3).expect("small");
        let node = &nodes[i];
        let client = sessions[slot].get_or_insert_with(|| {
            logins += 1;
            Client::default()
        });
        let (before, (count, token), after) = timed(|| node.count(client.token.as_deref()));
        requests += 1;
        if count != client.count + 1 {
            // Refused: a defect unless the session could have expired
            // (created no earlier than the start of its log-in request).
            if after < client.since + time::Duration::seconds(LIFETIME_S) {
                refused.push(format!(
                    "node {} answered {count} for a session at {}, logged in at {}, request ended {after}",
                    node.port, client.count, client.since
                ));
            } else {
                expired += 1;
            }
            *client = Client::default();
            client.since = before;
        }
        let key = UntrustedToken::parse(&token).expect("a token").key_id();
        *seen_keys.entry(key).or_default() += 1;
        if !history.sealed_no_earlier_than_its_activation(key, after) {
            refused.push(format!("key {key} sealed before it activated ({after})"));
        }
        client.count = count;
        client.token = Some(token);
        if !history.sealing_at_some_point(key, before, after) {
            // The node had not applied a change yet (a late tick on a
            // loaded machine): allowed, as long as it catches up. The
            // session ends: its key is out of the schedule.
            stale += 1;
            sessions[slot] = None;
            wait_for("the node to seal with the key of the moment", || {
                let (b, primary, a) = timed(|| node.primary());
                [b, a]
                    .iter()
                    .any(|&t| history.sealing_key_at(t) == Some(primary))
            });
        }
        held[i].observe(node, &history);
        // Sessions end (log out, log in again) well within their lifetime.
        if sessions[slot].as_ref().is_some_and(|c| {
            OffsetDateTime::now_utc() - c.since > time::Duration::seconds(LIFETIME_S / 2)
        }) {
            sessions[slot] = None;
        }
        // A paced client: the run spans several rotations, not a burst.
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(refused.is_empty(), "sessions refused: {refused:#?}");
    assert!(
        restarted || matches!(shared, Shared::File),
        "Redis restarted mid-run"
    );
    println!(
        "{requests} requests, {logins} log-ins, 0 refused ({expired} expired on a stalled run), \
         {stale} stale responses caught up, {rotations} rotations, sealed by {} keys, \
         {} drop-outs seen on every node",
        seen_keys.len(),
        history.dropped_everywhere(&held)
    );

    // Emergency: the key that seals now is revoked. Once each node has
    // reloaded, none opens a token it sealed.
    let token = sessions
        .iter()
        .flatten()
        .find_map(|c| c.token.clone())
        .unwrap_or_else(|| nodes[0].count(None).1);
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
            for form in leak_forms(secret) {
                assert!(
                    !text.contains(&form),
                    "a secret ({form}) in {}:\n{text}",
                    log.display()
                );
            }
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

/// How a secret (base64url) could show in a log: its first 16 characters
/// of base64, its first 16 bytes in hex (either case), or the start of its
/// bytes as `Debug` prints them.
fn leak_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(secret)
        .expect("a secret is base64url");
    let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let debug = format!("{:?}", &bytes[..8]);
    vec![
        secret[..16].to_owned(),
        hex.to_uppercase(),
        hex,
        debug.trim_end_matches(']').to_owned(),
    ]
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    // Only a guard against a hang: nothing here is expected to take long.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "waited 120 s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One user's session as the client holds it.
struct Client {
    token: Option<String>,
    count: u64,
    /// Read before its log-in request: the session was created no earlier.
    since: OffsetDateTime,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            token: None,
            count: 0,
            since: OffsetDateTime::now_utc(),
        }
    }
}

/// What `f` returns, with the clock read just before and just after: the
/// nodes run on this machine's clock, so whatever a node did during `f` it
/// did between the two (no slack needed).
fn timed<T>(f: impl FnOnce() -> T) -> (OffsetDateTime, T, OffsetDateTime) {
    let before = OffsetDateTime::now_utc();
    let value = f();
    (before, value, OffsetDateTime::now_utc())
}

/// The keys of the file that may still open a token after `at`.
fn file_keys_opening_after(file: &StoredRing, at: OffsetDateTime) -> Vec<KeyId> {
    let StoredRing::Scheduled(schedule) = file else {
        panic!("rotate writes version 2")
    };
    schedule
        .keys()
        .iter()
        .filter(|k| k.lifecycle().drops_out(History::keep()) > at)
        .map(|k| k.id())
        .collect()
}

/// The keys a node was seen holding, and those it was seen drop.
#[derive(Default)]
struct HeldKeys {
    held: BTreeSet<KeyId>,
    dropped: BTreeSet<KeyId>,
}

impl HeldKeys {
    /// Asks the node which keys it holds; a key it held before and holds no
    /// longer must have passed its drop-out by the time it answered (its
    /// clock is ours). Returns the keys and when the answer came.
    fn observe(&mut self, node: &Node, history: &History) -> (Vec<KeyId>, OffsetDateTime) {
        let (_, keys, after) = timed(|| node.keys());
        for gone in self.held.iter().filter(|k| !keys.contains(k)) {
            let drops = history.keys[gone].drops_out(History::keep());
            assert!(
                drops <= after,
                "node {} dropped key {gone} before {drops} (answered at {after})",
                node.port
            );
            self.dropped.insert(*gone);
        }
        self.held = keys.iter().copied().collect();
        (keys, after)
    }
}

/// Every key the file has held, with its lifecycle (rotation removes keys
/// from the file; the test remembers them).
#[derive(Default)]
struct History {
    keys: BTreeMap<KeyId, Lifecycle>,
    /// The keys of the file as last read.
    in_file: BTreeSet<KeyId>,
    /// Every secret the ring held, to look for in the nodes' logs.
    secrets: Vec<String>,
}

impl History {
    fn learn(&mut self, ring: &Path) {
        match StoredRing::load(ring).expect("ring") {
            StoredRing::Scheduled(schedule) => {
                self.in_file = schedule.keys().iter().map(|k| k.id()).collect();
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

    /// Whether `ring rotate` has something to do now: the next key is due
    /// (within the activation delay of the last retirement), a key has
    /// dropped out, or nothing seals.
    fn rotation_due(&self) -> bool {
        let now = OffsetDateTime::now_utc();
        let in_file = self.in_file.iter().map(|id| self.keys[id]);
        let horizon = in_file.clone().map(|l| l.retires()).max();
        horizon.is_none_or(|h| h - now <= time::Duration::seconds(DELAY_S))
            || in_file.clone().any(|l| l.drops_out(Self::keep()) <= now)
            || self.sealing_key_at(now).is_none()
    }

    /// A node seals only with a key whose activation has passed on its
    /// clock, which is ours.
    fn sealed_no_earlier_than_its_activation(&self, key: KeyId, after: OffsetDateTime) -> bool {
        self.keys.get(&key).is_some_and(|l| l.activates() <= after)
    }

    /// Whether `key` sealed, by the schedule, at some moment between
    /// `before` and `after` (it changes only at activations and
    /// retirements, so those and the two ends are the moments to try).
    fn sealing_at_some_point(
        &self,
        key: KeyId,
        before: OffsetDateTime,
        after: OffsetDateTime,
    ) -> bool {
        let changes = self
            .keys
            .values()
            .flat_map(|l| [l.activates(), l.retires()])
            .filter(|t| (before..=after).contains(t));
        [before, after]
            .into_iter()
            .chain(changes)
            .any(|t| self.sealing_key_at(t) == Some(key))
    }

    /// The newest activated, unretired key at `t` (FORMAT.md §12.2).
    fn sealing_key_at(&self, t: OffsetDateTime) -> Option<KeyId> {
        self.keys
            .iter()
            .filter(|(_, l)| l.activates() <= t && t < l.retires())
            .max_by_key(|(_, l)| (l.activates(), l.created()))
            .map(|(id, _)| *id)
    }

    /// How many keys every node was seen drop at their drop-out.
    fn dropped_everywhere(&self, held: &[HeldKeys]) -> usize {
        self.keys
            .keys()
            .filter(|id| held.iter().all(|h| h.dropped.contains(id)))
            .count()
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
    fn primary(&self) -> KeyId {
        let (body, _) = self.get("/keys", None);
        body.split_whitespace()
            .next()
            .and_then(KeyId::from_hex)
            .expect("a primary key id")
    }

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
