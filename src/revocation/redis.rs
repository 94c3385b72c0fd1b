//! The cluster store: revocations written to Redis with native expiry
//! (`SET ... EXAT`), published on a channel, and replicated into every
//! node's [`MemoryRevocations`], which is what a check reads. A check
//! never waits on the network; a revocation reaches the other nodes as
//! fast as Redis pub/sub delivers it.
//!
//! Each node's sync task subscribes first, then loads every entry with
//! `SCAN`, so no revocation falls between the two. While the subscription
//! is down the replica may miss revocations, and checks follow the
//! configured [`Unavailable`] policy until the task has subscribed and
//! loaded again.
//!
//! Writes merge (a Lua script): a key keeps the later line and the later
//! end of what it held and what is written, so that no node, however
//! late it heard of a revocation, lowers what Redis holds. After a reload
//! a node whose replica holds more than Redis gave (Redis restarted
//! empty, or lost keys) writes its entries back the same way
//! (anti-entropy), and Redis publishes the ones it lacked.
//!
//! The servers may be one Redis, a Redis Cluster, or a primary that
//! Sentinel names (`redis/servers.rs`): the store's logic is the same for each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::Error;
use crate::ids::SessionId;

use super::memory::{Folded, Held, MemoryRevocations};
use super::{Revocations, RevokedSession, Revoking};

mod servers;

use servers::{Connection, Scan, Servers};

/// What checks do while this node's replica may be missing revocations
/// (Redis unreachable, or the subscription lost and not yet reloaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unavailable {
    /// Refuse every session ([`Error::RevocationUnavailable`]): nobody is
    /// let in on a revoked session, and users are logged out (without
    /// losing their cookie) until Redis is back. The default.
    #[default]
    FailClosed,
    /// Check the replica as it is: a revocation made elsewhere during the
    /// outage is missed until Redis is back.
    FailOpen,
}

/// Settings of a [`RedisRevocations`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisOptions {
    prefix: String,
    unavailable: Unavailable,
    capacity: u64,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "sealed-session".to_owned(),
            unavailable: Unavailable::FailClosed,
            capacity: super::memory::DEFAULT_CAPACITY,
        }
    }
}

impl RedisOptions {
    /// Every key and the channel start with `prefix` (default
    /// `"sealed-session"`; ASCII letters, digits, `-`, `_`, `.`): apps
    /// sharing one Redis server use different prefixes, whatever database
    /// they select (pub/sub channels are shared by every database).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// What checks do while Redis is unreachable (default: fail closed).
    pub fn when_unavailable(mut self, policy: Unavailable) -> Self {
        self.unavailable = policy;
        self
    }

    /// The most entries of each kind the local replica keeps.
    pub fn capacity(mut self, entries: u64) -> Self {
        self.capacity = entries;
        self
    }
}

/// Revocations shared by every node of a cluster through Redis.
///
/// A revocation costs one `SET` and one `PUBLISH`; a check reads the local
/// replica only. Built inside a Tokio runtime, whose task keeps the replica
/// in sync until the store is dropped.
///
/// ```no_run
/// use std::sync::Arc;
/// use sealed_session::{Codec, Key, KeyRing, RedisOptions, RedisRevocations, Unavailable};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sealed_session::Error> {
/// let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
/// let options = RedisOptions::default()
///     .prefix("shop")
///     .when_unavailable(Unavailable::FailClosed);
/// let store = Arc::new(RedisRevocations::connect(&url, options).await?);
/// assert!(store.is_in_sync());
/// let codec = Codec::builder(KeyRing::new(Key::generate()))
///     .revocations(store)
///     .build()?;
/// # let _ = codec;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRevocations {
    inner: Arc<Inner>,
}

struct Inner {
    servers: Servers,
    /// The connection revocations are written on, opened at first use and
    /// again after an error (a multiplexed connection is shared by clones).
    writer: tokio::sync::Mutex<Option<Connection>>,
    replica: MemoryRevocations,
    options: RedisOptions,
    channel: String,
    /// The replica has every revocation (subscribed, then loaded).
    in_sync: AtomicBool,
    /// Revocations received from other nodes (and this one) on the channel.
    received: AtomicU64,
    /// Times the replica was loaded from Redis.
    loads: AtomicU64,
    /// Revocations this node made that Redis did not record (it was
    /// unreachable): written back once it answers again.
    unwritten: std::sync::Mutex<Vec<Entry>>,
    /// More were unwritten than are kept: the whole replica is written
    /// back instead.
    write_back_all: AtomicBool,
}

