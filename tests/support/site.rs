//! The example site served on a free loopback port, and the CSRF token of
//! its pages: shared by tests/webapp.rs and tests/attack.rs (each declares
//! the site as `mod app`).

#[path = "page.rs"]
mod page;

use sealed_session::Codec;

pub(crate) use page::csrf;

/// The site with `codec` on a free loopback port; stops with the test's runtime.
pub(crate) async fn serve(codec: Codec) -> reqwest::Url {
    let (router, _layer) = crate::app::router(codec);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url.parse().expect("url")
}
