//! Headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`), for the browser tests of the example sites
//! (tests/browser.rs, tests/browser_actix.rs): finding the two programs,
//! chromedriver on a free loopback port, a browser with a profile of its
//! own, and what the tests read from its pages.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

pub(crate) const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
pub(crate) const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver"];

/// The first of `paths` that exists, or `name` found on `PATH`.
pub(crate) fn find(paths: &[&str], name: &str) -> Option<PathBuf> {
    paths
        .iter()
        .map(PathBuf::from)
        .chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|dir| dir.join(name)),
        )
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// chromedriver on a free loopback port, killed when dropped.
pub(crate) struct Driver {
    _process: tokio::process::Child,
    url: String,
}

impl Driver {
    pub(crate) async fn start(chromedriver: &Path) -> Self {
        let port = free_port();
        let process = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        // Ready when it accepts connections; a slow machine gets 30 s.
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    _process: process,
                    url: format!("http://127.0.0.1:{port}"),
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on port {port} within 30 s");
    }
}

pub(crate) async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ]
    .map(String::from)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Waits (up to 10 s) until `#id` reads `expected`: a click navigates, and
/// the old page can still be the one the browser shows.
pub(crate) async fn expect_text(client: &Client, id: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Id(id)).await {
            if let Ok(found) = element.text().await {
                if found == expected {
                    return;
                }
                last = found;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} reads {last:?}, not {expected:?}");
}

pub(crate) async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .expect("click");
}

/// The session cookies the browser holds: `session` and its chunks.
pub(crate) async fn session_cookies(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .get_all_cookies()
        .await
        .expect("cookies")
        .iter()
        .map(|c| c.name().to_owned())
        .filter(|name| name == "session" || name.starts_with("session."))
        .collect();
    names.sort();
    names
}

/// The two programs, or `None` after saying in one line why the test is
/// skipped; under `CI=true` their absence fails the test instead.
pub(crate) fn programs() -> Option<(PathBuf, PathBuf)> {
    let (Some(chromium), Some(chromedriver)) = (
        find(CHROMIUM, "chromium"),
        find(CHROMEDRIVER, "chromedriver"),
    ) else {
        let why = "chromium and chromedriver not found (Debian: apt-get install chromium chromium-driver)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: {why}"
        );
        println!("skipped: {why}");
        return None;
    };
    Some((chromium, chromedriver))
}