/// Unwritten revocations kept one by one (about 100 bytes each); past
/// that, the whole replica is written back when Redis answers.
const MAX_UNWRITTEN: usize = 10_000;

/// Merges in flight when the replica is written back (one at a time
/// would take a round trip each; a cluster cannot pipeline keys of
/// several slots).
const WRITE_BACK_IN_FLIGHT: usize = 64;

/// Merges an entry into its key. `KEYS[1]`: the key; `ARGV`: the kind
/// (`s` or `u`), the value's two numbers (a session's `created` may be
/// empty), the channel. The later of each number wins (a session's end and
/// creation bound; a subject's line and end), so a write never lowers what
/// Redis holds. The result is published if the key changed or if it is
/// not what was sent (the writer, and any node as far behind, learn the
/// later line). Returns 1 if the key changed, 0 if it held as much already.
const MERGE: &str = r"
local key, kind, channel = KEYS[1], ARGV[1], ARGV[4]
local a, b = tonumber(ARGV[2]), tonumber(ARGV[3])
local function format(a, b)
  if kind == 'u' then return string.format('u %d %d', a, b) end
  if b then return string.format('s %d %d', a, b) end
  return string.format('s %d', a)
end
local sent = format(a, b)
local old = redis.call('GET', key)
if old then
  local k, oa, ob = string.match(old, '^(%a) (%-?%d+) ?(%-?%d*)$')
  oa, ob = tonumber(oa), tonumber(ob)
  if k == kind and oa then
    if oa > a then a = oa end
    if ob and (b == nil or ob > b) then b = ob end
  end
end
local value, ends = format(a, b), a
if kind == 'u' then ends = b end
if ends == nil or ends <= 0 then return 0 end
if value ~= sent or value ~= old then
  redis.call('PUBLISH', channel, value .. ' ' .. key)
end
if value == old then return 0 end
redis.call('SET', key, value, 'EXAT', string.format('%d', ends))
return 1
";

static MERGE_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(MERGE));

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("RedisRevocations")
            .field("servers", &self.inner.servers)
            .field("prefix", &self.inner.options.prefix)
            .field("in_sync", &self.is_in_sync())
            .field("replica", &self.inner.replica)
            .finish_non_exhaustive()
    }
}

/// A revocation as it travels on the channel and sits in a key's value.
/// The value is `s <until> [<created>]` or `u <not_before> <until>` (the
/// merge script writes it); a channel message is the value, whose fields
/// have a fixed count, then the key, which may hold spaces (a subject is
/// any text).
#[derive(Clone)]
enum Entry {
    Session {
        id: SessionId,
        /// Unknown for an operator's revocation of a bare id.
        created: Option<i64>,
        until: i64,
    },
    Subject {
        subject: String,
        not_before: i64,
        until: i64,
    },
}

impl Entry {
    /// Whether `replica` refuses what this entry refuses by holding it (a
    /// session by its id, a subject by a line at least as late), so that
    /// writing the replica back writes this entry or a later one.
    fn held_by(&self, replica: &MemoryRevocations) -> bool {
        match self {
            Self::Session { id, created, .. } => replica.holds_session(*id, *created),
            Self::Subject {
                subject,
                not_before,
                ..
            } => replica
                .refused_through_subject(subject)
                .is_some_and(|line| line >= *not_before),
        }
    }

    /// The merge script's arguments: the kind and the value's numbers.
    fn merge_args(&self) -> (&'static str, i64, Option<i64>) {
        match self {
            Self::Session { until, created, .. } => ("s", *until, *created),
            Self::Subject {
                not_before, until, ..
            } => ("u", *not_before, Some(*until)),
        }
    }

    /// The key: the session id in hex, or the subject as it is (Redis keys
    /// are binary-safe).
    fn key(&self, prefix: &str) -> String {
        match self {
            Self::Session { id, .. } => format!("{prefix}:s:{id}"),
            Self::Subject { subject, .. } => format!("{prefix}:u:{subject}"),
        }
    }

