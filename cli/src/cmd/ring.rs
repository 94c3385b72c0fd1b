//! `ring`: the key-ring file and staged rotation.

use std::path::PathBuf;

use clap::Subcommand;
use sealed_session::{Key, KeyId, KeyRingFile};
use serde_json::json;

use crate::exit::CliError;
use crate::output::{Context, print_json, relative, rfc3339};

/// Key-ring file commands. The file format is in the README; rotation is
/// `add` (on every node), then `promote`, then `remove` after the longest
/// session lifetime.
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// List the keys: role, key id, created. Never prints key bytes.
    List {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
    },
    /// Add a key as accepted: a new random one, or one from a file or
    /// environment variable.
    Add {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// Add this key instead of a new one.
        #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
        key_file: Option<PathBuf>,
        /// Add the key in this environment variable instead of a new one.
        #[arg(long, value_name = "VAR")]
        key_env: Option<String>,
    },
    /// Make a key primary; the former primary becomes accepted.
    Promote {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The key id (8 hex digits, as `ring list` shows).
        #[arg(value_parser = parse_key_id)]
        key_id: KeyId,
    },
    /// Remove an accepted key: tokens it sealed stop opening.
    Remove {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The key id (8 hex digits, as `ring list` shows).
        #[arg(value_parser = parse_key_id)]
        key_id: KeyId,
    },
}

fn parse_key_id(text: &str) -> Result<KeyId, String> {
    KeyId::from_hex(text).ok_or_else(|| format!("expected 8 hex digits, got {text:?}"))
}

pub(crate) fn run(ctx: &Context, command: Command) -> Result<(), CliError> {
    match command {
        Command::List { ring } => list(ctx, &KeyRingFile::load(&ring)?),
        Command::Add {
            ring,
            key_file,
            key_env,
        } => {
            let mut file = KeyRingFile::load(&ring)?;
            let key = match (key_file, key_env) {
                (Some(path), _) => Key::from_file(path)?,
                (_, Some(var)) => Key::from_env(&var)?,
                _ => Key::generate(),
            };
            file.add(key.clone(), ctx.now)?;
            crate::ring_store::save(&file, &ring)?;
            report(ctx, "added", key.id(), "accepted")
        }
        Command::Promote { ring, key_id } => {
            let mut file = KeyRingFile::load(&ring)?;
            file.promote(key_id)?;
            crate::ring_store::save(&file, &ring)?;
            report(ctx, "promoted", key_id, "primary")
        }
        Command::Remove { ring, key_id } => {
            let mut file = KeyRingFile::load(&ring)?;
            file.remove(key_id)?;
            crate::ring_store::save(&file, &ring)?;
            report(ctx, "removed", key_id, "removed")
        }
    }
}

fn report(ctx: &Context, action: &str, id: KeyId, role: &str) -> Result<(), CliError> {
    if ctx.json {
        print_json(&json!({ "action": action, "key_id": id.to_string(), "role": role }))?;
    } else if role == "removed" {
        outln!("removed key {id}");
    } else {
        outln!("{action} key {id}; it is now {role}");
    }
    Ok(())
}

fn list(ctx: &Context, file: &KeyRingFile) -> Result<(), CliError> {
    if ctx.json {
        let keys: Vec<_> = file
            .entries()
            .map(|e| {
                json!({
                    "role": e.role().as_str(),
                    "key_id": e.key().id().to_string(),
                    "created": rfc3339(e.created()),
                })
            })
            .collect();
        print_json(&json!({ "keys": keys }))?;
        return Ok(());
    }
    outln!("{:<10}{:<10}{:<22}age", "role", "key id", "created");
    for e in file.entries() {
        outln!(
            "{:<10}{:<10}{:<22}{}",
            e.role().as_str(),
            e.key().id(),
            rfc3339(e.created()),
            relative(e.created(), ctx.now)
        );
    }
    Ok(())
}
