//! Where the revocations live: one Redis server, the primary that Sentinel
//! names, or a Redis Cluster. Each gives the store the same three things:
//! a command connection (writes, loads, health checks), a subscription to
//! the channel, and a scan of every key under the prefix.
//!
//! In a cluster a key's merge runs on the primary of its slot, which
//! publishes the result: classic pub/sub is broadcast over the cluster
//! bus, so one subscription on any node hears every revocation. A scan
//! walks every primary, each with its own cursor; a `MGET` of keys of
//! several slots is split by slot by the client.

use redis::RedisResult;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, IntoConnectionInfo as _, Pipeline, RedisFuture, Value};

/// The servers a store talks to.
pub(super) enum Servers {
    One(redis::Client),
    /// Asked for the current primary at every (re)connection, so that a
    /// failover is followed at the next error.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
    Cluster {
        client: redis::cluster::ClusterClient,
        /// The nodes given, tried in turn for the subscription.
        nodes: Vec<redis::Client>,
    },
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Their URLs may hold passwords: only the kind is printed.
        match self {
            Self::One(_) => f.write_str("One"),
            Self::Sentinel(_) => f.write_str("Sentinel"),
            Self::Cluster { nodes, .. } => write!(f, "Cluster({} nodes given)", nodes.len()),
        }
    }
}

