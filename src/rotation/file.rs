//! The key-ring file, version 2: keys with lifecycles (FORMAT.md §12).
//! Version 1 files (roles, no dates) are still read, as [`StoredRing::Fixed`].
//!
//! ```text
//! sealed-session key ring v2
//! generation 7
//! # key id  created               activates             retires               secret (base64url)
//! 2ee8cbfa  2026-11-01T00:00:00Z  2026-11-01T00:00:00Z  2026-12-01T00:00:00Z  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
//! 573e0087  2026-11-29T00:00:00Z  2026-12-01T00:00:00Z  2026-12-31T00:00:00Z  ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8
//! ```

use std::fmt::Write as _;
use std::path::Path;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};
use zeroize::Zeroizing;

use crate::error::{Error, RotationError};
use crate::ids::KeyId;
use crate::key::{Key, KeyRing, read_secret_file};
use crate::ring_file::{KeyRingFile, MAGIC as MAGIC_V1, fields_of, in_utc_rfc3339, trim_blanks};

use super::lifecycle::Lifecycle;
use super::schedule::{Change, KeySchedule, RotationPolicy};

const MAGIC_V2: &str = "sealed-session key ring v2";

/// The first generation a key-ring file may not hold (FORMAT.md §12.4):
/// far above any count of rotations, and far enough below `u64::MAX` that
/// raising it never saturates.
pub(crate) const MAX_GENERATION: u64 = 1 << 63;

/// A key-ring file of either version, as read from disk or a store.
///
/// ```
/// use sealed_session::{Key, KeySchedule, Lifecycle, StoredRing};
/// use time::{Duration, OffsetDateTime};
/// let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
/// let mut schedule = KeySchedule::new();
/// schedule.add(Key::generate(), Lifecycle::new(now, now, now + Duration::days(30)))?;
/// let text = schedule.to_text(); // holds the secrets: wiped on drop
/// let stored = StoredRing::parse(&text)?;
/// let ring = stored.key_ring_at(now, Duration::days(7))?;
/// assert_eq!(ring.primary(), schedule.keys()[0].key());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum StoredRing {
    /// Version 1: a primary key and accepted keys, no dates. The primary
    /// seals at every instant; nothing drops out by itself.
    Fixed(KeyRingFile),
    /// Version 2: keys with lifecycles; the key that seals is chosen by time.
    Scheduled(KeySchedule),
}

impl StoredRing {
    /// Parses a key-ring file of either version (the first line says which).
    ///
    /// # Errors
    /// [`Error::RingFile`] with the line and the reason, or a key error for
    /// a bad secret. No error quotes a secret.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let first = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, trim_blanks(l)))
            .find(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        match first {
            Some((_, MAGIC_V1)) => KeyRingFile::parse(text).map(Self::Fixed),
            Some((_, MAGIC_V2)) => KeySchedule::parse(text).map(Self::Scheduled),
            Some((line, _)) => Err(Error::RingFile {
                line,
                reason: "the first line must be `sealed-session key ring v1` or `sealed-session key ring v2`",
            }),
            None => Err(Error::RingFile {
                line: 1,
                reason: "the file is empty",
            }),
        }
    }

