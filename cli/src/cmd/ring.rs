//! `ring`: the key-ring file, rotation by schedule and staged rotation.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sealed_session::{
    Change, Key, KeyId, KeyRingFile, KeySchedule, RedisRingSource, RingKek, RotationPolicy,
    RotationStep, StoredRing,
};
use serde_json::{Value as Json, json};
use time::Duration;

use crate::exit::{CliError, OTHER};
use crate::output::{Context, parse_duration, print_json, relative, rfc3339};
use crate::ring_store::RingLock;

/// Key-ring file commands. The file format is in FORMAT.md §12. Rotation by
/// schedule: `rotate` from cron (idempotent), `revoke` in an emergency.
/// Staged rotation of a version 1 file by hand: `add` (on every node), then
/// `promote`, then `remove` after the longest session lifetime.
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// List the keys: state (or role) and dates. Never prints key bytes.
    List {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        #[command(flatten)]
        keep: Keep,
    },
    /// Keep a schedule going: drop keys no session needs, add the next key
    /// within the activation delay of the current one's retirement (or one
    /// that seals at once if none does). Idempotent: safe from cron, on one
    /// node or every node of a shared volume. Upgrades a version 1 file.
    Rotate {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// How long each key seals.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        every: Duration,
        /// How long before it seals a new key is added: time for every node
        /// to load it.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2d")]
        activation_delay: Duration,
        #[command(flatten)]
        keep: Keep,
    },
    /// Emergency: remove a key at once (its tokens are refused from each
    /// node's next reload) and seal with a fresh key from now on.
    Revoke {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The key id (8 hex digits, as `ring list` shows).
        #[arg(value_parser = parse_key_id)]
        key_id: KeyId,
        /// How long the fresh key seals.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
        every: Duration,
        /// For a version 1 file, upgraded first: how long its primary keeps
        /// sealing at least (as `rotate` upgrades it), unless it is revoked.
        /// Default: 2 days, or half of `--every` if that is shorter.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        activation_delay: Option<Duration>,
        #[command(flatten)]
        keep: Keep,
    },
    /// Publish the file to the Redis key the apps' `RedisRingSource`
    /// follows, sealed under their key-encryption key.
    Push {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The Redis (`redis://[:password@]host:port[/db]`). Prefer the
        /// environment variable: a command line is visible to other users.
        #[arg(
            long,
            value_name = "URL",
            env = "SEALED_SESSION_REDIS",
            hide_env_values = true
        )]
        redis: String,
        /// The Redis key that holds the ring.
        #[arg(long, value_name = "KEY", default_value = "sealed-session:ring")]
        redis_key: String,
        #[command(flatten)]
        kek: Kek,
    },
    /// Add a key as accepted (version 1 files): a new random one, or one
    /// from a file or environment variable.
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
    /// Make a key primary; the former primary becomes accepted (version 1).
    Promote {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The key id (8 hex digits, as `ring list` shows).
        #[arg(value_parser = parse_key_id)]
        key_id: KeyId,
    },
    /// Remove an accepted key: tokens it sealed stop opening (version 1).
    Remove {
        /// The key-ring file.
        #[arg(long, value_name = "FILE")]
        ring: PathBuf,
        /// The key id (8 hex digits, as `ring list` shows).
        #[arg(value_parser = parse_key_id)]
        key_id: KeyId,
    },
}

/// Where the key-encryption key comes from (never the command line).
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct Kek {
    /// A file holding the key-encryption key as base64.
    #[arg(long, value_name = "FILE")]
    kek_file: Option<PathBuf>,
    /// An environment variable holding the key-encryption key as base64.
    #[arg(long, value_name = "VAR")]
    kek_env: Option<String>,
}

impl Kek {
    fn load(&self) -> Result<RingKek, CliError> {
        Ok(match (&self.kek_file, &self.kek_env) {
            (Some(path), _) => RingKek::from_file(path)?,
            (_, Some(var)) => RingKek::from_env(var)?,
            _ => return Err(CliError::usage("give --kek-file or --kek-env")),
        })
    }
}

/// How long a retired key keeps opening: the apps' session lifetime and
/// leeway (give the values their codecs use). No default lifetime: one
/// shorter than the apps' would drop keys that live sessions still need.
#[derive(clap::Args, Debug)]
pub(crate) struct Keep {
    /// The apps' absolute session lifetime (`max_lifetime`): required by
    /// `rotate` and `revoke`; without it `list` shows no drop-out dates.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    lifetime: Option<Duration>,
    /// The apps' clock leeway.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    leeway: Duration,
}

impl Keep {
    /// Lifetime plus leeway, if the lifetime was given.
    fn known(&self) -> Option<Duration> {
        self.lifetime.map(|l| l.saturating_add(self.leeway))
    }