    /// Reads a channel message back.
    fn parse_message(prefix: &str, message: &str) -> Option<Self> {
        let fields = match message.as_bytes().first()? {
            // `s <until> <created>` or, without a creation time, `s <until>`.
            b's' if message.split(' ').nth(2).is_some_and(|f| !f.contains(':')) => 3,
            b's' => 2,
            b'u' => 3,
            _ => return None,
        };
        let mut parts = message.splitn(fields + 1, ' ');
        let value: Vec<&str> = parts.by_ref().take(fields).collect();
        let key = parts.next()?;
        Self::parse(prefix, key, &value.join(" "))
    }

    /// Reads a key and its value back.
    fn parse(prefix: &str, key: &str, value: &str) -> Option<Self> {
        let rest = key.strip_prefix(prefix)?.strip_prefix(':')?;
        let mut numbers = value.split(' ');
        let kind = numbers.next()?;
        let number = |field: Option<&str>| field?.parse::<i64>().ok();
        match (rest.split_once(':')?, kind) {
            (("s", id), "s") => {
                let until = number(numbers.next())?;
                let created = match numbers.next() {
                    None => None,
                    created => Some(number(created)?),
                };
                Some(Self::Session {
                    id: SessionId::from_hex(id)?,
                    created,
                    until,
                })
            }
            (("u", subject), "u") => Some(Self::Subject {
                subject: subject.to_owned(),
                not_before: number(numbers.next())?,
                until: number(numbers.next())?,
            }),
            _ => None,
        }
    }

    /// Applies an entry another node (or Redis) holds. Never folded here:
    /// the node that revoked a session folded it already if it had to.
    fn apply(&self, replica: &MemoryRevocations) {
        match self {
            Self::Session { id, created, until } => {
                if let Err(e) = replica.insert_session(*id, None, *created, *until) {
                    tracing::error!(error = %e, "revocations: the replica refused an entry");
                }
            }
            Self::Subject {
                subject,
                not_before,
                until,
            } => {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                replica.insert_subject(subject, *not_before, *until, now);
            }
        }
    }
}

/// Longest wait between two attempts to reach Redis again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A quiet subscription is checked this often: a Redis that vanished
/// without closing the connection (a partition, a crashed host) sends
/// nothing, so silence alone proves nothing.
const HEALTH_CHECK: Duration = Duration::from_secs(2);
/// How long subscribing and loading, or a health check, may take.
const DEADLINE: Duration = Duration::from_secs(5);