    /// Reads and parses a key-ring file of either version.
    ///
    /// # Errors
    /// [`Error::KeySource`] if it cannot be read, then as
    /// [`StoredRing::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::parse(&read_secret_file(path.as_ref())?)
    }

    /// The ring a codec uses at `at` (see [`KeySchedule::key_ring_at`]); a
    /// version 1 file gives its ring whatever the time.
    ///
    /// # Errors
    /// [`RotationError::NoSealingKey`] if no key of a schedule seals at `at`.
    pub fn key_ring_at(&self, at: OffsetDateTime, keep: Duration) -> Result<KeyRing, Error> {
        match self {
            Self::Fixed(file) => Ok(file.key_ring()),
            Self::Scheduled(schedule) => schedule.key_ring_at(at, keep),
        }
    }

    /// The ring's generation ([`KeySchedule::generation`]); 0 for a
    /// version 1 file and for a version 2 file without a `generation` line.
    pub fn generation(&self) -> u64 {
        match self {
            Self::Fixed(_) => 0,
            Self::Scheduled(schedule) => schedule.generation(),
        }
    }

    /// A ring that opens what any key of the file sealed, for tools that
    /// only open (see [`KeySchedule::opening_key_ring_at`]): a version 1
    /// file gives its ring.
    ///
    /// # Errors
    /// [`RotationError::NoSealingKey`] for a schedule without keys (which
    /// [`StoredRing::parse`] never returns).
    pub fn opening_key_ring_at(&self, at: OffsetDateTime) -> Result<KeyRing, Error> {
        match self {
            Self::Fixed(file) => Ok(file.key_ring()),
            Self::Scheduled(schedule) => schedule.opening_key_ring_at(at).ok_or(
                RotationError::NoSealingKey {
                    at: at.unix_timestamp(),
                }
                .into(),
            ),
        }
    }

    /// When the ring next changes by itself (never, for version 1).
    pub fn next_change_after(&self, at: OffsetDateTime, keep: Duration) -> Option<Change> {
        match self {
            Self::Fixed(_) => None,
            Self::Scheduled(schedule) => schedule.next_change_after(at, keep),
        }
    }

    /// The file's text, in its own version; zeroized on drop.
    pub fn to_text(&self) -> Zeroizing<String> {
        match self {
            Self::Fixed(file) => file.to_text(),
            Self::Scheduled(schedule) => schedule.to_text(),
        }
    }

    /// The schedule of this ring: itself for version 2; a version 1 file is
    /// upgraded at `now`. Its primary keeps sealing, from its creation (or
    /// `now`, if that is earlier) until `policy.every()` later but at least
    /// `policy.activation_delay()` after `now`, so that the next key has that
    /// long to reach every node; its accepted keys retire at `now` (a version
    /// 1 file does not say when they last sealed) and keep opening for
    /// `policy.keep()`. The schedule's generation is 1: above the 0 of
    /// every version 1 file.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile, KeyState, RotationPolicy, StoredRing};
    /// use time::{Duration, OffsetDateTime};
    /// let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    /// let (primary, old) = (Key::generate(), Key::generate());
    /// let mut v1 = KeyRingFile::new(primary.clone(), now - Duration::days(40));
    /// v1.add(old.clone(), now - Duration::days(90))?;
    /// let policy = RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7))?;
    /// let schedule = StoredRing::Fixed(v1).into_schedule(now, &policy);
    /// assert_eq!(schedule.sealing_key_at(now).unwrap().key(), &primary);
    /// assert_eq!(schedule.state_at(old.id(), now, policy.keep()), Some(KeyState::Retiring));
    /// let retires = schedule.get(primary.id()).unwrap().lifecycle().retires();
    /// assert_eq!(retires, now + Duration::days(2));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn into_schedule(self, now: OffsetDateTime, policy: &RotationPolicy) -> KeySchedule {
        let file = match self {
            Self::Scheduled(schedule) => return schedule,
            Self::Fixed(file) => file,
        };
        let primary = file.primary();
        let activates = primary.created().min(now);
        let retires = activates
            .saturating_add(policy.every())
            .max(now.saturating_add(policy.activation_delay()));
        let mut schedule = KeySchedule::new();
        schedule.set_generation(1);
        schedule.push_checked(
            primary.key().clone(),
            Lifecycle::new(primary.created(), activates, retires),
        );
        // Accepted keys sealed before the primary, if ever: a second before
        // it, so that the primary stays the newest activation.
        let before = activates.saturating_sub(Duration::SECOND);
        for e in file.accepted() {
            let life = Lifecycle::new(e.created(), e.created().min(before), now);
            schedule.push_checked(e.key().clone(), life);
        }
        schedule
    }
}

