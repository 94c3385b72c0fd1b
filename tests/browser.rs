//! The example site in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`). The browser stores
//! the session cookie, sends it back, keeps a chunked session across
//! requests, and is logged out by log-out.
//!
//! Without the two programs the test says so in one line and passes, unless
//! `CI=true`, where their absence fails it.

#[allow(dead_code)]
#[path = "../examples/webapp/app.rs"]
mod app;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use sealed_session::{Codec, Key, KeyRing};

const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver"];

/// The first of `paths` that exists, or `name` found on `PATH`.
fn find(paths: &[&str], name: &str) -> Option<PathBuf> {
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
struct Driver {
    _process: tokio::process::Child,
    url: String,
}

impl Driver {
    async fn start(chromedriver: &Path) -> Self {
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

async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
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
async fn expect_text(client: &Client, id: &str, expected: &str) {
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

async fn click(client: &Client, id: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .expect("click");
}

/// The session cookies the browser holds: `session` and its chunks.
async fn session_cookies(client: &Client) -> Vec<String> {
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

#[tokio::test]
async fn a_real_browser_logs_in_keeps_a_chunked_session_and_logs_out() {
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
        return;
    };

    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    let (router, layer) = app::router(codec);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let site = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let profile =
        std::env::temp_dir().join(format!("sealed-session-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&profile).expect("profile dir");
    let driver = Driver::start(&chromedriver).await;
    let client = browser(&driver, &chromium, &profile).await;

    client.goto(&site).await.expect("the site");
    expect_text(&client, "status", "Logged out").await;
    assert_eq!(
        session_cookies(&client).await,
        ["session"],
        "the CSRF token's session"
    );

    client
        .find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(app::PASSWORD)
        .await
        .expect("typing");
    click(&client, "login-button").await;
    expect_text(&client, "user", app::USER).await;

    for expected in 1..=2 {
        click(&client, "count-button").await;
        expect_text(&client, "count", &expected.to_string()).await;
    }
    // Grow the session until the browser holds it in several cookies.
    for notes in 1..=4 {
        click(&client, "grow-button").await;
        expect_text(&client, "notes", &notes.to_string()).await;
    }
    let chunks = session_cookies(&client).await;
    assert!(chunks.len() >= 2, "a chunked session: {chunks:?}");
    // The browser sends every chunk back: the session still opens and changes.
    click(&client, "count-button").await;
    expect_text(&client, "count", "3").await;
    client.refresh().await.expect("reload");
    expect_text(&client, "count", "3").await;
    expect_text(&client, "notes", "4").await;

    click(&client, "logout-button").await;
    expect_text(&client, "status", "Logged out").await;
    // Every chunk is gone; what is left is a fresh anonymous session
    // holding the new page's CSRF token.
    assert_eq!(session_cookies(&client).await, ["session"]);
    let stats = layer.stats();
    assert_eq!((stats.rejected, stats.failed), (0, 0), "{stats:?}");

    client.close().await.expect("close the browser");
    drop(driver);
    std::fs::remove_dir_all(&profile).ok();
}
