//! The lifecycle rules: which key seals at any instant, and that nothing a
//! live session needs is ever dropped, by example and by property.

use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::error::{Error, RotationError};
use crate::key::Key;
use crate::ring_file::KeyRingFile;

const T0: i64 = 1_790_000_000;

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + s).unwrap()
}

fn life(created: i64, activates: i64, retires: i64) -> Lifecycle {
    Lifecycle::new(at(created), at(activates), at(retires))
}

fn sealing(schedule: &KeySchedule, s: i64) -> Option<crate::KeyId> {
    schedule.sealing_key_at(at(s)).map(ScheduledKey::id)
}

#[test]
fn the_newest_activated_key_that_has_not_retired_seals() {
    let (a, b, c) = (Key::generate(), Key::generate(), Key::generate());
    let mut s = KeySchedule::new();
    s.add(a.clone(), life(0, 0, 100)).unwrap();
    s.add(b.clone(), life(0, 50, 200)).unwrap();
    s.add(c.clone(), life(0, 150, 160)).unwrap();
    assert_eq!(sealing(&s, -1), None, "nothing before the first activation");
    assert_eq!(sealing(&s, 0), Some(a.id()));
    assert_eq!(sealing(&s, 49), Some(a.id()));
    assert_eq!(sealing(&s, 50), Some(b.id()), "b activates: newer than a");
    assert_eq!(sealing(&s, 150), Some(c.id()));
    assert_eq!(sealing(&s, 160), Some(b.id()), "c retired, b has not");
    assert_eq!(sealing(&s, 200), None, "everything retired");

    // Equal activations: the later `created`, then the key added later.
    let mut tie = KeySchedule::new();
    tie.add(a.clone(), life(5, 10, 100)).unwrap();
    tie.add(b.clone(), life(1, 10, 100)).unwrap();
    assert_eq!(sealing(&tie, 10), Some(a.id()));
    tie.add(c.clone(), life(5, 10, 100)).unwrap();
    assert_eq!(sealing(&tie, 10), Some(c.id()));
}

#[test]
fn states_and_rings_through_a_keys_life() {
    let (a, b) = (Key::generate(), Key::generate());
    let mut s = KeySchedule::new();
    s.add(a.clone(), life(0, 0, 100)).unwrap();
    s.add(b.clone(), life(90, 100, 200)).unwrap();
    let keep = Duration::seconds(30);
    let state = |id, t| s.state_at(id, at(t), keep).unwrap();
    assert_eq!(state(b.id(), 99), KeyState::Pending);
    assert_eq!(state(a.id(), 99), KeyState::Active);
    assert_eq!(state(b.id(), 100), KeyState::Active);
    assert_eq!(state(a.id(), 100), KeyState::Retiring);
    assert_eq!(state(a.id(), 129), KeyState::Retiring);
    assert_eq!(state(a.id(), 130), KeyState::Retired);
    assert_eq!(s.state_at(Key::generate().id(), at(0), keep), None);

    let ring = s.key_ring_at(at(99), keep).unwrap();
    assert_eq!(
        (ring.primary(), ring.accepted()),
        (&a, &[b.clone()][..]),
        "pending opens"
    );
    let ring = s.key_ring_at(at(129), keep).unwrap();
    assert_eq!((ring.primary(), ring.accepted()), (&b, &[a.clone()][..]));
    let ring = s.key_ring_at(at(130), keep).unwrap();
    assert!(ring.accepted().is_empty(), "a retired key opens nothing");
    assert!(matches!(
        s.key_ring_at(at(200), keep),
        Err(Error::Rotation(RotationError::NoSealingKey { at: t })) if t == T0 + 200
    ));

    // What changes next, and when.
    let next = |t| {
        s.next_change_after(at(t), keep)
            .map(|c| (c.at, c.key, c.kind))
    };
    assert_eq!(next(0), Some((at(100), a.id(), ChangeKind::Retires)));
    assert_eq!(next(100), Some((at(130), a.id(), ChangeKind::DropsOut)));
    assert_eq!(next(130), Some((at(200), b.id(), ChangeKind::Retires)));
    assert_eq!(next(230), None);
}

