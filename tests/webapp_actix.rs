//! The actix-web example site (`examples/webapp_actix`) over real HTTP on
//! loopback, with a real client and its cookie store: log in, count, grow
//! the session past one cookie, log out; the same steps and answers as the
//! axum site's test (tests/webapp.rs), and a copy of a logged-out cookie
//! refused with a revocation store.

#[allow(dead_code)]
#[path = "../examples/webapp_actix/app.rs"]
mod app;
#[path = "support/actix_site.rs"]
mod site;

use std::sync::Arc;

use reqwest::cookie::{CookieStore as _, Jar};
use sealed_session::{Codec, Key, KeyRing, MemoryRevocations};
use site::{Served, csrf};

/// The site with a fresh key.
fn serve() -> Served {
    site::serve(
        Codec::builder(KeyRing::new(Key::generate()))
            .build()
            .expect("codec"),
    )
}

/// The names of the session cookies the client holds.
fn session_cookies(jar: &Jar, url: &reqwest::Url) -> Vec<String> {
    let Some(header) = jar.cookies(url) else {
        return Vec::new();
    };
    header
        .to_str()
        .expect("ascii")
        .split("; ")
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
        .filter(|name| name == "session" || name.starts_with("session."))
        .collect()
}

#[tokio::test]
async fn log_in_count_grow_and_log_out_with_a_real_client() {
    let served = serve();
    let url = served.url.clone();
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .expect("client");
    let get = || async {
        let response = client.get(url.clone()).send().await.expect("GET /");
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.expect("page")
    };
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let request = client.post(url.join(path).expect("url")).form(&form);
        async move {
            let response = request.send().await.expect("POST");
            (response.status(), response.text().await.expect("page"))
        }
    };

    let page = get().await;
    assert!(page.contains("Logged out"), "{page}");
    let token = csrf(&page);
    assert_eq!(
        session_cookies(&jar, &url),
        ["session"],
        "the CSRF token's session"
    );

    // A forged form is refused.
    let (status, _) = post(
        "login",
        vec![
            ("csrf", "forged".to_owned()),
            ("username", app::USER.to_owned()),
            ("password", app::PASSWORD.to_owned()),
        ],
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);

    let (status, page) = post(
        "login",
        vec![
            ("csrf", token.clone()),
            ("username", app::USER.to_owned()),
            ("password", app::PASSWORD.to_owned()),
        ],
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert!(page.contains("Signed in as <b id=user>alice</b>"), "{page}");
    let anonymous = token;
    let token = csrf(&page);
    assert_ne!(token, anonymous, "the log-in rotates the CSRF token");

    for expected in 1..=3 {
        let (status, page) = post("count", vec![("csrf", token.clone())]).await;
        assert!(status.is_success(), "{status}");
        assert!(
            page.contains(&format!("<b id=count>{expected}</b>")),
            "{page}"
        );
    }

    // Grow the session until it takes several cookies; it keeps working.
    for notes in 1..=4 {
        let (status, page) = post("grow", vec![("csrf", token.clone())]).await;
        assert!(status.is_success(), "{status}");
        assert!(page.contains(&format!("<b id=notes>{notes}</b>")), "{page}");
        assert!(page.contains("<b id=count>3</b>"), "{page}");
    }
    let held = session_cookies(&jar, &url);
    assert!(held.len() >= 2, "a chunked session: {held:?}");
    assert!(get().await.contains("<b id=count>3</b>"));
    // One more would not fit the request budget: a 500, and the session
    // the client holds is left as it was.
    let (status, _) = post("grow", vec![("csrf", token.clone())]).await;
    assert_eq!(status, reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(session_cookies(&jar, &url), held);
    assert!(get().await.contains("<b id=notes>4</b>"));

    let (status, page) = post("logout", vec![("csrf", token)]).await;
    assert!(status.is_success(), "{status}");
    assert!(page.contains("Logged out"), "{page}");
    // The logged-out page starts a new anonymous session for its CSRF token:
    // one small cookie, none of the old chunks.
    assert_eq!(session_cookies(&jar, &url), ["session"]);
}

#[tokio::test]
async fn after_log_out_the_client_holds_no_session_cookie() {
    let served = serve();
    let url = served.url.clone();
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(url.clone())
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    let form = |token: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("username", app::USER.to_owned()),
            ("password", app::PASSWORD.to_owned()),
        ]
    };
    let response = client
        .post(url.join("login").expect("url"))
        .form(&form(&csrf(&page)))
        .send()
        .await
        .expect("POST /login");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let page = client
        .get(url.clone())
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Signed in"), "{page}");
    // Not following the redirect: the log-out response alone empties the jar.
    let response = client
        .post(url.join("logout").expect("url"))
        .form(&[("csrf", csrf(&page))])
        .send()
        .await
        .expect("POST /logout");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(session_cookies(&jar, &url).is_empty());
}

/// With a revocation store, a copy of the cookie taken while signed in is
/// refused once the user logs out (the middleware revokes what `destroy`
/// ended), and the response that refuses it replaces it (the page starts
/// an anonymous session for its CSRF token).
#[tokio::test]
async fn a_copy_of_a_logged_out_cookie_is_refused() {
    let store = Arc::new(MemoryRevocations::new());
    let served = site::serve(
        Codec::builder(KeyRing::new(Key::generate()))
            .revocations(store.clone())
            .build()
            .expect("codec"),
    );
    let url = served.url.clone();
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .expect("client");
    let get = |cookies: Option<String>| {
        let mut request = match &cookies {
            // A stolen `Cookie` header, sent by a client without the jar.
            Some(cookies) => reqwest::Client::new()
                .get(url.clone())
                .header(reqwest::header::COOKIE, cookies),
            None => client.get(url.clone()),
        };
        request = request.header("accept", "text/html");
        async move {
            let response = request.send().await.expect("GET /");
            let set: Vec<String> = response
                .headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().expect("ascii").to_owned())
                .collect();
            (response.text().await.expect("page"), set)
        }
    };
    let (page, _) = get(None).await;
    let page = client
        .post(url.join("login").expect("url"))
        .form(&[
            ("csrf", csrf(&page)),
            ("username", app::USER.to_owned()),
            ("password", app::PASSWORD.to_owned()),
        ])
        .send()
        .await
        .expect("POST /login")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Signed in as"), "{page}");
    let copy = jar
        .cookies(&url)
        .expect("cookies")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(get(Some(copy.clone())).await.0.contains("Signed in as"));
    let page = client
        .post(url.join("logout").expect("url"))
        .form(&[("csrf", csrf(&page))])
        .send()
        .await
        .expect("POST /logout")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Logged out"), "{page}");
    assert_eq!(
        store.stats().sessions,
        1,
        "the signed-in session is revoked"
    );
    let (page, set) = get(Some(copy.clone())).await;
    assert!(page.contains("Logged out"), "the copy is refused: {page}");
    let value = |line: &str| line.split(';').next().unwrap_or_default().to_owned();
    assert!(
        set.iter()
            .any(|line| line.starts_with("session=") && !copy.contains(&value(line))),
        "and replaced: {set:?}"
    );
    assert_eq!(served.sessions.stats().rejected, 1);
}
