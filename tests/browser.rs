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

#[allow(dead_code)]
#[path = "support/chromium.rs"]
mod chromium;

use chromium::{
    CHROMEDRIVER, CHROMIUM, Driver, browser, click, expect_text, find, session_cookies,
};
use fantoccini::Locator;
use sealed_session::{Codec, Key, KeyRing};

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