#[test]
fn a_lifecycle_that_activates_after_it_retires_is_refused() {
    let key = Key::generate();
    let e = KeySchedule::new()
        .add(key.clone(), life(0, 10, 9))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "key schedule: key {} activates at unix {}, after it retires at unix {}",
            key.id(),
            T0 + 10,
            T0 + 9
        )
    );
    let mut s = KeySchedule::new();
    s.add(key.clone(), life(0, 0, 9)).unwrap();
    assert!(matches!(
        s.add(key, life(0, 0, 9)),
        Err(Error::DuplicateKeyId(_))
    ));
}

#[test]
fn rotation_adds_within_the_activation_delay_and_drops_after_keep() {
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(20),
        Duration::seconds(50),
    )
    .unwrap();
    let mut s = KeySchedule::new();
    let steps = s.rotate(at(0), &policy);
    let [
        RotationStep::Added {
            key: first,
            lifecycle,
        },
    ] = steps[..]
    else {
        panic!("{steps:?}");
    };
    assert_eq!(
        (lifecycle.activates(), lifecycle.retires()),
        (at(0), at(100))
    );
    assert!(s.rotate(at(0), &policy).is_empty(), "idempotent");
    assert!(s.rotate(at(79), &policy).is_empty(), "not yet within 20 s");
    let steps = s.rotate(at(80), &policy);
    let [
        RotationStep::Added {
            key: second,
            lifecycle,
        },
    ] = steps[..]
    else {
        panic!("{steps:?}");
    };
    assert_eq!(
        (
            lifecycle.created(),
            lifecycle.activates(),
            lifecycle.retires()
        ),
        (at(80), at(100), at(200))
    );
    assert!(s.rotate(at(80), &policy).is_empty(), "idempotent");
    assert_eq!(sealing(&s, 100), Some(second));
    assert!(
        s.rotate(at(149), &policy).is_empty(),
        "the first still opens"
    );
    assert_eq!(
        s.rotate(at(150), &policy),
        [RotationStep::Dropped { key: first }]
    );
    // Left far too long: everything retired, a key that seals at once.
    let steps = s.rotate(at(10_000), &policy);
    assert!(
        matches!(
            steps[..],
            [RotationStep::Dropped { .. }, RotationStep::Added { lifecycle, .. }]
                if lifecycle.activates() == at(10_000)
        ),
        "{steps:?}"
    );
}

#[test]
fn revoking_removes_the_key_and_seals_with_a_fresh_one_at_once() {
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(20),
        Duration::seconds(50),
    )
    .unwrap();
    let mut s = KeySchedule::new();
    s.rotate(at(0), &policy);
    s.rotate(at(85), &policy);
    let (current, next) = (s.keys()[0].id(), s.keys()[1].id());
    let steps = s.revoke(current, at(90), &policy).unwrap();
    assert_eq!(steps[0], RotationStep::Revoked { key: current });
    let RotationStep::Added { key: fresh, .. } = steps[steps.len() - 1] else {
        panic!("{steps:?}");
    };
    assert_eq!(sealing(&s, 90), Some(fresh));
    assert_eq!(sealing(&s, 100), Some(next), "the schedule goes on");
    assert!(matches!(
        s.revoke(current, at(90), &policy),
        Err(Error::UnknownKey(id)) if id == current
    ));
    // A key that could still seal beside the revoked one (an older key
    // whose retirement is later) is retired at once, and kept for `keep`.
    let mut s = KeySchedule::new();
    let (old, leaked) = (Key::generate(), Key::generate());
    s.add(old.clone(), Lifecycle::new(at(0), at(0), at(200)))
        .unwrap();
    s.add(leaked.clone(), Lifecycle::new(at(0), at(50), at(150)))
        .unwrap();
    assert_eq!(sealing(&s, 95), Some(leaked.id()));
    let steps = s.revoke(leaked.id(), at(95), &policy).unwrap();
    assert!(
        steps.contains(&RotationStep::Retired {
            key: old.id(),
            at: at(95)
        }),
        "{steps:?}"
    );
    assert_eq!(
        s.state_at(old.id(), at(144), policy.keep()),
        Some(KeyState::Retiring)
    );
}

