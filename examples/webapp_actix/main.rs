//! The example site on actix-web: the same pages and rules as the axum one
//! (`examples/webapp`), with `sealed_session::actix::SessionMiddleware`.
//!
//! ```text
//! cargo run --example webapp_actix --features actix            # http://127.0.0.1:3000
//! PORT=8080 cargo run --example webapp_actix --features actix
//! SEALED_SESSION_RING=ring.txt cargo run --example webapp_actix --features actix
//! ```
//!
//! Log in as `alice` / `wonderland`. Without `SEALED_SESSION_RING` the key
//! is generated at start, so sessions end with the process. With it, the
//! key ring is read from that file (see `sealed-session ring`) and read again
//! on `SIGHUP`: rotate keys with `ring add`, `ring promote`, `ring remove`
//! and `kill -HUP`, and nobody is logged out.

mod app;

use actix_web::{App, HttpServer};
use sealed_session::{Codec, Key, KeyRing};
use time::Duration;

fn codec(ring: KeyRing) -> Codec {
    Codec::builder(ring)
        .max_lifetime(Duration::days(1))
        .idle_timeout(Duration::hours(1))
        .build()
        .expect("a valid codec configuration")
}

fn load(path: &str) -> Result<Codec, sealed_session::Error> {
    Ok(codec(KeyRing::from_file(path)?))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "sealed_session=debug".into()),
        )
        .init();
    let ring_file = std::env::var("SEALED_SESSION_RING").ok();
    let codec = match &ring_file {
        Some(path) => load(path)?,
        None => codec(KeyRing::new(Key::generate())),
    };
    let sessions = app::sessions(codec);

    if let Some(path) = ring_file {
        let handle = sessions.codec_handle();
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        actix_web::rt::spawn(async move {
            while hangups.recv().await.is_some() {
                match load(&path).and_then(|codec| handle.replace(codec)) {
                    Ok(()) => eprintln!("webapp_actix: key ring reloaded from {path}"),
                    // Keep serving with the keys we have.
                    Err(e) => eprintln!("webapp_actix: key ring not reloaded: {e}"),
                }
            }
        });
    }

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let server = HttpServer::new(move || App::new().wrap(sessions.clone()).configure(app::routes))
        .bind(("127.0.0.1", port.parse::<u16>()?))?;
    for address in server.addrs() {
        eprintln!(
            "webapp_actix: http://{address} (log in as {} / {})",
            app::USER,
            app::PASSWORD
        );
    }
    server.run().await?;
    Ok(())
}
