//! The built `sealed-session` binary: every subcommand, every exit code,
//! golden outputs with a fixed `--now`, round trips and a rotation flow.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

#[path = "../../tests/leaks/mod.rs"]
mod leaks;

/// Master secret 00 01 .. 1f: key id 2ee8cbfa (tests/vectors/v1.json).
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// Master secret 20 21 .. 3f.
const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";
/// One minute after the vectors' `issued`.
const NOW: &str = "2023-11-14T22:14:20Z";

fn vector_token(index: usize) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/v1.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json");
    file["vectors"][index]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn bin() -> Command {
    Command::cargo_bin("sealed-session").expect("binary")
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("tempdir"))
    }

    fn key(&self, name: &str, b64: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, format!("{b64}\n")).expect("write key");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn open_golden_output() {
    let dir = Dir::new();
    let key = dir.key("a.key", KEY_A);
    let out = stdout_of(bin().args([
        "open",
        &vector_token(0),
        "--key-file",
        s(&key),
        "--now",
        NOW,
    ]));
    assert_eq!(
        out,
        "\
authentic   yes (encrypted, key 2ee8cbfa, primary)
session id  a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
subject     (none)
created     2023-11-14T22:13:20Z (1m ago)
issued      2023-11-14T22:13:20Z (1m ago)
expires     2023-11-15T00:13:20Z (in 1h 59m)
re-seal     not due
payload
{
  \"created\": 1700000000,
  \"csrf\": \"q1xDgW0o2Vd8oS4pJq3m0mJtqS1x8b9K7q0f5kq2Zc8\",
  \"roles\": [
    \"admin\",
    \"editor\"
  ],
  \"theme\": \"dark\",
  \"user_id\": 123456789,
  \"username\": \"alice.example\"
}
"
    );
}