impl RedisRevocations {
    /// Connects to Redis at `url` (`redis://[:password@]host:port[/db]`),
    /// subscribes and loads every revocation before it returns, and keeps
    /// the replica in sync from a task of the current Tokio runtime.
    ///
    /// # Errors
    /// [`Error::RevocationUnavailable`] if the URL is invalid or Redis
    /// cannot be reached now.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, Error> {
        Self::start(Servers::one(url).map_err(unavailable)?, options).await
    }

    /// Connects to a Redis Cluster through any of its `nodes` (URLs as
    /// for [`connect`](Self::connect); give several, so that one node down
    /// at start is not a failed start). Each revocation is merged on the
    /// primary of its key's slot; the replica is loaded from every
    /// primary; one subscription, on the first node that answers, hears
    /// every revocation (pub/sub is broadcast to the whole cluster).
    ///
    /// While any primary is unreachable (until the cluster has failed
    /// over), the replica counts as out of sync and checks follow the
    /// [`Unavailable`] policy.
    ///
    /// # Errors
    /// [`Error::RevocationUnavailable`] if a URL is invalid or the cluster
    /// cannot be reached now.
    pub async fn connect_cluster(nodes: &[&str], options: RedisOptions) -> Result<Self, Error> {
        Self::start(Servers::cluster(nodes).map_err(unavailable)?, options).await
    }

    /// Connects to the primary that the Sentinels at `sentinels`
    /// (`redis://host:26379`, with the sentinels' own credentials) name
    /// for `service`, and follows it through failovers: every reconnection
    /// asks them again. `primary` holds the credentials and database of
    /// the servers they name, as a URL whose host is not used
    /// (`redis://:password@primary/0`, or `redis://primary` without).
    ///
    /// # Errors
    /// [`Error::RevocationUnavailable`] if a URL is invalid, or no
    /// sentinel names a reachable primary now.
    pub async fn connect_sentinel(
        sentinels: &[&str],
        service: &str,
        primary: &str,
        options: RedisOptions,
    ) -> Result<Self, Error> {
        Self::start(
            Servers::sentinel(sentinels, service, primary).map_err(unavailable)?,
            options,
        )
        .await
    }

    async fn start(servers: Servers, options: RedisOptions) -> Result<Self, Error> {
        let valid = !options.prefix.is_empty()
            && options
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(crate::error::ConfigError::RedisPrefix.into());
        }
        let inner = Arc::new(Inner {
            servers,
            writer: tokio::sync::Mutex::new(None),
            replica: MemoryRevocations::with_capacity(options.capacity),
            channel: format!("{}:revocations", options.prefix),
            options,
            in_sync: AtomicBool::new(false),
            received: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            unwritten: std::sync::Mutex::new(Vec::new()),
            write_back_all: AtomicBool::new(false),
        });
        let (messages, _) = tokio::time::timeout(DEADLINE, subscribe_and_load(&inner))
            .await
            .map_err(|_| Error::RevocationUnavailable("redis: timed out".to_owned()))??;
        tokio::spawn(keep_in_sync(Arc::downgrade(&inner), messages));
        Ok(Self { inner })
    }

    /// True when the replica holds every revocation.
    pub fn is_in_sync(&self) -> bool {
        self.inner.in_sync.load(Ordering::Acquire)
    }

    /// The local replica (its [`stats`](MemoryRevocations::stats) say how
    /// many entries this node holds).
    pub fn replica(&self) -> &MemoryRevocations {
        &self.inner.replica
    }

    /// Revocations received on the channel so far, and loads of the whole
    /// set from Redis (one at start, one after each outage).
    pub fn sync_counts(&self) -> (u64, u64) {
        (
            self.inner.received.load(Ordering::Relaxed),
            self.inner.loads.load(Ordering::Relaxed),
        )
    }

    /// Writes and publishes an entry the replica holds already.
    fn write(&self, entry: Entry) -> Revoking {
        let inner = Arc::clone(&self.inner);
        // Spawned, so that a request dropped half-way (a client that goes
        // away) never cancels a log-out's write.
        let task = tokio::spawn(async move {
            // Bounded: a server that accepts the connection but never
            // answers (a hung primary) fails the log-out within the
            // deadline instead of holding it, and the handler, forever.
            let attempt = async {
                let mut connection = inner.writer().await?;
                write(&inner, &entry, &mut connection).await
            };
            let written = match tokio::time::timeout(DEADLINE, attempt).await {
                Ok(written) => written,
                Err(_) => Err(Error::RevocationUnavailable(format!(
                    "Redis did not answer the revocation write within {} s",
                    DEADLINE.as_secs()
                ))),
            };
            if written.is_err() {
                // The next revocation connects again.
                *inner.writer.lock().await = None;
                // Refused by this node already; written back when Redis is
                // back, so that other nodes and new ones refuse it too.
                inner.keep_unwritten(entry);
            }
            written.map(|_| ())
        });
        Box::pin(async move {
            task.await.unwrap_or_else(|e| {
                Err(Error::RevocationUnavailable(format!(
                    "the revocation write did not finish: {e}"
                )))
            })
        })
    }
}

impl Inner {
    /// Whether some revocation of this node may be missing from Redis.
    fn has_unwritten(&self) -> bool {
        self.write_back_all.load(Ordering::Acquire)
            || !self
                .unwritten
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_empty()
    }

    /// Keeps `entry` to write back, within bounds: past [`MAX_UNWRITTEN`],
    /// entries the replica holds are dropped (writing the whole replica
    /// back covers them) and the whole replica will be; one the replica
    /// does not hold (refused here only by its floor, which is not shared)
    /// is kept, up to four times the bound.
    fn keep_unwritten(&self, entry: Entry) {
        let mut unwritten = self
            .unwritten
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        unwritten.push(entry);
        if unwritten.len() <= MAX_UNWRITTEN {
            return;
        }
        self.write_back_all.store(true, Ordering::Release);
        unwritten.retain(|entry| !entry.held_by(&self.replica));
        if unwritten.len() > 4 * MAX_UNWRITTEN {
            let dropped = unwritten.len() - 4 * MAX_UNWRITTEN;
            unwritten.drain(..dropped);
            tracing::error!(
                dropped,
                "revocations: Redis is unreachable and this node's store is full; the oldest \
                 revocations it refuses only under its floor will not reach other nodes"
            );
        }
    }

