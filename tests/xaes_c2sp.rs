//! The C2SP XAES-256-GCM test vectors (c2sp.org/XAES-256-GCM), run through
//! `xaes_256_gcm::Xaes256Gcm` exactly as the codec drives it: `new` on a
//! 32-byte key, then `encrypt_inout_detached` / `decrypt_inout_detached` in
//! place with a detached 16-byte tag (src/codec.rs). The codec's HKDF step in
//! front of it is covered by the known-answer vectors (tests/vectors.rs).

use sha3::Shake128;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::{AeadInOut, KeyInit};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals as the codec does: in place, tag detached; returns `ct || tag`, the
/// form the C2SP vectors give.
fn seal(key: &[u8; 32], nonce: &[u8; 24], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Xaes256Gcm::new(key.into());
    let mut buf = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(nonce.into(), aad, buf.as_mut_slice().into())
        .expect("encrypts");
    buf.extend_from_slice(&tag);
    buf
}

/// Opens as the codec does; `None` on authentication failure.
fn open(key: &[u8; 32], nonce: &[u8; 24], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let cipher = Xaes256Gcm::new(key.into());
    let (ct, tag) = sealed.split_at(sealed.len().checked_sub(16)?);
    let tag: [u8; 16] = tag.try_into().ok()?;
    let mut buf = ct.to_vec();
    cipher
        .decrypt_inout_detached(nonce.into(), aad, buf.as_mut_slice().into(), &tag.into())
        .ok()?;
    Some(buf)
}

#[test]
fn c2sp_vectors() {
    let nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX";
    for (key_byte, aad, expected) in [
        (
            0x01u8,
            &b""[..],
            "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
        ),
        (
            0x03,
            b"c2sp.org/XAES-256-GCM",
            "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
        ),
    ] {
        let key = [key_byte; 32];
        let sealed = seal(&key, nonce, b"XAES-256-GCM", aad);
        assert_eq!(to_hex(&sealed), expected);
        assert_eq!(
            open(&key, nonce, &hex(expected), aad).as_deref(),
            Some(&b"XAES-256-GCM"[..])
        );
        // And the tampered forms fail, as in the codec.
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert_eq!(open(&key, nonce, &tampered, aad), None);
        assert_eq!(open(&key, nonce, &sealed, b"other aad"), None);
    }
}

/// Reads `n` bytes from the SHAKE-128 stream.
fn take(source: &mut impl XofReader, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    source.read(&mut out);
    out
}

/// The accumulated randomized vector: keys, nonces, plaintexts and AADs drawn
/// from SHAKE-128 of the empty string; every `ct || tag` absorbed into a
/// second SHAKE-128, whose first 32 bytes are the expected digest.
fn accumulated(iterations: usize) -> String {
    let mut source = Shake128::default().finalize_xof();
    let mut digest = Shake128::default();
    for _ in 0..iterations {
        let key: [u8; 32] = take(&mut source, 32).try_into().expect("32");
        let nonce: [u8; 24] = take(&mut source, 24).try_into().expect("24");
        let len = usize::from(take(&mut source, 1)[0]);
        let plaintext = take(&mut source, len);
        let len = usize::from(take(&mut source, 1)[0]);
        let aad = take(&mut source, len);

        let sealed = seal(&key, &nonce, &plaintext, &aad);
        assert_eq!(
            open(&key, &nonce, &sealed, &aad).as_deref(),
            Some(&plaintext[..])
        );
        digest.update(&sealed);
    }
    let mut out = [0u8; 32];
    digest.finalize_xof().read(&mut out);
    to_hex(&out)
}

#[test]
fn c2sp_accumulated_10_000() {
    assert_eq!(
        accumulated(10_000),
        "e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939"
    );
}

#[test]
#[ignore = "a minute or more; run with --ignored"]
fn c2sp_accumulated_1_000_000() {
    assert_eq!(
        accumulated(1_000_000),
        "2163ae1445985a30b60585ee67daa55674df06901b890593e824b8a7c885ab15"
    );
}
