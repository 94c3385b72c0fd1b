//! The decisions of a ring source, at chosen instants (no sleeping): when
//! the sink gets a new codec, and that a bad ring never replaces a good one
//! and is logged without key bytes.

use std::io::Write;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use super::apply::{Applier, Build, Sink};
use crate::codec::Codec;
use crate::error::{ConfigError, Error};
use crate::key::Key;
use crate::rotation::{KeySchedule, Lifecycle, RotationPolicy};

const T0: i64 = 1_790_000_000;

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + s).unwrap()
}

/// A codec whose retired keys keep opening 25 s.
fn build() -> Build {
    Arc::new(|ring| {
        Codec::builder(ring)
            .max_lifetime(Duration::seconds(20))
            .leeway(Duration::seconds(5))
            .build()
    })
}

/// The (primary, accepted) key ids of each codec a sink was handed.
type Handed = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A sink that keeps what it is handed.
fn recording() -> (Sink, Handed) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink_got = Arc::clone(&got);
    let sink: Sink = Arc::new(move |codec: Codec| {
        let ring = codec.key_ring();
        let accepted = ring.accepted().iter().map(|k| k.id().to_string()).collect();
        sink_got
            .lock()
            .unwrap()
            .push((ring.primary().id().to_string(), accepted));
        Ok(())
    });
    (sink, got)
}

fn two_keys() -> (Key, Key, KeySchedule) {
    let (a, b) = (Key::generate(), Key::generate());
    let mut s = KeySchedule::new();
    s.add(a.clone(), Lifecycle::new(at(0), at(0), at(100)))
        .unwrap();
    s.add(b.clone(), Lifecycle::new(at(90), at(100), at(200)))
        .unwrap();
    (a, b, s)
}

#[test]
fn the_sink_gets_a_codec_when_a_key_activates_and_when_one_drops_out() {
    let (a, b, schedule) = two_keys();
    let text = schedule.to_text();
    let (mut applier, first) =
        Applier::start("test".into(), text.as_bytes(), build(), at(50)).unwrap();
    assert_eq!(first.key_ring().primary(), &a);
    assert_eq!(
        first.key_ring().accepted(),
        std::slice::from_ref(&b),
        "pending opens"
    );
    let (sink, got) = recording();
    applier.follow(sink);

    assert_eq!(applier.next_change(at(50)), Some(at(100)));
    applier.offer(text.as_bytes(), at(99));
    assert!(got.lock().unwrap().is_empty(), "nothing changed");
    applier.tick(at(100));
    applier.tick(at(124));
    assert_eq!(applier.next_change(at(124)), Some(at(125)));
    applier.tick(at(125));
    let (a, b) = (a.id().to_string(), b.id().to_string());
    assert_eq!(
        *got.lock().unwrap(),
        [(b.clone(), vec![a]), (b, vec![])],
        "switched at 100, the old key gone at 100 + 20 + 5"
    );
    let stats = applier.counters().snapshot();
    assert_eq!((stats.loaded, stats.rejected, stats.applied), (1, 0, 2));
}

/// A `MakeWriter` into a shared buffer, to read what was logged.
#[derive(Clone, Default)]
struct Logged(Arc<Mutex<Vec<u8>>>);

