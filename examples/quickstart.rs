//! The main job in one run: seal a session into a cookie value, open it,
//! re-seal it after a key rotation, and watch tampering and expiry fail.
//!
//! `cargo run --example quickstart`

use sealed_session::{Codec, Error, Key, KeyRing, SealOptions};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

#[derive(Serialize, Deserialize, Debug)]
struct Session {
    user_id: u64,
    username: String,
    roles: Vec<String>,
    theme: String,
}

fn main() -> Result<(), Error> {
    // Operators keep keys in a secret store and load them with
    // `Key::from_env` or `Key::from_file`; here, a throwaway one.
    let old_key = Key::generate();
    let codec = Codec::builder(KeyRing::new(old_key.clone()))
        .purpose("session")
        .max_lifetime(Duration::days(7))
        .idle_timeout(Duration::hours(2))
        .build()?;

    let now = OffsetDateTime::now_utc();
    let session = Session {
        user_id: 123_456_789,
        username: "alice.example".into(),
        roles: vec!["admin".into(), "editor".into()],
        theme: "dark".into(),
    };
    let token = codec.seal_with(&session, SealOptions::new().at(now))?;
    println!(
        "1. sealed under key {} ({} bytes):",
        old_key.id(),
        token.len()
    );
    println!("   Set-Cookie: session={token}; Path=/; HttpOnly; Secure; SameSite=Lax\n");

    let opened = codec.open_at::<Session>(&token, now)?;
    let claims = opened.claims();
    println!("2. opened: {:?}", opened.value());
    println!(
        "   session id {}, created {}, expires {}\n",
        claims.session_id(),
        rfc3339(claims.created()),
        rfc3339(claims.expires())
    );

    // Rotation: a new primary key; the old one still opens.
    let new_key = Key::generate();
    let rotated = Codec::builder(KeyRing::new(new_key.clone()).with_accepted(old_key))
        .purpose("session")
        .max_lifetime(Duration::days(7))
        .idle_timeout(Duration::hours(2))
        .build()?;
    let later = now + Duration::minutes(30);
    let opened = rotated.open_at::<Session>(&token, later)?;
    println!(
        "3. after rotation to key {}: needs re-seal = {}",
        new_key.id(),
        opened.needs_reseal()
    );
    let renewed = rotated.reseal_with(&opened, SealOptions::new().at(later))?;
    let reopened = rotated.open_at::<Session>(&renewed, later)?;
    println!(
        "   re-sealed: same session id = {}, needs re-seal = {}\n",
        reopened.claims().session_id() == opened.claims().session_id(),
        reopened.needs_reseal()
    );

    // Tampering with one character fails authentication.
    let mut tampered = renewed.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    println!(
        "4. tampered:  {}",
        describe(rotated.open_at::<Session>(&tampered, later))
    );
    println!("   other purpose: {}", {
        let csrf = Codec::builder(rotated.key_ring().clone())
            .purpose("csrf")
            .build()?;
        describe(csrf.open_at::<Session>(&renewed, later))
    });
    println!(
        "   idle for 2 h 31 s (timeout 2 h, leeway 30 s): {}",
        describe(rotated.open_at::<Session>(&renewed, later + Duration::seconds(7231)))
    );
    Ok(())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn describe(result: Result<sealed_session::Opened<Session>, Error>) -> String {
    match result {
        Ok(_) => "opened (unexpected!)".into(),
        Err(e) => format!("refused: {e}"),
    }
}
