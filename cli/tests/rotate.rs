//! `ring rotate`, `ring revoke` and `ring list` on key-ring files with
//! lifecycles (version 2), end to end through the built binary, with
//! `--now` as the clock.

use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// Master secret 00 01 .. 1f: key id 2ee8cbfa.
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// Master secret 20 21 .. 3f: key id 573e0087.
const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

fn bin() -> Command {
    Command::cargo_bin("sealed-session").expect("binary")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("utf-8")
}

fn json_of(cmd: &mut Command) -> Value {
    serde_json::from_str(&stdout_of(cmd.arg("--json"))).expect("json")
}

/// Day `n` after 2026-11-01T00:00:00Z, as `--now` takes it.
fn day(n: u32) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(1_793_491_200 + i64::from(n) * 86_400)
        .expect("time");
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
}

/// Every secret in the file, as written there.
fn secrets(ring: &Path) -> Vec<String> {
    std::fs::read_to_string(ring)
        .expect("ring")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("sealed-session"))
        .filter(|l| !l.starts_with("generation"))
        .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
        .collect()
}

fn rotate(ring: &Path, now: &str) -> Command {
    let mut c = bin();
    c.args(["ring", "rotate", "--ring", s(ring), "--every", "30d"])
        .args(["--activation-delay", "2d", "--lifetime", "7d", "--now", now]);
    c
}