impl Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logged {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[test]
fn a_ring_that_fails_never_replaces_a_good_one_and_is_logged_once_without_key_bytes() {
    let (a, _, schedule) = two_keys();
    let good = schedule.to_text();
    let (mut applier, _) = Applier::start("test".into(), good.as_bytes(), build(), at(50)).unwrap();
    let (sink, got) = recording();
    applier.follow(sink);

    let secret = a.export_base64();
    // The first key's line with one character of its secret changed: the
    // id no longer matches.
    let damaged = good.replacen(&secret[..10], &format!("{}A", &secret[..9]), 1);
    let damaged = if damaged == *good {
        good.replacen(&secret[..10], &format!("{}B", &secret[..9]), 1)
    } else {
        damaged
    };
    // A ring whose every key has retired by now.
    let mut stale = KeySchedule::new();
    stale
        .add(Key::generate(), Lifecycle::new(at(0), at(0), at(10)))
        .unwrap();
    let stale = stale.to_text();

    let logged = Logged::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logged.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for text in [
            &b"not a ring"[..],
            b"\xff\xfe",
            damaged.as_bytes(),
            stale.as_bytes(),
        ] {
            applier.offer(text, at(60));
            applier.offer(text, at(61)); // polled again: not counted again
        }
        applier.unreadable("No such file or directory (os error 2)", at(62));
        applier.unreadable("No such file or directory (os error 2)", at(63));
    });
    assert!(got.lock().unwrap().is_empty(), "the good ring stays");
    let stats = applier.counters().snapshot();
    assert_eq!((stats.loaded, stats.rejected, stats.applied), (1, 5, 0));

    let log = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        log.matches("key ring: refused; the ring in use stays")
            .count(),
        4,
        "{log}"
    );
    for reason in [
        "the first line must be",
        "not UTF-8 text",
        "line 4: the key id does not match the secret",
        "no key seals at unix",
        "cannot read the source",
    ] {
        assert!(log.contains(reason), "{reason} missing from\n{log}");
    }
    for k in schedule.keys() {
        let secret = k.key().export_base64();
        let bytes =
            <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(&secret).unwrap();
        let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let debug = format!("{:?}", &bytes[..8]);
        for form in [
            &secret[..16],
            &hex,
            &hex.to_uppercase(),
            debug.trim_end_matches(']'),
        ] {
            assert!(!log.contains(form), "key bytes ({form}) in the log:\n{log}");
        }
    }

    // The good text again (a file restored), then a new version.
    applier.offer(good.as_bytes(), at(64));
    let mut next = KeySchedule::new();
    let c = Key::generate();
    next.add(c.clone(), Lifecycle::new(at(60), at(60), at(500)))
        .unwrap();
    applier.offer(next.to_text().as_bytes(), at(65));
    assert_eq!(
        *got.lock().unwrap(),
        [(c.id().to_string(), vec![])],
        "a key that is gone from the file stops opening"
    );
    assert_eq!(applier.counters().snapshot().loaded, 2);
}

#[test]
fn a_codec_the_sink_refuses_is_counted_once_and_taken_when_it_is_accepted() {
    let (_, b, schedule) = two_keys();
    let (mut applier, _) = Applier::start(
        "test".into(),
        schedule.to_text().as_bytes(),
        build(),
        at(50),
    )
    .unwrap();
    let refuse = Arc::new(Mutex::new(true));
    let taken = Arc::new(Mutex::new(None));
    let (r, t) = (Arc::clone(&refuse), Arc::clone(&taken));
    applier.follow(Arc::new(move |codec: Codec| {
        if *r.lock().unwrap() {
            return Err(ConfigError::RevocationStoreChanged.into());
        }
        *t.lock().unwrap() = Some(codec.key_ring().primary().id());
        Ok::<(), Error>(())
    }));
    applier.tick(at(100));
    applier.tick(at(101));
    assert_eq!(applier.counters().snapshot().rejected, 1);
    *refuse.lock().unwrap() = false;
    applier.tick(at(102));
    assert_eq!(*taken.lock().unwrap(), Some(b.id()));
    assert_eq!(applier.counters().snapshot().applied, 1);
}

#[test]
fn a_source_that_cannot_seal_now_is_an_error_at_start() {
    let (_, _, schedule) = two_keys();
    let text = schedule.to_text();
    let e = Applier::start("test".into(), text.as_bytes(), build(), at(-1)).map(|_| ());
    assert!(
        matches!(
            e,
            Err(Error::Rotation(crate::RotationError::NoSealingKey { .. }))
        ),
        "{e:?}"
    );
    let e = Applier::start(
        "test".into(),
        b"sealed-session key ring v2\n",
        build(),
        at(0),
    )
    .map(|_| ());
    assert!(matches!(e, Err(Error::RingFile { line: 1, .. })), "{e:?}");
}

