//! `revoke`: log a session out, or a user out everywhere, on every node
//! that shares a Redis revocation store.

use sealed_session::{RedisOptions, RedisRevocations, Revocations, RevokedSession, SessionId};
use serde_json::json;

use crate::exit::{CliError, OTHER};
use crate::output::{Context, parse_duration, print_json, rfc3339};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["session_id", "subject"])))]
pub(crate) struct Args {
    /// The Redis the app's `RedisRevocations` use
    /// (`redis://[:password@]host:port[/db]`). Prefer the environment
    /// variable: a command line is visible to other users.
    #[arg(
        long,
        value_name = "URL",
        env = "SEALED_SESSION_REDIS",
        hide_env_values = true
    )]
    redis: String,

    /// Revoke one session: its id, 32 hex digits (as `open` prints it).
    #[arg(long, value_name = "HEX", value_parser = parse_session_id)]
    session_id: Option<SessionId>,

    /// Log a user out everywhere: every session of this subject created
    /// until now is refused.
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,

    /// The apps' absolute session lifetime: the entry lasts that long plus
    /// 10 minutes (the largest clock leeway a codec accepts), after which
    /// what it blocks has expired anyway.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    lifetime: time::Duration,

    /// The key prefix the apps' `RedisOptions` use.
    #[arg(long, value_name = "PREFIX", default_value = "sealed-session")]
    prefix: String,
}

fn parse_session_id(text: &str) -> Result<SessionId, String> {
    SessionId::from_hex(text).ok_or_else(|| "expected 32 hex digits".to_owned())
}

pub(crate) fn run(ctx: &Context, args: Args) -> Result<(), CliError> {
    let until = ctx
        .now
        .checked_add(args.lifetime + time::Duration::minutes(10))
        .ok_or_else(|| CliError::usage("--lifetime is too long"))?;
    // Sessions created before this second are refused; a log-in after it
    // starts a new session, which opens.
    let not_before = ctx.now;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(OTHER, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let store = RedisRevocations::connect(
            &args.redis,
            RedisOptions::default().prefix(args.prefix.clone()),
        )
        .await?;
        match (&args.session_id, &args.subject) {
            (Some(id), _) => {
                store
                    .revoke_session(&RevokedSession::by_id(*id, until))
                    .await
            }
            (None, Some(subject)) => store.revoke_subject(subject, not_before, until).await,
            (None, None) => Ok(()),
        }
    })?;
    match (&args.session_id, &args.subject) {
        (Some(id), _) if ctx.json => print_json(&json!({
            "session_id": id.to_string(),
            "until": rfc3339(until),
            "prefix": args.prefix,
        }))?,
        (Some(id), _) => outln!("revoked session {id} until {}", rfc3339(until)),
        (None, Some(subject)) if ctx.json => print_json(&json!({
            "subject": subject,
            "not_before": rfc3339(not_before),
            "until": rfc3339(until),
            "prefix": args.prefix,
        }))?,
        (None, Some(subject)) => outln!(
            "revoked every session of subject {subject:?} created before {} (until {})",
            rfc3339(not_before),
            rfc3339(until)
        ),
        (None, None) => {}
    }
    Ok(())
}
