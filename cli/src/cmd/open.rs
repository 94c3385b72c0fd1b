//! `open`: authenticate a token and show what it holds.

use sealed_session::{Codec, Error, Malformed, Mode, UntrustedToken, extract_session};
use serde::Serialize;
use serde_json::Value as Json;

use crate::budget::Budget;
use crate::exit::{CliError, MALFORMED, OTHER};
use crate::input::read_input;
use crate::keys::KeySource;
use crate::output::{
    Context, cbor_to_json, claims_json, claims_lines, parse_duration, print_json, print_lines,
};
use crate::value::Value;

/// `open --json`: fields in alphabetical order, as `serde_json`'s map
/// printed them before the payload needed integers beyond 64 bits.
#[derive(Serialize)]
struct Report<'a> {
    authentic: bool,
    claims: Json,
    key_id: String,
    mode: String,
    payload: &'a Value,
    reseal_due: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The token, a `Cookie:` header or a `Set-Cookie:` line; `-` or nothing
    /// reads standard input.
    token: Option<String>,
    #[command(flatten)]
    keys: KeySource,
    /// The purpose the token was sealed for.
    #[arg(long, default_value = "session")]
    purpose: String,
    /// The cookie to take from a `Cookie:` header or `Set-Cookie:` line; in a
    /// `Cookie:` header, its chunks `NAME.1`, `NAME.2`... are joined.
    #[arg(long, default_value = "session")]
    name: String,
    /// Open signed-mode tokens (HMAC-SHA256) instead of encrypted ones.
    #[arg(long)]
    signed: bool,
    /// Absolute lifetime to enforce besides the token's own `expires`.
    #[arg(long, value_parser = parse_duration, default_value = "400d")]
    lifetime: time::Duration,
    /// Idle timeout to enforce besides the token's own `expires`.
    #[arg(long, value_parser = parse_duration)]
    idle: Option<time::Duration>,
    /// Clock skew tolerated.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    leeway: time::Duration,
    #[command(flatten)]
    budget: Budget,
}

pub(crate) fn run(ctx: &Context, args: Args) -> Result<(), CliError> {
    let input = read_input(args.token.as_deref())?;
    let found = extract_session(&input, &args.name)?;
    let budget = args.budget.for_input(&found);
    let token = found.token;
    let mut builder = Codec::builder(args.keys.load_for_opening(ctx.now)?)
        .purpose(&args.purpose)
        .max_lifetime(args.lifetime)
        .leeway(args.leeway)
        .budget(budget.bytes);
    if let Some(idle) = args.idle {
        builder = builder.idle_timeout(idle);
    }
    if args.signed {
        builder = builder.signed();
    }
    let codec = builder.build()?;
    let opened = codec
        .open_at::<ciborium::Value>(&token, ctx.now)
        .map_err(|e| match e {
            Error::Malformed(Malformed::WrongMode { token, .. }) => {
                let hint = if token == Mode::Signed {
                    "pass --signed"
                } else {
                    "drop --signed"
                };
                let mut err = CliError::from(e);
                err.message = format!("{}; {hint}", err.message);
                err
            }
            e @ Error::InputTooLarge { .. } => CliError::new(MALFORMED, budget.over(&e, "open")),
            other => other.into(),
        })?;
    // Authenticated: the header's key id is now trustworthy.
    let key_id = UntrustedToken::parse(&token)?.key_id();
    let payload = cbor_to_json(opened.value()).map_err(|e| {
        CliError::new(
            OTHER,
            format!("the payload authenticated but cannot be shown as JSON: {e}"),
        )
    })?;

    if ctx.json {
        print_json(&Report {
            authentic: true,
            claims: claims_json(opened.claims(), ctx.now),
            key_id: key_id.to_string(),
            mode: codec.mode().to_string(),
            payload: &payload,
            reseal_due: opened.needs_reseal(),
        })?;
        return Ok(());
    }
    let role = if opened.needs_reseal() {
        "accepted"
    } else {
        "primary"
    };
    let mut lines = vec![(
        "authentic",
        format!("yes ({}, key {key_id}, {role})", codec.mode()),
    )];
    lines.extend(claims_lines(opened.claims(), ctx.now));
    lines.push((
        "re-seal",
        if opened.needs_reseal() {
            format!("due: sealed under accepted key {key_id}, not the primary")
        } else {
            "not due".to_owned()
        },
    ));
    print_lines(&lines);
    outln!("payload");
    print_json(&payload)?;
    Ok(())
}
