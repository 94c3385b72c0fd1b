//! A key ring held in Redis (FORMAT.md §12.4): one key holds the ring's
//! text sealed under the nodes' key-encryption key; a writer publishes
//! the key's name on `<key>:changed`. Each node subscribes to hear of a
//! change at once and reads the key again every poll besides (a missed
//! message, a restart of Redis). A Redis that lost the key (restarted
//! without persistence) gets the last ring a node held written back, so one
//! restart loses nothing.
//!
//! Every write is a compare-and-set on the ring's generation (a Lua script:
//! the generation is in clear at the head of the sealed value, and bound
//! in its associated data): a publish never replaces a newer ring, a
//! write-back replaces only an absent or older one, and nodes refuse an
//! older ring than the one they hold, so a replayed value or a stale node
//! cannot bring a revoked key back (FORMAT.md §12.4).

use std::sync::Arc;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use time::OffsetDateTime;
use tokio::time::timeout;

use crate::codec::Codec;
use crate::error::Error;
use crate::key::KeyRing;

use super::apply::{Applier, Build};
use super::follower::{RingFollower, Running};
use super::kek::RingKek;

/// How long one round trip may take before the source counts Redis as
/// unreachable for this poll.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Writes `ARGV[1]` to `KEYS[1]` and publishes the key's name on `ARGV[2]`
/// unless the value held has a higher generation (`ARGV[3]` = `"newer"`:
/// unless it has a higher or equal one). A value of layout `0x02` carries
/// its generation as bytes 2 to 9, big-endian; any other counts as 0.
/// Returns 1 if written, else the 8 bytes of the generation held.
const COMPARE_AND_SET: &str = r"
local function generation(v)
  if string.byte(v, 1) == 2 and string.len(v) >= 9 then return string.sub(v, 2, 9) end
  return string.rep(string.char(0), 8)
end
local held = redis.call('GET', KEYS[1])
if held then
  local a, b = generation(held), generation(ARGV[1])
  local order = 0
  for i = 1, 8 do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      if x < y then order = -1 else order = 1 end
      break
    end
  end
  if order > 0 or (order == 0 and ARGV[3] == 'newer') then return a end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], KEYS[1])
return 1
";

/// What [`COMPARE_AND_SET`] did.
enum Written {
    Yes,
    /// Not written: Redis holds this generation.
    Held(u64),
}

async fn compare_and_set(
    connection: &mut redis::aio::MultiplexedConnection,
    key: &str,
    channel: &str,
    sealed: &[u8],
    only_newer: bool,
) -> Result<Written, redis::RedisError> {
    let answer: redis::Value = redis::Script::new(COMPARE_AND_SET)
        .key(key)
        .arg(sealed)
        .arg(channel)
        .arg(if only_newer { "newer" } else { "not older" })
        .invoke_async(connection)
        .await?;
    Ok(match answer {
        redis::Value::BulkString(held) => {
            Written::Held(<[u8; 8]>::try_from(held.as_slice()).map_or(0, u64::from_be_bytes))
        }
        _ => Written::Yes,
    })
}

/// A key ring held in Redis, sealed under a [`RingKek`]: written with
/// [`RedisRingSource::publish`] (or `sealed-session ring push`), followed
/// by every node.
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), sealed_session::Error> {
/// use sealed_session::{Codec, RedisRingSource, RingKek};
/// let kek = RingKek::from_env("SESSION_RING_KEK")?;
/// let source = RedisRingSource::new("redis://127.0.0.1/", "myapp:ring", kek)?;
/// let loaded = source.load(|ring| Codec::builder(ring).build()).await?;
/// let codec = loaded.codec().clone(); // build the layer with it, then:
/// let follower = loaded.follow(move |next| { let _ = next; Ok(()) }); // handle.replace(next)
/// # drop((codec, follower));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisRingSource {
    client: redis::Client,
    key: String,
    kek: RingKek,
    poll: std::time::Duration,
}

