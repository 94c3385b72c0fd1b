//! The application's value as CBOR (FORMAT.md §5.2).
//!
//! `cbor4ii` rather than `ciborium`: on DESIGN.md's reference payloads it
//! decodes the same bytes about 3× faster (BENCHMARKS.md), and decoding is the
//! largest cost of an open. Its depth limit is a hook of its reader trait, so
//! [`LimitedReader`] supplies ours, smaller than the library default of 256.
//! A structural pass (`check_structure`) runs first, so that neither depth
//! nor a declared length can make the real decode recurse or allocate beyond
//! what the bytes hold.

use cbor4ii::core::dec::{self, Reference};
use cbor4ii::core::error::{DecodeError as Core, Never};
use cbor4ii::core::utils::BufWriter;
use cbor4ii::serde::{DecodeError, EncodeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Deepest nesting of CBOR items in a payload (a top-level scalar is at
/// depth 1). Enforced on seal and on open, by a structural pass over the
/// bytes before any value is built.
pub const RECURSION_LIMIT: usize = 64;

/// Steps the serde decoder may take once the structural pass has bounded the
/// nesting: generous, since a level may cost several steps (`deserialize_any`
/// takes one before the container's own, `Option` and enums one each); the
/// structural pass is what bounds the recursion.
const DECODER_STEPS: usize = 4 * RECURSION_LIMIT;

/// Appends the CBOR encoding of `value` to `out`, in place (the buffer is
/// lent to the encoder and handed back, never copied).
///
/// A value nested deeper than [`RECURSION_LIMIT`] is refused here, since no
/// open would accept it.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    let mut ser = cbor4ii::serde::Serializer::new(BufWriter::new(std::mem::take(out)));
    let result = value.serialize(&mut ser);
    *out = ser.into_inner().into_inner();
    result.map_err(|e| {
        Error::Serialize(match e {
            EncodeError::Custom(msg) => msg.into(),
            EncodeError::Core(e) => format!("{e:?}"),
        })
    })?;
    check_structure(out.get(start..).unwrap_or_default()).map_err(|e| match e {
        Error::PayloadTooDeep { limit } => Error::Serialize(format!(
            "the value nests deeper than {limit} levels, so it could never be opened"
        )),
        other => Error::Serialize(other.to_string()),
    })
}

/// One structural pass over the bytes, building nothing: a single
/// well-formed item (RFC 8949 §3, all but UTF-8, which the decoder checks),
/// nothing after it, nested at most [`RECURSION_LIMIT`] deep, and every
/// declared length backed by bytes actually present (each element takes at
/// least one byte). Only then may serde see size hints taken from the input.
///
/// Iterative, with the open containers counted in a fixed array: no
/// recursion and no allocation whatever the input. (cbor4ii's own skipper
/// does the same job recursively at several times the cost, and lets
/// malformed chunks through inside ignored fields.)
fn check_structure(bytes: &[u8]) -> Result<(), Error> {
    // What an indefinite-length container expects next, kept where a
    // definite one keeps its count of items left. Definite counts never reach
    // these values: they are at most the bytes left.
    /// An array: any item, or its break.
    const ARRAY: u64 = u64::MAX;
    /// A map: a key, or its break.
    const MAP_KEY: u64 = u64::MAX - 1;
    /// A map: the value of the key just read; no break.
    const MAP_VALUE: u64 = u64::MAX - 2;
    /// A byte string: a definite byte string chunk, or its break.
    const BYTE_CHUNKS: u64 = u64::MAX - 3;
    /// A text string: a definite text string chunk, or its break.
    const TEXT_CHUNKS: u64 = u64::MAX - 4;

    let malformed = |what: &str| Error::Payload(format!("invalid CBOR: {what}"));
    // `outer[d]`: what the container at depth `d` still expects while one
    // nested in it is open; depth 0 is the payload itself, one item.
    let mut outer = [0u64; RECURSION_LIMIT];
    let mut depth = 0usize;
    let mut need: u64 = 1;
    let mut rest = bytes;
    loop {
        while need == 0 {
            let Some(up) = depth.checked_sub(1) else {
                return match rest.len() {
                    0 => Ok(()),
                    n => Err(Error::Payload(format!(
                        "{n} bytes after the payload's CBOR item"
                    ))),
                };
            };
            depth = up;
            need = outer.get(up).copied().unwrap_or(0);
        }
        let (&initial, tail) = rest
            .split_first()
            .ok_or_else(|| malformed("the payload ends inside an item"))?;
        rest = tail;
        if initial == 0xff {
            need = match need {
                ARRAY | MAP_KEY | BYTE_CHUNKS | TEXT_CHUNKS => 0,
                MAP_VALUE => return Err(malformed("a map key without a value")),
                _ => return Err(malformed("a break outside an indefinite-length item")),
            };
            continue;
        }
        // An item at depth `d` is at nesting level `d + 1`.
        if depth >= RECURSION_LIMIT {
            return Err(Error::PayloadTooDeep {
                limit: RECURSION_LIMIT,
            });
        }
        let major = initial >> 5;
        let info = initial & 0x1f;
        need = match need {
            ARRAY => ARRAY,
            MAP_KEY => MAP_VALUE,
            MAP_VALUE => MAP_KEY,
            BYTE_CHUNKS | TEXT_CHUNKS => {
                let chunk_major = if need == BYTE_CHUNKS { 2 } else { 3 };
                if major != chunk_major || info == 31 {
                    return Err(malformed(
                        "an indefinite-length string chunk that is not a definite string of its type",
                    ));
                }
                need
            }
            left => left - 1,
        };
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let (arg, tail) = rest
                    .split_at_checked(1 << (info - 24))
                    .ok_or_else(|| malformed("the payload ends inside an item head"))?;
                rest = tail;
                arg.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
            }
            // Indefinite length (strings, arrays and maps only): no
            // argument; the container ends at its break.
            31 if matches!(major, 2..=5) => 0,
            _ => return Err(malformed("a reserved item head")),
        };
        // What the new container expects, if this item opens one.
        let items = match (major, info) {
            // Simple values 0..=31 take the one-byte form only.
            (7, 24) if argument < 32 => {
                return Err(malformed("a two-byte simple value below 32"));
            }
            // Integers, and simple values and floats, whose argument was
            // already skipped.
            (0 | 1 | 7, _) => continue,
            (2, 31) => BYTE_CHUNKS,
            (3, 31) => TEXT_CHUNKS,
            (4, 31) => ARRAY,
            (5, 31) => MAP_KEY,
            (2 | 3, _) => {
                rest = usize::try_from(argument)
                    .ok()
                    .and_then(|len| rest.get(len..))
                    .ok_or_else(|| malformed("a string longer than the payload"))?;
                continue;
            }
            (4 | 5, _) => {
                let items = if major == 5 {
                    argument.saturating_mul(2)
                } else {
                    argument
                };
                // Each item takes at least one byte.
                if items > rest.len() as u64 {
                    return Err(malformed("a declared length beyond the bytes present"));
                }
                if items == 0 {
                    continue;
                }
                items
            }
            // A tag wraps exactly one item, one level down.
            _ => 1,
        };
        if let Some(slot) = outer.get_mut(depth) {
            *slot = need;
        }
        depth += 1;
        need = items;
    }
}