    /// Lifetime plus leeway, for the commands that drop keys.
    fn duration(&self) -> Result<Duration, CliError> {
        self.known().ok_or_else(|| {
            CliError::usage(
                "give --lifetime: the apps' max_lifetime (a shorter one would drop keys that \
                 live sessions still need)",
            )
        })
    }
}

fn parse_key_id(text: &str) -> Result<KeyId, String> {
    KeyId::from_hex(text).ok_or_else(|| format!("expected 8 hex digits, got {text:?}"))
}

pub(crate) fn run(ctx: &Context, command: Command) -> Result<(), CliError> {
    match command {
        Command::List { ring, keep } => match StoredRing::load(&ring)? {
            StoredRing::Fixed(file) => list_fixed(ctx, &file),
            StoredRing::Scheduled(schedule) => list_scheduled(ctx, &schedule, keep.known()),
        },
        Command::Rotate {
            ring,
            every,
            activation_delay,
            keep,
        } => {
            let policy = RotationPolicy::new(every, activation_delay, keep.duration()?)
                .map_err(|e| CliError::usage(e.to_string()))?
                .with_leeway(keep.leeway);
            let _lock = RingLock::acquire(&ring)?;
            let stored = StoredRing::load(&ring)?;
            let upgraded = matches!(stored, StoredRing::Fixed(_));
            let mut schedule = stored.into_schedule(ctx.now, &policy);
            let steps = schedule.rotate(ctx.now, &policy);
            if upgraded || !steps.is_empty() {
                crate::ring_store::save(&schedule.to_text(), &ring)?;
            }
            report_steps(ctx, &schedule, &steps, upgraded, policy.keep())
        }
        Command::Revoke {
            ring,
            key_id,
            every,
            activation_delay,
            keep,
        } => {
            let activation_delay =
                activation_delay.unwrap_or_else(|| Duration::days(2).min(every / 2));
            let policy = RotationPolicy::new(every, activation_delay, keep.duration()?)
                .map_err(|e| CliError::usage(e.to_string()))?
                .with_leeway(keep.leeway);
            let _lock = RingLock::acquire(&ring)?;
            let stored = StoredRing::load(&ring)?;
            let upgraded = matches!(stored, StoredRing::Fixed(_));
            let mut schedule = stored.into_schedule(ctx.now, &policy);
            let steps = schedule.revoke(key_id, ctx.now, &policy)?;
            crate::ring_store::save(&schedule.to_text(), &ring)?;
            report_steps(ctx, &schedule, &steps, upgraded, policy.keep())
        }
        Command::Push {
            ring,
            redis,
            redis_key,
            kek,
        } => push(ctx, &ring, &redis, &redis_key, &kek),
        Command::Add {
            ring,
            key_file,
            key_env,
        } => {
            let _lock = RingLock::acquire(&ring)?;
            let mut file = fixed(&ring)?;
            let key = match (key_file, key_env) {
                (Some(path), _) => Key::from_file(path)?,
                (_, Some(var)) => Key::from_env(&var)?,
                _ => Key::generate(),
            };
            file.add(key.clone(), ctx.now)?;
            crate::ring_store::save(&file.to_text(), &ring)?;
            report(ctx, "added", key.id(), "accepted")
        }
        Command::Promote { ring, key_id } => {
            let _lock = RingLock::acquire(&ring)?;
            let mut file = fixed(&ring)?;
            file.promote(key_id)?;
            crate::ring_store::save(&file.to_text(), &ring)?;
            report(ctx, "promoted", key_id, "primary")
        }
        Command::Remove { ring, key_id } => {
            let _lock = RingLock::acquire(&ring)?;
            let mut file = fixed(&ring)?;
            file.remove(key_id)?;
            crate::ring_store::save(&file.to_text(), &ring)?;
            report(ctx, "removed", key_id, "removed")
        }
    }
}

