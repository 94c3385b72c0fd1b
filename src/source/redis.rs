//! A key ring held in Redis (FORMAT.md §12.4): one key holds the ring's
//! text sealed under the nodes' key-encryption key; a writer publishes
//! the key's name on `<key>:changed`. Each node subscribes to hear of a
//! change at once and reads the key again every poll besides (a missed
//! message, a restart of Redis). A Redis that lost the key (restarted
//! without persistence) gets the last ring a node held written back
//! (`SET NX`), so one restart loses nothing.

use std::sync::Arc;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use time::OffsetDateTime;
use tokio::time::timeout;

use crate::codec::Codec;
use crate::error::Error;
use crate::key::KeyRing;

use super::apply::{Applier, Build};
use super::follower::RingFollower;
use super::kek::RingKek;

/// How long one round trip may take before the source counts Redis as
/// unreachable for this poll.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

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

    /// Seals a ring's text (a key-ring file of either version) and stores
    /// it, then publishes the change: what an operator's rotation does.
    ///
    /// # Errors
    /// The text's own parse error (nothing is written), or
    /// [`Error::KeySource`] if Redis cannot be reached.
    pub async fn publish(&self, text: &str) -> Result<(), Error> {
        crate::rotation::StoredRing::parse(text)?;
        let sealed = self.kek.seal(text.as_bytes(), &self.key);
        let mut connection = self.connect().await?;
        let write = async {
            let () = connection.set(&self.key, sealed).await?;
            let _: i64 = connection.publish(self.channel(), &self.key).await?;
            Ok::<(), redis::RedisError>(())
        };
        timeout(DEADLINE, write)
            .await
            .map_err(|_| self.unreadable("no answer within 5 s"))?
            .map_err(|e| self.unreadable(e))
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
            Some(sealed) => self.kek.open(&sealed, &self.key).map(Some),
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
        let text = self.kek.open(&sealed, &self.key)?;
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
        let task = tokio::spawn(watch(source, applier, sealed));
        RingFollower::new(counters, move || task.abort())
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
                Ok(text) => {
                    if applier.offer(&text, now) {
                        sealed = value;
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

/// Redis lost the ring (restarted empty): the last one this node held goes
/// back, unless another node or an operator wrote one meanwhile (`NX`).
/// Whether Redis holds a ring again.
async fn write_back(
    source: &RedisRingSource,
    connection: &mut redis::aio::MultiplexedConnection,
    sealed: &[u8],
) -> bool {
    let write = async {
        let written: bool = redis::cmd("SET")
            .arg(&source.key)
            .arg(sealed)
            .arg("NX")
            .query_async::<Option<String>>(connection)
            .await?
            .is_some();
        if written {
            let _: i64 = connection.publish(source.channel(), &source.key).await?;
        }
        Ok::<bool, redis::RedisError>(written)
    };
    match timeout(DEADLINE, write).await {
        Ok(Ok(true)) => {
            tracing::warn!(
                source = %format!("redis key {}", source.key),
                "key ring: Redis had lost the ring; wrote back the one in use"
            );
            true
        }
        // Another node wrote it back first.
        Ok(Ok(false)) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "key ring: write-back failed");
            false
        }
        Err(_) => false,
    }
}
