//! Bytes in and out of the token layout (FORMAT.md §2, §4). No cryptography
//! here: this module only frames and unframes.

use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};

use crate::error::Malformed;
use crate::ids::KeyId;
use crate::mode::{GCM_TAG_LEN, HEADER_LEN, HMAC_TAG_LEN, Mode, NONCE_LEN};

/// Largest purpose, so that its length fits the one byte of FORMAT.md §4.3.
pub(crate) const MAX_PURPOSE_LEN: usize = 255;

/// The public header of a token: nothing here is authenticated yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) mode: Mode,
    /// The claims end with the session's own lifetime (FORMAT.md §5.3).
    pub(crate) own_lifetime: bool,
    pub(crate) key_id: KeyId,
}

impl Header {
    pub(crate) fn version_byte(self) -> u8 {
        self.mode.version_byte(self.own_lifetime)
    }

    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [a, b, c, d] = self.key_id.to_bytes();
        [self.version_byte(), a, b, c, d]
    }

    /// Reads the header of a decoded token and checks the length the mode
    /// needs (at least one body byte: a payload is never empty).
    pub(crate) fn parse(token: &[u8]) -> Result<Self, Malformed> {
        let (&version, rest) = token.split_first().ok_or(Malformed::Empty)?;
        let (mode, own_lifetime) =
            Mode::from_version_byte(version).ok_or(Malformed::UnknownVersion(version))?;
        let min = mode.overhead() + 1;
        if token.len() < min {
            return Err(Malformed::TooShort {
                len: token.len(),
                min,
            });
        }
        let (id, _) = rest
            .split_first_chunk::<{ KeyId::LEN }>()
            .ok_or(Malformed::TooShort {
                len: token.len(),
                min,
            })?;
        Ok(Self {
            mode,
            own_lifetime,
            key_id: KeyId::from_bytes(*id),
        })
    }
}

/// Associated data of FORMAT.md §4.3: header || len(purpose) || purpose.
/// Computed once per key when a codec is built.
pub(crate) fn associated_data(header: &[u8; HEADER_LEN], purpose: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_LEN + 1 + purpose.len());
    aad.extend_from_slice(header);
    // The codec builder refuses purposes over 255 bytes.
    aad.push(u8::try_from(purpose.len()).unwrap_or(u8::MAX));
    aad.extend_from_slice(purpose);
    aad
}

/// An encrypted token split into its parts (FORMAT.md §2.1), body mutable so
/// it can be decrypted in place.
pub(crate) struct EncryptedParts<'a> {
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) body: &'a mut [u8],
    pub(crate) tag: [u8; GCM_TAG_LEN],
}

/// A signed token split into its parts (FORMAT.md §2.2).
pub(crate) struct SignedParts<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) tag: &'a [u8; HMAC_TAG_LEN],
}

pub(crate) fn split_encrypted(token: &mut [u8]) -> Result<EncryptedParts<'_>, Malformed> {
    let len = token.len();
    let short = Malformed::TooShort {
        len,
        min: Mode::Encrypted.overhead() + 1,
    };
    let (_header, rest) = token
        .split_first_chunk_mut::<HEADER_LEN>()
        .ok_or(short.clone())?;
    let (nonce, rest) = rest
        .split_first_chunk_mut::<NONCE_LEN>()
        .ok_or(short.clone())?;
    let (body, tag) = rest
        .split_last_chunk_mut::<GCM_TAG_LEN>()
        .ok_or(short.clone())?;
    if body.is_empty() {
        return Err(short);
    }
    Ok(EncryptedParts {
        nonce: *nonce,
        body,
        tag: *tag,
    })
}

pub(crate) fn split_signed(token: &[u8]) -> Result<SignedParts<'_>, Malformed> {
    let short = Malformed::TooShort {
        len: token.len(),
        min: Mode::Signed.overhead() + 1,
    };
    let (_header, rest) = token
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(short.clone())?;
    let (body, tag) = rest
        .split_last_chunk::<HMAC_TAG_LEN>()
        .ok_or(short.clone())?;
    if body.is_empty() {
        return Err(short);
    }
    Ok(SignedParts { body, tag })
}

