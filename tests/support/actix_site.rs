//! The actix-web example site (`examples/webapp_actix`, declared by the
//! test as `mod app`) served on a free loopback port by a real
//! `HttpServer`, in a thread of its own (actix-web runs its own runtime),
//! stopped when the returned guard is dropped.

#[path = "page.rs"]
mod page;

use std::time::Duration;

use actix_web::http::KeepAlive;
use actix_web::{App, HttpServer};
use sealed_session::Codec;
use sealed_session::actix::SessionMiddleware;

pub(crate) use page::csrf;

/// The site being served; stops the server when dropped.
pub(crate) struct Served {
    pub(crate) url: reqwest::Url,
    /// The site's middleware, for its counters.
    pub(crate) sessions: SessionMiddleware<crate::app::Visitor>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Served {
    fn drop(&mut self) {
        // The stop command is sent now; its completion is not awaited.
        drop(self.handle.stop(false));
    }
}

/// The site with `codec` on a free loopback port.
pub(crate) fn serve(codec: Codec) -> Served {
    let sessions = crate::app::sessions(codec);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let url = format!("http://{}/", listener.local_addr().expect("address"))
        .parse()
        .expect("url");
    let for_workers = sessions.clone();
    let (handles, handle) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(for_workers.clone())
                    .configure(crate::app::routes)
            })
            .workers(1)
            // No idle or first-request timeout (actix-web's defaults are
            // 5 s): on a slow shared machine a pooled connection closed
            // by the server as the client writes a POST on it fails the
            // test.
            .keep_alive(KeepAlive::Os)
            .client_request_timeout(Duration::ZERO)
            .disable_signals()
            .listen(listener)
            .expect("listens")
            .run();
            handles.send(server.handle()).expect("the test waits");
            server.await
        })
    });
    Served {
        url,
        sessions,
        handle: handle.recv().expect("the server starts"),
    }
}
