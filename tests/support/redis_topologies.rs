//! A Redis Cluster and a Sentinel-watched primary for tests, built from
//! `redis-server` processes on free loopback ports (stopped when dropped),
//! with their files in a fresh directory of their own.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::redis_server::RedisServer;

/// A directory for one topology's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(kind: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("sealed-session-{kind}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn connection(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|c| c.get_connection())
        .expect("connects to a test server")
}

/// Waits up to 30 s for `done`, which asks the servers how they stand.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis Cluster, the slots split evenly between its primaries, each
/// primary with the same number of replicas.
pub(crate) struct RedisCluster {
    /// The primaries, in slot order.
    pub(crate) nodes: Vec<RedisServer>,
    /// The replicas, `replicas[i]` of `nodes[i]`.
    pub(crate) replicas: Vec<Vec<RedisServer>>,
    _files: Scratch,
}

fn cluster_node(files: &Scratch) -> Option<RedisServer> {
    RedisServer::start_with(|port| {
        vec![
            "--cluster-enabled".into(),
            "yes".into(),
            "--cluster-config-file".into(),
            files.path(&format!("nodes-{port}.conf")),
            "--dir".into(),
            files.path(""),
        ]
    })
}

fn node_id(port: u16) -> String {
    redis::cmd("CLUSTER")
        .arg("MYID")
        .query(&mut connection(port))
        .expect("CLUSTER MYID")
}

impl RedisCluster {
    /// `None` (after one line) without redis-server.
    pub(crate) fn start(primaries: u16) -> Option<Self> {
        Self::start_with_replicas(primaries, 0)
    }

    /// With `replicas` replicas of each primary, in sync before it returns.
    pub(crate) fn start_with_replicas(primaries: u16, replicas: u16) -> Option<Self> {
        let files = Scratch::new("cluster");
        let mut nodes = Vec::new();
        for _ in 0..primaries {
            nodes.push(cluster_node(&files)?);
        }
        let mut copies = Vec::new();
        for _ in 0..primaries {
            let mut of_one = Vec::new();
            for _ in 0..replicas {
                of_one.push(cluster_node(&files)?);
            }
            copies.push(of_one);
        }
        let slots = 16384 / primaries;
        for (i, node) in (0u16..).zip(&nodes) {
            let last = if i + 1 == primaries {
                16383
            } else {
                (i + 1) * slots - 1
            };
            redis::cmd("CLUSTER")
                .arg("ADDSLOTSRANGE")
                .arg(i * slots)
                .arg(last)
                .exec(&mut connection(node.port()))
                .expect("assigns slots");
        }
        let mut first = connection(nodes[0].port());
        for node in nodes[1..].iter().chain(copies.iter().flatten()) {
            redis::cmd("CLUSTER")
                .arg("MEET")
                .arg("127.0.0.1")
                .arg(node.port())
                .exec(&mut first)
                .expect("meets");
        }
        let total = usize::from(primaries) * (1 + usize::from(replicas));
        let all = || nodes.iter().chain(copies.iter().flatten());
        wait_for("every node to know every other", || {
            all().all(|node| {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut connection(node.port()))
                    .unwrap_or_default();
                info.contains(&format!("cluster_known_nodes:{total}\r"))
            })
        });
        for (primary, of_one) in nodes.iter().zip(&copies) {
            let id = node_id(primary.port());
            for replica in of_one {
                // Refused until the replica has heard of the primary's id.
                wait_for("a replica to follow its primary", || {
                    redis::cmd("CLUSTER")
                        .arg("REPLICATE")
                        .arg(&id)
                        .exec(&mut connection(replica.port()))
                        .is_ok()
                });
            }
        }
        wait_for("the cluster to agree and the replicas to sync", || {
            all().all(|node| {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut connection(node.port()))
                    .unwrap_or_default();
                info.contains("cluster_state:ok")
            }) && copies.iter().flatten().all(|replica| {
                let role: String = redis::cmd("INFO")
                    .arg("replication")
                    .query(&mut connection(replica.port()))
                    .unwrap_or_default();
                role.contains("master_link_status:up")
            })
        });
        // `CLUSTER SLOTS`, where clients learn the topology, lists a
        // replica only once its replication offset is past 0: a write
        // (replicated, and a no-op on an empty primary) moves it.
        for node in &nodes {
            redis::cmd("FLUSHALL")
                .exec(&mut connection(node.port()))
                .expect("FLUSHALL");
        }
        wait_for("every node to list every replica to clients", || {
            nodes.iter().all(|node| {
                let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
                    .arg("SLOTS")
                    .query(&mut connection(node.port()))
                    .unwrap_or_default();
                // Start, end, the primary, then its replicas.
                slots.len() == usize::from(primaries)
                    && slots
                        .iter()
                        .all(|range| range.len() == 3 + usize::from(replicas))
            })
        });
        Some(Self {
            nodes,
            replicas: copies,
            _files: files,
        })
    }

    /// Runs `command` on each primary.
    pub(crate) fn on_each_primary(&self, command: &redis::Cmd) {
        for node in &self.nodes {
            command
                .exec(&mut connection(node.port()))
                .expect("a primary answers");
        }
    }

    pub(crate) fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Keys under `prefix` held by each node.
    pub(crate) fn keys_per_node(&self, prefix: &str) -> Vec<usize> {
        self.nodes
            .iter()
            .map(|node| {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}:*"))
                    .query(&mut connection(node.port()))
                    .expect("lists keys");
                keys.len()
            })
            .collect()
    }
}