    /// The shared write connection, opened if there is none.
    async fn writer(&self) -> Result<Connection, Error> {
        let mut writer = self.writer.lock().await;
        if let Some(connection) = writer.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self.servers.connect().await.map_err(unavailable)?;
        // Loaded beside the first revocation, which then usually takes one
        // round trip (EVALSHA), not two (EVALSHA, EVAL). Best effort, and
        // never waited for: a server that lacks the script, or a load that
        // fails or hangs (a primary down or unreachable), costs a write
        // only the EVAL that sends it (`write`).
        let mut loading = connection.clone();
        tokio::spawn(async move {
            let load = tokio::time::timeout(DEADLINE, loading.load_script(MERGE));
            match load.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(
                    error = %e,
                    "revocations: the merge script is not loaded everywhere; writes send it where it is missing"
                ),
                Err(_) => tracing::debug!(
                    "revocations: loading the merge script timed out; writes send it where it is missing"
                ),
            }
        });
        *writer = Some(connection.clone());
        Ok(connection)
    }
}

/// Merges `entry` into its key (and publishes it if Redis lacked it), in
/// one round trip: whether the key changed.
///
/// `EVALSHA` first; a server that lacks the script (`NOSCRIPT`: restarted,
/// flushed, or missed by the best-effort load) gets it whole in an `EVAL`,
/// routed by the key as `EVALSHA` is, which also caches it there. Not the
/// `redis` crate's `ScriptInvocation::invoke_async`, whose answer to
/// `NOSCRIPT` is `SCRIPT LOAD` then `EVALSHA`: a cluster client sends
/// `SCRIPT LOAD` to every node, replicas included, so one replica down or
/// hung would fail or stall every write to a primary that lacks the
/// script.
async fn write(inner: &Inner, entry: &Entry, connection: &mut Connection) -> Result<bool, Error> {
    let (kind, a, b) = entry.merge_args();
    let key = entry.key(&inner.options.prefix);
    let b = b.map_or_else(String::new, |b| b.to_string());
    let merge = |command: &str, script: &str| {
        let mut cmd = redis::cmd(command);
        cmd.arg(script)
            .arg(1)
            .arg(&key)
            .arg(kind)
            .arg(a)
            .arg(&b)
            .arg(&inner.channel);
        cmd
    };
    let changed: i64 = match merge("EVALSHA", MERGE_SCRIPT.get_hash())
        .query_async(connection)
        .await
    {
        Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
            merge("EVAL", MERGE).query_async(connection).await
        }
        result => result,
    }
    .map_err(unavailable)?;
    Ok(changed == 1)
}

/// Merges every entry of the replica into Redis, many at a time: what
/// Redis lacked is set and published. The number of entries Redis lacked.
async fn write_back_replica(inner: &Inner) -> Result<u64, Error> {
    let Held { sessions, subjects } = inner.replica.held();
    let entries = sessions
        .into_iter()
        .map(|(id, created, until)| Entry::Session { id, created, until })
        .chain(
            subjects
                .into_iter()
                .map(|(subject, not_before, until)| Entry::Subject {
                    subject,
                    not_before,
                    until,
                }),
        );
    let connection = inner.writer().await?;
    let mut merges = futures_util::stream::iter(entries)
        .map(|entry| {
            let mut connection = connection.clone();
            async move { write(inner, &entry, &mut connection).await }
        })
        .buffer_unordered(WRITE_BACK_IN_FLIGHT);
    let mut lacked = 0;
    while let Some(changed) = merges.next().await {
        lacked += u64::from(changed?);
    }
    Ok(lacked)
}

fn unavailable(e: redis::RedisError) -> Error {
    // redis-rs never puts the password of a URL in its errors.
    Error::RevocationUnavailable(format!("redis: {e}"))
}