#[test]
fn revoking_a_key_that_does_not_seal_leaves_the_key_that_seals() {
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(20),
        Duration::seconds(100),
    )
    .unwrap()
    .with_leeway(Duration::seconds(2));
    let mut s = KeySchedule::new();
    s.rotate(at(0), &policy);
    s.rotate(at(85), &policy);
    s.rotate(at(185), &policy);
    let (retiring, active, pending) = (s.keys()[0].id(), s.keys()[1].id(), s.keys()[2].id());
    assert_eq!(sealing(&s, 150), Some(active));
    let generation = s.generation();
    // A retiring key, then a key pending beyond the leeway: removed, and
    // nothing else changes.
    for (n, key) in [retiring, pending].into_iter().enumerate() {
        let steps = s.revoke(key, at(150), &policy).unwrap();
        assert_eq!(steps, [RotationStep::Revoked { key }]);
        assert_eq!(sealing(&s, 150), Some(active));
        assert_eq!(s.generation(), generation + 1 + n as u64);
    }
    assert_eq!(s.keys().len(), 1);
    // A key pending within the leeway: a node whose clock runs ahead
    // seals with it already, so it is replaced by a fresh key.
    let mut s = KeySchedule::new();
    s.rotate(at(0), &policy);
    s.rotate(at(85), &policy);
    let next = s.keys()[1].id();
    let steps = s.revoke(next, at(99), &policy).unwrap();
    assert!(
        matches!(steps.last(), Some(RotationStep::Added { lifecycle, .. }) if lifecycle.activates() == at(97)),
        "{steps:?}"
    );
}

#[test]
fn a_revocations_fresh_key_seals_on_clocks_a_leeway_behind() {
    let policy = RotationPolicy::new(
        Duration::seconds(100),
        Duration::seconds(20),
        Duration::seconds(50),
    )
    .unwrap()
    .with_leeway(Duration::seconds(5));
    let mut s = KeySchedule::new();
    s.rotate(at(0), &policy);
    let leaked = s.keys()[0].id();
    s.revoke(leaked, at(60), &policy).unwrap();
    let fresh = sealing(&s, 60).expect("a fresh key");
    for behind in [0, 1, 5] {
        assert_eq!(sealing(&s, 60 - behind), Some(fresh), "{behind} s behind");
        let ring = s.key_ring_at(at(60 - behind), policy.keep()).unwrap();
        assert!(ring.accepted().iter().all(|k| k.id() != leaked));
    }
    assert_eq!(s.get(fresh).unwrap().lifecycle().retires(), at(160));
}

#[test]
fn policies_that_cannot_work_are_refused() {
    for (every, delay, keep) in [(10, 10, 0), (10, 20, 0), (10, -1, 0), (10, 1, -1)] {
        let e = RotationPolicy::new(
            Duration::seconds(every),
            Duration::seconds(delay),
            Duration::seconds(keep),
        );
        assert!(
            matches!(e, Err(Error::Rotation(RotationError::Policy { .. }))),
            "{every} {delay} {keep}"
        );
    }
}

