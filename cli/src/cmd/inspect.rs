//! `inspect`: a token's structure, no key needed.

use sealed_session::{Mode, UntrustedToken, extract_session};
use serde::Serialize;
use serde_json::Value as Json;

use crate::budget::Budget;
use crate::exit::CliError;
use crate::input::read_input;
use crate::output::{
    Context, cbor_to_json, claims_json, claims_lines, hex, print_json, print_lines,
};
use crate::value::Value;

/// `inspect --json`: fields in alphabetical order, as `serde_json`'s map
/// printed them before the payload needed integers beyond 64 bits.
#[derive(Serialize)]
struct Report {
    body_bytes: usize,
    budget: usize,
    budget_left: i64,
    decoded_bytes: usize,
    key_id: String,
    mode: String,
    nonce: Option<String>,
    tag_bytes: usize,
    token_bytes: usize,
    unverified: Option<Unverified>,
    version: u8,
}

/// Signed mode only.
#[derive(Serialize)]
struct Unverified {
    claims: Json,
    /// Null if the payload does not decode or cannot be shown.
    payload: Option<Value>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The token, a `Cookie:` header or a `Set-Cookie:` line; `-` or nothing
    /// reads standard input.
    token: Option<String>,
    /// The cookie to take from a `Cookie:` header or `Set-Cookie:` line; in a
    /// `Cookie:` header, its chunks `NAME.1`, `NAME.2`... are joined.
    #[arg(long, default_value = "session")]
    name: String,
    // Only what the size is reported against: inspect reads any token up to
    // MAX_BUDGET.
    #[command(flatten)]
    budget: Budget,
}

pub(crate) fn run(ctx: &Context, args: Args) -> Result<(), CliError> {
    let input = read_input(args.token.as_deref())?;
    let found = extract_session(&input, &args.name)?;
    let limit = args.budget.for_input(&found);
    let budget = limit.bytes;
    let token = found.token;
    let seen = UntrustedToken::parse(&token)?;
    let left = budget as i64 - seen.text_len() as i64;
    let claims = seen.unverified_claims();
    let shown = match seen.unverified_value::<ciborium::Value>() {
        Ok(Some(value)) => {
            cbor_to_json(&value).map_err(|e| format!("(decodes, but cannot be shown as JSON: {e})"))
        }
        _ => Err("(does not decode)".to_owned()),
    };
    let payload = shown.as_ref().ok().cloned();

    if ctx.json {
        print_json(&Report {
            body_bytes: seen.body_len(),
            budget,
            budget_left: left,
            decoded_bytes: seen.decoded_len(),
            key_id: seen.key_id().to_string(),
            mode: seen.mode().to_string(),
            nonce: seen.nonce().map(hex),
            tag_bytes: seen.tag_len(),
            token_bytes: seen.text_len(),
            unverified: claims.as_ref().map(|c| Unverified {
                claims: claims_json(c, ctx.now),
                payload,
            }),
            version: seen.version_byte(),
        })?;
        return Ok(());
    }

    let algorithm = match seen.mode() {
        Mode::Signed => "signed: HMAC-SHA256",
        _ => "encrypted: XAES-256-GCM",
    };
    let mut lines = vec![
        (
            "token",
            format!(
                "{} bytes of text, {} decoded; {}budget {budget}, {left} left",
                seen.text_len(),
                seen.decoded_len(),
                if limit.from_cookies {
                    "the cookies' "
                } else if limit.is_default() {
                    "default "
                } else {
                    ""
                }
            ),
        ),
        (
            "version",
            format!(
                "0x{:02x} (format v1, {algorithm}{})",
                seen.version_byte(),
                if seen.version_byte() > 2 {
                    ", with the session's own lifetime"
                } else {
                    ""
                }
            ),
        ),
        ("key id", seen.key_id().to_string()),
    ];
    if let Some(nonce) = seen.nonce() {
        lines.push(("nonce", format!("{} ({} bytes)", hex(nonce), nonce.len())));
    }
    let body = match seen.mode() {
        Mode::Signed => "claims and payload, readable",
        _ => "claims and payload, encrypted",
    };
    lines.push(("body", format!("{} bytes ({body})", seen.body_len())));
    lines.push(("tag", format!("{} bytes", seen.tag_len())));
    print_lines(&lines);
    if let Some(claims) = claims {
        outln!();
        outln!("UNVERIFIED: anyone can write what follows; `open` with the key to trust it.");
        print_lines(&claims_lines(&claims, ctx.now));
        let payload = match shown {
            Ok(p) => serde_json::to_string(&p).unwrap_or_default(),
            Err(why) => why,
        };
        print_lines(&[("payload", payload)]);
    }
    Ok(())
}
