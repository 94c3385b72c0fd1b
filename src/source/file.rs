//! A key-ring file followed by polling: the file is read again every
//! poll (a few hundred bytes) and compared by digest, so an atomic rename
//! (`ring rotate`) and a Kubernetes secret's symlink swap (`..data`
//! pointing at a new directory) are both seen; the ring is evaluated again
//! at each activation, retirement and drop-out in between.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};

use time::OffsetDateTime;

use crate::codec::Codec;
use crate::error::Error;
use crate::key::{KeyRing, read_capped, read_secret_file};

use super::apply::{Applier, Build};
use super::follower::{RingFollower, Running};

/// A key-ring file (either version, FORMAT.md §12) that a running app
/// follows without a restart.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use sealed_session::axum::SessionLayer;
/// use sealed_session::{Codec, FileRingSource, Key, KeyRingFile, SessionCookie};
/// # let path = std::env::temp_dir().join(format!("doc-follow-{}", std::process::id()));
/// # std::fs::write(&path, KeyRingFile::new(Key::generate(), time::OffsetDateTime::now_utc()).to_text().as_bytes()).unwrap();
/// // The app's settings, and its revocation store if it has one: the same
/// // at every reload (a `CodecHandle` refuses a codec without the store).
/// let build = |ring| Codec::builder(ring).max_lifetime(time::Duration::days(7)).build();
/// let loaded = FileRingSource::new(&path).load(build)?;   // fails if the file does
/// let layer = SessionLayer::<u64>::new(loaded.codec().clone(), SessionCookie::builder("session").build()?);
/// let handle = layer.codec_handle();
/// let follower = loaded.follow(move |codec| handle.replace(codec))?;
/// assert_eq!(follower.stats().loaded, 1);
/// # drop(follower);
/// # std::fs::remove_file(&path).unwrap();
/// # }
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FileRingSource {
    path: PathBuf,
    poll: std::time::Duration,
}

impl FileRingSource {
    /// The file at `path`, read again every second.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            poll: std::time::Duration::from_secs(1),
        }
    }

    /// How often the file is read again (default one second). A new key
    /// reaches this node within this time of being written; keys rotate
    /// days (or, with a short schedule, seconds) apart.
    #[must_use]
    pub fn poll_every(mut self, poll: std::time::Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Reads the file and builds the first codec with `build` (which gets
    /// the ring of the moment and must add the app's settings, the same
    /// each time).
    ///
    /// # Errors
    /// [`Error::KeySource`] if the file cannot be read, then as
    /// [`StoredRing::parse`](crate::StoredRing::parse),
    /// [`RotationError::NoSealingKey`](crate::RotationError::NoSealingKey)
    /// if no key of it seals now, or what `build` returns.
    pub fn load<B>(&self, build: B) -> Result<LoadedRing, Error>
    where
        B: Fn(KeyRing) -> Result<Codec, Error> + Send + Sync + 'static,
    {
        let text = read_secret_file(&self.path)?;
        let build: Build = Arc::new(build);
        let what = format!("file {}", self.path.display());
        let (applier, codec) =
            Applier::start(what, text.as_bytes(), build, OffsetDateTime::now_utc())?;
        Ok(LoadedRing {
            source: self.clone(),
            applier,
            codec,
        })
    }
}

/// A ring file read once, with its first codec; [`LoadedRing::follow`]
/// keeps following it.
pub struct LoadedRing {
    source: FileRingSource,
    applier: Applier,
    codec: Codec,
}

impl std::fmt::Debug for LoadedRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRing")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl LoadedRing {
    /// The codec of the ring as read, for the app to start with.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Follows the file from a thread of its own until the returned
    /// [`RingFollower`] is dropped: every codec the ring calls for from now
    /// on goes to `sink` (`move |codec| handle.replace(codec)` for a
    /// layer's `CodecHandle`). A file that does not parse, has no key that
    /// seals, or cannot be read, and a codec that `sink` refuses, leave the
    /// codec in use as it is; each is logged at error level (`tracing`,
    /// with the reason and never key bytes) and counted in
    /// [`RingFollower::stats`].
    ///
    /// # Errors
    /// [`Error::KeySource`] if the thread cannot be started.
    pub fn follow<S>(self, sink: S) -> Result<RingFollower, Error>
    where
        S: Fn(Codec) -> Result<(), Error> + Send + Sync + 'static,
    {
        let Self {
            source,
            mut applier,
            codec: _,
        } = self;
        applier.follow(Arc::new(sink));
        let counters = applier.counters();
        let (stop, stopped) = mpsc::channel::<()>();
        let what = format!("file {}", source.path.display());
        let (running, alive) = Running::start();
        let thread = std::thread::Builder::new()
            .name("sealed-session ring".into())
            .spawn(move || {
                let _running = running;
                watch(&source, applier, &stopped);
            })
            .map_err(|e| Error::KeySource {
                source: what,
                reason: format!("cannot start the thread that follows it: {e}"),
            })?;
        Ok(RingFollower::new(counters, alive, move || {
            drop(stop);
            if thread.join().is_err() {
                tracing::error!("key ring: the thread that followed the file had panicked");
            }
        }))
    }
}

fn watch(source: &FileRingSource, mut applier: Applier, stopped: &mpsc::Receiver<()>) {
    loop {
        let now = OffsetDateTime::now_utc();
        // Wake at the next activation, retirement or drop-out, or to poll.
        let wait = applier
            .next_change(now)
            .and_then(|at| std::time::Duration::try_from(at - now).ok())
            .map_or(source.poll, |until| until.min(source.poll));
        match stopped.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = OffsetDateTime::now_utc();
        match read_capped(&source.path) {
            Ok(text) => {
                applier.offer(&text, now);
            }
            Err(e) => applier.unreadable(&e.to_string(), now),
        }
    }
}