fn seal(ring: &Path, now: &str) -> String {
    stdout_of(
        bin()
            .args(["seal", "--ring", s(ring), "--now", now])
            .write_stdin(r#"{"user":"alice"}"#),
    )
    .trim()
    .to_owned()
}

#[test]
fn rotate_from_cron_upgrades_adds_drops_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring: PathBuf = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    let first = json_of(bin().args(["ring", "list", "--ring", s(&ring), "--lifetime", "7d"]))["keys"][0]["key_id"]
        .as_str()
        .expect("id")
        .to_owned();

    // The first run upgrades the file; the primary seals 30 days.
    let v = json_of(&mut rotate(&ring, &day(0)));
    assert_eq!(
        (v["changed"].as_bool(), v["upgraded"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(v["steps"], serde_json::json!([]));
    assert_eq!(v["sealing"], first.as_str());
    assert_eq!(v["next_change"]["change"], "retires");
    assert_eq!(v["next_change"]["at"], day(30).as_str());
    assert!(
        std::fs::read_to_string(&ring)
            .expect("ring")
            .starts_with("sealed-session key ring v2\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ring).expect("ring").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Again, and on the next days: nothing to do until within 2 days.
    for n in [0, 1, 27] {
        rotate(&ring, &day(n))
            .assert()
            .success()
            .stdout(predicate::str::starts_with("nothing to do\n"));
        assert_eq!(json_of(&mut rotate(&ring, &day(n)))["changed"], false);
    }
    let token = seal(&ring, &day(27));

    let v = json_of(&mut rotate(&ring, &day(28)));
    let added = &v["steps"][0];
    assert_eq!(added["action"], "added");
    assert_eq!(
        (added["created"].as_str(), added["activates"].as_str()),
        (Some(&*day(28)), Some(&*day(30)))
    );
    assert_eq!(added["retires"], day(60).as_str());
    let second = added["key_id"].as_str().expect("id").to_owned();
    assert_eq!(
        json_of(&mut rotate(&ring, &day(28)))["changed"],
        false,
        "idempotent"
    );

    // States and dates.
    let states = |n| {
        let v = json_of(bin().args([
            "ring",
            "list",
            "--ring",
            s(&ring),
            "--lifetime",
            "7d",
            "--now",
            &day(n),
        ]));
        v["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| {
                (
                    k["key_id"].as_str().expect("id").to_owned(),
                    k["state"].as_str().expect("state").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        states(29),
        [
            (first.clone(), "active".into()),
            (second.clone(), "pending".into())
        ]
    );
    assert_eq!(
        states(31),
        [
            (first.clone(), "retiring".into()),
            (second.clone(), "active".into())
        ]
    );
    assert_eq!(
        states(38),
        [
            (first.clone(), "retired".into()),
            (second.clone(), "active".into())
        ]
    );

    // The session sealed on day 27 under the first key opens after the
    // switch and is due for a re-seal; a new one is sealed by the second.
    let out = stdout_of(bin().args([
        "open",
        &token,
        "--ring",
        s(&ring),
        "--now",
        &day(31),
        "--json",
    ]));
    let opened: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (opened["key_id"].as_str(), opened["reseal_due"].as_bool()),
        (Some(&*first), Some(true))
    );
    let fresh = seal(&ring, &day(31));
    let out = stdout_of(bin().args([
        "open",
        &fresh,
        "--ring",
        s(&ring),
        "--now",
        &day(31),
        "--json",
    ]));
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json")["key_id"],
        second.as_str()
    );

    // Past retires + 7 days + 30 s the first key is dropped, and its
    // tokens no longer open.
    let text = stdout_of(&mut rotate(&ring, &day(37)));
    assert!(text.starts_with("nothing to do\n"), "{text}");
    let text = stdout_of(&mut rotate(
        &ring,
        &day(37).replace("T00:00:00", "T00:00:30"),
    ));
    assert!(
        text.starts_with(&format!(
            "dropped key {first}: no session it sealed can still be open\n"
        )),
        "{text}"
    );
    bin()
        .args(["open", &token, "--ring", s(&ring), "--now", &day(38)])
        .assert()
        .code(6);
}

#[test]
fn list_shows_states_and_dates_never_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    std::fs::write(
        &ring,
        format!(
            "sealed-session key ring v2\n\
             2ee8cbfa 2026-11-01T00:00:00Z 2026-11-01T00:00:00Z 2026-12-01T00:00:00Z {KEY_A}\n\
             573e0087 2026-11-29T00:00:00Z 2026-12-01T00:00:00Z 2026-12-31T00:00:00Z {KEY_B}\n"
        ),
    )
    .expect("write");
    let out = stdout_of(bin().args([
        "ring",
        "list",
        "--ring",
        s(&ring),
        "--lifetime",
        "7d",
        "--now",
        "2026-11-30T00:00:00Z",
    ]));
    assert_eq!(
        out,
        "state     key id    created               activates             retires               drops out\n\
         active    2ee8cbfa  2026-11-01T00:00:00Z  2026-11-01T00:00:00Z  2026-12-01T00:00:00Z  2026-12-08T00:00:30Z\n\
         pending   573e0087  2026-11-29T00:00:00Z  2026-12-01T00:00:00Z  2026-12-31T00:00:00Z  2027-01-07T00:00:30Z\n"
    );
    let v = json_of(bin().args([
        "ring",
        "list",
        "--ring",
        s(&ring),
        "--now",
        "2026-12-01T12:00:00Z",
        "--lifetime",
        "1d",
        "--leeway",
        "0s",
    ]));
    assert_eq!(v["keys"][0]["state"], "retiring");
    assert_eq!(v["keys"][0]["drops_out"], "2026-12-02T00:00:00Z");
    assert_eq!(v["keys"][1]["state"], "active");
    assert_eq!(
        v["next_change"],
        serde_json::json!({ "at": "2026-12-02T00:00:00Z", "key_id": "2ee8cbfa", "change": "drops out" })
    );
    for text in [out, v.to_string()] {
        assert!(!text.contains(KEY_A) && !text.contains(KEY_B), "{text}");
    }
    // The staged commands are for version 1 files.
    bin()
        .args(["ring", "add", "--ring", s(&ring)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "is a version 2 key ring (keys with lifecycles): use `ring rotate` and `ring revoke`",
        ));
}

#[test]
fn revoke_refuses_the_key_and_seals_with_a_fresh_one_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    stdout_of(&mut rotate(&ring, &day(0)));
    let token = seal(&ring, &day(3));
    let leaked = json_of(bin().args([
        "ring",
        "list",
        "--ring",
        s(&ring),
        "--lifetime",
        "7d",
        "--now",
        &day(3),
    ]))["keys"][0]["key_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let v = json_of(bin().args([
        "ring",
        "revoke",
        "--ring",
        s(&ring),
        &leaked,
        "--lifetime",
        "7d",
        "--now",
        &day(4),
    ]));
    assert_eq!(
        v["steps"][0],
        serde_json::json!({ "action": "revoked", "key_id": leaked })
    );
    let fresh = &v["steps"][1];
    // Activates a leeway (30 s by default) before the revocation: a node
    // whose clock runs behind seals with it as soon as it reads the ring.
    let day4_less_leeway =
        time::OffsetDateTime::parse(&day(4), &Rfc3339).expect("time") - time::Duration::seconds(30);
    assert_eq!(
        (fresh["action"].as_str(), fresh["activates"].as_str()),
        (
            Some("added"),
            Some(&*day4_less_leeway.format(&Rfc3339).expect("rfc3339"))
        )
    );
    assert_eq!(fresh["retires"], day(34).as_str());
    assert_eq!(v["sealing"], fresh["key_id"]);
    bin()
        .args(["open", &token, "--ring", s(&ring), "--now", &day(4)])
        .assert()
        .code(6);
    let new_token = seal(&ring, &day(4));
    let out = stdout_of(bin().args([
        "open",
        &new_token,
        "--ring",
        s(&ring),
        "--now",
        &day(4),
        "--json",
    ]));
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json")["key_id"],
        fresh["key_id"]
    );
    bin()
        .args([
            "ring",
            "revoke",
            "--ring",
            s(&ring),
            &leaked,
            "--lifetime",
            "7d",
            "--now",
            &day(4),
        ])
        .assert()
        .code(6)
        .stderr(format!(
            "sealed-session: no key in the ring has key id {leaked}\n"
        ));
    let out = v.to_string();
    for secret in secrets(&ring) {
        assert!(!out.contains(&secret), "{out}");
    }
}

