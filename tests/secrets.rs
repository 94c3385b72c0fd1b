//! No error built from key material quotes it: every path that reads a key
//! (bytes, base64 text, environment variable, file, key-ring file) is fed a
//! secret in ways that fail, and no error's `Display` or `Debug` holds any 4
//! consecutive bytes of the secret, raw or written as hex, escaped bytes, a
//! decimal list or base64.

use std::path::PathBuf;

mod leaks;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use leaks::leaked;
use sealed_session::{Error, Key, KeyRingFile};

/// 32 bytes that are not UTF-8 (a Kubernetes `secretKeyRef` puts raw bytes
/// like these into a variable).
const SECRET: [u8; 32] = [
    0x80, 0xa5, 0x13, 0xfe, 0x42, 0x99, 0x07, 0xc3, 0x28, 0xd1, 0x5a, 0xee, 0x31, 0x8f, 0x64, 0xb0,
    0x0c, 0x77, 0xfa, 0x9e, 0x23, 0xc8, 0x4d, 0x16, 0xe2, 0x5b, 0xa9, 0x38, 0xf1, 0x6d, 0x84, 0xcf,
];

#[track_caller]
fn assert_quiet<T: std::fmt::Debug>(what: &str, result: Result<T, Error>, secret: &[u8]) {
    let e = result.expect_err(what);
    for shown in [e.to_string(), format!("{e:?}")] {
        if let Some(form) = leaked(&shown, secret) {
            panic!("{what}: the error quotes the secret ({form}): {shown}");
        }
    }
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sealed-session-{name}-{}", std::process::id()))
}

#[test]
fn the_detector_finds_each_form() {
    let run = &SECRET[4..8];
    assert!(leaked(&format!("{run:?}"), &SECRET).is_some(), "decimal");
    assert!(
        leaked(&format!("{run:02x?}"), &SECRET).is_some(),
        "hex list"
    );
    let prefixed: Vec<String> = run.iter().map(|b| format!("{b:#04x}")).collect();
    assert!(leaked(&prefixed.join(", "), &SECRET).is_some(), "0x list");
    assert!(leaked(&String::from_utf8_lossy(&SECRET), &SECRET).is_none());
    assert!(leaked("42990 7c3", &SECRET).is_none());
    assert!(leaked("4299 07c3", &SECRET).is_none());
    assert!(leaked("\\x42\\x99\\x07\\xc3", &SECRET).is_some(), "escaped");
    assert!(leaked("..4299 07C3..", &SECRET).is_none());
    assert!(leaked("..429907C3..", &SECRET).is_some(), "hex");
    let b64 = URL_SAFE_NO_PAD.encode(SECRET);
    assert!(leaked(&b64[10..17], &SECRET).is_some(), "base64");
    let os = std::ffi::OsString::from(String::from_utf8_lossy(&SECRET).into_owned());
    assert!(leaked(&format!("{os:?}"), &SECRET).is_none());
}

#[test]
fn key_text_and_files_never_reach_an_error() {
    let b64 = URL_SAFE_NO_PAD.encode(SECRET);
    let std = STANDARD_NO_PAD.encode(SECRET);
    assert_quiet("too short", Key::from_bytes(&SECRET[..31]), &SECRET);
    assert_quiet("not base64", Key::from_base64(&format!("{b64}!")), &SECRET);
    assert_quiet(
        "mixed alphabets",
        Key::from_base64(&format!("{b64}+/")),
        &SECRET,
    );
    assert_quiet("truncated", Key::from_base64(&b64[..40]), &SECRET);
    assert_quiet(
        "padded wrongly",
        Key::from_base64(&format!("{std}=x=")),
        &SECRET,
    );

    // A file of raw bytes, not base64 text.
    let raw = temp("raw-key");
    std::fs::write(&raw, SECRET).expect("write");
    assert_quiet("raw file", Key::from_file(&raw), &SECRET);
    assert_quiet("raw key-ring file", KeyRingFile::load(&raw), &SECRET);
    std::fs::remove_file(&raw).expect("cleanup");
    // The key itself given as the path (`--key-file "$KEY"`).
    assert_quiet("path is the key", Key::from_file(&b64), &SECRET);
    assert_quiet("ring path is the key", KeyRingFile::load(&b64), &SECRET);
    // ... or as the variable's name (`--key-env "$KEY"`).
    assert_quiet("name is the key", Key::from_env(&b64), &SECRET);
    assert_quiet("name is the std key", Key::from_env(&std), &SECRET);

    // Key-ring files with the secret in every field and malformed.
    for text in [
        format!("sealed-session key ring v1\nprimary 00000000 2026-01-01T00:00:00Z {b64}"),
        format!("sealed-session key ring v1\nprimary {b64}"),
        format!("sealed-session key ring v1\n{b64} 00000000 2026-01-01T00:00:00Z {b64}"),
        format!("sealed-session key ring v1\nprimary {b64} 2026-01-01T00:00:00Z {b64}"),
        format!("sealed-session key ring v1\nprimary 00000000 {b64} {b64}"),
        format!("sealed-session key ring v1\nprimary 00000000 2026-01-01T00:00:00Z {b64}!"),
        format!(
            "sealed-session key ring v1\nprimary 00000000 2026-01-01T00:00:00Z {}",
            &b64[..30]
        ),
        format!("{b64}\nprimary 00000000 2026-01-01T00:00:00Z {b64}"),
    ] {
        assert_quiet(&text, KeyRingFile::parse(&text), &SECRET);
    }
}

/// Environment variables can be set only in a child process here (setting
/// one in a threaded process is `unsafe`), so the test runs itself again
/// with `K` holding the raw secret.
#[test]
fn raw_bytes_in_an_environment_variable_never_reach_an_error() {
    const CHILD: &str = "SEALED_SESSION_SECRETS_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let e = Key::from_env("K").expect_err("raw bytes are not base64 text");
        println!("display: {e}");
        println!("debug: {e:?}");
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "raw_bytes_in_an_environment_variable_never_reach_an_error",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("K", std::ffi::OsStr::from_bytes(&SECRET))
            .output()
            .expect("run the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("display: cannot read key from environment variable K"),
            "{stdout}"
        );
        assert!(stdout.contains("32 bytes are not UTF-8"), "{stdout}");
        // Through the raw bytes too: lossy decoding would hide them.
        if let Some(form) = leaked(&String::from_utf8_lossy(&out.stdout), &SECRET) {
            panic!("the error quotes the secret ({form}): {stdout}");
        }
        assert!(
            out.stdout
                .windows(4)
                .all(|w| !SECRET.windows(4).any(|s| s == w))
        );
    }
}