/// A command connection to any of them (both kinds are multiplexed, and
/// clones share them).
#[derive(Clone)]
pub(super) enum Connection {
    One(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::One(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::One(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::One(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl Connection {
    /// Loads `script` where merges run: the server, or every primary of a
    /// cluster. Not the `redis` crate's `Script::load_async`, whose
    /// `SCRIPT LOAD` a cluster client sends to every node, replicas
    /// included: it fails while a replica is down, and waits as long as a
    /// hung one does, for a script no replica ever runs.
    pub(super) async fn load_script(&mut self, script: &str) -> RedisResult<()> {
        let mut load = redis::cmd("SCRIPT");
        load.arg("LOAD").arg(script);
        match self {
            Self::One(c) => load.query_async(c).await,
            Self::Cluster(c) => {
                let primaries = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                c.route_command(load, primaries).await.map(|_| ())
            }
        }
    }
}

impl Servers {
    pub(super) fn one(url: &str) -> RedisResult<Self> {
        redis::Client::open(url).map(Self::One)
    }

    pub(super) fn cluster(nodes: &[&str]) -> RedisResult<Self> {
        if nodes.is_empty() {
            return Err((
                redis::ErrorKind::InvalidClientConfig,
                "a cluster needs at least one node",
            )
                .into());
        }
        let client = redis::cluster::ClusterClient::new(nodes.iter().copied())?;
        let nodes = nodes
            .iter()
            .map(|url| redis::Client::open(*url))
            .collect::<RedisResult<_>>()?;
        Ok(Self::Cluster { client, nodes })
    }

    pub(super) fn sentinel(sentinels: &[&str], service: &str, primary: &str) -> RedisResult<Self> {
        // The credentials and database of the servers Sentinel names.
        let primary = primary.into_connection_info()?;
        let node = SentinelNodeConnectionInfo::default()
            .set_redis_connection_info(primary.redis_settings().clone());
        let client = SentinelClient::build(
            sentinels.to_vec(),
            service.to_owned(),
            Some(node),
            SentinelServerType::Master,
        )?;
        Ok(Self::Sentinel(tokio::sync::Mutex::new(client)))
    }

    /// The client of one server: the only one, or the primary Sentinel
    /// names now.
    async fn server(&self) -> RedisResult<redis::Client> {
        match self {
            Self::One(client) => Ok(client.clone()),
            Self::Sentinel(sentinel) => sentinel.lock().await.async_get_client().await,
            Self::Cluster { nodes, .. } => Ok(nodes.first().cloned().ok_or_else(|| {
                redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "no node"))
            })?),
        }
    }

    /// A new command connection.
    pub(super) async fn connect(&self) -> RedisResult<Connection> {
        match self {
            Self::Cluster { client, .. } => {
                client.get_async_connection().await.map(Connection::Cluster)
            }
            _ => {
                let client = self.server().await?;
                client
                    .get_multiplexed_async_connection()
                    .await
                    .map(Connection::One)
            }
        }
    }

    /// A subscription to `channel`: on the server, or on the first node
    /// of the cluster that answers.
    pub(super) async fn subscribe(&self, channel: &str) -> RedisResult<redis::aio::PubSub> {
        let subscribe = |client: redis::Client| async move {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok(pubsub)
        };
        match self {
            Self::Cluster { nodes, .. } => {
                let mut last = None;
                for node in nodes {
                    match subscribe(node.clone()).await {
                        Ok(pubsub) => return Ok(pubsub),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last
                    .unwrap_or_else(|| (redis::ErrorKind::InvalidClientConfig, "no node").into()))
            }
            _ => subscribe(self.server().await?).await,
        }
    }
}

/// The keys matching a pattern, a page at a time, on every primary.
pub(super) struct Scan {
    pattern: String,
    /// Where to ask next: the node (`None`: the connection's only server)
    /// and its cursor.
    cursors: Vec<(Option<(String, u16)>, u64)>,
    /// Pages received but not handed out yet.
    pages: Vec<Vec<Vec<u8>>>,
    /// A cluster's primaries are found by the first page.
    started: bool,
}

/// What one `SCAN` call returns: the next cursor (0 at the end) and keys.
type Page = (u64, Vec<Vec<u8>>);

/// Keys asked for per `SCAN` call.
const PAGE: u32 = 1000;

impl Scan {
    pub(super) fn new(pattern: String) -> Self {
        Self {
            pattern,
            cursors: Vec::new(),
            pages: Vec::new(),
            started: false,
        }
    }

    fn command(&self, cursor: u64) -> Cmd {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(PAGE);
        cmd
    }

    /// The next page of keys (bytes: a key that is not UTF-8 is not ours,
    /// and is skipped by the caller), or `None` once every server has
    /// been walked.
    pub(super) async fn next(
        &mut self,
        connection: &mut Connection,
    ) -> RedisResult<Option<Vec<Vec<u8>>>> {
        if !self.started {
            self.started = true;
            match connection {
                Connection::One(_) => self.cursors.push((None, 0)),
                Connection::Cluster(cluster) => {
                    // The first page of every primary, keyed by its address.
                    let every = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                    let pages: Vec<(String, Page)> = redis::from_redis_value(
                        cluster.route_command(self.command(0), every).await?,
                    )?;
                    for (address, (next, keys)) in pages {
                        self.pages.push(keys);
                        if next != 0 {
                            self.cursors.push((Some(parse_address(&address)?), next));
                        }
                    }
                }
            }
        }
        loop {
            if let Some(page) = self.pages.pop() {
                return Ok(Some(page));
            }
            let Some((node, cursor)) = self.cursors.pop() else {
                return Ok(None);
            };
            let command = self.command(cursor);
            let (next, keys): Page = match (&mut *connection, &node) {
                (Connection::One(c), _) => command.query_async(c).await?,
                (Connection::Cluster(c), Some((host, port))) => {
                    let on = SingleNodeRoutingInfo::ByAddress {
                        host: host.clone(),
                        port: *port,
                    };
                    redis::from_redis_value(
                        c.route_command(command, RoutingInfo::SingleNode(on))
                            .await?,
                    )?
                }
                (Connection::Cluster(_), None) => return Ok(None),
            };
            if next != 0 {
                self.cursors.push((node, next));
            }
            self.pages.push(keys);
        }
    }
}

/// `host:port` as the cluster client names a node (IPv6 hosts hold colons).
fn parse_address(address: &str) -> RedisResult<(String, u16)> {
    address
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)))
        .ok_or_else(|| {
            (
                redis::ErrorKind::Parse,
                "a cluster node address without a port",
            )
                .into()
        })
}