#[test]
fn version_2_text_round_trips_and_reports_the_line_and_reason() {
    let policy =
        RotationPolicy::new(Duration::days(30), Duration::days(2), Duration::days(7)).unwrap();
    let mut s = KeySchedule::new();
    s.rotate(at(0), &policy);
    s.rotate(at(0) + Duration::days(29), &policy);
    let text = s.to_text();
    let back = KeySchedule::parse(&text).unwrap();
    assert_eq!(back.keys().len(), 2);
    for (a, b) in s.keys().iter().zip(back.keys()) {
        assert_eq!((a.key(), a.lifecycle()), (b.key(), b.lifecycle()));
    }
    assert!(matches!(
        StoredRing::parse(&text),
        Ok(StoredRing::Scheduled(_))
    ));

    const A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let id = Key::from_base64(A).unwrap().id();
    let m = "sealed-session key ring v2";
    let t = "2026-01-01T00:00:00Z";
    for (text, line, reason) in [
        (String::new(), 1, "the file is empty"),
        (format!("{m}\n"), 1, "no key"),
        (
            format!("{m}\n{id} {t} {t} {A}"),
            2,
            "expected 5 fields: key id, created, activates, retires, secret",
        ),
        (
            format!("{m}\n12 {t} {t} {t} {A}"),
            2,
            "the key id must be 8 hex digits",
        ),
        (
            // A year before 0 in UTC: no RFC 3339 form to write back.
            format!("{m}\n{id} 0000-01-01T00:00:00+01:00 {t} {t} {A}"),
            2,
            "the created time must be RFC 3339",
        ),
        (
            format!("{m}\n{id} {t} soon {t} {A}"),
            2,
            "the activation time must be RFC 3339",
        ),
        (
            format!("{m}\n{id} {t} {t} never {A}"),
            2,
            "the retirement time must be RFC 3339",
        ),
        (
            format!("{m}\n00000000 {t} {t} {t} {A}"),
            2,
            "the key id does not match the secret",
        ),
        (
            format!("{m}\n\n{id} {t} 2026-02-01T00:00:00Z {t} {A}"),
            3,
            "the key activates after it retires",
        ),
    ] {
        match KeySchedule::parse(&text) {
            Err(Error::RingFile { line: l, reason: r }) => {
                assert_eq!((l, r), (line, reason), "{text:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
        let shown = StoredRing::parse(&text)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(!shown.contains(A), "{shown}");
    }
    let unknown = StoredRing::parse("sealed-session key ring v3\n").unwrap_err();
    assert!(
        matches!(unknown, Error::RingFile { line: 1, .. }),
        "{unknown}"
    );
}

#[test]
fn version_1_files_are_still_read_and_upgrade_without_dropping_anything() {
    let (primary, old) = (Key::generate(), Key::generate());
    let mut v1 = KeyRingFile::new(primary.clone(), at(-1000));
    v1.add(old.clone(), at(500)).unwrap();
    let stored = StoredRing::parse(&v1.to_text()).unwrap();
    let keep = Duration::seconds(50);
    // Read as it was written: the primary seals, whatever the time.
    for t in [-5000, 0, 1_000_000] {
        let ring = stored.key_ring_at(at(t), keep).unwrap();
        assert_eq!(
            (ring.primary(), ring.accepted()),
            (&primary, &[old.clone()][..])
        );
    }
    assert_eq!(stored.next_change_after(at(0), keep), None);

    let policy = RotationPolicy::new(Duration::seconds(100), Duration::seconds(20), keep).unwrap();
    let s = stored.into_schedule(at(0), &policy);
    assert_eq!(sealing(&s, 0), Some(primary.id()));
    assert_eq!(s.state_at(old.id(), at(49), keep), Some(KeyState::Retiring));
    assert_eq!(s.state_at(old.id(), at(50), keep), Some(KeyState::Retired));
    // The primary was created long ago: it retires one activation delay on.
    assert_eq!(s.get(primary.id()).unwrap().lifecycle().retires(), at(20));
}

/// The examples in FORMAT.md, the README and the module docs parse.
#[test]
fn documented_examples_parse() {
    let module_doc: String = include_str!("file.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .skip_while(|l| !l.starts_with("sealed-session key ring v2"))
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    let format_md: String = include_str!("../../FORMAT.md")
        .lines()
        .skip_while(|l| !l.starts_with("sealed-session key ring v2"))
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    let readme: String = include_str!("../../README.md")
        .lines()
        .skip_while(|l| !l.starts_with("sealed-session key ring v2"))
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    for text in [module_doc, format_md, readme] {
        let s = KeySchedule::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.keys().len(), 2, "{text}");
    }
}

/// A schedule of up to five keys with arbitrary lifecycles.
fn schedules() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..1000, 0i64..600), 1..5)
        .prop_map(|v| v.into_iter().map(|(a, len)| (a, a + len)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any text, and a valid file with bytes changed, parses or is refused
    /// with a reason: never a panic, and no reason quotes a secret.
    #[test]
    fn any_ring_text_parses_or_is_refused(
        text in ".{0,300}",
        flips in prop::collection::vec((0usize..400, any::<char>()), 0..4),
    ) {
        let _ = StoredRing::parse(&text);
        let now = at(0);
        let mut s = KeySchedule::new();
        s.add(Key::generate(), Lifecycle::new(now, now, now + Duration::days(1))).unwrap();
        let mut chars: Vec<char> = s.to_text().chars().collect();
        for (i, c) in flips {
            if let Some(slot) = chars.get_mut(i) {
                *slot = c;
            }
        }
        let damaged: String = chars.into_iter().collect();
        if let Err(e) = StoredRing::parse(&damaged) {
            let secret = s.keys()[0].key().export_base64();
            prop_assert!(!e.to_string().contains(&secret[..12]));
        }
    }

    /// A key that sealed at `t1` is in the ring at every `t2` in
    /// `[t1, t1 + keep)`, whatever the schedule; and the key that seals is
    /// one whose interval holds the instant, with no later activation among
    /// those that do.
    #[test]
    fn a_key_that_sealed_opens_until_keep_has_passed(
        lives in schedules(),
        keep in 0i64..500,
        t1 in -10i64..1700,
        dt in 0i64..500,
    ) {
        let keys: Vec<Key> = lives.iter().map(|_| Key::generate()).collect();
        let mut s = KeySchedule::new();
        for (key, &(a, r)) in keys.iter().zip(&lives) {
            s.add(key.clone(), life(0, a, r)).unwrap();
        }
        let keep = Duration::seconds(keep);
        let Some(k) = s.sealing_key_at(at(t1)) else {
            prop_assert!(lives.iter().all(|&(a, r)| !(a <= t1 && t1 < r)));
            return Ok(());
        };
        let life = *k.lifecycle();
        prop_assert!(life.activates() <= at(t1) && at(t1) < life.retires());
        prop_assert!(lives.iter().all(|&(a, r)| !(a <= t1 && t1 < r) || at(a) <= life.activates()));
        let t2 = at(t1 + dt);
        // The keys that open at t2, by the rule itself (FORMAT.md §12.2),
        // computed from the lifecycles and not by the schedule's code.
        let mut expected: Vec<String> = keys
            .iter()
            .zip(&lives)
            .filter(|&(_, &(_, r))| t2 < at(r) + keep)
            .map(|(key, _)| key.id().to_string())
            .collect();
        expected.sort();
        let seals_at_t2 = lives.iter().any(|&(a, r)| at(a) <= t2 && t2 < at(r));
        match s.key_ring_at(t2, keep) {
            Ok(ring) => {
                prop_assert!(seals_at_t2);
                let mut got: Vec<String> = ring.keys().map(|k| k.id().to_string()).collect();
                got.sort();
                prop_assert_eq!(&got, &expected);
            }
            Err(e) => {
                prop_assert!(!seals_at_t2, "{e}");
                let no_sealing_key =
                    matches!(e, Error::Rotation(RotationError::NoSealingKey { .. }));
                prop_assert!(no_sealing_key, "{}", e);
                // A tool that only opens still opens every key.
                prop_assert!(s.opening_key_ring_at(t2).is_some_and(|r| r.find(k.id()).is_some()));
            }
        }
        if t2 < at(t1) + keep {
            // The key that sealed at t1 is among them: no live token lost.
            prop_assert!(expected.contains(&k.id().to_string()));
        }
    }

    /// `rotate` run as cron would, at most one activation delay (plus a
    /// second) apart: a key seals at every instant, after each run the last
    /// retirement is more than the delay away (so the next key is known at
    /// least `delay - gap` before it seals), running it twice changes nothing, and no key is dropped while a token it sealed
    /// may still open.
    #[test]
    fn rotation_by_cron_keeps_every_key_a_live_session_needs(
        every in 2i64..300,
        delay_share in 0.0f64..1.0,
        keep in 0i64..700,
        gaps in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 1..40),
    ) {
        #[allow(clippy::cast_possible_truncation)]
        let delay = 1 + ((every - 2) as f64 * delay_share) as i64; // 1..every
        let policy = RotationPolicy::new(
            Duration::seconds(every),
            Duration::seconds(delay),
            Duration::seconds(keep),
        ).unwrap();
        let mut s = KeySchedule::new();
        let mut sealed: Vec<(crate::KeyId, i64)> = Vec::new();
        let mut now = 0i64;
        let mut first = true;
        for (gap_share, sample_share) in gaps {
            let steps = s.rotate(at(now), &policy);
            prop_assert!(s.rotate(at(now), &policy).is_empty(), "idempotent");
            for step in &steps {
                if let RotationStep::Added { lifecycle, .. } = step {
                    if lifecycle.activates() == at(now) {
                        prop_assert!(first, "a key sealing at once after the first: {steps:?}");
                    }
                }
            }
            first = false;
            let horizon = s.keys().iter().map(|k| k.lifecycle().retires()).max().unwrap();
            prop_assert!(horizon - at(now) > policy.activation_delay());
            for &(id, t) in &sealed {
                if at(now) < at(t) + policy.keep() {
                    prop_assert!(s.get(id).is_some(), "{id} sealed at {t} dropped at {now}");
                    let ring = s.key_ring_at(at(now), policy.keep()).unwrap();
                    prop_assert!(ring.find(id).is_some());
                }
            }
            #[allow(clippy::cast_possible_truncation)]
            let gap = 1 + (delay as f64 * gap_share) as i64; // 1..=delay+1
            #[allow(clippy::cast_possible_truncation)]
            let t = now + ((gap - 1) as f64 * sample_share) as i64;
            let k = s.sealing_key_at(at(t));
            prop_assert!(k.is_some(), "no key seals at {t}");
            sealed.extend(k.map(|k| (k.id(), t)));
            now += gap;
        }
    }
}

/// Fields are separated by spaces and tabs only (FORMAT.md §12): another
/// white space character is no separator, and a CRLF line end is fine.
#[test]
fn fields_are_separated_by_spaces_and_tabs_only() {
    let mut s = KeySchedule::new();
    s.add(Key::generate(), life(0, 0, 100)).unwrap();
    s.set_generation(3);
    let text = s.to_text();
    let lines: Vec<&str> = text.lines().collect();
    let (head, key_line) = (lines[..3].join("\r\n"), lines[3]);
    let tabs = format!("{head}\r\n{}\r\n", key_line.replace("  ", "\t"));
    assert_eq!(StoredRing::parse(&tabs).unwrap().generation(), 3);
    let nbsp = format!("{head}\n{}\n", key_line.replace("  ", "\u{a0}"));
    assert!(matches!(
        StoredRing::parse(&nbsp),
        Err(Error::RingFile { line: 4, .. })
    ));
}

/// A ring file over 1 MiB is refused without being read whole.
#[test]
fn a_file_over_a_mebibyte_is_refused() {
    let path = std::env::temp_dir().join(format!("huge-ring-{}", std::process::id()));
    let mut s = KeySchedule::new();
    s.add(Key::generate(), life(0, 0, 100)).unwrap();
    let mut text = s.to_text().to_string();
    text.push_str(&"#".repeat(1 << 20));
    std::fs::write(&path, &text).unwrap();
    let e = StoredRing::load(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
}

/// The generation line: missing counts as 0 (files written before it);
/// anything but one decimal number below 2^64 is refused with its line.
#[test]
fn the_generation_line_reads_back_and_is_checked() {
    let mut s = KeySchedule::new();
    s.add(Key::generate(), life(0, 0, 100)).unwrap();
    let highest = (1u64 << 63) - 1;
    s.set_generation(highest);
    let text = s.to_text();
    assert_eq!(KeySchedule::parse(&text).unwrap().generation(), highest);
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("generation"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(KeySchedule::parse(&without).unwrap().generation(), 0);
    for bad in [
        "generation",
        "generation x",
        "generation 1 2",
        "generation -1",
        // 2^63 and above: raising them could saturate (FORMAT.md §12.4).
        "generation 9223372036854775808",
        "generation 18446744073709551615",
        "generation 18446744073709551616",
        "generation5",
    ] {
        let text = text.replace(&format!("generation {highest}"), bad);
        assert!(
            matches!(
                KeySchedule::parse(&text),
                Err(Error::RingFile { line: 2, .. })
            ),
            "{bad}"
        );
    }
}
