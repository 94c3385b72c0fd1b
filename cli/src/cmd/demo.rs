//! `demo`: the main job in a few explained steps, with a throwaway key.

use sealed_session::{Codec, Error, Key, KeyRing, SealOptions, UntrustedToken};
use serde::Serialize;
use serde_json::json;

use crate::exit::CliError;
use crate::output::{Context, hex, print_json, relative, rfc3339};

#[derive(Serialize)]
struct Session<'a> {
    user_id: u64,
    username: &'a str,
    roles: [&'a str; 2],
    csrf: &'a str,
    theme: &'a str,
}

pub(crate) fn run(ctx: &Context) -> Result<(), CliError> {
    let key = Key::generate();
    let codec = Codec::builder(KeyRing::new(key.clone()))
        .purpose("session")
        .max_lifetime(time::Duration::days(7))
        .idle_timeout(time::Duration::hours(2))
        .build()?;
    let session = Session {
        user_id: 123_456_789,
        username: "alice.example",
        roles: ["admin", "editor"],
        csrf: "q1xDgW0o2Vd8oS4pJq3m0mJtqS1x8b9K7q0f5kq2Zc8",
        theme: "dark",
    };
    let token = codec.seal_with(&session, SealOptions::new().at(ctx.now))?;
    let cookie = format!("session={token}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax");
    let seen = UntrustedToken::parse(&token)?;
    let opened = codec.open_at::<serde_json::Value>(&token, ctx.now)?;
    let mut tampered = token.clone().into_bytes();
    if let Some(c) = tampered.get_mut(40) {
        *c = if *c == b'A' { b'B' } else { b'A' };
    }
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let refused = match codec.open_at::<serde_json::Value>(&tampered, ctx.now) {
        Err(e @ Error::Invalid) => e.to_string(),
        other => format!("unexpected: {other:?}"),
    };
    let expired_at = ctx.now + time::Duration::hours(2);
    let expired =
        match codec.open_at::<serde_json::Value>(&token, expired_at + time::Duration::minutes(1)) {
            Err(e) => e.to_string(),
            Ok(_) => "unexpected: opened".into(),
        };

    if ctx.json {
        print_json(&json!({
            "key_id": key.id().to_string(),
            "token": token,
            "set_cookie": cookie,
            "token_bytes": token.len(),
            "claims": crate::output::claims_json(opened.claims(), ctx.now),
            "payload": opened.value(),
            "tampered": refused,
            "expired": expired,
        }))?;
        return Ok(());
    }
    outln!(
        "1. A throwaway key (never printed) with key id {}.",
        key.id()
    );
    outln!("   Real keys come from `sealed-session keygen` and live in a secret store.\n");
    outln!("2. Seal a session for the response. XAES-256-GCM with a fresh 24-byte nonce,");
    outln!("   bound to the purpose \"session\", expiring in 2 h idle / 7 d absolute:\n");
    outln!("   Set-Cookie: {cookie}\n");
    outln!("3. Inspect it without the key: only the structure is visible.");
    outln!(
        "   version 0x{:02x}, key id {}, nonce {}..., {} bytes of text (budget {})\n",
        seen.version_byte(),
        seen.key_id(),
        seen.nonce()
            .map(|n| hex(n.get(..6).unwrap_or(n)))
            .unwrap_or_default(),
        seen.text_len(),
        codec.budget()
    );
    let claims = opened.claims();
    outln!("4. Open it on the next request (any node holding the key ring can):");
    outln!("   session id {}", claims.session_id());
    outln!("   created    {}", rfc3339(claims.created()));
    outln!(
        "   expires    {} ({})",
        rfc3339(claims.expires()),
        relative(claims.expires(), ctx.now)
    );
    outln!("   payload    {}\n", opened.value());
    outln!("5. What an attacker gets:");
    outln!("   one character changed    -> {refused}");
    outln!("   replayed 2 h 1 min later -> {expired}");
    Ok(())
}
