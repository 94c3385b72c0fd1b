//! `seal`: JSON on standard input, a token on standard output.

use sealed_session::{Codec, SealOptions};
use serde_json::json;

use crate::budget::Budget;
use crate::exact_json::{self, JsonError};
use crate::exit::{CliError, OTHER};
use crate::input::read_stdin;
use crate::keys::KeySource;
use crate::output::{Context, parse_duration, print_json};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    keys: KeySource,
    /// The purpose to bind the token to.
    #[arg(long, default_value = "session")]
    purpose: String,
    /// Absolute lifetime of the session.
    #[arg(long, value_parser = parse_duration, default_value = "7d")]
    lifetime: time::Duration,
    /// Idle timeout (none by default).
    #[arg(long, value_parser = parse_duration)]
    idle: Option<time::Duration>,
    /// The session's subject (a user id).
    #[arg(long)]
    subject: Option<String>,
    /// The session's own lifetime, at most --lifetime (a "remember me"
    /// choice; kept across re-seals; version 0x03 or 0x04).
    #[arg(long, value_parser = parse_duration)]
    own_lifetime: Option<time::Duration>,
    /// Signed mode (HMAC-SHA256): the payload stays readable.
    #[arg(long)]
    signed: bool,
    #[command(flatten)]
    budget: Budget,
}

pub(crate) fn run(ctx: &Context, args: Args) -> Result<(), CliError> {
    let text = read_stdin()?;
    let payload = exact_json::parse(&text).map_err(|e| {
        CliError::new(
            OTHER,
            match e {
                JsonError::Syntax(e) => format!("standard input is not JSON: {e}"),
                JsonError::Unsealable(why) => {
                    format!("cannot seal standard input as written: {why}")
                }
            },
        )
    })?;

    let mut builder = Codec::builder(args.keys.load(ctx.now)?)
        .purpose(&args.purpose)
        .max_lifetime(args.lifetime)
        .budget(args.budget.bytes);
    if let Some(idle) = args.idle {
        builder = builder.idle_timeout(idle);
    }
    if args.signed {
        builder = builder.signed();
    }
    let codec = builder.build()?;
    let mut options = SealOptions::new().at(ctx.now);
    if let Some(subject) = &args.subject {
        options = options.subject(subject);
    }
    if let Some(lifetime) = args.own_lifetime {
        options = options.lifetime(lifetime);
    }
    let token = codec.seal_with(&payload, options).map_err(|e| match e {
        // Over budget is not a malformed token (3): the payload is too big.
        e @ sealed_session::Error::TooLarge { .. } => {
            CliError::new(OTHER, args.budget.over(&e, "seal"))
        }
        other => other.into(),
    })?;
    if ctx.json {
        print_json(&json!({
            "token": token,
            "bytes": token.len(),
            "key_id": codec.key_ring().primary().id().to_string(),
            "mode": codec.mode().to_string(),
        }))?;
    } else {
        outln!("{token}");
    }
    Ok(())
}
