//! Where the CLI takes keys from: a key file, an environment variable or a
//! key-ring file. Never a command-line argument (process lists, history).

use std::path::PathBuf;

use clap::Args;
use sealed_session::{Key, KeyRing, StoredRing};
use time::{Duration, OffsetDateTime};

use crate::exit::CliError;

/// The key source of `open` and `seal`.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct KeySource {
    /// A file holding one key as base64.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// An environment variable holding one key as base64.
    #[arg(long, value_name = "VAR")]
    key_env: Option<String>,
    /// A key-ring file (see `sealed-session ring --help`).
    #[arg(long, value_name = "FILE")]
    ring: Option<PathBuf>,
}

impl KeySource {
    /// The ring at `now` for `seal`: of a version 2 file, the key that
    /// seals then, and every other key of the file opening.
    pub(crate) fn load(&self, now: OffsetDateTime) -> Result<KeyRing, CliError> {
        self.load_with(|stored| stored.key_ring_at(now, Duration::MAX))
    }

    /// The ring at `now` for `open`, which needs no key that seals: every
    /// key of the file opens, even in a gap of its schedule.
    pub(crate) fn load_for_opening(&self, now: OffsetDateTime) -> Result<KeyRing, CliError> {
        self.load_with(|stored| stored.opening_key_ring_at(now))
    }

    fn load_with(
        &self,
        of_file: impl FnOnce(&StoredRing) -> Result<KeyRing, sealed_session::Error>,
    ) -> Result<KeyRing, CliError> {
        let ring = match (&self.key_file, &self.key_env, &self.ring) {
            (Some(file), _, _) => KeyRing::new(Key::from_file(file)?),
            (_, Some(var), _) => KeyRing::new(Key::from_env(var)?),
            (_, _, Some(ring)) => of_file(&StoredRing::load(ring)?)?,
            _ => return Err(CliError::usage("give --key-file, --key-env or --ring")),
        };
        Ok(ring)
    }
}
