//! A running layer follows its key-ring file: replaced by an atomic rename,
//! or by a Kubernetes-style symlink swap of a mounted secret; a bad file
//! never replaces a good one; the revocation store survives every reload.
//! The follower polls every 10 ms; the tests wait for what they expect
//! (up to a generous deadline), they never assert how fast it came.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealed_session::axum::{CodecHandle, SessionLayer};
use sealed_session::{
    Codec, FileRingSource, Key, KeyId, KeySchedule, Lifecycle, MemoryRevocations, Revocations,
    SessionCookie,
};
use time::OffsetDateTime;

/// A ring whose only key seals from an hour ago for a day.
fn ring_text(key: &Key) -> String {
    let now = OffsetDateTime::now_utc();
    let mut s = KeySchedule::new();
    s.add(
        key.clone(),
        Lifecycle::new(
            now - time::Duration::hours(1),
            now - time::Duration::hours(1),
            now + time::Duration::days(1),
        ),
    )
    .unwrap();
    s.to_text().to_string()
}

/// Writes `text` to `path` as `ring rotate` does: a temporary file, then a
/// rename over the old one.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn primary(handle: &CodecHandle) -> KeyId {
    handle.current().key_ring().primary().id()
}

struct Following {
    handle: CodecHandle,
    follower: sealed_session::RingFollower,
    store: Arc<MemoryRevocations>,
}

fn follow(path: &Path) -> Following {
    let store = Arc::new(MemoryRevocations::new());
    let dyn_store: Arc<dyn Revocations> = store.clone();
    let build = move |ring| Codec::builder(ring).revocations(dyn_store.clone()).build();
    let loaded = FileRingSource::new(path)
        .poll_every(Duration::from_millis(10))
        .load(build)
        .unwrap();
    let layer = SessionLayer::<u64>::new(
        loaded.codec().clone(),
        SessionCookie::builder("session").build().unwrap(),
    );
    let handle = layer.codec_handle();
    let sink_handle = handle.clone();
    let follower = loaded
        .follow(move |codec| sink_handle.replace(codec))
        .unwrap();
    Following {
        handle,
        follower,
        store,
    }
}

fn keeps_the_store(f: &Following) -> bool {
    let current = f.handle.current();
    let store: Arc<dyn Revocations> = f.store.clone();
    current
        .revocations()
        .is_some_and(|s| std::ptr::addr_eq(Arc::as_ptr(s), Arc::as_ptr(&store)))
}

#[test]
fn follows_an_atomic_rename_and_keeps_the_revocation_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let (a, b) = (Key::generate(), Key::generate());
    replace(&path, &ring_text(&a));
    let f = follow(&path);
    assert_eq!(primary(&f.handle), a.id());

    replace(&path, &ring_text(&b));
    wait_for("the new key", || primary(&f.handle) == b.id());
    assert!(keeps_the_store(&f), "the reload kept the revocation store");
    let stats = f.follower.stats();
    assert_eq!((stats.loaded, stats.rejected, stats.applied), (2, 0, 1));
    // A token sealed under the old key no longer opens: `a` is gone from
    // the file (a revocation, as `ring revoke` writes it).
    assert!(f.handle.current().key_ring().find(a.id()).is_none());
}

