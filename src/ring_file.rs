//! The key-ring file: the keys of a ring, which one is primary, and when
//! each was created, in a text file operators can read and diff.
//!
//! ```text
//! sealed-session key ring v1
//! # role     key id    created               secret (base64url)
//! primary    2ee8cbfa  2026-11-23T10:00:00Z  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
//! accepted   573e0087  2026-10-01T08:00:00Z  ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8
//! ```
//!
//! The first line names the format. Blank lines and lines starting with `#`
//! are ignored. Each key line has four fields separated by spaces: the role
//! (`primary` or `accepted`, exactly one primary), the key id (checked against
//! the secret), the creation time (RFC 3339) and the master secret as base64.
//!
//! This is version 1 (FORMAT.md §12.1). Version 2 gives each key an
//! activation and a retirement time instead of a role
//! ([`KeySchedule`](crate::KeySchedule)); [`StoredRing`](crate::StoredRing)
//! reads either.

use std::fmt::Write as _;
use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::ids::KeyId;
use crate::key::{Key, KeyRing, read_secret_file};

pub(crate) const MAGIC: &str = "sealed-session key ring v1";

/// What a key of a ring does.
///
/// ```
/// use sealed_session::{Key, KeyRingFile, KeyRole};
/// let file = KeyRingFile::new(Key::generate(), time::OffsetDateTime::now_utc());
/// assert_eq!(file.primary().role(), KeyRole::Primary);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    /// Seals new tokens, and opens.
    Primary,
    /// Only opens.
    Accepted,
}

impl KeyRole {
    /// `"primary"` or `"accepted"`, as written in the file.
    ///
    /// ```
    /// use sealed_session::KeyRole;
    /// assert_eq!(KeyRole::Primary.as_str(), "primary");
    /// assert_eq!(KeyRole::Accepted.as_str(), "accepted");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Accepted => "accepted",
        }
    }
}

/// One key of a key-ring file.
///
/// ```
/// use sealed_session::{Key, KeyRingFile};
/// let file = KeyRingFile::new(Key::generate(), time::OffsetDateTime::now_utc());
/// for entry in file.entries() {
///     println!("{} {} {}", entry.role().as_str(), entry.key().id(), entry.created());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct KeyEntry {
    role: KeyRole,
    key: Key,
    created: OffsetDateTime,
}

impl KeyEntry {
    /// Primary or accepted.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile, KeyRole};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// assert_eq!(file.primary().role(), KeyRole::Primary);
    /// ```
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// The key.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let key = Key::generate();
    /// let file = KeyRingFile::new(key.clone(), now);
    /// assert_eq!(file.primary().key(), &key);
    /// ```
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// When the key was created.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// assert_eq!(file.primary().created(), now);
    /// ```
    pub fn created(&self) -> OffsetDateTime {
        self.created
    }
}

/// A key ring with its metadata, as kept in a key-ring file.
///
/// ```
/// use sealed_session::{Key, KeyRingFile, KeyRole};
/// use time::OffsetDateTime;
/// let now = OffsetDateTime::now_utc();
/// let mut file = KeyRingFile::new(Key::generate(), now);
/// let next = Key::generate();
/// file.add(next.clone(), now)?;           // 1. accepted everywhere
/// file.promote(next.id())?;               // 2. primary everywhere
/// let old = file.accepted()[0].key().id();
/// file.remove(old)?;                      // 3. after the longest session
/// let again = KeyRingFile::parse(&file.to_text())?;
/// assert_eq!(again.primary().role(), KeyRole::Primary);
/// assert_eq!(again.key_ring().primary(), &next);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyRingFile {
    /// Always present: a ring without a primary key cannot be written down.
    primary: KeyEntry,
    /// In the order they were added.
    accepted: Vec<KeyEntry>,
}

impl KeyRingFile {
    /// A file holding one primary key.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// assert_eq!(file.entries().count(), 1);
    /// assert!(file.to_text().starts_with("sealed-session key ring v1\n"));
    /// ```
    pub fn new(primary: Key, created: OffsetDateTime) -> Self {
        Self {
            primary: KeyEntry {
                role: KeyRole::Primary,
                key: primary,
                created,
            },
            accepted: Vec::new(),
        }
    }

