//! The actix-web example site in a real browser: headless Chromium driven
//! over WebDriver, as tests/browser.rs does for the axum site. The browser
//! stores the session cookie, sends it back, keeps a chunked session across
//! requests, and is logged out by log-out.
//!
//! Without chromium and chromedriver the test says so in one line and
//! passes, unless `CI=true`, where their absence fails it.

#[allow(dead_code)]
#[path = "../examples/webapp_actix/app.rs"]
mod app;
#[path = "support/chromium.rs"]
mod chromium;
#[allow(dead_code, unused_imports)]
#[path = "support/actix_site.rs"]
mod site;

use chromium::{Driver, browser, click, expect_text, programs, session_cookies};
use fantoccini::Locator;
use sealed_session::{Codec, Key, KeyRing};

#[tokio::test]
async fn a_real_browser_logs_in_keeps_a_chunked_session_and_logs_out() {
    let Some((chromium, chromedriver)) = programs() else {
        return;
    };
    let served = site::serve(
        Codec::builder(KeyRing::new(Key::generate()))
            .build()
            .expect("codec"),
    );

    let profile = std::env::temp_dir().join(format!(
        "sealed-session-chromium-actix-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&profile).expect("profile dir");
    let driver = Driver::start(&chromedriver).await;
    let client = browser(&driver, &chromium, &profile).await;

    client.goto(served.url.as_str()).await.expect("the site");
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
    let stats = served.sessions.stats();
    assert_eq!((stats.rejected, stats.failed), (0, 0), "{stats:?}");
    assert!(stats.sealed >= 8, "{stats:?}");

    client.close().await.expect("close the browser");
    drop(driver);
    std::fs::remove_dir_all(&profile).ok();
}