impl std::fmt::Debug for RedisRingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRingSource")
            .field("key", &self.key)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl RedisRingSource {
    /// The ring in the Redis key `key` of the server at `url`, sealed under
    /// `kek`; read again every second (and at once when a change is
    /// published).
    ///
    /// # Errors
    /// [`Error::KeySource`] if the URL does not parse (redis-rs never puts
    /// a URL's password in its errors).
    pub fn new(url: &str, key: &str, kek: RingKek) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| Error::KeySource {
            source: format!("redis key {key}"),
            reason: e.to_string(),
        })?;
        Ok(Self {
            client,
            key: key.to_owned(),
            kek,
            poll: std::time::Duration::from_secs(1),
        })
    }

    /// How often the key is read again besides the published changes.
    #[must_use]
    pub fn poll_every(mut self, poll: std::time::Duration) -> Self {
        self.poll = poll;
        self
    }

    fn channel(&self) -> String {
        format!("{}:changed", self.key)
    }

    fn unreadable(&self, reason: impl std::fmt::Display) -> Error {
        Error::KeySource {
            source: format!("redis key {}", self.key),
            reason: reason.to_string(),
        }
    }

    /// Seals a ring's text (a key-ring file of either version) under its
    /// generation and stores it, then publishes the change: what an
    /// operator's rotation does. A ring of a lower generation than the one
    /// Redis holds is refused (compare-and-set): an old file pushed again
    /// would bring revoked keys back.
    ///
    /// # Errors
    /// The text's own parse error (nothing is written);
    /// [`RotationError::RolledBack`](crate::RotationError::RolledBack) if
    /// Redis holds a newer ring; [`Error::KeySource`] if Redis cannot be
    /// reached.
    pub async fn publish(&self, text: &str) -> Result<(), Error> {
        let offered = crate::rotation::StoredRing::parse(text)?.generation();
        let sealed = self.kek.seal(text.as_bytes(), &self.key, offered)?;
        let mut connection = self.connect().await?;
        let channel = self.channel();
        let write = compare_and_set(&mut connection, &self.key, &channel, &sealed, false);
        match timeout(DEADLINE, write)
            .await
            .map_err(|_| self.unreadable("no answer within 5 s"))?
            .map_err(|e| self.unreadable(e))?
        {
            Written::Yes => Ok(()),
            Written::Held(held) => {
                Err(crate::error::RotationError::RolledBack { held, offered }.into())
            }
        }
    }

    /// The ring's text as stored, opened (`None` if the key is absent).
    ///
    /// # Errors
    /// [`Error::KeySource`] if Redis cannot be reached;
    /// [`RotationError::SealedRing`](crate::RotationError::SealedRing) if
    /// the value does not open under this source's key-encryption key.
    pub async fn fetch(&self) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
        let mut connection = self.connect().await?;
        match self.read(&mut connection).await? {
            Some(sealed) => self.kek.open(&sealed, &self.key).map(|o| Some(o.text)),
            None => Ok(None),
        }
    }

    async fn connect(&self) -> Result<redis::aio::MultiplexedConnection, Error> {
        timeout(DEADLINE, self.client.get_multiplexed_async_connection())
            .await
            .map_err(|_| self.unreadable("no answer within 5 s"))?
            .map_err(|e| self.unreadable(e))
    }

    async fn read(
        &self,
        connection: &mut redis::aio::MultiplexedConnection,
    ) -> Result<Option<Vec<u8>>, Error> {
        timeout(DEADLINE, connection.get::<_, Option<Vec<u8>>>(&self.key))
            .await
            .map_err(|_| self.unreadable("no answer within 5 s"))?
            .map_err(|e| self.unreadable(e))
    }

    /// Reads the ring and builds the first codec with `build`.
    ///
    /// # Errors
    /// As [`RedisRingSource::fetch`]; [`Error::KeySource`] if the key is
    /// absent; then as [`FileRingSource::load`](crate::FileRingSource::load).
    pub async fn load<B>(self, build: B) -> Result<LoadedRedisRing, Error>
    where
        B: Fn(KeyRing) -> Result<Codec, Error> + Send + Sync + 'static,
    {
        let mut connection = self.connect().await?;
        let sealed = self
            .read(&mut connection)
            .await?
            .ok_or_else(|| self.unreadable("the key is absent: publish a ring first"))?;
        let text = self.kek.open(&sealed, &self.key)?.text;
        let build: Build = Arc::new(build);
        let what = format!("redis key {}", self.key);
        let (applier, codec) = Applier::start(what, &text, build, OffsetDateTime::now_utc())?;
        Ok(LoadedRedisRing {
            source: self,
            applier,
            codec,
            sealed,
        })
    }
}

/// A ring read once from Redis, with its first codec.
pub struct LoadedRedisRing {
    source: RedisRingSource,
    applier: Applier,
    codec: Codec,
    /// The sealed value of the ring in use, to write back to a Redis that
    /// lost it.
    sealed: Vec<u8>,
}