/// Length of `n` bytes as unpadded base64url.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n / 3 * 4 + (n % 3 * 4).div_ceil(3)
}

/// Appends the unpadded base64url text of `bytes` to `out`.
/// SIMD-accelerated (`base64-simd`): base64 was an eighth of a seal's time
/// with the scalar `base64` crate.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_append(bytes, out);
}

/// Strict unpadded base64url (FORMAT.md §2): no padding, no characters outside
/// the alphabet, no non-zero trailing bits. Decodes into `out`.
pub(crate) fn decode_into(text: &str, out: &mut Vec<u8>) -> Result<(), Malformed> {
    URL_SAFE_NO_PAD
        .decode_append(text.as_bytes(), out)
        .map_err(|_| Malformed::Base64)
}

/// Decoded tokens up to this size are kept on the stack during `open`: a
/// typical session decodes to about 200 bytes, and a heap allocation and
/// free cost about 5% of an open.
pub(crate) const STACK_TOKEN: usize = 512;

/// Whether a token text of `len` bytes decodes within `STACK_TOKEN` (unpadded
/// base64: every 4 characters give 3 bytes, a tail of 2 or 3 gives 1 or 2).
pub(crate) const fn fits_stack(len: usize) -> bool {
    len / 4 * 3 + (len % 4 * 3) / 4 <= STACK_TOKEN
}

/// Strict decoding (as [`decode_into`]) into uninitialised stack memory; the
/// caller checks [`fits_stack`] first.
pub(crate) fn decode_into_stack<'b>(
    text: &str,
    out: &'b mut [MaybeUninit<u8>; STACK_TOKEN],
) -> Result<&'b mut [u8], Malformed> {
    if !fits_stack(text.len()) {
        return Err(Malformed::Base64);
    }
    URL_SAFE_NO_PAD
        .decode(text.as_bytes(), Out::from_uninit_slice(out))
        .map_err(|_| Malformed::Base64)
}

/// A cursor over untrusted bytes that never indexes out of bounds.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(*head)
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    /// An unsigned LEB128 varint in its shortest form (FORMAT.md §4.4).
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let (&byte, rest) = self.rest.split_first()?;
            self.rest = rest;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a u64.
            if i == 9 && bits > 1 {
                return None;
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                // Shortest form: a last byte of zero is only allowed alone.
                if byte == 0 && i > 0 {
                    return None;
                }
                return Some(value);
            }
        }
        None
    }

    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// Appends `value` as an unsigned LEB128 varint in its shortest form.
#[allow(clippy::cast_possible_truncation)] // each byte is masked to 7 bits first
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_and_is_canonical() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut r = Reader::new(&buf);
            assert_eq!(r.varint(), Some(v), "value {v}");
            assert!(r.rest().is_empty());
        }
        // Non-shortest forms of 0 and 1, an 11-byte run and an overflow.
        for bad in [
            &[0x80, 0x00][..],
            &[0x81, 0x00],
            &[0xff; 11],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        ] {
            assert_eq!(Reader::new(bad).varint(), None, "{bad:02x?}");
        }
        assert_eq!(Reader::new(&[0x80]).varint(), None, "truncated");
    }

    #[test]
    fn encoded_len_matches_the_encoder() {
        for n in 0..100 {
            let mut s = String::new();
            encode_into(&vec![0xa5; n], &mut s);
            assert_eq!(encoded_len(n), s.len(), "n = {n}");
        }
    }

    #[test]
    fn decoding_is_strict() {
        let mut out = Vec::new();
        assert!(decode_into("AQID", &mut out).is_ok());
        for bad in ["AQI=", "AQ+D", "AQ/D", "AQ D", "AQ\0D", "AQé", "AR"] {
            out.clear();
            assert_eq!(
                decode_into(bad, &mut out),
                Err(Malformed::Base64),
                "{bad:?}"
            );
        }
    }
}