    /// Parses the text of a key-ring file.
    ///
    /// ```
    /// use sealed_session::{Error, KeyRingFile};
    /// let text = "sealed-session key ring v1
    /// primary  2ee8cbfa  2026-11-23T10:00:00Z  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
    /// ";
    /// let file = KeyRingFile::parse(text)?;
    /// assert_eq!(file.primary().key().id().to_string(), "2ee8cbfa");
    /// let wrong = text.replace("2ee8cbfa", "00000000");
    /// assert!(matches!(KeyRingFile::parse(&wrong), Err(Error::RingFile { line: 2, .. })));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RingFile`] with the line number and the reason, or a key error
    /// ([`Error::KeyTooShort`], [`Error::WeakKey`], ...) for a bad secret.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, trim_blanks(l)));
        let bad = |line, reason| Error::RingFile { line, reason };
        match lines.find(|(_, l)| !l.is_empty() && !l.starts_with('#')) {
            Some((_, MAGIC)) => {}
            Some((n, _)) => {
                return Err(bad(
                    n,
                    "the first line must be `sealed-session key ring v1`",
                ));
            }
            None => return Err(bad(1, "the file is empty")),
        }
        let mut primary = None;
        let mut accepted = Vec::new();
        for (n, line) in lines {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = fields_of(line);
            let [role, id, created, secret] = fields[..] else {
                return Err(bad(n, "expected 4 fields: role, key id, created, secret"));
            };
            let role = match role {
                "primary" => KeyRole::Primary,
                "accepted" => KeyRole::Accepted,
                _ => return Err(bad(n, "the role must be `primary` or `accepted`")),
            };
            let id = KeyId::from_hex(id).ok_or(bad(n, "the key id must be 8 hex digits"))?;
            // In UTC too: a file writes UTC, and a year before 0 has no
            // RFC 3339 form (`0000-01-01T00:00:00+01:00`).
            let created = OffsetDateTime::parse(created, &Rfc3339)
                .ok()
                .filter(|t| in_utc_rfc3339(*t))
                .ok_or(bad(n, "the created time must be RFC 3339"))?;
            let key = Key::from_base64(secret)?;
            if key.id() != id {
                return Err(bad(n, "the key id does not match the secret"));
            }
            let entry = KeyEntry { role, key, created };
            match role {
                KeyRole::Primary if primary.is_some() => {
                    return Err(bad(n, "a second primary key"));
                }
                KeyRole::Primary => primary = Some(entry),
                KeyRole::Accepted => accepted.push(entry),
            }
        }
        let primary = primary.ok_or(bad(1, "no primary key"))?;
        let mut file = Self {
            primary,
            accepted: Vec::new(),
        };
        for e in accepted {
            file.push_accepted(e)?;
        }
        Ok(file)
    }

    /// Reads and parses a key-ring file, metadata included: for tools that
    /// rotate or inspect it. An app that only seals and opens calls
    /// [`KeyRing::from_file`].
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// let path = std::env::temp_dir().join(format!("doc-ring-{}", std::process::id()));
    /// std::fs::write(&path, file.to_text().as_bytes()).unwrap();
    /// let loaded = KeyRingFile::load(&path)?;
    /// assert_eq!(loaded.primary().key(), file.primary().key());
    /// std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::KeySource`] if it cannot be read, then as
    /// [`KeyRingFile::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::parse(&read_secret_file(path.as_ref())?)
    }

    /// The text of the file, zeroized on drop (it holds the secrets).
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// let text = file.to_text(); // holds the secrets: wiped on drop
    /// assert_eq!(KeyRingFile::parse(&text)?.primary().key(), file.primary().key());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn to_text(&self) -> Zeroizing<String> {
        // Room for every line up front: a reallocation would leave an
        // unwiped copy of the secrets behind (a secret is at most 1366
        // characters of base64, a time at most 36).
        let capacity = 128 + self.entries().count() * (9 + 8 + 36 + 3 * 2 + 1366 + 1);
        let mut text = Zeroizing::new(String::with_capacity(capacity));
        let _ = writeln!(text, "{MAGIC}");
        let _ = writeln!(
            text,
            "# role     key id    created               secret (base64url)"
        );
        for e in self.entries() {
            // In UTC: RFC 3339 has no offsets with seconds. (A year before 0
            // has no RFC 3339 form at all; such a line will not parse back.)
            let created = e
                .created
                .to_offset(time::UtcOffset::UTC)
                .format(&Rfc3339)
                .unwrap_or_else(|_| e.created.unix_timestamp().to_string());
            let _ = writeln!(
                text,
                "{:<9}  {}  {}  {}",
                e.role.as_str(),
                e.key.id(),
                created,
                e.key.export_base64().as_str()
            );
        }
        text
    }

    /// The primary key.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let key = Key::generate();
    /// let file = KeyRingFile::new(key.clone(), now);
    /// assert_eq!(file.primary().key(), &key);
    /// ```
    pub fn primary(&self) -> &KeyEntry {
        &self.primary
    }

    /// The accepted keys, in the order they were added.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile, KeyRole};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let mut file = KeyRingFile::new(Key::generate(), now);
    /// file.add(Key::generate(), now)?;
    /// assert_eq!(file.accepted().len(), 1);
    /// assert_eq!(file.accepted()[0].role(), KeyRole::Accepted);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn accepted(&self) -> &[KeyEntry] {
        &self.accepted
    }

    /// Every key: the primary first, then the accepted ones.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile, KeyRole};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let mut file = KeyRingFile::new(Key::generate(), now);
    /// file.add(Key::generate(), now)?;
    /// let roles: Vec<_> = file.entries().map(|e| e.role()).collect();
    /// assert_eq!(roles, [KeyRole::Primary, KeyRole::Accepted]);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn entries(&self) -> impl Iterator<Item = &KeyEntry> {
        std::iter::once(&self.primary).chain(&self.accepted)
    }

    /// Adds a key as accepted (step 1 of a rotation).
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let mut file = KeyRingFile::new(Key::generate(), now);
    /// let next = Key::generate();
    /// file.add(next.clone(), now)?;
    /// assert!(file.add(next, now).is_err()); // its id is already there
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] if a key with its id is already in the ring.
    pub fn add(&mut self, key: Key, created: OffsetDateTime) -> Result<(), Error> {
        self.push_accepted(KeyEntry {
            role: KeyRole::Accepted,
            key,
            created,
        })
    }

    /// Makes a key primary; the former primary becomes the first accepted
    /// key (step 2). Promoting the primary changes nothing.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// let old = Key::generate();
    /// let mut file = KeyRingFile::new(old.clone(), now);
    /// let next = Key::generate();
    /// file.add(next.clone(), now)?;
    /// file.promote(next.id())?;
    /// assert_eq!(file.primary().key(), &next);
    /// assert_eq!(file.accepted()[0].key(), &old);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if no key has this id.
    pub fn promote(&mut self, id: KeyId) -> Result<(), Error> {
        if self.primary.key.id() == id {
            return Ok(());
        }
        let i = self.accepted_position(id)?;
        let mut promoted = self.accepted.remove(i);
        promoted.role = KeyRole::Primary;
        let mut former = std::mem::replace(&mut self.primary, promoted);
        former.role = KeyRole::Accepted;
        self.accepted.insert(0, former);
        Ok(())
    }

    /// Removes an accepted key (step 3): tokens it sealed stop opening.
    ///
    /// ```
    /// use sealed_session::{Error, Key, KeyRingFile};
    /// let now = time::OffsetDateTime::now_utc();
    /// let primary = Key::generate();
    /// let mut file = KeyRingFile::new(primary.clone(), now);
    /// let old = Key::generate();
    /// file.add(old.clone(), now)?;
    /// file.remove(old.id())?;
    /// assert!(matches!(file.remove(primary.id()), Err(Error::RemovePrimary(_))));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RemovePrimary`] if it is the primary; [`Error::UnknownKey`]
    /// if no key has this id.
    pub fn remove(&mut self, id: KeyId) -> Result<(), Error> {
        if self.primary.key.id() == id {
            return Err(Error::RemovePrimary(id));
        }
        let i = self.accepted_position(id)?;
        self.accepted.remove(i);
        Ok(())
    }

    /// The key ring to build a [`Codec`](crate::Codec) with.
    ///
    /// ```
    /// use sealed_session::{Key, KeyRingFile};
    /// use time::OffsetDateTime;
    /// let now = OffsetDateTime::now_utc();
    /// use sealed_session::Codec;
    /// let file = KeyRingFile::new(Key::generate(), now);
    /// let codec = Codec::builder(file.key_ring()).build()?;
    /// assert_eq!(codec.key_ring().primary(), file.primary().key());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn key_ring(&self) -> KeyRing {
        self.accepted
            .iter()
            .fold(KeyRing::new(self.primary.key.clone()), |ring, e| {
                ring.with_accepted(e.key.clone())
            })
    }

    fn accepted_position(&self, id: KeyId) -> Result<usize, Error> {
        self.accepted
            .iter()
            .position(|e| e.key.id() == id)
            .ok_or(Error::UnknownKey(id))
    }

    fn push_accepted(&mut self, entry: KeyEntry) -> Result<(), Error> {
        if self.entries().any(|e| e.key.id() == entry.key.id()) {
            return Err(Error::DuplicateKeyId(entry.key.id()));
        }
        self.accepted.push(entry);
        Ok(())
    }
}