/// A primary, its replica, and one Sentinel watching them as `service`.
pub(crate) struct RedisSentinel {
    pub(crate) primary: RedisServer,
    pub(crate) replica: RedisServer,
    pub(crate) sentinel: RedisServer,
    _files: Scratch,
}

impl RedisSentinel {
    pub(crate) const SERVICE: &str = "sessions";

    /// `None` (after one line) without redis-server.
    pub(crate) fn start() -> Option<Self> {
        let files = Scratch::new("sentinel");
        let dir = |name: &str| vec!["--dir".to_owned(), files.path(name)];
        std::fs::create_dir_all(files.path("primary")).expect("a directory");
        std::fs::create_dir_all(files.path("replica")).expect("a directory");
        let primary = RedisServer::start_with(|_| dir("primary"))?;
        let replica = RedisServer::start_with(|_| {
            vec![
                "--dir".into(),
                files.path("replica"),
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary.port().to_string(),
            ]
        })?;
        let config = files.path("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "sentinel monitor {service} 127.0.0.1 {port} 1\n\
                 sentinel down-after-milliseconds {service} 1000\n\
                 sentinel failover-timeout {service} 5000\n",
                service = Self::SERVICE,
                port = primary.port(),
            ),
        )
        .expect("writes the sentinel's config");
        let sentinel = RedisServer::start_with(|_| vec![config, "--sentinel".into()])?;
        let this = Self {
            primary,
            replica,
            sentinel,
            _files: files,
        };
        wait_for("the replica to sync and the sentinel to see it", || {
            let role: String = redis::cmd("INFO")
                .arg("replication")
                .query(&mut connection(this.replica.port()))
                .unwrap_or_default();
            role.contains("master_link_status:up") && this.replicas_seen() == 1
        });
        Some(this)
    }

    fn replicas_seen(&self) -> usize {
        let replicas: Vec<redis::Value> = redis::cmd("SENTINEL")
            .arg("REPLICAS")
            .arg(Self::SERVICE)
            .query(&mut connection(self.sentinel.port()))
            .unwrap_or_default();
        replicas.len()
    }

    /// The port of the server the sentinel names as primary now.
    pub(crate) fn primary_port(&self) -> u16 {
        let (_, port): (String, u16) = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(Self::SERVICE)
            .query(&mut connection(self.sentinel.port()))
            .expect("names a primary");
        port
    }

    /// Promotes the replica, and waits until it takes writes.
    pub(crate) fn fail_over(&self) {
        // Refused (NOGOODSLAVE) until the sentinel has a live link to the
        // replica it discovered: asked again until it starts.
        wait_for("the sentinel to start a failover", || {
            redis::cmd("SENTINEL")
                .arg("FAILOVER")
                .arg(Self::SERVICE)
                .exec(&mut connection(self.sentinel.port()))
                .is_ok()
        });
        wait_for("the replica to be promoted", || {
            let role: String = redis::cmd("INFO")
                .arg("replication")
                .query(&mut connection(self.replica.port()))
                .unwrap_or_default();
            self.primary_port() == self.replica.port() && role.contains("role:master")
        });
    }
}
