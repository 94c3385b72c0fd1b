//! Writing key-ring files. The library reads and formats them
//! (`KeyRingFile::parse`, `load`, `to_text`); only the CLI replaces them on
//! disk, so the care that takes lives here: a temporary file readable by the
//! owner only (then given the mode and, where permitted, the owner of the
//! file it replaces), fsync, an atomic rename (or hard link, to refuse an
//! existing file), and an fsync of the directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sealed_session::KeyRingFile;

use zeroize::Zeroizing;

use crate::exit::{CliError, LOCKED, OTHER};

/// How long a command waits for another run's lock before giving up
/// (exit code 7), so that cron runs do not pile up behind a hung one.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Replaces the file with `text` (a ring's `to_text`), so that a reader
/// never sees half a ring. A symbolic link is followed: the file it points
/// to is replaced, the link stays.
pub(crate) fn save(text: &Zeroizing<String>, path: &Path) -> Result<(), CliError> {
    reads_back(text, path)?;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    write_atomically(text, &target, |tmp, target| {
        keep_mode_and_owner(tmp, target)?;
        std::fs::rename(tmp, target)
    })
    .map_err(|e| write_error(path, &e))
}

/// Gives the new file the mode of the one it replaces and, where this user
/// may (root), its owner and group: root's cron rotating a `0640 root:app`
/// file must leave it readable by the app.
fn keep_mode_and_owner(tmp: &Path, target: &Path) -> std::io::Result<()> {
    let Ok(old) = std::fs::metadata(target) else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Not permitted unless root (or the same owner and a group of
        // ours): the file then stays ours, with the old mode.
        let _ = std::os::unix::fs::chown(tmp, Some(old.uid()), Some(old.gid()));
    }
    std::fs::set_permissions(tmp, old.permissions())
}

/// Holds an exclusive lock on `FILE.lock` beside the ring while a command
/// reads, changes and replaces it, so that two runs at once (cron on every
/// node of a shared volume) do not both add a key, one of them lost.
pub(crate) struct RingLock {
    _file: std::fs::File,
}

impl RingLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self, CliError> {
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut name = target.as_os_str().to_owned();
        name.push(".lock");
        let lock_path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                CliError::new(OTHER, format!("cannot lock {}: {e}", lock_path.display()))
            })?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(CliError::new(
                        LOCKED,
                        format!(
                            "{} is locked by another run (waited {} s)",
                            lock_path.display(),
                            LOCK_WAIT.as_secs()
                        ),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(CliError::new(
                        OTHER,
                        format!("cannot lock {}: {e}", lock_path.display()),
                    ));
                }
            }
        }
        remove_stale_temporaries(&target);
        Ok(Self { _file: file })
    }
}

/// Temporary files a crashed run left beside the ring (they hold secrets):
/// under the lock, no other run is writing one.
fn remove_stale_temporaries(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut prefix = name.to_owned();
    prefix.push(".tmp");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(prefix.as_encoded_bytes())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes a new file as [`save`] does, but refuses to replace an existing
/// one, even one created a moment before.
pub(crate) fn save_new(file: &KeyRingFile, path: &Path) -> Result<(), CliError> {
    let text = file.to_text();
    reads_back(&text, path)?;
    // A hard link fails if the name is taken; the temporary name is then
    // removed, leaving one complete file.
    write_atomically(&text, path, |tmp, target| {
        std::fs::hard_link(tmp, target)?;
        std::fs::remove_file(tmp)
    })
    .map_err(|e| write_error(path, &e))
}

fn write_atomically(
    text: &Zeroizing<String>,
    target: &Path,
    publish: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // A random suffix: a crashed run's file never blocks a later one.
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", sealed_session::Key::generate().id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| publish(&tmp, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the new name itself durable.
    #[cfg(unix)]
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Refuses to write a text that would not parse back (a date past the year
/// 9999, from a huge `--every`, has no RFC 3339 form): the file in place
/// stays as it was.
fn reads_back(text: &Zeroizing<String>, path: &Path) -> Result<(), CliError> {
    sealed_session::StoredRing::parse(text)
        .map(drop)
        .map_err(|e| {
            CliError::new(
                OTHER,
                format!(
                    "not writing {}: the new ring would not read back ({e})",
                    path.display()
                ),
            )
        })
}

fn write_error(path: &Path, e: &std::io::Error) -> CliError {
    CliError::new(OTHER, format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use sealed_session::{Key, KeyRing};
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn saves_atomically_privately_and_through_links() {
        let file = KeyRingFile::new(Key::generate(), OffsetDateTime::UNIX_EPOCH);
        let path = std::env::temp_dir().join(format!("ring-store-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        save_new(&file, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable by the owner only");
        }
        let e = save_new(&file, &path).unwrap_err();
        assert!(e.message.starts_with("cannot write"), "{}", e.message);

        let mut next = file.clone();
        next.add(Key::generate(), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        #[cfg(unix)]
        {
            // Saving through a symbolic link replaces its target.
            let link = path.with_extension("link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&path, &link).unwrap();
            save(&next.to_text(), &link).unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            std::fs::remove_file(&link).unwrap();
        }
        #[cfg(not(unix))]
        save(&next.to_text(), &path).unwrap();
        let ring = KeyRing::from_file(&path).unwrap();
        assert_eq!(ring.accepted().len(), 1);
        std::fs::remove_file(&path).unwrap();
    }

    /// Root's cron rotating a `0640 root:app` file leaves it readable by
    /// the app: the new file takes the old one's mode (and owner, where
    /// permitted); a crashed run's temporary file is removed under the lock.
    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode_and_stale_temporaries_go() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = std::env::temp_dir().join(format!("ring-store-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("ring");
        let file = KeyRingFile::new(Key::generate(), OffsetDateTime::UNIX_EPOCH);
        save_new(&file, &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        // As root (CI), the file goes to another user first: it must stay
        // theirs. Otherwise it stays ours.
        let _ = std::os::unix::fs::chown(&path, Some(4242), Some(4242));
        let owner = std::fs::metadata(&path).unwrap().uid();
        let stale = dir.join("ring.tmp1234");
        std::fs::write(&stale, "secrets of a crashed run").unwrap();
        let lock = RingLock::acquire(&path).unwrap();
        assert!(!stale.exists(), "a crashed run's temporary file is removed");
        save(&file.to_text(), &path).unwrap();
        drop(lock);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert_eq!(meta.uid(), owner);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A text that would not parse back is never written: the file in
    /// place stays as it was.
    #[test]
    fn a_text_that_would_not_read_back_is_not_written() {
        let path = std::env::temp_dir().join(format!("ring-store-back-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let file = KeyRingFile::new(Key::generate(), OffsetDateTime::UNIX_EPOCH);
        save_new(&file, &path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let bad = Zeroizing::new("sealed-session key ring v2\n00000000 x x x x\n".to_owned());
        let e = save(&bad, &path).unwrap_err();
        assert!(e.message.contains("would not read back"), "{}", e.message);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        std::fs::remove_file(&path).unwrap();
    }
}