/// A revocation read by a node whose clock runs behind the machine that
/// wrote it: the fresh key is still pending on that clock. The ring waits
/// and is taken at the next read at which it seals, instead of being
/// remembered as refused while the node keeps the revoked key.
#[test]
fn a_revocation_read_by_a_node_behind_is_taken_once_its_fresh_key_seals() {
    let (a, _, mut schedule) = two_keys();
    let (mut applier, _) = Applier::start(
        "test".into(),
        schedule.to_text().as_bytes(),
        build(),
        at(50),
    )
    .unwrap();
    let (sink, got) = recording();
    applier.follow(sink);
    // Revoked at 60 on the writer's clock, with no leeway: the fresh key
    // activates at 60 exactly.
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(10),
        Duration::seconds(25),
    )
    .unwrap();
    schedule.revoke(a.id(), at(60), &policy).unwrap();
    let fresh = schedule.sealing_key_at(at(60)).unwrap().id();
    let revoked = schedule.to_text();
    // The node reads it at 59.95 on its own clock: nothing seals yet.
    let behind = at(60) - Duration::milliseconds(50);
    assert!(!applier.offer(revoked.as_bytes(), behind));
    assert!(!applier.offer(revoked.as_bytes(), behind), "polled again");
    assert!(got.lock().unwrap().is_empty());
    // Its clock passes 60: the same text is taken.
    assert!(applier.offer(revoked.as_bytes(), at(60)));
    let handed = got.lock().unwrap().clone();
    assert_eq!(handed.len(), 1, "{handed:?}");
    assert_eq!(handed[0].0, fresh.to_string());
    assert!(
        !handed[0].1.contains(&a.id().to_string()),
        "the revoked key no longer opens"
    );
    let stats = applier.counters().snapshot();
    assert_eq!((stats.loaded, stats.rejected), (2, 1), "logged once");

    // With the leeway the CLI passes, the fresh key seals at once on a
    // clock up to that far behind.
    let (b_schedule_a, _, mut with_leeway) = two_keys();
    let (mut applier, _) = Applier::start(
        "test".into(),
        with_leeway.to_text().as_bytes(),
        build(),
        at(50),
    )
    .unwrap();
    let (sink, got) = recording();
    applier.follow(sink);
    with_leeway
        .revoke(
            b_schedule_a.id(),
            at(60),
            &policy.with_leeway(Duration::seconds(5)),
        )
        .unwrap();
    assert!(applier.offer(with_leeway.to_text().as_bytes(), at(56)));
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// An older copy of the ring written again (a replayed store value, a
/// stale node's write-back) is refused: its generation is lower.
#[test]
fn a_ring_of_a_lower_generation_is_refused_for_good() {
    let (a, _, mut schedule) = two_keys();
    schedule.set_generation(4);
    let old = schedule.to_text();
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(10),
        Duration::seconds(25),
    )
    .unwrap();
    schedule.revoke(a.id(), at(50), &policy).unwrap();
    assert_eq!(schedule.generation(), 5);
    let (mut applier, _) = Applier::start(
        "test".into(),
        schedule.to_text().as_bytes(),
        build(),
        at(50),
    )
    .unwrap();
    let (sink, got) = recording();
    applier.follow(sink);
    let logged = Logged::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logged.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        assert!(!applier.offer(old.as_bytes(), at(51)));
        assert!(!applier.offer(old.as_bytes(), at(52)));
    });
    assert!(got.lock().unwrap().is_empty(), "the revoked key stays out");
    assert_eq!(applier.counters().snapshot().rejected, 1);
    let log = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("the ring's generation 4 is lower than the generation 5 held"),
        "{log}"
    );
    // The same generation (a file written again unchanged) is taken.
    let mut same = schedule.clone();
    same.set_generation(5);
    assert!(applier.offer(same.to_text().as_bytes(), at(53)));
}

/// A panic in the app's build or sink closure is caught, logged and
/// counted: the source keeps following and hands the codec at its next
/// try.
#[test]
fn a_panicking_sink_is_counted_and_the_source_keeps_going() {
    let (_, b, schedule) = two_keys();
    let (mut applier, _) = Applier::start(
        "test".into(),
        schedule.to_text().as_bytes(),
        build(),
        at(50),
    )
    .unwrap();
    let panics = Arc::new(Mutex::new(true));
    let taken = Arc::new(Mutex::new(None));
    let (p, t) = (Arc::clone(&panics), Arc::clone(&taken));
    applier.follow(Arc::new(move |codec: Codec| {
        let panic_now = *p.lock().unwrap();
        assert!(!panic_now, "the app's sink panics");
        *t.lock().unwrap() = Some(codec.key_ring().primary().id());
        Ok::<(), Error>(())
    }));
    applier.tick(at(100));
    applier.tick(at(101));
    let stats = applier.counters().snapshot();
    assert_eq!((stats.panicked, stats.rejected, stats.applied), (2, 1, 0));
    *panics.lock().unwrap() = false;
    applier.tick(at(102));
    assert_eq!(*taken.lock().unwrap(), Some(b.id()));
    assert_eq!(applier.counters().snapshot().applied, 1);
}