/// Subscribes, then loads every entry (so that none falls between the
/// two), and marks the replica in sync; the stream, and how many entries
/// Redis held.
async fn subscribe_and_load(inner: &Inner) -> Result<(redis::aio::PubSubStream, u64), Error> {
    let pubsub = inner
        .servers
        .subscribe(&inner.channel)
        .await
        .map_err(unavailable)?;
    let messages = pubsub.into_on_message();

    let mut connection = inner.servers.connect().await.map_err(unavailable)?;
    let prefix = &inner.options.prefix;
    let mut scan = Scan::new(format!("{prefix}:*"));
    let mut loaded = 0u64;
    // Bytes: a key or value that is not UTF-8 (not ours) is skipped,
    // never a failed load.
    while let Some(keys) = scan.next(&mut connection).await.map_err(unavailable)? {
        if !keys.is_empty() {
            let values: Vec<Option<Vec<u8>>> = connection.mget(&keys).await.map_err(unavailable)?;
            for (key, value) in keys.iter().zip(values) {
                // A key that expired between SCAN and MGET reads as nil.
                let (Ok(key), Some(Ok(value))) = (
                    std::str::from_utf8(key),
                    value.as_deref().map(std::str::from_utf8),
                ) else {
                    continue;
                };
                if let Some(entry) = Entry::parse(prefix, key, value) {
                    entry.apply(&inner.replica);
                    loaded += 1;
                }
            }
        }
    }
    inner.loads.fetch_add(1, Ordering::Relaxed);
    inner.in_sync.store(true, Ordering::Release);
    Ok((messages, loaded))
}

/// Applies what the channel brings; when the connection drops, marks the
/// replica out of sync and reaches Redis again with backoff. Ends when the
/// store is dropped.
async fn keep_in_sync(inner: Weak<Inner>, mut messages: redis::aio::PubSubStream) {
    let mut backoff = Duration::from_millis(50);
    let mut flushed = tokio::time::Instant::now();
    loop {
        // Wait for a message, checking now and then that the store lives.
        let next = tokio::time::timeout(HEALTH_CHECK, messages.next()).await;
        let Some(store) = inner.upgrade() else {
            return;
        };
        match next {
            Err(_) if healthy(&store).await => {
                // Writes that failed while the subscription held.
                write_back(&store, None).await;
                flushed = tokio::time::Instant::now();
                continue;
            }
            Err(_) => {}
            Ok(Some(message)) => {
                let payload: String = message.get_payload().unwrap_or_default();
                let prefix = &store.options.prefix;
                if let Some(entry) = Entry::parse_message(prefix, &payload) {
                    entry.apply(&store.replica);
                    store.received.fetch_add(1, Ordering::Relaxed);
                }
                // A busy channel never goes quiet for a health check: the
                // failed writes are retried on the same schedule anyway.
                if flushed.elapsed() >= HEALTH_CHECK && store.has_unwritten() {
                    write_back(&store, None).await;
                    flushed = tokio::time::Instant::now();
                }
                continue;
            }
            Ok(None) => {}
        }
        // The subscription is gone: revocations may be missed from now on.
        store.in_sync.store(false, Ordering::Release);
        tracing::error!(
            policy = ?store.options.unavailable,
            "revocations: lost the Redis subscription; {}",
            match store.options.unavailable {
                Unavailable::FailClosed => "refusing every session until it is back",
                Unavailable::FailOpen => "checking the local replica only until it is back",
            }
        );
        loop {
            tokio::time::sleep(backoff).await;
            let attempt = tokio::time::timeout(DEADLINE, subscribe_and_load(&store)).await;
            match attempt.unwrap_or_else(|_| {
                Err(Error::RevocationUnavailable("redis: timed out".to_owned()))
            }) {
                Ok((stream, loaded)) => {
                    messages = stream;
                    backoff = Duration::from_millis(50);
                    write_back(&store, Some(loaded)).await;
                    tracing::warn!("revocations: Redis is back; the replica is loaded and in sync");
                    break;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "revocations: Redis still unreachable");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    if Arc::strong_count(&store) == 1 {
                        return;
                    }
                }
            }
        }
    }
}