fn push(ctx: &Context, ring: &Path, redis: &str, name: &str, kek: &Kek) -> Result<(), CliError> {
    let stored = StoredRing::load(ring)?;
    let keys = match &stored {
        StoredRing::Fixed(file) => file.entries().count(),
        StoredRing::Scheduled(schedule) => schedule.keys().len(),
    };
    let source = RedisRingSource::new(redis, name, kek.load()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(OTHER, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(source.publish(&stored.to_text()))?;
    if ctx.json {
        print_json(&json!({ "action": "published", "redis_key": name, "keys": keys }))?;
    } else {
        outln!(
            "published {} ({keys} keys) to redis key {name}",
            ring.display()
        );
    }
    Ok(())
}

/// A version 1 file, for the commands of staged rotation by hand.
fn fixed(path: &Path) -> Result<KeyRingFile, CliError> {
    match StoredRing::load(path)? {
        StoredRing::Fixed(file) => Ok(file),
        StoredRing::Scheduled(_) => Err(CliError::new(
            OTHER,
            format!(
                "{} is a version 2 key ring (keys with lifecycles): use `ring rotate` and `ring revoke`",
                path.display()
            ),
        )),
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

fn report_steps(
    ctx: &Context,
    schedule: &KeySchedule,
    steps: &[RotationStep],
    upgraded: bool,
    keep: Duration,
) -> Result<(), CliError> {
    let sealing = schedule.sealing_key_at(ctx.now).map(|k| k.id().to_string());
    let next = schedule.next_change_after(ctx.now, keep);
    if ctx.json {
        let steps: Vec<Json> = steps.iter().map(step_json).collect();
        print_json(&json!({
            "changed": upgraded || !steps.is_empty(),
            "upgraded": upgraded,
            "steps": steps,
            "sealing": sealing,
            "next_change": next.map(|c| change_json(&c)),
        }))?;
        return Ok(());
    }
    if upgraded {
        outln!("upgraded the file to version 2 (keys with lifecycles)");
    }
    for step in steps {
        match step {
            RotationStep::Added { key, lifecycle } => outln!(
                "added key {key}: activates {}, retires {}",
                rfc3339(lifecycle.activates()),
                rfc3339(lifecycle.retires())
            ),
            RotationStep::Retired { key, at } => outln!("key {key} retires {}", rfc3339(*at)),
            RotationStep::Dropped { key } => {
                outln!("dropped key {key}: no session it sealed can still be open");
            }
            RotationStep::Revoked { key } => {
                outln!("revoked key {key}: its tokens are refused from each node's next reload");
            }
        }
    }
    if steps.is_empty() && !upgraded {
        outln!("nothing to do");
    }
    if let Some(id) = sealing {
        outln!("sealing now: key {id}");
    }
    if let Some(c) = next {
        outln!(
            "next: key {} {} {} ({})",
            c.key,
            c.kind.as_str(),
            rfc3339(c.at),
            relative(c.at, ctx.now)
        );
    }
    Ok(())
}

fn step_json(step: &RotationStep) -> Json {
    match step {
        RotationStep::Added { key, lifecycle } => json!({
            "action": "added",
            "key_id": key.to_string(),
            "created": rfc3339(lifecycle.created()),
            "activates": rfc3339(lifecycle.activates()),
            "retires": rfc3339(lifecycle.retires()),
        }),
        RotationStep::Retired { key, at } => {
            json!({ "action": "retired", "key_id": key.to_string(), "retires": rfc3339(*at) })
        }
        RotationStep::Dropped { key } => json!({ "action": "dropped", "key_id": key.to_string() }),
        RotationStep::Revoked { key } => json!({ "action": "revoked", "key_id": key.to_string() }),
    }
}

fn change_json(c: &Change) -> Json {
    json!({ "at": rfc3339(c.at), "key_id": c.key.to_string(), "change": c.kind.as_str() })
}

fn list_fixed(ctx: &Context, file: &KeyRingFile) -> Result<(), CliError> {
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

fn list_scheduled(
    ctx: &Context,
    schedule: &KeySchedule,
    known: Option<Duration>,
) -> Result<(), CliError> {
    // Without the apps' lifetime, no key is called retired.
    let keep = known.unwrap_or(Duration::MAX);
    let drops_out = |life: &sealed_session::Lifecycle| known.map(|k| rfc3339(life.drops_out(k)));
    let rows = schedule.keys().iter().map(|k| {
        let state = schedule
            .state_at(k.id(), ctx.now, keep)
            .map_or("retired", |s| s.as_str());
        (state, k.id(), *k.lifecycle())
    });
    if ctx.json {
        let keys: Vec<_> = rows
            .map(|(state, id, life)| {
                json!({
                    "state": state,
                    "key_id": id.to_string(),
                    "created": rfc3339(life.created()),
                    "activates": rfc3339(life.activates()),
                    "retires": rfc3339(life.retires()),
                    "drops_out": drops_out(&life),
                })
            })
            .collect();
        let next = known.and_then(|keep| schedule.next_change_after(ctx.now, keep));
        print_json(&json!({
            "keys": keys,
            "next_change": next.map(|c| change_json(&c)),
        }))?;
        return Ok(());
    }
    outln!(
        "{:<10}{:<10}{:<22}{:<22}{:<22}drops out",
        "state",
        "key id",
        "created",
        "activates",
        "retires"
    );
    for (state, id, life) in rows {
        outln!(
            "{:<10}{:<10}{:<22}{:<22}{:<22}{}",
            state,
            id,
            rfc3339(life.created()),
            rfc3339(life.activates()),
            rfc3339(life.retires()),
            drops_out(&life).as_deref().unwrap_or("(give --lifetime)")
        );
    }
    Ok(())
}