#[test]
fn a_policy_that_cannot_work_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring)]));
    bin()
        .args([
            "ring",
            "rotate",
            "--ring",
            s(&ring),
            "--every",
            "1d",
            "--activation-delay",
            "2d",
            "--lifetime",
            "7d",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "keys last 86400 s, which must be longer than the activation delay of 172800 s",
        ));
}

/// Cron on every node of a shared volume: runs at the same moment add one
/// key between them, not one each (the lock), and every output is whole.
#[test]
fn concurrent_runs_add_one_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    let path = assert_cmd::cargo::cargo_bin("sealed-session");
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&path)
                .args([
                    "ring",
                    "rotate",
                    "--ring",
                    s(&ring),
                    "--every",
                    "30d",
                    "--lifetime",
                    "7d",
                    "--now",
                    &day(29),
                    "--json",
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    let added: usize = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("waits");
            assert!(out.status.success());
            let v: Value = serde_json::from_slice(&out.stdout).expect("json");
            v["steps"].as_array().expect("steps").len()
        })
        .sum();
    assert_eq!(added, 1);
    assert_eq!(secrets(&ring).len(), 2);
}

/// `open --ring` needs no key that seals: in a gap of the schedule (here
/// the only key has retired and no rotation added the next) every key of
/// the file still opens.
#[test]
fn open_needs_no_key_that_seals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    stdout_of(&mut rotate(&ring, &day(0)));
    let token = seal(&ring, &day(29));
    bin()
        .args(["seal", "--ring", s(&ring), "--now", &day(31)])
        .write_stdin(r#"{"user":"alice"}"#)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no key seals"));
    let out = stdout_of(bin().args(["open", &token, "--ring", s(&ring), "--now", &day(31)]));
    assert!(!out.is_empty());
}