/// Writes back what Redis may lack: the revocations this node could not
/// write, or, after a load of `loaded` entries that is smaller than the
/// replica (Redis restarted empty, or lost keys) or after too many
/// failed writes, the whole replica. What fails again waits for the next
/// health check or load.
async fn write_back(inner: &Inner, loaded: Option<u64>) {
    let held = || {
        let stats = inner.replica.stats();
        stats.sessions + stats.subjects
    };
    let whole = inner.write_back_all.swap(false, Ordering::AcqRel)
        || loaded.is_some_and(|loaded| held() > loaded);
    let entries = std::mem::take(
        &mut *inner
            .unwritten
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if whole {
        match write_back_replica(inner).await {
            Ok(lacked) => tracing::warn!(
                lacked,
                held = held(),
                loaded,
                "revocations: wrote the replica back to Redis, which lacked some of it"
            ),
            Err(e) => {
                inner.write_back_all.store(true, Ordering::Release);
                tracing::debug!(error = %e, "revocations: cannot write the replica back yet");
            }
        }
        // Then the unwritten entries: the replica may not hold them all (a
        // session refused here only by the floor).
    }
    if entries.is_empty() {
        return;
    }
    let count = entries.len();
    let mut failed = Vec::new();
    match inner.writer().await {
        Ok(mut connection) => {
            for entry in entries {
                if write(inner, &entry, &mut connection).await.is_err() {
                    failed.push(entry);
                }
            }
        }
        Err(_) => failed = entries,
    }
    let left = failed.len();
    for entry in failed {
        inner.keep_unwritten(entry);
    }
    tracing::warn!(
        written = count - left,
        left,
        "revocations: wrote back to Redis the revocations made while it was unreachable"
    );
}

/// Whether Redis answers a PING within the deadline (on the write
/// connection: a partition that cuts one cuts the other).
async fn healthy(inner: &Inner) -> bool {
    let ping = async {
        let mut connection = inner.writer().await?;
        redis::cmd("PING")
            .query_async::<()>(&mut connection)
            .await
            .map_err(unavailable)
    };
    match tokio::time::timeout(DEADLINE, ping).await {
        Ok(Ok(())) => true,
        _ => {
            *inner.writer.lock().await = None;
            false
        }
    }
}

impl Revocations for RedisRevocations {
    fn check(&self, claims: &Claims) -> Result<(), Error> {
        if !self.is_in_sync() && self.inner.options.unavailable == Unavailable::FailClosed {
            return Err(Error::RevocationUnavailable(
                "the revocation replica is out of sync with Redis".to_owned(),
            ));
        }
        self.inner.replica.check(claims)
    }

    fn revoke_session(&self, session: &RevokedSession) -> Revoking {
        let created = session.created.map(OffsetDateTime::unix_timestamp);
        let until = session.until.unix_timestamp();
        // This node refuses at once, whatever Redis says; past a few
        // sessions of one subject, what is shared is the subject's line.
        let folded = self.inner.replica.insert_session(
            session.id,
            session.subject.as_deref(),
            created,
            until,
        );
        match (folded, &session.subject) {
            (Err(e), _) => Box::pin(std::future::ready(Err(e))),
            // The line as the replica holds it (never lower than one
            // already in Redis from this node).
            (Ok(Folded::Into { not_before, until }), Some(subject)) => self.write(Entry::Subject {
                subject: subject.clone(),
                not_before,
                until,
            }),
            (Ok(_), _) => self.write(Entry::Session {
                id: session.id,
                created,
                until,
            }),
        }
    }

    fn revoke_subject(
        &self,
        subject: &str,
        not_before: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Revoking {
        // The resulting line, not the one asked for: a plain SET must never
        // lower what Redis holds.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let (not_before, until) = self.inner.replica.insert_subject(
            subject,
            not_before.unix_timestamp(),
            until.unix_timestamp(),
            now,
        );
        self.write(Entry::Subject {
            subject: subject.to_owned(),
            not_before,
            until,
        })
    }

    fn refused_through(&self, subject: Option<&str>) -> Option<i64> {
        self.inner.replica.refused_through_unix(subject)
    }

    fn folds_next(&self, subject: &str) -> bool {
        // This node's count: each node folds what it revokes.
        self.inner.replica.folds_next(subject)
    }
}