/// Whether `t` has an RFC 3339 form in UTC (years 0 to 9999).
pub(crate) fn in_utc_rfc3339(t: OffsetDateTime) -> bool {
    t.checked_to_offset(time::UtcOffset::UTC)
        .is_some_and(|utc| utc.format(&Rfc3339).is_ok())
}

/// A line without its leading and trailing spaces and tabs (and the `\r`
/// of a CRLF line end): FORMAT.md §12 separates fields with spaces and
/// tabs only, so no other white space is taken for one.
pub(crate) fn trim_blanks(line: &str) -> &str {
    line.trim_matches([' ', '\t', '\r'])
}

/// A line's fields, separated by runs of spaces or tabs (FORMAT.md §12).
pub(crate) fn fields_of(line: &str) -> Vec<&str> {
    line.split([' ', '\t']).filter(|f| !f.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    #[test]
    fn parse_reports_the_line_and_reason() {
        let id = Key::from_base64(A).unwrap().id();
        let good = format!("{MAGIC}\nprimary {id} 2026-01-01T00:00:00Z {A}\n");
        assert!(KeyRingFile::parse(&good).is_ok());
        for (text, line, reason) in [
            (String::new(), 1, "the file is empty"),
            (
                "hello".to_owned(),
                1,
                "the first line must be `sealed-session key ring v1`",
            ),
            (format!("{MAGIC}\n"), 1, "no primary key"),
            (
                format!("{MAGIC}\nprimary {id} 2026-01-01T00:00:00Z"),
                2,
                "expected 4 fields: role, key id, created, secret",
            ),
            (
                format!("{MAGIC}\n\nboss {id} 2026-01-01T00:00:00Z {A}"),
                3,
                "the role must be `primary` or `accepted`",
            ),
            (
                format!("{MAGIC}\nprimary 1234 2026-01-01T00:00:00Z {A}"),
                2,
                "the key id must be 8 hex digits",
            ),
            (
                format!("{MAGIC}\nprimary 00000000 2026-01-01T00:00:00Z {A}"),
                2,
                "the key id does not match the secret",
            ),
            (
                format!("{MAGIC}\nprimary {id} yesterday {A}"),
                2,
                "the created time must be RFC 3339",
            ),
            (
                format!("{good}primary {id} 2026-01-01T00:00:00Z {A}"),
                3,
                "a second primary key",
            ),
        ] {
            match KeyRingFile::parse(&text) {
                Err(Error::RingFile { line: l, reason: r }) => {
                    assert_eq!((l, r), (line, reason), "{text:?}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let dup = format!("{good}accepted {id} 2026-01-01T00:00:00Z {A}");
        assert!(matches!(
            KeyRingFile::parse(&dup),
            Err(Error::DuplicateKeyId(_))
        ));
    }

    /// The examples in the README and in this module's docs parse.
    #[test]
    fn documented_examples_parse() {
        let module_doc: String = include_str!("ring_file.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! "))
            .skip_while(|l| *l != MAGIC)
            .take_while(|l| !l.starts_with("```"))
            .map(|l| format!("{l}\n"))
            .collect();
        let readme: String = include_str!("../README.md")
            .lines()
            .skip_while(|l| *l != MAGIC)
            .take_while(|l| !l.starts_with("```"))
            .map(|l| format!("{l}\n"))
            .collect();
        for text in [module_doc, readme] {
            let file = KeyRingFile::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(file.entries().count(), 2, "{text}");
            assert_eq!(file.primary().role(), KeyRole::Primary);
        }
    }

    #[test]
    fn created_times_in_any_offset_read_back() {
        let offset = time::UtcOffset::from_hms(5, 30, 15).unwrap();
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap()
            .to_offset(offset);
        let file = KeyRingFile::new(Key::generate(), t);
        let back = KeyRingFile::parse(&file.to_text()).unwrap();
        assert_eq!(back.primary().created(), t);
    }

    #[test]
    fn rotation_steps_and_text_round_trip() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let first = Key::generate();
        let mut file = KeyRingFile::new(first.clone(), t);
        let second = Key::generate();
        file.add(second.clone(), t).unwrap();
        assert!(matches!(
            file.remove(first.id()),
            Err(Error::RemovePrimary(_))
        ));
        file.promote(second.id()).unwrap();
        assert_eq!(file.primary().key(), &second);
        assert_eq!(file.accepted()[0].role(), KeyRole::Accepted);
        let dir = std::env::temp_dir().join(format!("ring-test-{}", std::process::id()));
        std::fs::write(&dir, file.to_text().as_bytes()).unwrap();
        let ring = KeyRing::from_file(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(ring.primary(), &second);
        assert_eq!(ring.accepted(), std::slice::from_ref(&first));
        file.remove(first.id()).unwrap();
        assert_eq!(file.entries().count(), 1);
        assert!(matches!(
            file.promote(first.id()),
            Err(Error::UnknownKey(_))
        ));
    }
}
