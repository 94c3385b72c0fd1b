//! The application's value as CBOR (FORMAT.md §5.2).
//!
//! `cbor4ii` rather than `ciborium`: on DESIGN.md's reference payloads it
//! decodes the same bytes about 3× faster (BENCHMARKS.md), and decoding is the
//! largest cost of an open. Its depth limit is a hook of its reader trait, so
//! [`LimitedReader`] supplies ours, smaller than the library default of 256.

use cbor4ii::core::dec::{self, Reference};
use cbor4ii::core::error::{DecodeError as Core, Never};
use cbor4ii::core::utils::BufWriter;
use cbor4ii::serde::{DecodeError, EncodeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Most nested decoder steps the payload decoder takes: 64 levels of typed
/// structs, sequences and maps, or 32 levels of a self-describing value (whose
/// `deserialize_any` takes a step of its own before the array or map does).
pub const RECURSION_LIMIT: usize = 64;

/// Appends the CBOR encoding of `value` to `out`, in place (the buffer is
/// lent to the encoder and handed back, never copied).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    let mut ser = cbor4ii::serde::Serializer::new(BufWriter::new(std::mem::take(out)));
    let result = value.serialize(&mut ser);
    *out = ser.into_inner().into_inner();
    result.map_err(|e| {
        Error::Serialize(match e {
            EncodeError::Custom(msg) => msg.into(),
            EncodeError::Core(e) => format!("{e:?}"),
        })
    })
}

/// Decodes exactly one CBOR item from authenticated bytes: nothing may follow
/// it, and it may nest at most [`RECURSION_LIMIT`] decoder steps.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = cbor4ii::serde::Deserializer::new(LimitedReader {
        rest: bytes,
        depth_left: RECURSION_LIMIT,
    });
    let value = T::deserialize(&mut de).map_err(describe)?;
    let trailing = de.into_inner().rest.len();
    if trailing > 0 {
        return Err(Error::Payload(format!(
            "{trailing} bytes after the payload's CBOR item"
        )));
    }
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
