//! Finds a secret quoted in text: shared by the library's secrets test and
//! the CLI's (which includes this file by path).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The first form of some 4-byte run of `secret` that `text` contains.
pub(crate) fn leaked(text: &str, secret: &[u8]) -> Option<String> {
    let lower = text.to_lowercase();
    for run in secret.windows(4) {
        let hex: String = run.iter().map(|b| format!("{b:02x}")).collect();
        let escaped: String = run.iter().map(|b| format!("\\x{b:02x}")).collect();
        let spaced: String = run
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        let hex_list = run
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(", ");
        let prefixed_list = run
            .iter()
            .map(|b| format!("0x{b:02x}"))
            .collect::<Vec<_>>()
            .join(", ");
        let decimal = run.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
        if text.as_bytes().windows(4).any(|w| w == run) {
            return Some(format!("raw bytes {run:02x?}"));
        }
        for form in [hex, escaped, spaced, hex_list, prefixed_list, decimal] {
            if lower.contains(&form) {
                return Some(form);
            }
        }
    }
    // Base64 at each of the three alignments: six characters carry 4.5 bytes.
    for skip in 0..3 {
        let tail = secret.get(skip..).unwrap_or_default();
        for encoded in [URL_SAFE_NO_PAD.encode(tail), STANDARD_NO_PAD.encode(tail)] {
            for i in 0..encoded.len().saturating_sub(6) {
                let run = &encoded[i..i + 6];
                if text.contains(run) {
                    return Some(format!("base64 {run}"));
                }
            }
        }
    }
    None
}
