//! A real `redis-server` for tests (Debian's package), on a free loopback
//! port, killed when dropped. Shared by tests/redis.rs, the CLI's tests and
//! web-bench.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server on a loopback port, killed when dropped.
pub(crate) struct RedisServer {
    binary: PathBuf,
    port: u16,
    /// Given before the usual ones (a config file must come first).
    args: Vec<String>,
    process: Option<Child>,
}

impl RedisServer {
    /// `None` (after one line saying so) if redis-server is not installed.
    pub(crate) fn start() -> Option<Self> {
        Self::start_with(|_| Vec::new())
    }

    /// With arguments made from its port (a config file of its own), given
    /// first.
    pub(crate) fn start_with(args: impl FnOnce(u16) -> Vec<String>) -> Option<Self> {
        let binary = std::iter::once(PathBuf::from("/usr/bin/redis-server"))
            .chain(
                std::env::var_os("PATH")
                    .into_iter()
                    .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                    .map(|dir| dir.join("redis-server")),
            )
            .find(|p| p.is_file());
        let Some(binary) = binary else {
            let why = "redis-server not found (Debian: apt-get install redis-server)";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: {why}"
            );
            println!("skipped: {why}");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut server = Self {
            binary,
            port,
            args: args(port),
            process: None,
        };
        server.restart();
        Some(server)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port())
    }

    /// (Re)starts it on the same port, without persistence.
    pub(crate) fn restart(&mut self) {
        let process = Command::new(&self.binary)
            .args(&self.args)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it without closing a connection (SIGSTOP): a hung server, as
    /// a stalled host or a partition looks to its clients. Dropping it
    /// still kills it.
    #[allow(dead_code)] // tests/redis.rs only
    pub(crate) fn pause(&self) {
        if let Some(process) = &self.process {
            let status = Command::new("kill")
                .args(["-STOP", &process.id().to_string()])
                .status()
                .expect("runs kill");
            assert!(status.success(), "SIGSTOP delivered");
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
