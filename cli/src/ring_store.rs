//! Writing key-ring files. The library reads and formats them
//! (`KeyRingFile::parse`, `load`, `to_text`); only the CLI replaces them on
//! disk, so the care that takes lives here: a temporary file readable by the
//! owner only, fsync, an atomic rename (or hard link, to refuse an existing
//! file), and an fsync of the directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sealed_session::KeyRingFile;

use zeroize::Zeroizing;

use crate::exit::{CliError, OTHER};

/// Replaces the file with `text` (a ring's `to_text`), so that a reader
/// never sees half a ring. A symbolic link is followed: the file it points
/// to is replaced, the link stays.
pub(crate) fn save(text: &Zeroizing<String>, path: &Path) -> Result<(), CliError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    write_atomically(text, &target, |tmp, target| std::fs::rename(tmp, target))
        .map_err(|e| write_error(path, &e))
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
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|e| {
                CliError::new(OTHER, format!("cannot lock {}: {e}", lock_path.display()))
            })?;
        Ok(Self { _file: file })
    }
}

/// Writes a new file as [`save`] does, but refuses to replace an existing
/// one, even one created a moment before.
pub(crate) fn save_new(file: &KeyRingFile, path: &Path) -> Result<(), CliError> {
    let text = file.to_text();
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
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
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
}
