//! The log-out flood, over real HTTP on loopback, against the example site
//! with a bounded revocation store: a victim logs in and out, keeps a copy
//! of the logged-in cookie, and a client then gets a page and logs out
//! thousands of times (the attack that once pushed a revocation out of a
//! full store). The copy stays refused, and the store records nothing for
//! anonymous log-outs. (An account's own log-in/log-out loop, which folds
//! into its subject's line, is tests/revocation.rs's: over HTTP it would
//! lock the demo's one account.) Bounded in count, never in time.

#[allow(dead_code)]
#[path = "../examples/webapp/app.rs"]
mod app;
#[path = "support/site.rs"]
mod site;

use std::sync::Arc;
use std::time::Instant;

use reqwest::cookie::{CookieStore as _, Jar};
use sealed_session::{Codec, Key, KeyRing, MemoryRevocations};
use site::{csrf, serve};

/// A store far smaller than the flood, so that a store that forgot under
/// pressure would be caught.
const CAPACITY: u64 = 500;
const CYCLES: usize = 10_000;

/// A browser: a client with its own cookie jar.
struct Visitor {
    client: reqwest::Client,
    jar: Arc<Jar>,
    url: reqwest::Url,
}

impl Visitor {
    fn new(url: &reqwest::Url) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .build()
            .expect("client");
        Self {
            client,
            jar,
            url: url.clone(),
        }
    }

    async fn home(&self) -> String {
        let response = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .expect("GET /");
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.expect("page")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> String {
        let response = self
            .client
            .post(self.url.join(path).expect("url"))
            .form(form)
            .send()
            .await
            .expect("POST");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.text().await.expect("page")
    }

    async fn log_in(&self) -> String {
        let token = csrf(&self.home().await);
        let page = self
            .post(
                "login",
                &[
                    ("csrf", &token),
                    ("username", app::USER),
                    ("password", app::PASSWORD),
                ],
            )
            .await;
        assert!(page.contains("Signed in as"), "{page}");
        page
    }

    async fn log_out(&self, page: &str) -> String {
        self.post("logout", &[("csrf", &csrf(page))]).await
    }

    /// The `Cookie` header the browser would send now.
    fn cookies(&self) -> String {
        self.jar
            .cookies(&self.url)
            .expect("cookies")
            .to_str()
            .expect("ascii")
            .to_owned()
    }
}

/// The page a stolen `Cookie` header gets.
async fn replay(url: &reqwest::Url, cookies: &str) -> String {
    reqwest::Client::new()
        .get(url.clone())
        .header(reqwest::header::COOKIE, cookies)
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("page")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_log_outs_over_http_never_reopens_a_logged_out_copy() {
    let store = Arc::new(MemoryRevocations::with_capacity(CAPACITY));
    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .revocations(store.clone())
        .build()
        .expect("codec");
    let url = serve(codec).await;

    // The victim logs in, someone copies the cookie, the victim logs out.
    let victim = Visitor::new(&url);
    let page = victim.log_in().await;
    let copy = victim.cookies();
    assert!(
        replay(&url, &copy).await.contains("Signed in as"),
        "the copy works"
    );
    assert!(victim.log_out(&page).await.contains("Logged out"));
    assert!(
        replay(&url, &copy).await.contains("Logged out"),
        "refused at once"
    );
    let after_victim = store.stats();

    // Anonymous visitors: a page (a session), a log-out, again and again,
    // twenty times the store's capacity.
    let started = Instant::now();
    let attacker = Visitor::new(&url);
    for _ in 0..CYCLES {
        let page = attacker.home().await;
        attacker.log_out(&page).await;
    }
    let took = started.elapsed();
    let stats = store.stats();
    assert_eq!(
        (stats.sessions, stats.subjects, stats.floor),
        (after_victim.sessions, after_victim.subjects, None),
        "an anonymous log-out records nothing: {stats:?}"
    );
    assert!(
        replay(&url, &copy).await.contains("Logged out"),
        "the victim's copy stays refused: {stats:?}"
    );
    // And the real user logs in again, and stays in.
    let page = victim.log_in().await;
    assert!(page.contains("Signed in as"));
    assert!(victim.home().await.contains("Signed in as"));
    println!(
        "flood over loopback HTTP: {CYCLES} anonymous page + log-out cycles in {took:?} \
         (unoptimised build); store {} sessions, {} subject lines, floor {:?} (capacity \
         {CAPACITY}); the copied cookie stays refused",
        stats.sessions, stats.subjects, stats.floor
    );
}
