//! `sealed-session`: generate keys, manage key rings, inspect, open and seal
//! session tokens from the command line.

/// `println!`, except that a reader that went away (`| head -1`) ends the
/// process quietly with success instead of a panic.
macro_rules! outln {
    () => {
        $crate::stdout::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_line(format_args!($($arg)*))
    };
}

mod budget;
mod cmd;
mod exact_json;
mod exit;
mod input;
mod keys;
mod output;
mod ring_store;
mod stdout;
mod value;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::CliError;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  any other failure (I/O, bad JSON, key file problems, ...)
  2  usage error (bad flags or arguments)
  3  malformed token (not a token, wrong mode, too large, no such cookie)
  4  authentication failed (tampered, forged, wrong key or purpose)
  5  expired or not yet valid
  6  unknown key id (no key of the ring has the token's key id)
  7  the key-ring file is locked by another run (still held after 10 s)

Errors are printed to stderr as one line. Key bytes are printed only by
`keygen` without `--ring`; keys are read from files, environment variables or
key-ring files, never from the command line.";

/// Stateless session cookies: generate keys, inspect, open and seal tokens.
#[derive(Parser, Debug)]
#[command(name = "sealed-session", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// The current time, RFC 3339 (e.g. 2026-11-23T10:00:00Z): makes every
    /// time-dependent output reproducible.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = output::parse_rfc3339)]
    now: Option<time::OffsetDateTime>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a new random key (base64url), or write a new key-ring file.
    Keygen(cmd::keygen::Args),
    /// Show a token's structure without a key (signed mode: also its
    /// unverified claims and payload).
    Inspect(cmd::inspect::Args),
    /// Authenticate a token and print its claims and payload.
    Open(cmd::open::Args),
    /// Seal a JSON payload read from standard input into a token.
    Seal(cmd::seal::Args),
    /// Manage a key-ring file: list, rotate by schedule, revoke; add,
    /// promote, remove keys by hand.
    #[command(subcommand)]
    Ring(cmd::ring::Command),
    /// Revoke a session, or every session of a user, in the Redis
    /// revocation store shared by the apps' nodes.
    Revoke(cmd::revoke::Args),
    /// Walk through sealing, inspecting and opening a sample session with a
    /// throwaway key.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = output::Context {
        json: cli.json,
        // Whole seconds, as in the claims, so that "expires in 2h" is exact.
        now: cli
            .now
            .unwrap_or_else(time::OffsetDateTime::now_utc)
            .replace_nanosecond(0)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    };
    let result: Result<(), CliError> = match cli.command {
        Command::Keygen(args) => cmd::keygen::run(&ctx, args),
        Command::Inspect(args) => cmd::inspect::run(&ctx, args),
        Command::Open(args) => cmd::open::run(&ctx, args),
        Command::Seal(args) => cmd::seal::run(&ctx, args),
        Command::Ring(command) => cmd::ring::run(&ctx, command),
        Command::Revoke(args) => cmd::revoke::run(&ctx, args),
        Command::Demo => cmd::demo::run(&ctx),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealed-session: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