#[test]
fn open_json_has_stable_fields() {
    let dir = Dir::new();
    let key = dir.key("a.key", KEY_A);
    let out = stdout_of(bin().args([
        "open",
        &vector_token(0),
        "--key-file",
        s(&key),
        "--now",
        NOW,
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["authentic"], true);
    assert_eq!(v["mode"], "encrypted");
    assert_eq!(v["key_id"], "2ee8cbfa");
    assert_eq!(v["reseal_due"], false);
    assert_eq!(
        v["claims"]["session_id"],
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    );
    assert_eq!(v["claims"]["expires"], "2023-11-15T00:13:20Z");
    assert_eq!(v["claims"]["expires_in_seconds"], 7140);
    assert_eq!(v["claims"]["subject"], serde_json::Value::Null);
    assert_eq!(v["payload"]["username"], "alice.example");
}

#[test]
fn inspect_golden_output_needs_no_key() {
    let out = stdout_of(bin().args(["inspect", &vector_token(0), "--now", NOW]));
    assert_eq!(
        out,
        "\
token       268 bytes of text, 201 decoded; default budget 3840, 3572 left
version     0x01 (format v1, encrypted: XAES-256-GCM)
key id      2ee8cbfa
nonce       404142434445464748494a4b4c4d4e4f5051525354555657 (24 bytes)
body        156 bytes (claims and payload, encrypted)
tag         16 bytes
"
    );
}

#[test]
fn inspect_signed_shows_unverified_claims_and_payload() {
    let out = stdout_of(bin().args(["inspect", &vector_token(2), "--now", NOW]));
    assert!(
        out.contains("0x02 (format v1, signed: HMAC-SHA256)"),
        "{out}"
    );
    assert!(out.contains("UNVERIFIED"), "{out}");
    assert!(out.contains("subject     alice\n"), "{out}");
    assert!(out.contains("\"username\":\"alice.example\""), "{out}");

    let out = stdout_of(bin().args(["inspect", &vector_token(2), "--now", NOW, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["mode"], "signed");
    assert_eq!(v["nonce"], serde_json::Value::Null);
    assert_eq!(v["unverified"]["claims"]["subject"], "alice");
    assert_eq!(v["unverified"]["payload"]["user_id"], 123456789);
    assert_eq!(v["token_bytes"], 266);
    assert_eq!(v["budget_left"], 3840 - 266);

    // Encrypted tokens reveal no claims.
    let out = stdout_of(bin().args(["inspect", &vector_token(0), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["unverified"], serde_json::Value::Null);
    assert_eq!(
        v["nonce"],
        "404142434445464748494a4b4c4d4e4f5051525354555657"
    );
}

/// A session chunked over `session`, `session.1`, pasted as the `Cookie:`
/// header a browser sent (chunks in any order) opens and inspects whole.
#[test]
fn a_chunked_session_pasted_as_a_cookie_header_is_joined() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let seal = |text: &str| {
        let payload = format!("\"{text}\"");
        stdout_of(
            bin()
                .args(["seal", "--key-file", s(&a), "--budget", "8000"])
                .write_stdin(payload),
        )
        .trim()
        .to_owned()
    };
    let (one, two) = (seal(&"x".repeat(5000)), seal(&"y".repeat(5000)));
    let cookie = sealed_session::SessionCookie::builder("session")
        .chunked(4)
        .request_budget(sealed_session::MAX_REQUEST_BUDGET)
        .build()
        .expect("cookie");
    let pairs = |token: &str| -> Vec<String> {
        let set = cookie.set(token, None, &cookie.read([])).expect("fits");
        set.headers()
            .iter()
            .map(|h| h.split(';').next().expect("pair").to_owned())
            .collect()
    };
    let (p1, p2) = (pairs(&one), pairs(&two));
    assert_eq!(p1.len(), 2);
    let header = format!("Cookie: theme=dark; {}; {}", p1[1], p1[0]);
    // Over the default 3840 bytes, and no --budget needed: a token pasted
    // with its cookies has what the cookies can carry (FORMAT.md §7).
    assert!(one.len() > sealed_session::DEFAULT_BUDGET);
    let out = stdout_of(bin().args(["open", "--key-file", s(&a), "--json", &header]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["payload"], "x".repeat(5000));
    let out = stdout_of(bin().args(["inspect", "--json", &header]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["token_bytes"], one.len());
    assert_eq!(v["budget"], 8148);
    let out = stdout_of(bin().args(["inspect", &header]));
    assert!(out.contains("; the cookies' budget 8148, "), "{out}");
    // HTTP/2 sends one Cookie header per cookie: pasted as two lines.
    let lines = format!("Cookie: {}\nCookie: theme=dark; {}\n", p1[0], p1[1]);
    let out = stdout_of(bin().args(["open", "--key-file", s(&a), "--json", &lines]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["payload"], "x".repeat(5000));

    // A chunk of another session is named, not joined into a forgery.
    let mixed = format!("Cookie: {}; {}", p1[0], p2[1]);
    bin().args(["inspect", &mixed]).assert().code(3).stderr(
        "sealed-session: session cookie: chunk 1 belongs to another session than chunk 0\n",
    );
}

/// A token pasted with base64 padding is reported as a malformed token,
/// not as a cookie that is missing.
#[test]
fn a_padded_token_is_malformed() {
    // A token whose length base64 would pad (not a multiple of 4).
    let token = (0..8)
        .map(vector_token)
        .find(|t| t.len() % 4 != 0)
        .expect("a token to pad");
    let padding = "=".repeat(4 - token.len() % 4);
    bin()
        .args(["inspect", &format!("{token}{padding}")])
        .assert()
        .code(3)
        .stderr("sealed-session: malformed token: not strict unpadded base64url\n");
}

#[test]
fn input_may_be_a_header_a_set_cookie_line_or_stdin() {
    let token = vector_token(0);
    for input in [
        format!("  \"{token}\"  "),
        format!("Cookie: theme=dark; session={token}; lang=en"),
        format!("Set-Cookie: session={token}; Path=/; HttpOnly"),
    ] {
        bin().args(["inspect", &input]).assert().success();
        bin()
            .args(["inspect", "-"])
            .write_stdin(input.clone())
            .assert()
            .success();
    }
    bin()
        .args(["inspect", &format!("Cookie: sid={token}"), "--name", "sid"])
        .assert()
        .success();
    bin()
        .args(["inspect", &format!("Cookie: sid={token}")])
        .assert()
        .code(3)
        .stderr("sealed-session: no cookie named \"session\"; present: sid\n");
    bin()
        .args(["inspect", "hello world"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unexpected ' ' at byte 5"));
}

#[test]
fn every_exit_code() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let b = dir.key("b.key", KEY_B);
    let token = vector_token(0);
    let open = |token: &str, key: &Path, now: &str| {
        let mut c = bin();
        c.args(["open", token, "--key-file", s(key), "--now", now]);
        c
    };
    open(&token, &a, NOW).assert().code(0);
    // 3: malformed.
    open("AQID", &a, NOW)
        .assert()
        .code(3)
        .stderr("sealed-session: malformed token: token is 3 bytes, the smallest token is 46\n");
    // 4: authentication failed.
    let mut tampered = token.clone().into_bytes();
    tampered[100] = if tampered[100] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    open(&tampered, &a, NOW)
        .assert()
        .code(4)
        .stderr("sealed-session: token failed authentication\n");
    bin()
        .args([
            "open",
            &token,
            "--key-file",
            s(&a),
            "--purpose",
            "csrf",
            "--now",
            NOW,
        ])
        .assert()
        .code(4);
    // 5: expired, not yet valid.
    open(&token, &a, "2023-11-15T00:13:50Z")
        .assert()
        .code(5)
        .stderr(
            "sealed-session: session expired 30 s ago (ended 2023-11-15T00:13:20Z, \
             now 2023-11-15T00:13:50Z)\n",
        );
    open(&token, &a, "2023-11-14T22:12:00Z")
        .assert()
        .code(5)
        .stderr(
            "sealed-session: session is issued 80 s in the future \
             (issued 2023-11-14T22:13:20Z, now 2023-11-14T22:12:00Z)\n",
        );
    // 6: unknown key id.
    open(&token, &b, NOW)
        .assert()
        .code(6)
        .stderr("sealed-session: no key in the ring has key id 2ee8cbfa\n");
    // 2: usage.
    bin().args(["open", &token]).assert().code(2);
    bin()
        .args(["open", &token, "--key-file", s(&a), "--key-env", "X"])
        .assert()
        .code(2);
    bin()
        .args(["open", &token, "--key", KEY_A])
        .assert()
        .code(2);
    bin().args(["frobnicate"]).assert().code(2);
    bin()
        .args(["open", &token, "--key-file", s(&a), "--now", "yesterday"])
        .assert()
        .code(2);
    // 1: anything else.
    open(&token, &dir.path("missing.key"), NOW)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "sealed-session: cannot read key from file",
        ));
    bin()
        .args(["seal", "--key-file", s(&a)])
        .write_stdin("{not json")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "sealed-session: standard input is not JSON",
        ));
    // A payload too large to seal is not a malformed token.
    bin()
        .args(["seal", "--key-file", s(&a)])
        .write_stdin(format!("\"{}\"", "x".repeat(4000)))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("limit is 3840"));
    // Out-of-range settings are usage errors.
    bin()
        .args(["seal", "--key-file", s(&a), "--lifetime", "500d"])
        .write_stdin("1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at most 34560000 s"));
    // Wrong mode is malformed, with a hint.
    open(&vector_token(2), &a, NOW)
        .assert()
        .code(3)
        .stderr(predicate::str::ends_with("; pass --signed\n"));
}

#[test]
fn seal_then_open_round_trips_in_both_modes() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let payload = r#"{"user_id":7,"roles":["admin"],"nested":{"ok":true,"n":-3}}"#;
    for signed in [false, true] {
        let mut seal = bin();
        seal.args([
            "seal",
            "--key-file",
            s(&a),
            "--subject",
            "user-7",
            "--lifetime",
            "1d",
            "--idle",
            "2h",
            "--now",
            NOW,
        ]);
        if signed {
            seal.arg("--signed");
        }
        let token = stdout_of(seal.write_stdin(payload)).trim().to_owned();
        let mut open = bin();
        open.args(["open", "-", "--key-file", s(&a), "--now", NOW, "--json"]);
        if signed {
            open.arg("--signed");
        }
        let out = stdout_of(open.write_stdin(token));
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let expected: serde_json::Value = serde_json::from_str(payload).expect("json");
        assert_eq!(v["payload"], expected, "signed = {signed}");
        assert_eq!(v["claims"]["subject"], "user-7");
        assert_eq!(v["claims"]["created"], NOW);
        assert_eq!(v["claims"]["expires"], "2023-11-15T00:14:20Z");
    }
}

/// `seal --own-lifetime`: a "remember me" token (version 0x03 / 0x04) that
/// `open` and `inspect` show with its lifetime and latest end; beyond
/// `--lifetime` it is refused with both numbers.
#[test]
fn a_session_with_its_own_lifetime_seals_opens_and_inspects() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    for (signed, version) in [(false, "0x03"), (true, "0x04")] {
        let mut seal = bin();
        seal.args([
            "seal",
            "--key-file",
            s(&a),
            "--own-lifetime",
            "12h",
            "--now",
            NOW,
        ]);
        if signed {
            seal.arg("--signed");
        }
        let token = stdout_of(seal.write_stdin("1")).trim().to_owned();
        let mut open = bin();
        open.args(["open", "-", "--key-file", s(&a), "--now", NOW, "--json"]);
        if signed {
            open.arg("--signed");
        }
        let v: serde_json::Value =
            serde_json::from_str(&stdout_of(open.write_stdin(token.clone()))).expect("json");
        assert_eq!(v["claims"]["lifetime_seconds"], 43_200);
        assert_eq!(v["claims"]["expires"], "2023-11-15T10:14:20Z");
        let shown = stdout_of(bin().args(["inspect", &token, "--now", NOW]));
        assert!(
            shown.contains(&format!("{version} (format v1, ")),
            "{shown}"
        );
        assert!(shown.contains("with the session's own lifetime"), "{shown}");
        if signed {
            assert!(
                shown.contains("43200 s of its own, until 2023-11-15T10:14:20Z at the latest"),
                "{shown}"
            );
        }
    }
    // A plain token has no lifetime field.
    let token = stdout_of(bin().args(["seal", "--key-file", s(&a)]).write_stdin("1"));
    let v: serde_json::Value = serde_json::from_str(&stdout_of(bin().args([
        "open",
        token.trim(),
        "--key-file",
        s(&a),
        "--json",
    ])))
    .expect("json");
    assert!(v["claims"].get("lifetime_seconds").is_none(), "{v}");
    // Out of range (beyond --lifetime, or under a second): a usage error,
    // exit 2, like every other out-of-range flag.
    bin()
        .args(["seal", "--key-file", s(&a), "--own-lifetime", "8d"])
        .write_stdin("1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("691200 s").and(predicate::str::contains("604800 s")));
    bin()
        .args([
            "seal",
            "--key-file",
            s(&a),
            "--own-lifetime",
            "2h",
            "--lifetime",
            "1h",
        ])
        .write_stdin("1")
        .assert()
        .code(2);
}

#[test]
fn keys_from_environment_and_keygen() {
    let out = stdout_of(bin().arg("keygen"));
    let key = out.trim();
    assert_eq!(key.len(), 43, "{key}");
    let token = stdout_of(
        bin()
            .args(["seal", "--key-env", "TEST_SEALED_SESSION_KEY"])
            .env("TEST_SEALED_SESSION_KEY", key)
            .write_stdin("[1,2,3]"),
    );
    let out = stdout_of(
        bin()
            .args([
                "open",
                token.trim(),
                "--key-env",
                "TEST_SEALED_SESSION_KEY",
                "--json",
            ])
            .env("TEST_SEALED_SESSION_KEY", key),
    );
    assert!(out.contains("\"payload\": [\n    1,"), "{out}");
    let out = stdout_of(bin().args(["keygen", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["key"].as_str().expect("key").len(), 43);
    assert_eq!(v["key_id"].as_str().expect("id").len(), 8);
}

#[test]
fn key_ring_rotation_flow() {
    let dir = Dir::new();
    let ring = dir.path("ring");
    let r = s(&ring);
    // new
    let out = stdout_of(bin().args(["keygen", "--ring", r, "--now", NOW]));
    assert!(out.starts_with("wrote "), "{out}");
    bin()
        .args(["keygen", "--ring", r])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refusing to overwrite"));
    let list = |json: bool| {
        let mut c = bin();
        c.args(["ring", "list", "--ring", r, "--now", NOW]);
        if json {
            c.arg("--json");
        }
        stdout_of(&mut c)
    };
    let keys: serde_json::Value = serde_json::from_str(&list(true)).expect("json");
    let old_id = keys["keys"][0]["key_id"].as_str().expect("id").to_owned();
    assert_eq!(keys["keys"][0]["role"], "primary");
    assert_eq!(keys["keys"][0]["created"], NOW);

    let old_token = stdout_of(
        bin()
            .args(["seal", "--ring", r, "--now", NOW])
            .write_stdin(r#"{"user":"alice"}"#),
    );
    let old_token = old_token.trim();

    // add
    let out = stdout_of(bin().args(["ring", "add", "--ring", r, "--json", "--now", NOW]));
    let added: serde_json::Value = serde_json::from_str(&out).expect("json");
    let new_id = added["key_id"].as_str().expect("id").to_owned();
    assert_eq!(added["role"], "accepted");

    // promote
    bin()
        .args(["ring", "promote", "--ring", r, &new_id])
        .assert()
        .success()
        .stdout(format!("promoted key {new_id}; it is now primary\n"));
    let text = list(false);
    assert_eq!(
        text,
        format!(
            "role      key id    created               age\n\
             primary   {new_id}  {NOW}  now\n\
             accepted  {old_id}  {NOW}  now\n"
        )
    );
    // `list` never shows secrets: the file does, the listing does not.
    let file = std::fs::read_to_string(&ring).expect("ring");
    let secret = file
        .lines()
        .find(|l| l.starts_with("accepted"))
        .and_then(|l| l.split_whitespace().nth(3))
        .expect("secret")
        .to_owned();
    assert!(!text.contains(&secret) && !list(true).contains(&secret));

    // The old token still opens, and says a re-seal is due.
    let out = stdout_of(bin().args(["open", old_token, "--ring", r, "--now", NOW]));
    assert!(
        out.contains(&format!(
            "re-seal     due: sealed under accepted key {old_id}"
        )),
        "{out}"
    );
    let out = stdout_of(bin().args(["open", old_token, "--ring", r, "--now", NOW, "--json"]));
    assert!(out.contains("\"reseal_due\": true"), "{out}");

    // The primary cannot be removed; the old key can.
    bin()
        .args(["ring", "remove", "--ring", r, &new_id])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is the primary key"));
    bin()
        .args(["ring", "remove", "--ring", r, &old_id])
        .assert()
        .success()
        .stdout(format!("removed key {old_id}\n"));
    bin()
        .args(["open", old_token, "--ring", r, "--now", NOW])
        .assert()
        .code(6);
    bin()
        .args(["ring", "promote", "--ring", r, "zzzz"])
        .assert()
        .code(2);
}

#[test]
fn demo_explains_the_main_job() {
    let out = stdout_of(bin().args(["demo", "--now", NOW]));
    for needle in [
        "Set-Cookie: session=",
        "HttpOnly; Secure; SameSite=Lax",
        "version 0x01",
        "expires    2023-11-15T00:14:20Z (in 2h)",
        "one character changed    -> token failed authentication",
        "replayed 2 h 1 min later -> session expired 60 s ago",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let out = stdout_of(bin().args(["demo", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["payload"]["username"], "alice.example");
    assert_eq!(v["tampered"], "token failed authentication");
}

#[test]
fn output_helpers_do_not_depend_on_exit_codes() {
    // `exit` formats times with `output`; the reverse import made a cycle.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/output.rs");
    let source = std::fs::read_to_string(path).expect("output.rs");
    assert!(!source.contains("crate::exit"), "output.rs imports exit");
}

#[test]
fn open_keeps_to_the_default_budget_unless_raised() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let payload = format!("\"{}\"", "x".repeat(3000));
    // The library's default budget refuses to seal it; --budget raises it.
    bin()
        .args(["seal", "--key-file", s(&a)])
        .write_stdin(payload.clone())
        .assert()
        .code(1)
        .stderr(predicate::str::ends_with(
            "limit is 3840: 259 bytes over (the default budget; pass --budget to seal larger tokens)\n",
        ));
    let token = stdout_of(
        bin()
            .args([
                "seal",
                "--key-file",
                s(&a),
                "--budget",
                "8192",
                "--now",
                NOW,
            ])
            .write_stdin(payload.clone()),
    );
    let token = token.trim();
    assert_eq!(token.len(), 4099);

    let open = |budget: Option<&str>| {
        let mut c = bin();
        c.args(["open", token, "--key-file", s(&a), "--now", NOW, "--json"]);
        if let Some(b) = budget {
            c.args(["--budget", b]);
        }
        c
    };
    open(None).assert().code(3).stderr(
        "sealed-session: token is 4099 bytes, limit is 3840: 259 bytes over \
         (the default budget; pass --budget to open larger tokens)\n",
    );
    open(Some("4000")).assert().code(3).stderr(
        "sealed-session: token is 4099 bytes, limit is 4000: 99 bytes over (set by --budget)\n",
    );
    let out = stdout_of(&mut open(Some("8192")));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let expected: serde_json::Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(v["payload"], expected);

    // inspect reports against the same budget.
    let inspect = |extra: &[&str]| {
        let out = stdout_of(bin().args(["inspect", token, "--json"]).args(extra));
        serde_json::from_str::<serde_json::Value>(&out).expect("json")
    };
    let v = inspect(&[]);
    assert_eq!(
        (v["budget"].as_u64(), v["budget_left"].as_i64()),
        (Some(3840), Some(-259))
    );
    let v = inspect(&["--budget", "8192"]);
    assert_eq!(
        (v["budget"].as_u64(), v["budget_left"].as_i64()),
        (Some(8192), Some(4093))
    );
    let out = stdout_of(bin().args(["inspect", token, "--budget", "8192"]));
    assert!(
        out.starts_with("token       4099 bytes of text, 3074 decoded; budget 8192, 4093 left\n"),
        "{out}"
    );

    // Out of the codec's range: a usage error.
    for bad in ["127", "8193", "lots"] {
        bin()
            .args(["open", token, "--key-file", s(&a), "--budget", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "expected a number of bytes from 128 to 8192",
            ));
    }
}

/// A token whose payload is `payload` verbatim, sealed with KEY_A for
/// "session" a minute before NOW.
fn seal_raw(payload: &[u8], signed: bool) -> String {
    use sealed_session::vectors::{Fixed, seal_raw_payload};
    let ring = sealed_session::KeyRing::new(sealed_session::Key::from_base64(KEY_A).expect("key"));
    let mut builder = sealed_session::Codec::builder(ring);
    if signed {
        builder = builder.signed();
    }
    let fixed = Fixed {
        session_id: [7; 16],
        subject: None,
        created: 1_700_000_000,
        issued: 1_700_000_000,
        expires: 1_700_007_200,
        lifetime: None,
        nonce: [9; 24],
    };
    seal_raw_payload(&builder.build().expect("codec"), payload, &fixed).expect("seal")
}

/// A CBOR bignum: `tag` (2 or 3) over big-endian `bytes` (at most 23).
fn bignum(tag: u8, bytes: &[u8]) -> Vec<u8> {
    let mut cbor = vec![0xc0 | tag, 0x40 | u8::try_from(bytes.len()).expect("short")];
    cbor.extend_from_slice(bytes);
    cbor
}

#[test]
fn bignums_reach_the_cli_as_integers_up_to_64_bits_and_as_tags_up_to_128() {
    use ciborium::Value as V;
    // What the library's decoder hands `open` and `inspect` (signed mode,
    // so the unverified payload shows it without a key).
    let decoded = |cbor: &[u8]| {
        sealed_session::UntrustedToken::parse(&seal_raw(cbor, true))
            .expect("token")
            .unverified_value::<V>()
    };
    let int = |n: i128| Some(V::Integer(n.try_into().expect("64-bit")));
    let tag = |t: u64, b: &[u8]| Some(V::Tag(t, Box::new(V::Bytes(b.to_vec()))));
    let ff8 = [0xff; 8];
    let two64 = [1, 0, 0, 0, 0, 0, 0, 0, 0];
    let ff16 = [0xff; 16];
    let mut max127 = [0xff; 16];
    max127[0] = 0x7f;
    assert_eq!(decoded(&bignum(2, &[5])).ok(), Some(int(5)));
    assert_eq!(decoded(&bignum(3, &[5])).ok(), Some(int(-6)));
    assert_eq!(decoded(&bignum(2, &ff8)).ok(), Some(int(u64::MAX.into())));
    assert_eq!(
        decoded(&bignum(3, &ff8)).ok(),
        Some(int(-1 - i128::from(u64::MAX)))
    );
    // Beyond 64 bits: the tag over its significant bytes (leading zeros go).
    assert_eq!(decoded(&bignum(2, &two64)).ok(), Some(tag(2, &two64)));
    assert_eq!(decoded(&bignum(3, &two64)).ok(), Some(tag(3, &two64)));
    assert_eq!(
        decoded(&bignum(2, &[0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])).ok(),
        Some(tag(2, &two64))
    );
    assert_eq!(decoded(&bignum(2, &ff16)).ok(), Some(tag(2, &ff16)));
    assert_eq!(decoded(&bignum(3, &max127)).ok(), Some(tag(3, &max127)));
    // Beyond 128 bits, and tag 3 below -2^127: refused.
    let mut min127 = [0; 16];
    min127[0] = 0x80;
    assert!(decoded(&bignum(3, &min127)).is_err());
    assert!(decoded(&bignum(2, &[1; 17])).is_err());
    assert!(decoded(&bignum(3, &[1; 17])).is_err());
}

/// The payload of `open --json` output as compact text: serde_json's
/// Value holds no integer past 64 bits, so the text is compared.
fn payload_text(out: &str) -> String {
    out.split_once("\"payload\": ")
        .and_then(|(_, rest)| rest.rsplit_once(",\n  \"reseal_due\""))
        .map(|(p, _)| p.split_whitespace().collect())
        .expect("payload field")
}

/// `open --json` of a token sealed with `key`: its payload, compact.
fn opened_payload(token: &str, key: &Path, signed: bool) -> String {
    let mut open = bin();
    open.args(["open", token, "--key-file", s(key), "--now", NOW, "--json"]);
    if signed {
        open.arg("--signed");
    }
    payload_text(&stdout_of(&mut open))
}

#[test]
fn open_and_inspect_print_bignums_as_their_integer() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let mut max127 = [0xff; 16];
    max127[0] = 0x7f;
    let two64 = [1, 0, 0, 0, 0, 0, 0, 0, 0];
    let cases: [(Vec<u8>, &str); 9] = [
        (bignum(2, &[5]), "5"),
        (bignum(3, &[5]), "-6"),
        (bignum(3, &[0xff; 8]), "-18446744073709551616"),
        // A major type 1 integer past i64: was printed as a string.
        ([&[0x3b][..], &[0xff; 8]].concat(), "-18446744073709551616"),
        (bignum(2, &two64), "18446744073709551616"),
        // Tag 3 over the same bytes as tag 2 used to print the same number.
        (bignum(3, &two64), "-18446744073709551617"),
        (
            bignum(2, &[0xff; 16]),
            "340282366920938463463374607431768211455",
        ),
        (
            bignum(3, &max127),
            "-170141183460469231731687303715884105728",
        ),
        // In an array and as a map key.
        (
            [&[0x82, 0x01][..], &bignum(3, &two64)].concat(),
            "[1,-18446744073709551617]",
        ),
    ];
    for (cbor, expected) in cases {
        for signed in [false, true] {
            let payload = opened_payload(&seal_raw(&cbor, signed), &a, signed);
            assert_eq!(payload, expected, "{cbor:02x?} signed = {signed}");
        }
        let out = stdout_of(bin().args(["inspect", &seal_raw(&cbor, true), "--now", NOW]));
        assert!(
            out.contains(&format!("payload     {expected}\n")),
            "{cbor:02x?}: {out}"
        );
    }
    let map = [&[0xa1][..], &bignum(3, &two64), &[0xf6]].concat();
    let out = stdout_of(bin().args(["inspect", &seal_raw(&map, true), "--now", NOW]));
    assert!(
        out.contains("payload     {\"-18446744073709551617\":null}\n"),
        "{out}"
    );

    // What the decoder refuses is an error, not a number.
    let mut min127 = [0; 16];
    min127[0] = 0x80;
    for cbor in [bignum(3, &min127), bignum(2, &[1; 17])] {
        bin()
            .args([
                "open",
                &seal_raw(&cbor, false),
                "--key-file",
                s(&a),
                "--now",
                NOW,
            ])
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::starts_with("sealed-session: "));
    }
}

#[test]
fn seal_gives_back_the_json_that_went_in() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    for (input, output) in [
        // serde_json's Value::Null is a serde unit: sealed as [] before.
        ("null", "null"),
        (r#"[null,{"a":null}]"#, r#"[null,{"a":null}]"#),
        // Parsed correctly rounded (serde_json gave -2.5000000000000003e-308).
        ("-2.5e-308", "-2.5e-308"),
        ("0.1", "0.1"),
        ("1.0", "1.0"),
        ("-0.0", "-0.0"),
        ("-0", "-0.0"),
        ("1.50e1", "15.0"),
        ("5e-324", "5e-324"),
        ("18446744073709551615", "18446744073709551615"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-18446744073709551616", "-18446744073709551616"),
        // Past 64 bits: CBOR bignums.
        ("18446744073709551616", "18446744073709551616"),
        (
            "340282366920938463463374607431768211455",
            "340282366920938463463374607431768211455",
        ),
        (
            "-170141183460469231731687303715884105728",
            "-170141183460469231731687303715884105728",
        ),
        (r#"{"b":true,"a":"\u0000é"}"#, r#"{"a":"\u0000é","b":true}"#),
    ] {
        for signed in [false, true] {
            let mut seal = bin();
            seal.args(["seal", "--key-file", s(&a), "--now", NOW]);
            if signed {
                seal.arg("--signed");
            }
            let token = stdout_of(seal.write_stdin(input));
            let got = opened_payload(token.trim(), &a, signed);
            assert_eq!(got, output, "{input} signed = {signed}");
        }
    }

    // Objects are sealed in input order (open prints them sorted).
    let token = stdout_of(
        bin()
            .args(["seal", "--key-file", s(&a), "--signed"])
            .write_stdin(r#"{"b":1,"a":null}"#),
    );
    let value = sealed_session::UntrustedToken::parse(token.trim())
        .expect("token")
        .unverified_value::<ciborium::Value>()
        .expect("payload")
        .expect("signed");
    assert_eq!(
        value,
        ciborium::Value::Map(vec![
            ("b".into(), 1.into()),
            ("a".into(), ciborium::Value::Null),
        ])
    );
}

#[test]
fn seal_takes_a_float_written_to_17_digits_as_that_float() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    for (written, opens_as) in [
        ("0.10000000000000001", "0.1"),
        ("4.9406564584124654e-324", "5e-324"),
        (
            "[1.7976931348623157e308, 0.29999999999999999]",
            "[1.7976931348623157e+308,0.3]",
        ),
    ] {
        let token = stdout_of(
            bin()
                .args(["seal", "--key-file", s(&a)])
                .write_stdin(written.to_owned()),
        );
        let out = stdout_of(bin().args(["open", "--key-file", s(&a), "--json", token.trim()]));
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["payload"].to_string(), opens_as, "{written}");
    }
}

#[test]
fn seal_refuses_json_a_token_would_not_give_back() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    let refused = |input: &str, why: &str| {
        bin()
            .args(["seal", "--key-file", s(&a)])
            .write_stdin(input.to_owned())
            .assert()
            .code(1)
            .stdout("")
            .stderr(format!(
                "sealed-session: cannot seal standard input as written: {why}\n"
            ));
    };
    refused(
        "9007199254740993.0",
        "9007199254740993.0 would open as 9007199254740992.0, the nearest 64-bit float; \
         seal that, or the number as a string",
    );
    refused(
        r#"{"n":[1e400]}"#,
        "1e400 is beyond the range of a 64-bit float: the nearest is 1.7976931348623157e+308; \
         seal that, or the number as a string",
    );
    refused(
        "-1e-400",
        "-1e-400 would open as -0.0, the nearest 64-bit float; seal that, or the number as a string",
    );
    refused(
        "0.30000000000000001",
        "0.30000000000000001 would open as 0.3, the nearest 64-bit float; \
         seal that, or the number as a string",
    );
    refused(
        "340282366920938463463374607431768211456",
        "340282366920938463463374607431768211456 is out of range: the largest integer a token \
         holds is 2^128 - 1 = 340282366920938463463374607431768211455; seal it as a string",
    );
    refused(
        "-170141183460469231731687303715884105729",
        "-170141183460469231731687303715884105729 is out of range: the smallest integer a token \
         holds is -2^127 = -170141183460469231731687303715884105728; seal it as a string",
    );
    refused(
        r#"{"a":1,"a":2}"#,
        "the key \"a\" appears twice in one object",
    );
    // Nesting: 63 arrays around a scalar open; 64 could not.
    let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    bin()
        .args(["seal", "--key-file", s(&a)])
        .write_stdin(nested(63))
        .assert()
        .success();
    refused(
        &nested(64),
        "the value nests deeper than 64 levels, so it could never be opened",
    );
    // Far deeper: refused without overflowing the stack.
    refused(
        &nested(100_000),
        "the value nests deeper than 64 levels, so it could never be opened",
    );
    // A zero with any exponent is zero.
    bin()
        .args(["seal", "--key-file", s(&a)])
        .write_stdin("0e99999999999999999999")
        .assert()
        .success();
}

/// The CLI prints errors: none of those that a key option can cause may
/// quote the key, whether it sits in a variable as raw bytes, is passed as
/// the variable's name or the file's path, or is damaged in a key-ring file.
#[test]
fn no_key_option_prints_the_key() {
    use base64::Engine as _;
    #[cfg(unix)]
    use std::os::unix::ffi::OsStrExt as _;

    let secret: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(73) ^ 0x9c).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&secret);
    let dir = Dir::new();
    let token = vector_token(0);
    let raw_file = dir.0.path().join("raw.key");
    std::fs::write(&raw_file, &secret).expect("write");
    let ring_file = dir.0.path().join("ring.txt");
    std::fs::write(
        &ring_file,
        format!("sealed-session key ring v1\nprimary 00000000 2026-01-01T00:00:00Z {b64}!\n"),
    )
    .expect("write");

    let mut runs: Vec<(&str, Command)> = Vec::new();
    #[cfg(unix)]
    {
        let mut raw_env = bin();
        raw_env
            .args(["open", &token, "--key-env", "K"])
            .env("K", std::ffi::OsStr::from_bytes(&secret));
        runs.push(("raw bytes in the variable", raw_env));
        let mut ring_add = bin();
        ring_add
            .args(["ring", "add", "--ring"])
            .arg(&ring_file)
            .args(["--key-env", "K"])
            .env("K", std::ffi::OsStr::from_bytes(&secret));
        runs.push(("ring add from raw bytes", ring_add));
    }
    let mut name_is_key = bin();
    name_is_key.args(["open", &token, "--key-env", &b64]);
    runs.push(("the key as the variable's name", name_is_key));
    let mut path_is_key = bin();
    path_is_key.args(["open", &token, "--key-file", &b64]);
    runs.push(("the key as the file's path", path_is_key));
    let mut raw_key_file = bin();
    raw_key_file
        .args(["open", &token, "--key-file"])
        .arg(&raw_file);
    runs.push(("a file of raw bytes", raw_key_file));
    let mut bad_ring = bin();
    bad_ring.args(["open", &token, "--ring"]).arg(&ring_file);
    runs.push(("a damaged key-ring file", bad_ring));
    let mut ring_path_is_key = bin();
    ring_path_is_key.args(["ring", "list", "--ring", &b64]);
    runs.push(("the key as the ring's path", ring_path_is_key));
    // A version 2 file whose key line is damaged, through every command
    // that reads one.
    let ring_v2 = dir.0.path().join("ring-v2.txt");
    std::fs::write(
        &ring_v2,
        format!(
            "sealed-session key ring v2\n00000000 2026-01-01T00:00:00Z 2026-01-01T00:00:00Z 2026-02-01T00:00:00Z {b64}\n"
        ),
    )
    .expect("write");
    for (what, args) in [
        ("ring list of a damaged v2 file", &["ring", "list"][..]),
        (
            "ring rotate of a damaged v2 file",
            &["ring", "rotate", "--every", "30d", "--lifetime", "7d"][..],
        ),
        (
            "ring revoke of a damaged v2 file",
            &["ring", "revoke", "00000000", "--lifetime", "7d"][..],
        ),
        ("open with a damaged v2 file", &["open", &token][..]),
    ] {
        let mut cmd = bin();
        cmd.args(args).arg("--ring").arg(&ring_v2);
        runs.push((what, cmd));
    }

    for (what, mut cmd) in runs {
        let out = cmd.output().expect("runs");
        assert!(!out.status.success(), "{what}: succeeded");
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                leaks::leaked(&text, &secret).is_none(),
                "{what}: the output quotes the key: {text}"
            );
            assert!(
                stream
                    .windows(4)
                    .all(|w| !secret.windows(4).any(|s| s == w)),
                "{what}: raw key bytes in the output"
            );
        }
    }
}

/// A reader that goes away (`sealed-session demo | head -1`) ends the
/// command quietly and successfully, never with a panic.
#[test]
fn a_closed_pipe_is_a_quiet_success() {
    let path = assert_cmd::cargo::cargo_bin("sealed-session");
    for _ in 0..3 {
        let mut child = std::process::Command::new(&path)
            .arg("demo")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns");
        // Closed before the demo writes its first line.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waits");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?}: {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Distinct CBOR keys that JSON writes alike (`1` and `"1"`, `true` and
/// `"true"`, two NaNs) are never merged into one entry: `open` refuses to
/// show the payload as JSON and says why; `inspect` says so in its
/// payload line.
#[test]
fn keys_that_json_writes_alike_are_never_merged() {
    let dir = Dir::new();
    let a = dir.key("a.key", KEY_A);
    for (cbor, key) in [
        // {1: "a", "1": "b"}
        (
            &[0xa2, 0x01, 0x61, b'a', 0x61, b'1', 0x61, b'b'][..],
            "\"1\"",
        ),
        // {true: 1, "true": 2}
        (
            &[0xa2, 0xf5, 0x01, 0x64, b't', b'r', b'u', b'e', 0x02][..],
            "\"true\"",
        ),
        // {NaN: 1, NaN (another payload): 2}, half precision
        (
            &[0xa2, 0xf9, 0x7e, 0x00, 0x01, 0xf9, 0x7e, 0x01, 0x02][..],
            "\"null\"",
        ),
    ] {
        let token = seal_raw(cbor, true);
        let message = format!(
            "sealed-session: the payload authenticated but cannot be shown as JSON: a map has \
             two distinct keys that JSON writes as the same key {key} (such as the integer 1 \
             and the text \"1\")\n"
        );
        bin()
            .args([
                "open",
                &token,
                "--key-file",
                s(&a),
                "--now",
                NOW,
                "--signed",
            ])
            .assert()
            .code(1)
            .stderr(message);
        let out = stdout_of(bin().args(["inspect", &token, "--now", NOW]));
        assert!(
            out.contains(
                "payload     (decodes, but cannot be shown as JSON: a map has two distinct keys"
            ),
            "{out}"
        );
    }
}