/// Decodes exactly one CBOR item from authenticated bytes: nothing may follow
/// it, and it may nest at most [`RECURSION_LIMIT`] levels.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    check_structure(bytes)?;
    let mut de = cbor4ii::serde::Deserializer::new(LimitedReader {
        rest: bytes,
        depth_left: DECODER_STEPS,
    });
    let value = T::deserialize(&mut de).map_err(describe)?;
    debug_assert!(
        de.into_inner().rest.is_empty(),
        "checked by the structural pass"
    );
    Ok(value)
}

/// A slice reader whose nesting depth is bounded.
struct LimitedReader<'a> {
    rest: &'a [u8],
    depth_left: usize,
}

impl<'de> dec::Read<'de> for LimitedReader<'de> {
    type Error = Never;

    fn fill<'short>(&'short mut self, want: usize) -> Result<Reference<'de, 'short>, Never> {
        let (head, _) = self.rest.split_at_checked(want).unwrap_or((self.rest, &[]));
        Ok(Reference::Long(head))
    }

    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    fn step_in(&mut self) -> bool {
        match self.depth_left.checked_sub(1) {
            Some(left) => {
                self.depth_left = left;
                true
            }
            None => false,
        }
    }

    fn step_out(&mut self) {
        self.depth_left += 1;
    }
}