impl std::fmt::Debug for LoadedRedisRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRedisRing")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl LoadedRedisRing {
    /// The codec of the ring as read, for the app to start with.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Follows the key from a task on the current tokio runtime until the
    /// returned [`RingFollower`] is dropped, as
    /// [`LoadedRing::follow`](crate::LoadedRing::follow) does for a file.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn follow<S>(self, sink: S) -> RingFollower
    where
        S: Fn(Codec) -> Result<(), Error> + Send + Sync + 'static,
    {
        let Self {
            source,
            mut applier,
            codec: _,
            sealed,
        } = self;
        applier.follow(Arc::new(sink));
        let counters = applier.counters();
        let (running, alive) = Running::start();
        let task = tokio::spawn(async move {
            let _running = running;
            watch(source, applier, sealed).await;
        });
        RingFollower::new(counters, alive, move || task.abort())
    }
}

async fn watch(source: RedisRingSource, mut applier: Applier, mut sealed: Vec<u8>) {
    let mut messages: Option<redis::aio::PubSubStream> = None;
    let mut connection: Option<redis::aio::MultiplexedConnection> = None;
    loop {
        if messages.is_none() {
            messages = subscribe(&source).await;
        }
        let now = OffsetDateTime::now_utc();
        let wait = applier
            .next_change(now)
            .and_then(|at| std::time::Duration::try_from(at - now).ok())
            .map_or(source.poll, |until| until.min(source.poll));
        match messages.as_mut() {
            Some(stream) => {
                tokio::select! {
                    message = stream.next() => if message.is_none() { messages = None },
                    () = tokio::time::sleep(wait) => {}
                }
            }
            None => tokio::time::sleep(wait).await,
        }
        let now = OffsetDateTime::now_utc();
        if connection.is_none() {
            connection = source.connect().await.ok();
        }
        let Some(conn) = connection.as_mut() else {
            applier.unreadable("Redis is unreachable", now);
            continue;
        };
        match source.read(conn).await {
            Ok(Some(value)) => match source.kek.open(&value, &source.key) {
                // The generation the value's head carries (what the Lua
                // compare-and-set reads) must be the ring's own: a value
                // sealed with another would wedge the compare-and-set.
                Ok(opened) if !generation_agrees(&opened) => applier.unreadable(
                    "the sealed ring's generation is not the one its text states",
                    now,
                ),
                Ok(opened) => {
                    if applier.offer(&opened.text, now) {
                        sealed = value;
                    } else if opened.generation < applier.generation() {
                        // An older ring (a stale node's write-back, a
                        // replayed value): the newer one goes back.
                        write_back(&source, conn, &sealed).await;
                    }
                }
                Err(e) => applier.unreadable(&e.to_string(), now),
            },
            Ok(None) => {
                if !write_back(&source, conn, &sealed).await {
                    applier.unreadable("the key is absent", now);
                }
            }
            Err(e) => {
                connection = None;
                applier.unreadable(&e.to_string(), now);
            }
        }
    }
}

async fn subscribe(source: &RedisRingSource) -> Option<redis::aio::PubSubStream> {
    let attempt = async {
        let mut pubsub = source.client.get_async_pubsub().await?;
        pubsub.subscribe(source.channel()).await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    timeout(DEADLINE, attempt).await.ok()?.ok()
}

/// Redis lost the ring (restarted empty) or holds an older one: the ring
/// this node holds goes back, unless Redis holds one at least as new
/// (another node or an operator wrote it meanwhile). Whether Redis holds a
/// ring again.
async fn write_back(
    source: &RedisRingSource,
    connection: &mut redis::aio::MultiplexedConnection,
    sealed: &[u8],
) -> bool {
    let channel = source.channel();
    let write = compare_and_set(connection, &source.key, &channel, sealed, true);
    match timeout(DEADLINE, write).await {
        Ok(Ok(Written::Yes)) => {
            tracing::warn!(
                source = %format!("redis key {}", source.key),
                "key ring: Redis had lost the ring or held an older one; wrote back the one in use"
            );
            true
        }
        // Another node wrote it back first, or a newer ring is there.
        Ok(Ok(Written::Held(_))) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "key ring: write-back failed");
            false
        }
        Err(_) => false,
    }
}

/// Whether an opened value's generation is its ring text's `generation`
/// line (0 when the text has none, as in values sealed before it).
fn generation_agrees(opened: &super::kek::OpenedRing) -> bool {
    std::str::from_utf8(&opened.text)
        .ok()
        .and_then(|text| crate::rotation::StoredRing::parse(text).ok())
        .is_some_and(|ring| ring.generation() == opened.generation)
}