/// A run that finds the file locked by another (a hung run) gives up after
/// a while with its own exit code, instead of piling up behind it.
#[test]
fn a_run_gives_up_on_a_lock_held_by_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    let mut lock_path = ring.clone().into_os_string();
    lock_path.push(".lock");
    let held = std::fs::File::create(&lock_path).expect("lock file");
    held.lock().expect("locked");
    rotate(&ring, &day(0))
        .assert()
        .code(7)
        .stderr(predicate::str::contains("is locked by another run"));
    drop(held);
    stdout_of(&mut rotate(&ring, &day(0)));
}

/// A huge `--every` saturates at the last instant of the year 9999, which
/// has an RFC 3339 form: the file written reads back.
#[test]
fn a_huge_schedule_still_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    stdout_of(
        bin()
            .args(["ring", "rotate", "--ring", s(&ring), "--every", "9000y"])
            .args(["--lifetime", "7d", "--now", &day(0)]),
    );
    let v = json_of(bin().args(["ring", "list", "--ring", s(&ring), "--now", &day(0)]));
    assert_eq!(v["keys"][0]["retires"], "9999-12-31T23:59:59.999999999Z");
}

/// `ring revoke` reports with the apps' lifetime: a key still retiring
/// drops out at its retirement plus lifetime plus leeway, not at once.
#[test]
fn revoke_reports_drop_outs_with_the_apps_lifetime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    stdout_of(&mut rotate(&ring, &day(0)));
    stdout_of(&mut rotate(&ring, &day(29)));
    let v = json_of(bin().args([
        "ring",
        "list",
        "--ring",
        s(&ring),
        "--lifetime",
        "7d",
        "--now",
        &day(31),
    ]));
    let (old, active) = (v["keys"][0].clone(), v["keys"][1].clone());
    assert_eq!(
        (old["state"].as_str(), active["state"].as_str()),
        (Some("retiring"), Some("active"))
    );
    let v = json_of(bin().args([
        "ring",
        "revoke",
        "--ring",
        s(&ring),
        active["key_id"].as_str().expect("id"),
        "--lifetime",
        "7d",
        "--now",
        &day(31),
    ]));
    assert_eq!(v["next_change"]["key_id"], old["key_id"]);
    assert_eq!(v["next_change"]["change"], "drops out");
    assert_eq!(v["next_change"]["at"], "2026-12-08T00:00:30Z");
    assert_eq!(old["drops_out"], "2026-12-08T00:00:30Z");
}

/// Revoking an accepted key of a version 1 file (upgraded first, as
/// `rotate` upgrades it) leaves its primary sealing: no fresh key, even
/// for a primary older than `--every`.
#[test]
fn revoking_an_accepted_key_of_a_version_1_file_keeps_its_primary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    stdout_of(bin().args(["ring", "add", "--ring", s(&ring), "--now", &day(1)]));
    let v = json_of(bin().args(["ring", "list", "--ring", s(&ring)]));
    let primary = v["keys"][0]["key_id"].as_str().expect("id").to_owned();
    let accepted = v["keys"][1]["key_id"].as_str().expect("id").to_owned();
    let v = json_of(bin().args([
        "ring",
        "revoke",
        "--ring",
        s(&ring),
        &accepted,
        "--lifetime",
        "7d",
        "--now",
        &day(40),
    ]));
    assert_eq!(v["upgraded"], true);
    assert_eq!(
        v["steps"],
        serde_json::json!([{ "action": "revoked", "key_id": accepted }])
    );
    assert_eq!(v["sealing"], primary.as_str());
}

/// `ring revoke` with keys that seal less than the default upgrade delay
/// of 2 days works: the delay defaults to half of `--every` then.
#[test]
fn revoke_with_a_short_schedule_needs_no_activation_delay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = dir.path().join("ring");
    stdout_of(bin().args(["keygen", "--ring", s(&ring), "--now", &day(0)]));
    let id = json_of(bin().args(["ring", "list", "--ring", s(&ring)]))["keys"][0]["key_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let v = json_of(bin().args([
        "ring",
        "revoke",
        "--ring",
        s(&ring),
        &id,
        "--every",
        "8s",
        "--lifetime",
        "10s",
        "--now",
        &day(0),
    ]));
    assert_eq!(v["steps"][0]["action"], "revoked");
}