/// Kubernetes mounts a secret as `ring -> ..data/ring`, `..data ->
/// ..2026_12_06_1`, and updates it by writing a new directory and renaming
/// a new `..data` link over the old one.
#[cfg(unix)]
#[test]
fn follows_a_kubernetes_style_symlink_swap() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path();
    let version = |n: u32, key: &Key| -> PathBuf {
        let d = mount.join(format!("..2026_12_06_{n}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("ring"), ring_text(key)).unwrap();
        d
    };
    let swap = |target: &Path| {
        let tmp = mount.join("..data_tmp");
        symlink(target.file_name().unwrap(), &tmp).unwrap();
        std::fs::rename(&tmp, mount.join("..data")).unwrap();
    };
    let (a, b) = (Key::generate(), Key::generate());
    let first = version(1, &a);
    swap(&first);
    symlink("..data/ring", mount.join("ring")).unwrap();
    let f = follow(&mount.join("ring"));
    assert_eq!(primary(&f.handle), a.id());

    let second = version(2, &b);
    swap(&second);
    std::fs::remove_dir_all(&first).unwrap(); // as the kubelet does
    wait_for("the swapped key", || primary(&f.handle) == b.id());
    assert!(keeps_the_store(&f));
    assert_eq!(f.follower.stats().rejected, 0);
}

#[test]
fn a_bad_file_never_replaces_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let (a, b) = (Key::generate(), Key::generate());
    replace(&path, &ring_text(&a));
    let f = follow(&path);

    replace(
        &path,
        "sealed-session key ring v2\n# every key removed by mistake\n",
    );
    wait_for("the empty ring refused", || {
        f.follower.stats().rejected == 1
    });
    std::fs::remove_file(&path).unwrap();
    wait_for("the missing file refused", || {
        f.follower.stats().rejected == 2
    });
    let truncated = ring_text(&b);
    replace(&path, &truncated[..truncated.len() - 20]);
    wait_for("the truncated file refused", || {
        f.follower.stats().rejected == 3
    });
    assert_eq!(primary(&f.handle), a.id(), "the good ring stayed");
    assert_eq!(f.follower.stats().applied, 0);

    replace(&path, &ring_text(&b));
    wait_for("the repaired file", || primary(&f.handle) == b.id());
    assert!(keeps_the_store(&f));
}

#[test]
fn a_reload_that_would_drop_the_revocation_store_is_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let (a, b) = (Key::generate(), Key::generate());
    replace(&path, &ring_text(&a));
    let store: Arc<dyn Revocations> = Arc::new(MemoryRevocations::new());
    let codec = Codec::builder(sealed_session::KeyRing::new(a.clone()))
        .revocations(store)
        .build()
        .unwrap();
    let layer = SessionLayer::<u64>::new(codec, SessionCookie::builder("session").build().unwrap());
    let handle = layer.codec_handle();
    // A build that forgot `.revocations(store)`: every reload is refused.
    let forgetful = FileRingSource::new(&path)
        .poll_every(Duration::from_millis(10))
        .load(|ring| Codec::builder(ring).build())
        .unwrap();
    let sink = handle.clone();
    let follower = forgetful.follow(move |codec| sink.replace(codec)).unwrap();
    replace(&path, &ring_text(&b));
    wait_for("the refused codec", || follower.stats().rejected == 1);
    assert_eq!(primary(&handle), a.id());
    assert!(handle.current().revocations().is_some());
    follower.stop();
}

/// A sink that panics does not end the thread that follows the file: the
/// panic is counted, the follower still runs, and the next ring is taken.
#[test]
fn a_panicking_sink_leaves_the_follower_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let (a, b, c) = (Key::generate(), Key::generate(), Key::generate());
    replace(&path, &ring_text(&a));
    let loaded = FileRingSource::new(&path)
        .poll_every(Duration::from_millis(10))
        .load(|ring| Codec::builder(ring).build())
        .unwrap();
    let taken = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink_taken = Arc::clone(&taken);
    let poison = b.id();
    let follower = loaded
        .follow(move |codec| {
            let primary = codec.key_ring().primary().id();
            assert_ne!(primary, poison, "the app's sink panics on this key");
            sink_taken.lock().unwrap().push(primary);
            Ok(())
        })
        .unwrap();
    replace(&path, &ring_text(&b));
    wait_for("the panic counted", || follower.stats().panicked >= 1);
    assert!(follower.is_following());
    replace(&path, &ring_text(&c));
    wait_for("the next ring taken", || {
        taken.lock().unwrap().contains(&c.id())
    });
    assert!(follower.is_following());
    follower.stop();
}