fn describe(e: DecodeError<Never>) -> Error {
    let core = match e {
        DecodeError::Custom(msg) => return Error::Payload(msg.into()),
        DecodeError::Core(core) => core,
    };
    Error::Payload(match core {
        Core::DepthOverflow { .. } => {
            return Error::PayloadTooDeep {
                limit: RECURSION_LIMIT,
            };
        }
        Core::Mismatch { name, found } | Core::Unsupported { name, found } => {
            format!("expected {name}, found CBOR initial byte 0x{found:02x}")
        }
        Core::Eof { name, .. } => format!("payload ends inside {name}"),
        Core::RequireUtf8 { name } => format!("{name} is not valid UTF-8"),
        Core::LengthOverflow { name, .. } | Core::CastOverflow { name } => {
            format!("{name} is out of range")
        }
        Core::ArithmeticOverflow { name, .. } => format!("{name} overflows"),
        other => format!("invalid CBOR: {other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Vec<u8> {
        let mut bytes = vec![0x81; levels - 1];
        bytes.push(0x00);
        bytes
    }

    #[test]
    fn structure_refuses_what_rfc_8949_calls_not_well_formed() {
        use serde::de::IgnoredAny;
        // Before this pass checked them, cbor4ii let these through into a
        // type that ignores the value (an unknown field of a struct).
        for bad in [
            // An indefinite map with a key and no value.
            &[0xbf, 0x01, 0xff][..],
            &[0xbf, 0x61, b'k', 0x01, 0x02, 0xff],
            // Chunks of an indefinite string: definite, and of its own type.
            &[0x5f, 0x01, 0xff],
            &[0x5f, 0x61, b'a', 0xff],
            &[0x7f, 0x41, 0x00, 0xff],
            &[0x5f, 0x5f, 0xff, 0xff],
            &[0x7f, 0x7f, 0xff, 0xff],
            // Simple values below 32 in the two-byte form.
            &[0xf8, 0x00],
            &[0xf8, 0x1f],
        ] {
            assert!(check_structure(bad).is_err(), "{bad:02x?}");
            assert!(decode::<IgnoredAny>(bad).is_err(), "{bad:02x?}");
        }
        for ok in [
            &[0xbf, 0x01, 0x02, 0xff][..],
            &[0xbf, 0xff],
            &[0x5f, 0x41, 0x00, 0x40, 0xff],
            &[0x7f, 0x61, b'a', 0x60, 0xff],
            &[0x7f, 0xff],
            &[0xf8, 0x20],
            &[0xf8, 0xff],
        ] {
            assert!(check_structure(ok).is_ok(), "{ok:02x?}");
        }
    }

    #[test]
    fn empty_containers_may_sit_at_the_last_level() {
        for innermost in [&[0x80][..], &[0xa0], &[0x9f, 0xff], &[0xbf, 0xff]] {
            let mut bytes = vec![0x81; RECURSION_LIMIT - 1];
            bytes.extend_from_slice(innermost);
            assert!(check_structure(&bytes).is_ok(), "{innermost:02x?}");
        }
    }

    #[test]
    fn structure_accepts_well_formed_items() {
        for ok in [
            &[0x00][..],
            &[0x1b, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0x63, b'a', b'b', b'c'],
            &[0x82, 0x01, 0xa1, 0x61, b'k', 0xf6],
            &[0x9f, 0x01, 0x02, 0xff],
            &[0xbf, 0x61, b'k', 0x80, 0xff],
            &[0x5f, 0x41, 0x00, 0x41, 0x01, 0xff],
            &[0xc1, 0x1a, 0, 0, 0, 1],
            &[0xfb, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0x80],
            &[0xa0],
        ] {
            assert!(check_structure(ok).is_ok(), "{ok:02x?}");
        }
        assert!(check_structure(&nested(RECURSION_LIMIT)).is_ok());
    }

    #[test]
    fn structure_refuses_malformed_items() {
        for bad in [
            &[][..],
            &[0x00, 0x00],
            &[0x18],
            &[0x62, b'a'],
            &[0x82, 0x01],
            &[0x9a, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            // Counts that saturate to the largest u64 are still definite.
            &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x9f, 0x01],
            &[0xff],
            &[0x82, 0x01, 0xff],
            &[0x1c],
            &[0x3f],
            &[0xdf, 0x00],
            &[0xc6],
        ] {
            assert!(check_structure(bad).is_err(), "{bad:02x?}");
        }
        assert!(matches!(
            check_structure(&nested(RECURSION_LIMIT + 1)),
            Err(Error::PayloadTooDeep {
                limit: RECURSION_LIMIT
            })
        ));
        assert!(matches!(
            check_structure(&vec![0xc6; 100_000]),
            Err(Error::PayloadTooDeep { .. })
        ));
    }
}