impl KeySchedule {
    /// Parses the text of a version 2 key-ring file.
    ///
    /// ```
    /// use sealed_session::KeySchedule;
    /// let text = "sealed-session key ring v2
    /// generation 3
    /// 2ee8cbfa 2026-11-01T00:00:00Z 2026-11-01T00:00:00Z 2026-12-01T00:00:00Z AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
    /// ";
    /// let schedule = KeySchedule::parse(text)?;
    /// assert_eq!(schedule.keys()[0].id().to_string(), "2ee8cbfa");
    /// assert_eq!(schedule.generation(), 3);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RingFile`] with the line number and the reason, or a key
    /// error ([`Error::KeyTooShort`], ...) for a bad secret.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |line, reason| Error::RingFile { line, reason };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, trim_blanks(l)))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        match lines.next() {
            Some((_, MAGIC_V2)) => {}
            Some((n, _)) => {
                return Err(bad(
                    n,
                    "the first line must be `sealed-session key ring v2`",
                ));
            }
            None => return Err(bad(1, "the file is empty")),
        }
        let mut schedule = Self::new();
        let mut lines = lines.peekable();
        // An optional `generation N` line, before the keys: missing (files
        // written before it existed) counts as 0.
        if let Some(&(n, line)) = lines.peek() {
            if line.starts_with("generation") {
                let digits = match fields_of(line)[..] {
                    ["generation", digits] => digits,
                    _ => "",
                };
                // Below 2^63: a generation at the top of u64 could never be
                // raised again, and every later ring would tie with it.
                let generation = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| digits.parse::<u64>().ok())
                    .flatten()
                    .filter(|&g| g < MAX_GENERATION)
                    .ok_or(bad(n, "the generation must be a decimal number below 2^63"))?;
                schedule.set_generation(generation);
                lines.next();
            }
        }
        for (n, line) in lines {
            let fields = fields_of(line);
            let [id, created, activates, retires, secret] = fields[..] else {
                return Err(bad(
                    n,
                    "expected 5 fields: key id, created, activates, retires, secret",
                ));
            };
            let id = KeyId::from_hex(id).ok_or(bad(n, "the key id must be 8 hex digits"))?;
            let time = |text: &str, reason| {
                OffsetDateTime::parse(text, &Rfc3339)
                    .ok()
                    .filter(|t| in_utc_rfc3339(*t))
                    .ok_or(bad(n, reason))
            };
            let created = time(created, "the created time must be RFC 3339")?;
            let activates = time(activates, "the activation time must be RFC 3339")?;
            let retires = time(retires, "the retirement time must be RFC 3339")?;
            let key = Key::from_base64(secret)?;
            if key.id() != id {
                return Err(bad(n, "the key id does not match the secret"));
            }
            match schedule.add(key, Lifecycle::new(created, activates, retires)) {
                Err(Error::Rotation(RotationError::Lifecycle { .. })) => {
                    return Err(bad(n, "the key activates after it retires"));
                }
                other => other?,
            }
        }
        if schedule.keys().is_empty() {
            return Err(bad(1, "no key"));
        }
        Ok(schedule)
    }

    /// Reads and parses a version 2 key-ring file.
    ///
    /// # Errors
    /// [`Error::KeySource`] if it cannot be read, then as
    /// [`KeySchedule::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::parse(&read_secret_file(path.as_ref())?)
    }

    /// The text of a version 2 key-ring file, zeroized on drop (it holds
    /// the secrets). Times are written in UTC.
    pub fn to_text(&self) -> Zeroizing<String> {
        // Room for every line up front: a reallocation would leave an
        // unwiped copy of the secrets behind. A secret is at most 1024
        // bytes, 1366 characters of base64; a time at most 36.
        let capacity = 160 + self.keys().len() * (8 + 3 * 36 + 4 * 2 + 1366 + 1);
        let mut text = Zeroizing::new(String::with_capacity(capacity));
        let _ = writeln!(text, "{MAGIC_V2}");
        let _ = writeln!(text, "generation {}", self.generation());
        let _ = writeln!(
            text,
            "# key id  created               activates             retires               secret (base64url)"
        );
        for k in self.keys() {
            let life = k.lifecycle();
            let _ = writeln!(
                text,
                "{}  {}  {}  {}  {}",
                k.id(),
                utc(life.created()),
                utc(life.activates()),
                utc(life.retires()),
                k.key().export_base64().as_str()
            );
        }
        text
    }
}

/// RFC 3339 in UTC (RFC 3339 has no offsets with seconds); a year outside
/// 0..=9999 has no RFC 3339 form, and its line will not parse back.
fn utc(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl KeyRing {
    /// Loads the ring of a key-ring file of either version: what an app
    /// calls at start and on reload. A version 2 file gives the ring of the
    /// present instant, every key of the file opening (rotation removes the
    /// keys no session needs; a ring source, which knows the codec's maximum
    /// lifetime, leaves them out itself). [`StoredRing::load`] and
    /// [`KeyRingFile::load`] are for tools that read the metadata.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRing, KeyRingFile};
    /// let file = KeyRingFile::new(Key::generate(), time::OffsetDateTime::now_utc());
    /// let path = std::env::temp_dir().join(format!("doc-ring-file-{}", std::process::id()));
    /// std::fs::write(&path, file.to_text().as_bytes()).unwrap();
    /// let ring = KeyRing::from_file(&path)?;
    /// assert_eq!(ring.primary(), file.primary().key());
    /// std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`StoredRing::load`]. If no key of a version 2 file seals now (a
    /// gap in its schedule, or a revocation's fresh key not yet active on
    /// this clock), the ring still opens with every key and its primary is
    /// the key that sealed last, as [`KeySchedule::opening_key_ring_at`]
    /// gives: an app that must not seal with such a key follows the file
    /// with a ring source instead.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let stored = StoredRing::load(path)?;
        let now = OffsetDateTime::now_utc();
        stored
            .key_ring_at(now, Duration::MAX)
            .or_else(|_| stored.opening_key_ring_at(now))
    }
}
